// Response bodies as vLLM (and llama.cpp) write them, recorded as fixtures from their documented formats: legacy
// completions logprobs, "token_id:N" tokens, return_token_ids, echo, prompt_logprobs (null first, the prompt token
// beyond top-k, -9999 for -inf), chat logprobs content, empty content, error bodies.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { excerpt, serverMessage } from "../../lib/remote/errors.js";
import { choiceIds, parseResponse, tokenIdOf } from "../../lib/remote/parse.js";
import { RemotePolicy } from "../../lib/remote/remote-policy.js";
import { remoteTeacher } from "../../lib/remote/remote-teacher.js";
import { fakeServer, tok } from "./helpers.js";

const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", name), "utf8"));
const ctx = { where: "remote.test", url: "http://x/v1/completions" };

test("completions, n = 2, return_token_ids + token_id tokens: ids, logprobs, sorted alternatives, stop reasons", () => {
  const r = parseResponse(fixture("vllm-completion-n2-token-ids.json"), ctx);
  assert.equal(r.model, "Qwen/Qwen2.5-0.5B-Instruct");
  assert.equal(r.choices.length, 2);
  const [a, b] = r.choices;
  assert.deepEqual(choiceIds(a), [220, 13]);
  assert.deepEqual(
    a.tokens!.map((t) => t.logprob),
    [-0.0312, -1.2045],
  );
  // alternatives best first, ids read from "token_id:N"
  assert.deepEqual(
    a.tokens![1].top!.map((x) => [x.id, x.logprob]),
    [
      [151645, -0.4117],
      [13, -1.2045],
    ],
  );
  assert.deepEqual(a.promptTokenIds, [16, 10, 16, 28]);
  assert.equal(a.finishReason, "length");
  assert.equal(b.stopReason, "\n");
  assert.equal(b.text, " 4");
  assert.equal(r.usage!.completion_tokens, 3);
});

test("token strings without ids: choiceIds is null (the policy re-encodes), logprobs still read", () => {
  const r = parseResponse(fixture("vllm-completion-text-tokens.json"), ctx);
  const c = r.choices[0];
  assert.equal(choiceIds(c), null);
  assert.deepEqual(
    c.tokens!.map((t) => t.token),
    [" Paris", ",", " the"],
  );
  assert.deepEqual(
    c.tokens![1].top!.map((x) => x.token),
    [".", ","],
  );
  assert.equal(tokenIdOf(" Paris"), null);
  assert.equal(tokenIdOf("token_id:0"), 0);
});

test("prompt_logprobs: null first, dict keys are ids, ranks order the alternatives, the prompt token may rank beyond k", () => {
  const r = parseResponse(fixture("vllm-completion-prompt-logprobs.json"), ctx);
  const p = r.choices[0].promptLogprobs!;
  assert.equal(p.length, 4);
  assert.equal(p[0], null);
  assert.deepEqual(
    p[2]!.map((a) => [a.id, a.rank]),
    [
      [16, 1],
      [17, 2],
      [28, 7],
    ],
  );
  assert.equal(p[2]![2].token, "é");
  assert.deepEqual(
    p[3]!.map((a) => a.logprob),
    [-0.01, -4.7, -9999.0],
  );
});

test("echo: the prompt tokens come first with a null logprob at position 0", () => {
  const c = parseResponse(fixture("vllm-completion-echo.json"), ctx).choices[0];
  assert.equal(c.tokens!.length, 5);
  assert.equal(c.tokens![0].logprob, null);
  assert.equal(c.tokens![0].top, null);
  assert.deepEqual(
    c.tokens!.map((t) => t.id),
    [16, 10, 16, 28, 220],
  );
});

test("chat: logprobs.content with bytes and top_logprobs lists, prompt logprobs / ids at the top level, empty content", () => {
  const r = parseResponse(fixture("vllm-chat-logprobs.json"), ctx);
  const [a, b] = r.choices;
  assert.equal(a.text, "2+2 = 4");
  assert.deepEqual(choiceIds(a), [17, 10, 17]);
  assert.equal(a.tokens![2].logprob, -9999.0);
  assert.deepEqual(
    a.tokens![0].top!.map((x) => x.id),
    [17, 785],
  );
  assert.deepEqual(a.promptTokenIds, [151644, 8948]);
  assert.deepEqual(
    a.promptLogprobs![1]!.map((x) => x.id),
    [151644, 8948],
  );
  assert.equal(b.text, "");
  assert.deepEqual(b.tokens, []);
  assert.deepEqual(choiceIds(b), []);
});

test("llama.cpp completions: chat-style logprobs with an id field per token", () => {
  const c = parseResponse(fixture("llamacpp-completion.json"), ctx).choices[0];
  assert.deepEqual(choiceIds(c), [220, 19]);
  assert.deepEqual(
    c.tokens!.map((t) => t.logprob),
    [-0.03125, -0.0078125],
  );
  assert.deepEqual(
    c.tokens![0].top!.map((x) => x.id),
    [220, 19],
  );
  assert.equal(c.stopReason, null);
});

test("error bodies of both vLLM shapes give the server's message", () => {
  assert.match(
    serverMessage(JSON.stringify(fixture("vllm-error-400.json"))),
    /^This model's maximum context length is 32768 tokens/,
  );
  assert.equal(
    serverMessage(JSON.stringify(fixture("vllm-error-404-new.json"))),
    "The model `Qwen/Qwen2.5-7B` does not exist.",
  );
  assert.equal(serverMessage("<html>502 Bad Gateway</html>"), "");
  assert.equal(excerpt("a\n  b" + "x".repeat(500), 20), "a bxxxxxxxxxxxxxx...");
});

test("malformed bodies name the field instead of producing NaN", () => {
  const good = fixture("vllm-completion-n2-token-ids.json");
  const bad1 = structuredClone(good);
  bad1.choices[0].logprobs.token_logprobs = [-0.1];
  assert.throws(
    () => parseResponse(bad1, ctx),
    /malformed choices\[0\]\.logprobs\.token_logprobs \(got array\(1\); expected 2 numbers \(one per token\)\)/,
  );
  const bad2 = structuredClone(good);
  bad2.choices[1].logprobs.token_logprobs = ["-0.03"];
  assert.throws(
    () => parseResponse(bad2, ctx),
    /choices\[1\]\.logprobs\.token_logprobs\[0\] \(got "-0\.03"; expected a number\)/,
  );
  assert.throws(() => parseResponse({ choices: "no" }, ctx), /malformed response\.choices/);
  assert.throws(() => parseResponse({ choices: [{ index: 0 }] }, ctx), /choices\[0\]\.text/);
  const bad3 = fixture("vllm-completion-prompt-logprobs.json");
  bad3.choices[0].prompt_logprobs[1] = { abc: { logprob: -1 } };
  assert.throws(() => parseResponse(bad3, ctx), /prompt_logprobs\[1\] key \(got "abc"; expected a token id\)/);
});

test("recorded bodies through the policy and the teacher: ids, logprobs and top-k land in the right columns", async () => {
  const srv = await fakeServer((b) => {
    if (b.prompt_logprobs !== undefined) return { body: fixture("vllm-completion-prompt-logprobs.json") };
    if (b.echo) return { body: fixture("vllm-completion-echo.json") };
    return { body: fixture("vllm-completion-n2-token-ids.json") };
  });
  const policy = new RemotePolicy(srv.url, { tokenizer: tok, model: "m", backoffMs: 1 });
  const out = await policy.generate([[16, 10, 16, 28]], { n: 2 });
  assert.deepEqual(out.ids, [[220, 13], [220]]);
  assert.deepEqual(out.finishReason, ["length", "stop"]);
  assert.deepEqual(out.stopReason, [null, "\n"]);
  assert.deepEqual(out.text, [" 4.", " 4"]);
  // a left-padded row: [pad, 16, 10, 28, 11] with the prompt_logprobs fixture's ids at columns 1..4
  const batch = { ids: [[0, 16, 10, 28, 11]], attentionMask: [[0, 1, 1, 1, 1]] };
  const s = await policy.score(batch, { topK: 2 });
  assert.deepEqual(s.mask, [[0, 0, 1, 1, 1]]);
  assert.deepEqual(s.logp, [[0, 0, -0.6931, -3.4, -9999.0]]);
  assert.deepEqual(s.topK!.ids[0], [[], [], [10, 11], [16, 17], [5, 6]]);
  const teacher = remoteTeacher(srv.url, { vocabSize: 30, topK: 2, model: "m" });
  const t = await teacher.score(batch);
  if (t.kind !== "topk") throw new Error("expected top-k");
  assert.deepEqual(Array.from(t.ids), [0, 0, 0, 0, 10, 11, 16, 17, 5, 6]);
  assert.deepEqual(
    Array.from(t.logprobs).map((x) => Math.round(x * 1e4) / 1e4),
    [-1e4, -1e4, -1e4, -1e4, -0.6931, -1.0986, -0.2231, -2, -0.01, -4.7],
  );
  // echo route: the fixture's prompt is [16, 10, 16, 28]
  const echo = new RemotePolicy(srv.url, { tokenizer: tok, model: "m", scoring: "echo" });
  const e = await echo.score({ ids: [[16, 10, 16, 28]] }, { topK: 2 });
  assert.deepEqual(e.logp, [[0, -5.25, -0.75, -1.5]]);
  assert.deepEqual(e.topK!.ids[0], [[], [11, 10], [16, 17], [10, 28]]);
  await assert.rejects(echo.score({ ids: [[16, 10, 17, 28]] }), /echoed token 16 at position 2 but the prompt has 17/);
  policy.close();
  echo.close();
  teacher.close();
  await srv.close();
});
