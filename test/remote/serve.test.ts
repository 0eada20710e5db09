// End to end over loopback: `serve` (in-process) answers like vLLM, and RemotePolicy / remoteTeacher on top of it
// give the same ids and logprobs as the local model.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../lib/core/random.js";
import { localTeacher } from "../../lib/distill/teacher.js";
import { encodeChat } from "../../lib/model/chat-template.js";
import { generate } from "../../lib/model/generate.js";
import { logprobs } from "../../lib/model/logprobs.js";
import { sample } from "../../lib/rollout/rollout.js";
import { RemoteClient } from "../../lib/remote/client.js";
import { RemoteRequestError } from "../../lib/remote/errors.js";
import { RemotePolicy } from "../../lib/remote/remote-policy.js";
import { remoteTeacher } from "../../lib/remote/remote-teacher.js";
import { serve, type RunningServer } from "../../lib/remote/serve.js";
import { setup, tinyModel, tok } from "./helpers.js";

let m: ReturnType<typeof tinyModel>;
let srv: RunningServer;
before(async () => {
  await setup();
  m = tinyModel();
  srv = await serve(m, tok, { port: 0, name: "tiny" });
});
after(async () => {
  await srv.close();
  m.dispose();
});

const close = (a: number, b: number, tol = 2e-4) => Math.abs(a - b) <= tol;

test("GET /v1/models lists the served model; serve binds to 127.0.0.1 by default", async () => {
  assert.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const c = new RemoteClient(srv.url);
  const models = await c.listModels();
  assert.deepEqual(
    models.map((x) => x.id),
    ["tiny"],
  );
  assert.equal(models[0].max_model_len, 64);
  assert.equal(await c.ensureModel(), "tiny");
  c.close();
});

test("completions with a seed: the same ids as model.generate with that seed; logprobs are the model's raw logprobs", async () => {
  const c = new RemoteClient(srv.url, { model: "tiny" });
  const prompt = tok.encode("12+3=");
  const body = {
    prompt,
    n: 3,
    max_tokens: 6,
    temperature: 1,
    seed: 7,
    logprobs: 2,
    return_token_ids: true,
    return_tokens_as_token_ids: true,
  };
  const j = (await c.request("POST", "/completions", body, "test")) as any;
  const local = generate(m, [prompt], { n: 3, maxNewTokens: 6, temperature: 1, seed: 7, tokenizer: tok });
  assert.equal(j.object, "text_completion");
  assert.equal(j.choices.length, 3);
  j.choices.forEach((ch: any, r: number) => {
    assert.equal(ch.index, r);
    assert.deepEqual(ch.token_ids, local.ids[r]);
    assert.deepEqual(ch.prompt_token_ids, prompt);
    assert.equal(ch.text, local.text![r]);
    assert.equal(ch.finish_reason, local.finishReason[r]);
    assert.deepEqual(
      ch.logprobs.tokens,
      local.ids[r].map((t) => `token_id:${t}`),
    );
    local.rawLogprobs[r].forEach((lp, k) =>
      assert.ok(
        close(ch.logprobs.token_logprobs[k], lp),
        `row ${r} token ${k}: ${ch.logprobs.token_logprobs[k]} vs ${lp}`,
      ),
    );
    // top_logprobs: the 2 best plus the sampled token when it ranks lower, best first by value
    for (const top of ch.logprobs.top_logprobs) assert.ok(Object.keys(top).length >= 2 && Object.keys(top).length <= 3);
  });
  assert.equal(j.usage.prompt_tokens, prompt.length);
  // logprobs: 0 reads the sampler's own raw logprobs (no second pass): exactly generate's rawLogprobs
  const z = (await c.request("POST", "/completions", { ...body, logprobs: 0 }, "test")) as any;
  z.choices.forEach((ch: any, r: number) => {
    assert.deepEqual(ch.logprobs.token_logprobs, local.rawLogprobs[r]);
    assert.deepEqual(
      ch.logprobs.top_logprobs.map((t: any) => Object.keys(t)),
      local.ids[r].map((id) => [`token_id:${id}`]),
    );
  });
  assert.equal(
    j.usage.completion_tokens,
    local.lengths.reduce((a, x) => a + x, 0),
  );
  c.close();
});

test("echo + prompt_logprobs: null first entry, the prompt token always present with its rank, values = model.logprobs", async () => {
  const c = new RemoteClient(srv.url, { model: "tiny" });
  const prompt = tok.encode("7+8=15");
  const j = (await c.request(
    "POST",
    "/completions",
    { prompt, max_tokens: 1, echo: true, logprobs: 3, prompt_logprobs: 3, temperature: 0 },
    "test",
  )) as any;
  const ch = j.choices[0];
  const ref = logprobs(m, { ids: [prompt] }, { topK: 3, entropy: false });
  assert.equal(ch.prompt_logprobs.length, prompt.length);
  assert.equal(ch.prompt_logprobs[0], null);
  for (let t = 1; t < prompt.length; t++) {
    const pos = ch.prompt_logprobs[t];
    const own = pos[String(prompt[t])];
    assert.ok(own, `position ${t} carries its own token`);
    assert.ok(close(own.logprob, ref.logp[0][t]));
    assert.equal(typeof own.rank, "number");
    assert.ok(own.rank >= 1);
    const best = Object.entries(pos)
      .filter(([, v]: any) => v.rank <= 3)
      .sort(([, a]: any, [, b]: any) => a.rank - b.rank)
      .map(([k]) => Number(k));
    assert.deepEqual(best, ref.topK!.ids[0][t]);
    if (!best.includes(prompt[t])) assert.ok(own.rank > 3);
  }
  // echo: the text starts with the prompt, the logprobs list starts with the prompt tokens (first one null)
  assert.ok(ch.text.startsWith("7+8=15"));
  assert.equal(ch.logprobs.token_logprobs[0], null);
  assert.equal(ch.logprobs.tokens.length, prompt.length + 1);
  assert.ok(close(ch.logprobs.token_logprobs[3], ref.logp[0][3]));
  c.close();
});

test("RemotePolicy: rollout() works unchanged, and score() equals model.logprobs on the same batch (prompt_logprobs and echo)", async () => {
  const policy = await RemotePolicy.connect(srv.url, { concurrency: 2 });
  assert.equal(policy.name, "remote:tiny");
  assert.equal(policy.tokenizer.vocabSize, tok.vocabSize);
  const ro = await sample(policy, ["1+1=", "22+3="], {
    n: 2,
    maxNewTokens: 5,
    seed: 11,
    columns: { answer: ["2", "25"] },
  });
  assert.equal(ro.size, 4);
  assert.deepEqual(ro.group, [0, 0, 1, 1]);
  assert.deepEqual(ro.table.array("answer"), ["2", "2", "25", "25"]);
  const again = await sample(policy, ["1+1=", "22+3="], { n: 2, maxNewTokens: 5, seed: 11 });
  assert.deepEqual(again.responseIds, ro.responseIds, "same seed, same samples");
  const ref = logprobs(m, ro, { topK: 2, entropy: false });
  const remoteScore = await policy.score(ro, { topK: 2 });
  assert.deepEqual(remoteScore.mask, ref.mask);
  for (let b = 0; b < ro.size; b++)
    for (let t = 0; t < ro.ids[0].length; t++) {
      assert.ok(close(remoteScore.logp[b][t], ref.logp[b][t]), `logp[${b}][${t}]`);
      assert.deepEqual(remoteScore.topK!.ids[b][t], ref.topK!.ids[b][t]);
      // the sampler's logprobs are the server's raw logprobs of the same tokens
      if (ro.responseMask[b][t]) assert.ok(close(ro.logprobs[b][t], ref.logp[b][t]));
    }
  const echo = new RemotePolicy(srv.url, { tokenizer: tok, scoring: "echo" });
  const viaEcho = await echo.score(ro, { topK: 2 });
  assert.equal(echo.scorer.mode, "echo");
  assert.equal(policy.scorer.mode, "prompt_logprobs");
  for (let b = 0; b < ro.size; b++) {
    viaEcho.logp[b].forEach((v, t) => assert.ok(close(v, remoteScore.logp[b][t])));
    assert.deepEqual(viaEcho.topK!.ids[b], remoteScore.topK!.ids[b]);
  }
  await assert.rejects(policy.score(ro, { temperature: 0.7 }), /temperature must be 1 for a remote policy/);
  policy.close();
  echo.close();
});

test("chat completions apply the chat template; the policy's chat() returns the server's prompt ids", async () => {
  const policy = new RemotePolicy(srv.url, { tokenizer: tok, model: "tiny" });
  const msgs = [{ role: "user", content: "3+4=" }];
  const out = await policy.chat([msgs], { n: 2, maxNewTokens: 4, seed: 3 });
  assert.equal(out.ids.length, 2);
  assert.deepEqual(out.promptTokenIds[0], encodeChat(tok, msgs, { addGenerationPrompt: true }));
  const local = generate(m, [out.promptTokenIds[0]], {
    n: 2,
    maxNewTokens: 4,
    seed: new Rng(3).nextU32() >>> 1,
    tokenizer: tok,
  });
  assert.deepEqual(out.ids, local.ids);
  const c = new RemoteClient(srv.url, { model: "tiny" });
  const j = (await c.request(
    "POST",
    "/chat/completions",
    {
      messages: [{ role: "user", content: [{ type: "text", text: "3+4=" }] }],
      max_tokens: 3,
      logprobs: true,
      top_logprobs: 2,
      seed: 1,
    },
    "test",
  )) as any;
  assert.equal(j.object, "chat.completion");
  const content = j.choices[0].logprobs.content;
  assert.equal(content.length, j.usage.completion_tokens);
  assert.ok(Array.isArray(content[0].bytes));
  assert.equal(content[0].top_logprobs.length, 2);
  assert.equal(j.choices[0].message.role, "assistant");
  policy.close();
  c.close();
});

test("remoteTeacher: the same top-k ids and logprobs as distill.localTeacher on a rollout batch", async () => {
  const policy = new RemotePolicy(srv.url, { tokenizer: tok, model: "tiny" });
  const ro = await sample(policy, ["9+9=", "1="], { n: 2, maxNewTokens: 4, seed: 5 });
  const teacher = remoteTeacher(srv.url, { tokenizer: tok, topK: 4, concurrency: 3 });
  const remoteOut = await teacher.score(ro);
  const localOut = localTeacher(m, { topK: 4 }).score(ro) as any;
  assert.equal(remoteOut.kind, "topk");
  if (remoteOut.kind !== "topk") return;
  assert.deepEqual([remoteOut.B, remoteOut.T, remoteOut.K], [localOut.B, localOut.T, localOut.K]);
  let compared = 0;
  for (let b = 0; b < ro.size; b++)
    for (let t = 1; t < ro.ids[0].length; t++) {
      if (!(ro.attentionMask[b][t] && ro.attentionMask[b][t - 1])) continue;
      // the server scores prompt positions too (verl's teacher: only_response=False); the local one only the response
      if (!ro.responseMask[b][t]) {
        assert.ok(remoteOut.logprobs[(b * remoteOut.T + t) * 4] > -1e3, `prompt position ${b},${t} is filled`);
        continue;
      }
      for (let k = 0; k < 4; k++) {
        const i: number = (b * remoteOut.T + t) * 4 + k;
        assert.equal(remoteOut.ids[i], localOut.ids[i], `id at ${b},${t},${k}`);
        assert.ok(close(remoteOut.logprobs[i], localOut.logprobs[i]));
        compared++;
      }
    }
  assert.ok(compared > 20);
  teacher.close();
  policy.close();
});

test("bad requests get vLLM-style 4xx errors with the fix, and the model tensors do not leak", async () => {
  const c = new RemoteClient(srv.url, { retries: 0 });
  const before = tf.memory().numTensors;
  await assert.rejects(c.request("POST", "/completions", { model: "nope", prompt: "1" }, "test"), (e: any) => {
    assert.ok(e instanceof RemoteRequestError);
    assert.equal(e.status, 404);
    assert.equal(e.attempts, 1);
    assert.match(
      e.message,
      /POST http:\/\/127\.0\.0\.1:\d+\/v1\/completions failed after 1 attempt \(got HTTP 404: "The model `nope` does not exist/,
    );
    assert.match(e.message, /GET \/v1\/models/);
    return true;
  });
  await assert.rejects(
    c.request("POST", "/completions", { prompt: "1", logprobs: 50 }, "test"),
    /Requested logprobs of 50, which is greater than max allowed: 20.*--max-logprobs/,
  );
  await assert.rejects(
    c.request("POST", "/completions", { prompt: "1", max_tokens: 100 }, "test"),
    /maximum context length is 64 tokens.*Shorten the prompt or lower maxNewTokens/,
  );
  await assert.rejects(
    c.request("POST", "/completions", { prompt: "1", stream_options: { include_usage: true } }, "test"),
    /Stream options can only be defined when `stream=True`/,
  );
  await assert.rejects(c.request("POST", "/completions", { prompt: "1", top_p: 0 }, "test"), /top_p is invalid/);
  await assert.rejects(c.request("GET", "/nothing", undefined, "test"), /HTTP 404: "Not Found: GET \/v1\/nothing/);
  await c.request("POST", "/completions", { prompt: "12", max_tokens: 3, logprobs: 1, prompt_logprobs: 1 }, "test");
  assert.equal(tf.memory().numTensors, before);
  c.close();
});

test("a GKD step with the teacher behind the server matches the same step with the local teacher", async () => {
  const { gkdStep } = await import("../../lib/distill/gkd-step.js");
  const { AdamW } = await import("../../lib/model/optim.js");
  const { LocalPolicy } = await import("../../lib/rollout/policy.js");
  const prompts = ["1+2=", "3+4=", "12="];
  const run = async (teacherOf: () => any) => {
    const student = new LocalPolicy(tinyModel(20), tok);
    const opt = new AdamW(student.model.namedVariables(), { lr: 3e-3, weightDecay: 0 });
    const teacher = teacherOf();
    const losses: number[] = [];
    for (let s = 0; s < 2; s++) {
      const r = await gkdStep(
        { policy: student, opt, teacher, prompts, step: s },
        {
          divergence: "jsd",
          beta: 0.5,
          topK: 4,
          sampling: { maxNewTokens: 4 },
          rng: new Rng(7 + s),
          thresholds: { truncFrac: null },
        },
      );
      losses.push(r.metrics["distill/loss"]);
    }
    teacher.close?.();
    student.model.dispose();
    return losses;
  };
  const local = await run(() => localTeacher(m, { topK: 4 }));
  const remote = await run(() => remoteTeacher(srv.url, { tokenizer: tok, topK: 4 }));
  assert.ok(local.every(Number.isFinite));
  remote.forEach((x, i) => assert.ok(Math.abs(x - local[i]) < 1e-4, `step ${i}: remote ${x} vs local ${local[i]}`));
});

test("evals.generate runs against the server like a local policy (records get n responses and finish reasons)", async () => {
  const { generateRecords: evalGenerate } = await import("../../lib/eval/generate.js");
  const { record } = await import("../../lib/data/record.js");
  const policy = await RemotePolicy.connect(srv.url);
  const recs = [
    record({ data_source: "cellrl/arith", prompt: "1+1=", ground_truth: "2" }),
    record({ data_source: "cellrl/arith", prompt: "2+2=", ground_truth: "4" }),
  ];
  const gen = await evalGenerate(policy, recs, { n: 3, maxNewTokens: 4, temperature: 1 });
  assert.equal(gen.length, 2);
  for (const g of gen) {
    assert.equal(g.responses.length, 3);
    assert.equal(g.finish_reasons!.length, 3);
  }
  assert.equal((gen[0].extra_info as any).generation.policy, "remote:tiny");
  policy.close();
});
