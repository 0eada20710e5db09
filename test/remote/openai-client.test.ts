// Conformance with the official `openai` npm client: it drives `cellrl serve` through models, completions (n,
// batched prompts, logprobs, seed), chat (top_logprobs), streaming (completions and chat, n > 1, include_usage,
// an AbortController mid-stream stops the server's generation) and errors (4xx, unknown model, api key), and the
// answers equal the in-process model's. RemotePolicy against the same server gives the in-process policy's rows for
// the same per-request seeds, streaming or not.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import OpenAI from "openai";
import { Rng } from "../../lib/core/random.js";
import { encodeChat } from "../../lib/model/chat-template.js";
import { generate } from "../../lib/model/generate.js";
import { sample } from "../../lib/rollout/rollout.js";
import { LocalPolicy } from "../../lib/rollout/policy.js";
import { localTeacher } from "../../lib/distill/teacher.js";
import { RemotePolicy } from "../../lib/remote/remote-policy.js";
import { remoteTeacher } from "../../lib/remote/remote-teacher.js";
import { serve, type RunningServer } from "../../lib/remote/serve.js";
import { setup, tinyModel, tok } from "./helpers.js";

let m: ReturnType<typeof tinyModel>;
let srv: RunningServer;
let client: OpenAI;
const lines: string[] = [];
before(async () => {
  await setup();
  m = tinyModel();
  srv = await serve(m, tok, { port: 0, name: "tiny", apiKey: "sk-test", log: (l) => lines.push(l) });
  client = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
});
after(async () => {
  await srv.close();
  m.dispose();
});

const close = (a: number, b: number, tol = 1e-4) => Math.abs(a - b) <= tol;

test("models.list names the served model", async () => {
  const page = await client.models.list();
  assert.deepEqual(
    page.data.map((x) => x.id),
    ["tiny"],
  );
});

test("completions: n, batched prompts, logprobs and seed give the in-process model's samples", async () => {
  const res = await client.completions.create({
    model: "tiny",
    prompt: ["12+3=", "4+"],
    n: 2,
    max_tokens: 6,
    logprobs: 2,
    seed: 7,
  });
  assert.equal(res.object, "text_completion");
  assert.equal(res.choices.length, 4);
  const local = generate(m, [tok.encode("12+3="), tok.encode("4+")], {
    n: 2,
    maxNewTokens: 6,
    seed: 7,
    tokenizer: tok,
  });
  res.choices.forEach((c, r) => {
    assert.equal(c.index, r);
    assert.equal(c.text, local.text![r]);
    assert.equal(c.finish_reason, local.finishReason[r]);
    assert.equal(c.logprobs!.tokens!.join(""), local.ids[r].map((id) => tok.decode([id])).join(""));
    c.logprobs!.token_logprobs!.forEach((lp, j) => assert.ok(close(lp, local.rawLogprobs[r][j])));
    c.logprobs!.top_logprobs!.forEach((t) => assert.ok(Object.keys(t).length >= 2));
  });
  const completion = local.lengths.reduce((a, x) => a + x, 0);
  assert.deepEqual(res.usage, {
    prompt_tokens: tok.encode("12+3=").length + tok.encode("4+").length,
    completion_tokens: completion,
    total_tokens: tok.encode("12+3=").length + tok.encode("4+").length + completion,
  });
  const again = await client.completions.create({
    model: "tiny",
    prompt: ["12+3=", "4+"],
    n: 2,
    max_tokens: 6,
    seed: 7,
  });
  assert.deepEqual(
    again.choices.map((c) => c.text),
    res.choices.map((c) => c.text),
    "same seed, same samples",
  );
});

test("chat: the template, n, seed and top_logprobs as the in-process model gives them", async () => {
  const messages = [{ role: "user" as const, content: "1+1" }];
  const res = await client.chat.completions.create({
    model: "tiny",
    messages,
    n: 2,
    max_tokens: 5,
    seed: 3,
    logprobs: true,
    top_logprobs: 2,
  });
  assert.equal(res.object, "chat.completion");
  const prompt = encodeChat(tok, messages, { addGenerationPrompt: true });
  const local = generate(m, [prompt], { n: 2, maxNewTokens: 5, seed: 3, tokenizer: tok });
  res.choices.forEach((c, r) => {
    assert.equal(c.message.role, "assistant");
    assert.equal(c.message.content, local.text![r]);
    const content = c.logprobs!.content!;
    assert.equal(content.length, local.ids[r].length);
    content.forEach((e, j) => {
      assert.equal(e.token, tok.decode([local.ids[r][j]]));
      assert.ok(close(e.logprob, local.rawLogprobs[r][j]));
      assert.equal(e.top_logprobs.length, 2);
      assert.ok(e.top_logprobs[0].logprob >= e.top_logprobs[1].logprob);
    });
  });
  assert.equal(res.usage!.prompt_tokens, prompt.length);
});

test("completions stream: n > 1 interleaved by index, one finish_reason per choice, include_usage, the same text", async () => {
  const body = { model: "tiny", prompt: "1+2=", n: 3, max_tokens: 8, seed: 21, logprobs: 1 };
  const plain = await client.completions.create(body);
  const stream = await client.completions.create({ ...body, stream: true, stream_options: { include_usage: true } });
  const text = ["", "", ""];
  const lps: number[][] = [[], [], []];
  const finish: (string | null)[] = [null, null, null];
  const order: number[] = [];
  let usage: OpenAI.CompletionUsage | null | undefined = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, "text_completion");
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      order.push(c.index);
      assert.equal(finish[c.index], null, "no chunk after a choice's finish_reason");
      text[c.index] += c.text;
      lps[c.index].push(...c.logprobs!.token_logprobs!);
      if (c.finish_reason) finish[c.index] = c.finish_reason;
    }
  }
  assert.deepEqual(order.slice(0, 3), [0, 1, 2]);
  assert.deepEqual(
    text,
    plain.choices.map((c) => c.text),
  );
  assert.deepEqual(
    finish,
    plain.choices.map((c) => c.finish_reason),
  );
  plain.choices.forEach((c, r) => c.logprobs!.token_logprobs!.forEach((lp, j) => assert.ok(close(lp, lps[r][j]))));
  assert.deepEqual(usage, plain.usage);
});

test("chat stream: role first, content deltas with logprobs per chunk, the same message as without streaming", async () => {
  const body = {
    model: "tiny",
    messages: [{ role: "user" as const, content: "2+2" }],
    n: 2,
    max_tokens: 6,
    seed: 8,
    logprobs: true,
    top_logprobs: 1,
  };
  const plain = await client.chat.completions.create(body);
  const stream = await client.chat.completions.create({
    ...body,
    stream: true,
    stream_options: { include_usage: true },
  });
  const content = ["", ""];
  const tokens: string[][] = [[], []];
  const roles: (string | undefined)[] = [undefined, undefined];
  let usage: OpenAI.CompletionUsage | null | undefined = null;
  const finish: (string | null)[] = [null, null];
  for await (const chunk of stream) {
    assert.equal(chunk.object, "chat.completion.chunk");
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      roles[c.index] ??= c.delta.role;
      content[c.index] += c.delta.content ?? "";
      for (const e of c.logprobs?.content ?? []) tokens[c.index].push(e.token);
      if (c.finish_reason) finish[c.index] = c.finish_reason;
    }
  }
  assert.deepEqual(roles, ["assistant", "assistant"]);
  assert.deepEqual(
    content,
    plain.choices.map((c) => c.message.content),
  );
  assert.deepEqual(
    tokens,
    plain.choices.map((c) => c.logprobs!.content!.map((e) => e.token)),
  );
  assert.deepEqual(
    finish,
    plain.choices.map((c) => c.finish_reason),
  );
  assert.deepEqual(usage, plain.usage);
});

test("AbortController mid-stream: the client stops, the server stops generating, no tensor leaks", async () => {
  const forward = m.forward;
  let steps = 0;
  (m as any).forward = (...a: unknown[]) => {
    steps++;
    const t = Date.now();
    while (Date.now() - t < 10); // slow the model so the abort lands long before the last token
    return (forward as any).apply(m, a);
  };
  try {
    const tensors = tf.memory().numTensors;
    const ac = new AbortController();
    const stream = await client.completions.create(
      { model: "tiny", prompt: "1", max_tokens: 60, stream: true, ignore_eos: true } as any,
      { signal: ac.signal },
    );
    let got = 0;
    // the client's stream ends quietly once aborted (openai's Stream returns on an abort)
    for await (const chunk of stream as any as AsyncIterable<OpenAI.Completion>) {
      got += chunk.choices.length;
      if (got === 2) ac.abort();
    }
    assert.ok(ac.signal.aborted);
    assert.ok(got < 60, `the stream was read to the end (${got} chunks)`);
    for (let i = 0; i < 300 && !lines.some((l) => l.startsWith("POST /v1/completions 499")); i++)
      await new Promise((r) => setTimeout(r, 10));
    assert.ok(
      lines.some((l) => l.startsWith("POST /v1/completions 499")),
      `the server did not stop: ${lines.join(" | ")}`,
    );
    assert.ok(steps < 50, `the server went on generating after the abort (${steps} of 60 forwards)`);
    assert.equal(tf.memory().numTensors, tensors);
    // the queue is free: the next request is answered
    const next = await client.completions.create({ model: "tiny", prompt: "2", max_tokens: 2 });
    assert.equal(next.choices.length, 1);
  } finally {
    (m as any).forward = forward;
  }
});

test("errors: an unknown model is NotFoundError, bad fields BadRequestError (also with stream), a wrong key 401", async () => {
  await assert.rejects(client.completions.create({ model: "gpt-4o", prompt: "1" }), (e: unknown) => {
    assert.ok(e instanceof OpenAI.NotFoundError);
    assert.equal(e.status, 404);
    assert.match(e.message, /The model `gpt-4o` does not exist/);
    return true;
  });
  await assert.rejects(
    client.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "1" }], top_p: 0 }),
    (e: unknown) => e instanceof OpenAI.BadRequestError && e.status === 400 && /top_p/.test(e.message),
  );
  await assert.rejects(
    client.completions.create({ model: "tiny", prompt: "1", logprobs: 50, stream: true }),
    (e: unknown) => e instanceof OpenAI.BadRequestError && /greater than max allowed: 20/.test(e.message),
  );
  await assert.rejects(
    client.chat.completions.create({ model: "tiny", messages: [] }),
    (e: unknown) => e instanceof OpenAI.BadRequestError && e.param === "messages",
  );
  const wrong = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: "nope", maxRetries: 0 });
  await assert.rejects(wrong.models.list(), (e: unknown) => e instanceof OpenAI.AuthenticationError);
});

test("RemotePolicy / remoteTeacher give the in-process policy's rows and teacher's top-k, streaming and not", async () => {
  const prompts = ["1+2=", "33+4="];
  const opts = { n: 2, maxNewTokens: 6, temperature: 1, seed: 13 };
  // RemotePolicy sends one request per prompt with a seed drawn from options.seed's stream
  const seeds = (() => {
    const rng = new Rng(opts.seed);
    return prompts.map(() => rng.nextU32() >>> 1);
  })();
  const local = new LocalPolicy(m, tok);
  const want = await Promise.all(prompts.map((p, g) => local.generate([p], { ...opts, seed: seeds[g] })));
  for (const stream of [false, true]) {
    const policy = await RemotePolicy.connect(srv.url, { apiKey: "sk-test", stream });
    try {
      const got = await policy.generate(prompts, opts);
      prompts.forEach((_, g) =>
        [0, 1].forEach((s) => {
          const r = g * 2 + s;
          assert.deepEqual(got.ids[r], want[g].ids[s], `stream ${stream}: ids of prompt ${g} sample ${s}`);
          assert.deepEqual(got.rawLogprobs[r], want[g].rawLogprobs[s], "bit-identical raw logprobs");
          assert.equal(got.text![r], want[g].text![s]);
          assert.equal(got.finishReason[r], want[g].finishReason[s]);
        }),
      );
      // a whole rollout through the policy: the same Rollout streaming or not
      const ro = await sample(policy, prompts, { n: 2, maxNewTokens: 5, seed: 2 });
      const ref = await sample(await RemotePolicy.connect(srv.url, { apiKey: "sk-test" }), prompts, {
        n: 2,
        maxNewTokens: 5,
        seed: 2,
      });
      assert.deepEqual(ro.responseIds, ref.responseIds);
      assert.deepEqual(ro.logprobs, ref.logprobs);
      // remoteTeacher on that rollout: the in-process teacher's top-k on every response position
      const teacher = remoteTeacher(srv.url, { tokenizer: tok, topK: 3, apiKey: "sk-test" });
      const far = await teacher.score(ro);
      const near = localTeacher(m, { topK: 3 }).score(ro) as any;
      assert.ok(far.kind === "topk" && near.kind === "topk");
      let compared = 0;
      for (let b = 0; b < ro.size; b++)
        for (let t = 1; t < ro.ids[0].length; t++)
          if (ro.responseMask[b][t])
            for (let k = 0; k < 3; k++) {
              const i: number = (b * far.T + t) * 3 + k;
              assert.equal(far.ids[i], near.ids[i]);
              assert.ok(close(far.logprobs[i], near.logprobs[i]));
              compared++;
            }
      assert.ok(compared >= 3 * ro.size);
      teacher.close();
    } finally {
      policy.close();
    }
  }
});
