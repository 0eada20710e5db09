// Streaming in `cellrl serve` (stream: true, server-sent events): the folded chunks equal the stream: false answer
// for the same seed (ids, text, finish and stop reasons, logprobs), chunks carry one token per choice with its
// logprobs, n > 1 interleaves the choices, include_usage adds the usage chunk, the server's limits and api key hold,
// a client that leaves stops the generation at the next decode step without leaking tensors, and RemotePolicy
// with stream: true samples the same rows as without and as the in-process model.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as http from "node:http";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../lib/core/random.js";
import { generate } from "../../lib/model/generate.js";
import { LlamaModel } from "../../lib/model/llama.js";
import { loadTokenizer } from "../../lib/model/tokenizer-io.js";
import { RemotePolicy } from "../../lib/remote/remote-policy.js";
import { serve, type RunningServer } from "../../lib/remote/serve.js";
import { collectStream, sseData } from "../../lib/remote/sse.js";
import { fakeServer, setup, tinyModel, tok } from "./helpers.js";

let m: ReturnType<typeof tinyModel>;
let srv: RunningServer;
before(async () => {
  await setup();
  m = tinyModel();
  srv = await serve(m, tok, { port: 0, name: "tiny", batchRows: 4 });
});
after(async () => {
  await srv.close();
  m.dispose();
});

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: r.status, type: r.headers.get("content-type"), text: await r.text() };
}
const where = { where: "test", url: "test" };
const chunksOf = (text: string) =>
  sseData(text)
    .filter((d) => d !== "[DONE]")
    .map((d) => JSON.parse(d) as Record<string, any>);

test("sseData reads data lines (multi-line, CRLF, comments); collectStream needs [DONE] and reports error events", () => {
  assert.deepEqual(sseData(': keep-alive\r\n\r\ndata: {"a":\r\ndata: 1}\r\n\r\nevent: x\ndata:[DONE]\n\n'), [
    '{"a":\n1}',
    "[DONE]",
  ]);
  assert.throws(() => collectStream('data: {"choices": []}\n\n', where), /cut short/);
  assert.throws(() => collectStream("data: {oops\n\ndata: [DONE]\n\n", where), /malformed event/);
  const err = collectStream('data: {"error": {"message": "boom", "code": 400}}\n\ndata: [DONE]\n\n', where);
  assert.deepEqual(err, { ok: false, status: 400, message: "boom" });
});

test("completions stream: folded chunks equal stream: false for the same seed (batches, n > 1, stop, logprobs)", async () => {
  const body = {
    prompt: ["1+2=", "33+", "4"],
    n: 3,
    max_tokens: 8,
    seed: 11,
    stop: ["="],
    logprobs: 2,
    return_token_ids: true,
  };
  const plain = JSON.parse((await post(`${srv.url}/v1/completions`, body)).text);
  const res = await post(`${srv.url}/v1/completions`, { ...body, stream: true });
  assert.equal(res.status, 200);
  assert.match(res.type!, /^text\/event-stream/);
  assert.ok(res.text.trimEnd().endsWith("data: [DONE]"));
  const chunks = chunksOf(res.text);
  for (const c of chunks) {
    assert.equal(c.object, "text_completion");
    assert.equal(c.choices.length, 1, "one choice per chunk");
    const ch = c.choices[0];
    assert.equal(ch.token_ids.length, 1, "one token per chunk");
    assert.equal(ch.logprobs.tokens.length, 1);
    assert.equal(ch.logprobs.token_logprobs[0], ch.logprobs.top_logprobs[0][ch.logprobs.tokens[0]]);
  }
  // decode steps interleave the choices of a batch: the first chunks are choices 0, 1, 2, ... in order
  const order = chunks.map((c) => c.choices[0].index as number);
  assert.deepEqual(order.slice(0, 3), [0, 1, 2], "the rows of a batch are interleaved step by step");
  // batchRows 4 with n 3: one prompt (3 rows) per batch, batches one after the other
  assert.deepEqual(
    order.map((i) => Math.floor(i / 3)),
    order.map((i) => Math.floor(i / 3)).sort((a, b) => a - b),
  );
  const folded = collectStream(res.text, where);
  assert.ok(folded.ok);
  const got = folded.body.choices as any[];
  assert.equal(got.length, 9);
  for (let i = 0; i < 9; i++) {
    const a = plain.choices[i];
    const b = got[i];
    assert.equal(b.index, i);
    assert.deepEqual(b.token_ids, a.token_ids, `choice ${i}: ids`);
    assert.equal(b.text, a.text, `choice ${i}: text`);
    assert.equal(b.finish_reason, a.finish_reason);
    assert.equal(b.stop_reason, a.stop_reason);
    assert.deepEqual(b.prompt_token_ids, a.prompt_token_ids);
    assert.deepEqual(b.logprobs.tokens, a.logprobs.tokens);
    b.logprobs.token_logprobs.forEach((lp: number, j: number) =>
      assert.ok(Math.abs(lp - a.logprobs.token_logprobs[j]) < 1e-4, `choice ${i} token ${j}: ${lp}`),
    );
    // the same alternatives (decode-step logits vs a full forward: equal up to float rounding)
    b.logprobs.top_logprobs.forEach((t: Record<string, number>, j: number) =>
      assert.deepEqual(Object.keys(t).sort(), Object.keys(a.logprobs.top_logprobs[j]).sort()),
    );
  }
  assert.ok(
    got.some((c) => c.stop_reason === "="),
    "some row stopped on the stop string",
  );
  assert.equal(folded.body.usage, null, "no usage chunk without stream_options.include_usage");
});

test("multi-character stop strings: the text held back while a stop could still form equals stream: false", async () => {
  let hits = 0;
  for (const stop of [
    ["1+", "=="],
    ["23", "b c"],
  ]) {
    const body = { prompt: ["1+2=", "a", "33"], n: 8, max_tokens: 20, seed: 3, stop, temperature: 1.5 };
    const plain = JSON.parse((await post(`${srv.url}/v1/completions`, body)).text);
    const res = await post(`${srv.url}/v1/completions`, { ...body, stream: true });
    const folded = collectStream(res.text, where);
    assert.ok(folded.ok);
    plain.choices.forEach((c: any, i: number) => {
      const f = (folded.body.choices as any[])[i];
      assert.equal(f.text, c.text, `stop ${stop}, choice ${i}`);
      assert.equal(f.stop_reason, c.stop_reason);
      if (typeof c.stop_reason === "string") hits++;
    });
    // a chunk never carries the start of a stop string that a later token completes
    for (const s of stop) assert.ok(!(folded.body.choices as any[]).some((c) => c.text.includes(s)));
  }
  assert.ok(hits >= 5, `only ${hits} rows stopped on a stop string`);
});

test("logprobs 0 streams exactly the sampler's logprobs; include_usage ends with a usage chunk (choices: [])", async () => {
  const prompt = tok.encode("12+3=");
  const local = generate(m, [prompt], { n: 2, maxNewTokens: 6, temperature: 1, seed: 5, tokenizer: tok });
  const tensors = tf.memory().numTensors;
  const res = await post(`${srv.url}/v1/completions`, {
    prompt,
    n: 2,
    max_tokens: 6,
    seed: 5,
    logprobs: 0,
    stream: true,
    stream_options: { include_usage: true },
  });
  assert.equal(tf.memory().numTensors, tensors, "a finished stream leaves no tensor behind");
  const chunks = chunksOf(res.text);
  const last = chunks[chunks.length - 1];
  assert.deepEqual(last.choices, []);
  const completion = local.lengths.reduce((a, x) => a + x, 0);
  assert.deepEqual(last.usage, {
    prompt_tokens: prompt.length,
    total_tokens: prompt.length + completion,
    completion_tokens: completion,
  });
  assert.ok(chunks.slice(0, -1).every((c) => c.usage === undefined));
  const folded = collectStream(res.text, where);
  assert.ok(folded.ok);
  const choices = folded.body.choices as any[];
  for (let r = 0; r < 2; r++) {
    assert.equal(choices[r].text, local.text![r]);
    assert.deepEqual(choices[r].logprobs.token_logprobs, local.rawLogprobs[r], "bit-identical to generate");
    assert.equal(choices[r].finish_reason, local.finishReason[r]);
    // text_offset counts the text sent before each token
    assert.equal(choices[r].logprobs.text_offset[0], 0);
  }
});

test("stream_options.continuous_usage_stats: every chunk carries its choice's running usage", async () => {
  const res = await post(`${srv.url}/v1/completions`, {
    prompt: "12",
    n: 2,
    max_tokens: 4,
    seed: 1,
    ignore_eos: true,
    stream: true,
    stream_options: { continuous_usage_stats: true },
  });
  const chunks = chunksOf(res.text);
  assert.equal(chunks.length, 8);
  chunks.forEach((c, i) =>
    assert.deepEqual(c.usage, { prompt_tokens: 2, total_tokens: 2 + 1 + (i >> 1), completion_tokens: 1 + (i >> 1) }),
  );
});

test("chat stream: a role chunk per choice, then deltas with logprobs.content; folds to the stream: false answer", async () => {
  const body = {
    messages: [{ role: "user", content: "1+1" }],
    n: 2,
    max_tokens: 6,
    seed: 3,
    logprobs: true,
    top_logprobs: 2,
  };
  const plain = JSON.parse((await post(`${srv.url}/v1/chat/completions`, body)).text);
  const res = await post(`${srv.url}/v1/chat/completions`, { ...body, stream: true });
  const chunks = chunksOf(res.text);
  assert.ok(chunks.every((c) => c.object === "chat.completion.chunk"));
  assert.deepEqual(
    chunks.slice(0, 2).map((c) => c.choices[0]),
    [0, 1].map((index) => ({
      index,
      delta: { role: "assistant", content: "" },
      logprobs: null,
      finish_reason: null,
    })),
  );
  for (const c of chunks.slice(2)) {
    assert.equal(c.choices[0].logprobs.content.length, 1);
    assert.equal(c.choices[0].logprobs.content[0].top_logprobs.length, 2);
  }
  const folded = collectStream(res.text, where);
  assert.ok(folded.ok);
  assert.equal(folded.body.object, "chat.completion");
  (folded.body.choices as any[]).forEach((b, r) => {
    const a = plain.choices[r];
    assert.equal(b.message.content, a.message.content);
    assert.equal(b.finish_reason, a.finish_reason);
    assert.deepEqual(
      b.logprobs.content.map((e: any) => e.token),
      a.logprobs.content.map((e: any) => e.token),
    );
    b.logprobs.content.forEach((e: any, j: number) => {
      assert.ok(Math.abs(e.logprob - a.logprobs.content[j].logprob) < 1e-4);
      assert.deepEqual(
        e.top_logprobs.map((x: any) => x.token),
        a.logprobs.content[j].top_logprobs.map((x: any) => x.token),
      );
    });
  });
});

test("streaming keeps the server's rules: limits, api key, bad fields and echo are plain JSON 4xx before any event", async () => {
  const s2 = await serve(m, tok, { port: 0, maxSequences: 4, maxTokens: 8, apiKey: "k" });
  try {
    const auth = { authorization: "Bearer k" };
    const many = await post(`${s2.url}/v1/completions`, { prompt: "1", n: 5, stream: true }, auth);
    assert.equal(many.status, 400);
    assert.match(JSON.parse(many.text).error.message, /--max-sequences/);
    const long = await post(
      `${s2.url}/v1/chat/completions`,
      { messages: [{ role: "user", content: "1" }], max_tokens: 9, stream: true },
      auth,
    );
    assert.equal(long.status, 400);
    assert.match(JSON.parse(long.text).error.message, /--max-tokens/);
    const noKey = await post(`${s2.url}/v1/completions`, { prompt: "1", stream: true });
    assert.equal(noKey.status, 401);
    const echo = await post(`${s2.url}/v1/completions`, { prompt: "1", max_tokens: 2, echo: true, stream: true }, auth);
    assert.equal(echo.status, 400);
    assert.match(JSON.parse(echo.text).error.message, /echo is not supported with stream: true/);
    const opts = await post(
      `${s2.url}/v1/completions`,
      { prompt: "1", max_tokens: 2, stream: true, stream_options: { include_usage: 1 } },
      auth,
    );
    assert.equal(opts.status, 400);
    assert.equal(JSON.parse(opts.text).error.param, "include_usage");
    const ok = await post(`${s2.url}/v1/completions`, { prompt: "1", max_tokens: 2, stream: true }, auth);
    assert.equal(ok.status, 200);
  } finally {
    await s2.close();
  }
});

test("a model failure mid-stream ends the stream with an error event and [DONE]; the client reports it", async () => {
  const s2 = await serve(m, tok, { port: 0 });
  const forward = m.forward;
  let calls = 0;
  try {
    (m as any).forward = (...a: unknown[]) => {
      if (++calls === 3) throw new Error("out of memory (injected)");
      return (forward as any).apply(m, a);
    };
    const res = await post(`${s2.url}/v1/completions`, { prompt: "1", max_tokens: 8, ignore_eos: true, stream: true });
    assert.equal(res.status, 200);
    const data = sseData(res.text);
    assert.equal(data[data.length - 1], "[DONE]");
    const err = JSON.parse(data[data.length - 2]);
    assert.equal(err.error.code, 500);
    assert.match(err.error.message, /injected/);
    assert.equal(data.length, 2 + 2, "two tokens streamed before the failing step");
    (m as any).forward = forward;
    const policy = new RemotePolicy(s2.url, { tokenizer: tok, stream: true, retries: 0 });
    calls = -1e9;
    (m as any).forward = (...a: unknown[]) => {
      if (++calls > -1e9 + 2) throw new Error("still broken (injected)");
      return (forward as any).apply(m, a);
    };
    await assert.rejects(policy.generate([tok.encode("1")], { maxNewTokens: 8, ignoreEos: true }), (e: Error) =>
      /HTTP 500: "still broken \(injected\)"/.test(String((e as any).failures?.[0]?.error ?? e)),
    );
    policy.close();
  } finally {
    (m as any).forward = forward;
    await s2.close();
  }
});

test("a client that leaves mid-stream stops the generation at the next step: no leaked tensors, the queue moves on", async () => {
  const lines: string[] = [];
  const s2 = await serve(m, tok, { port: 0, log: (l) => lines.push(l) });
  const forward = m.forward;
  let steps = 0;
  try {
    (m as any).forward = (...a: unknown[]) => {
      steps++;
      const t = Date.now();
      while (Date.now() - t < 10); // a slower model, so that the client leaves long before the 60th token
      return (forward as any).apply(m, a);
    };
    const tensors = tf.memory().numTensors;
    const long = { prompt: "1", max_tokens: 60, ignore_eos: true, stream: true };
    let queued: ReturnType<typeof post> | null = null;
    await new Promise<void>((resolve, reject) => {
      const req = http.request(`${s2.url}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
      });
      req.on("response", (res) => {
        let seen = 0;
        res.on("data", (c: Buffer) => {
          seen += (c.toString().match(/^data: /gm) ?? []).length;
          // a second stream waits in the server's queue behind this one
          queued ??= post(`${s2.url}/v1/completions`, { ...long, max_tokens: 3 });
          if (seen >= 2) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on("error", () => undefined);
      req.on("close", () => resolve());
      setTimeout(() => reject(new Error("no chunks in 10 s")), 10000).unref();
      req.end(JSON.stringify(long));
    });
    // (TypeScript does not see the assignment inside the callback)
    const second = await (queued as ReturnType<typeof post> | null)!;
    assert.equal(second.status, 200);
    assert.ok(second.text.trimEnd().endsWith("data: [DONE]"));
    for (let i = 0; i < 200 && !lines.some((l) => / 499 /.test(l)); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(
      lines.some((l) => l.startsWith("POST /v1/completions 499")),
      `no cancelled request: ${lines.join(" | ")}`,
    );
    // 3 forwards for the queued request; the cancelled one stopped well before its 60 tokens
    assert.ok(steps < 50, `the generation went on after the client left (${steps} forwards)`);
    assert.equal(tf.memory().numTensors, tensors, "tensors leaked by the cancelled stream");
    const next = await post(`${s2.url}/v1/completions`, { prompt: "2", max_tokens: 2, stream: true });
    assert.equal(next.status, 200);
  } finally {
    (m as any).forward = forward;
    await s2.close();
  }
});

test("RemotePolicy with stream: true samples the rows of stream: false and of the in-process model (same seed)", async () => {
  const prompts = [tok.encode("1+2="), tok.encode("3"), tok.encode("45+")];
  const opts = { n: 3, maxNewTokens: 7, temperature: 1, seed: 9, stop: ["="] };
  const streaming = await RemotePolicy.connect(srv.url, { stream: true });
  const plain = await RemotePolicy.connect(srv.url);
  try {
    const a = await streaming.generate(prompts, opts);
    const b = await plain.generate(prompts, opts);
    assert.deepEqual(a, b, "stream: true and stream: false give the same GenerateResult");
    // the server samples prompt by prompt with the seeds RemotePolicy draws; the in-process model with the same
    // per-prompt seed gives the same ids and (bit-identical) logprobs
    const chatA = await streaming.chat([[{ role: "user", content: "12" }]], { n: 2, maxNewTokens: 5, seed: 4 });
    const chatB = await plain.chat([[{ role: "user", content: "12" }]], { n: 2, maxNewTokens: 5, seed: 4 });
    assert.deepEqual(chatA, chatB);
  } finally {
    streaming.close();
    plain.close();
  }
});

test("the client retries a stream cut short and fails clearly on a stream that never ends", async () => {
  let calls = 0;
  let cut = false;
  const chunk = (text: string, finish: string | null) =>
    `data: ${JSON.stringify({ object: "text_completion", choices: [{ index: 0, text, logprobs: { tokens: ["token_id:5"], token_logprobs: [-0.5], top_logprobs: [{ "token_id:5": -0.5 }], text_offset: [0] }, token_ids: [5], finish_reason: finish }] })}\n\n`;
  const fake = await fakeServer((_b, i) => {
    calls++;
    return {
      headers: { "content-type": "text/event-stream" },
      body: i === 0 || cut ? chunk("1", null) : chunk("1", "length") + "data: [DONE]\n\n",
    };
  });
  try {
    const policy = new RemotePolicy(fake.url, { tokenizer: tok, model: "fake", stream: true, backoffMs: 1 });
    const out = await policy.generate([tok.encode("1")], { maxNewTokens: 1, seed: 0 });
    assert.deepEqual(out.ids, [[5]]);
    assert.equal(calls, 2, "the stream without [DONE] was retried");
    assert.equal(fake.bodies[0].stream, true);
    assert.deepEqual(fake.bodies[0].stream_options, { include_usage: true });
    const never = new RemotePolicy(fake.url, { tokenizer: tok, model: "fake", stream: true, retries: 0 });
    cut = true; // every answer from now on: cut short
    await assert.rejects(never.generate([tok.encode("1")], { maxNewTokens: 1 }), (e: any) =>
      /event stream that is incomplete.*cut short/.test(String(e.failures?.[0]?.error?.message ?? e.message)),
    );
    policy.close();
    never.close();
  } finally {
    await fake.close();
  }
});

test("RemotePolicy folds a vLLM-shaped stream (usage: null chunks, prompt_token_ids first, token_id:N, usage chunk)", async () => {
  // chunks as vLLM's completion_stream_generator writes them for n = 2, logprobs 0, return_token_ids and
  // return_tokens_as_token_ids: one choice per chunk, the delta's ids and logprobs, finish on the last, then usage
  const ids = [
    [5, 6, 2],
    [7, 2],
  ];
  const events: string[] = [];
  const offsets = [0, 0];
  for (let step = 0; step < 3; step++)
    for (let i = 0; i < 2; i++) {
      const id = ids[i][step];
      if (id === undefined) continue;
      const text = id === 2 ? "" : tok.decode([id]);
      const last = step === ids[i].length - 1;
      events.push(
        JSON.stringify({
          id: "cmpl-x",
          object: "text_completion",
          created: 1,
          model: "m",
          choices: [
            {
              index: i,
              text,
              logprobs: {
                text_offset: [offsets[i]],
                token_logprobs: [-0.25 * (step + 1)],
                tokens: [`token_id:${id}`],
                top_logprobs: [{ [`token_id:${id}`]: -0.25 * (step + 1) }],
              },
              finish_reason: last ? "stop" : null,
              stop_reason: null,
              prompt_token_ids: step === 0 ? [1, 4] : null,
              token_ids: [id],
            },
          ],
          usage: null,
        }),
      );
      offsets[i] += text.length;
    }
  events.push(
    JSON.stringify({
      id: "cmpl-x",
      object: "text_completion",
      created: 1,
      model: "m",
      choices: [],
      usage: { prompt_tokens: 2, total_tokens: 7, completion_tokens: 5 },
    }),
  );
  const sse = events.map((e) => `data: ${e}\n\n`).join("") + "data: [DONE]\n\n";
  const fake = await fakeServer(() => ({ headers: { "content-type": "text/event-stream" }, body: sse }));
  try {
    const policy = new RemotePolicy(fake.url, { tokenizer: tok, model: "m", stream: true });
    const out = await policy.generate([[1, 4]], { n: 2, maxNewTokens: 3, seed: 0 });
    assert.deepEqual(out.ids, ids);
    assert.deepEqual(out.promptTokenIds, [
      [1, 4],
      [1, 4],
    ]);
    assert.deepEqual(out.logprobs, [
      [-0.25, -0.5, -0.75],
      [-0.25, -0.5],
    ]);
    assert.deepEqual(out.text, [tok.decode([5, 6]), tok.decode([7])]);
    assert.deepEqual(out.finishReason, ["stop", "stop"]);
    assert.equal(fake.bodies[0].stream, true);
    assert.equal(fake.bodies[0].n, 2);
    policy.close();
  } finally {
    await fake.close();
  }
});

test("a byte-level BPE tokenizer: streamed text (incomplete UTF-8 held back) folds to stream: false's text", async () => {
  const bpe = loadTokenizer(path.join(__dirname, "..", "model", "fixtures", "tiny-bpe"));
  const model = new LlamaModel(
    {
      hidden_size: 32,
      num_hidden_layers: 1,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      intermediate_size: 64,
      vocab_size: bpe.vocabSize,
      max_position_embeddings: 64,
      initializer_range: 0.3,
    },
    { rng: new Rng(2) },
  );
  const s2 = await serve(model, bpe, { port: 0 });
  try {
    const body = { prompt: "héllo 中", n: 6, max_tokens: 24, seed: 4, ignore_eos: true, stop: ["ab"] };
    const plain = JSON.parse((await post(`${s2.url}/v1/completions`, body)).text);
    const res = await post(`${s2.url}/v1/completions`, { ...body, stream: true });
    const folded = collectStream(res.text, where);
    assert.ok(folded.ok, res.text.slice(-300));
    assert.deepEqual(
      (folded.body.choices as any[]).map((c) => c.text),
      plain.choices.map((c: any) => c.text),
    );
    // mid-stream chunks never end in a replacement character (a UTF-8 sequence still incomplete)
    for (const c of chunksOf(res.text))
      if (!c.choices[0].finish_reason) assert.ok(!c.choices[0].text.endsWith("\uFFFD"));
    assert.ok(
      plain.choices.some((c: any) => /[^\x00-\x7f]/.test(c.text)),
      "no multi-byte text sampled: the test proves nothing",
    );
  } finally {
    await s2.close();
    model.dispose();
  }
});
