// Fault injection with a scripted node:http server: 500s then success, 429 with Retry-After, slow answers (timeout),
// malformed JSON, connection refused, a server killed mid-batch. Each gives retries or a clear error, and no finished
// result is lost.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { RemoteClient, type RetryEvent } from "../../lib/remote/client.js";
import { RemoteBatchError, RemoteRequestError } from "../../lib/remote/errors.js";
import { RemotePolicy } from "../../lib/remote/remote-policy.js";
import { remoteTeacher } from "../../lib/remote/remote-teacher.js";
import { backoffDelay, isRetryableStatus, retryAfterMs } from "../../lib/remote/retry.js";
import { Rng } from "../../lib/core/random.js";
import { warnings } from "../../lib/core/warn.js";
import { completionBody, fakeServer, freePort, setup, tok } from "./helpers.js";

before(setup);

const fast = { backoffMs: 1, maxBackoffMs: 4, model: "fake" };

test("retry policy: which statuses retry, Retry-After parsing, jittered exponential backoff replays under a seed", () => {
  assert.deepEqual([408, 425, 429, 500, 502, 503, 504].map(isRetryableStatus), [
    true,
    true,
    true,
    true,
    true,
    true,
    true,
  ]);
  assert.deepEqual([400, 401, 403, 404, 422, 501, 505].map(isRetryableStatus), [
    false,
    false,
    false,
    false,
    false,
    false,
    false,
  ]);
  assert.equal(retryAfterMs("2"), 2000);
  assert.equal(retryAfterMs("0.25"), 250);
  assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4_000), 6000);
  assert.equal(retryAfterMs("soon"), undefined);
  assert.equal(retryAfterMs(undefined), undefined);
  // equal jitter: retry k waits in [½, 1] · backoffMs · 2^k, capped
  const a = [0, 1, 2, 3, 10].map((k) => backoffDelay(k, new Rng(1), { backoffMs: 100, maxBackoffMs: 1000 }));
  [100, 200, 400, 800, 1000].forEach((full, k) => assert.ok(a[k] >= full / 2 && a[k] <= full, `attempt ${k}: ${a[k]}`));
  assert.deepEqual(
    [0, 1, 2].map((k) => backoffDelay(k, new Rng(1))),
    [0, 1, 2].map((k) => backoffDelay(k, new Rng(1))),
  );
  assert.equal(backoffDelay(0, new Rng(1), { maxRetryAfterMs: 500 }, 9000), 500);
});

test("500, 500, then success: retried with backoff, the answer arrives", async () => {
  const srv = await fakeServer((b, i) =>
    i < 2
      ? { status: 500, body: { error: { message: "boom", type: "InternalServerError", code: 500 } } }
      : { body: completionBody(b) },
  );
  const retries: RetryEvent[] = [];
  const policy = new RemotePolicy(srv.url, { tokenizer: tok, ...fast, onRetry: (e) => retries.push(e) });
  const out = await policy.generate(["1+1="], { n: 2, maxNewTokens: 3 });
  assert.deepEqual(out.ids, [
    [5, 6, 2],
    [5, 6, 2],
  ]);
  assert.deepEqual(out.logprobs, [
    [-0.5, -0.5, -0.5],
    [-0.5, -0.5, -0.5],
  ]);
  assert.deepEqual(
    retries.map((r) => [r.attempt, r.status]),
    [
      [0, 500],
      [1, 500],
    ],
  );
  assert.equal(srv.bodies.length, 3);
  // what went over the wire: ids, vLLM extensions, per-prompt seed, and the sampling knobs
  const b = srv.bodies[2];
  assert.deepEqual(b.prompt, tok.encode("1+1="));
  assert.equal(b.n, 2);
  assert.equal(b.max_tokens, 3);
  assert.equal(b.logprobs, 0, "only the sampled token's logprob: no top-k work for the server");
  assert.equal(b.return_token_ids, true);
  assert.equal(b.return_tokens_as_token_ids, true);
  assert.equal(typeof b.seed, "number");
  // camelCase options become vLLM's fields in the request; the snake_case spelling is refused before any request
  await policy.generate(["1="], { maxNewTokens: 2, topP: 0.9, topK: 5, minP: 0.1, stopTokenIds: [3], ignoreEos: true });
  const last = srv.bodies[srv.bodies.length - 1];
  assert.deepEqual(
    [last.max_tokens, last.top_p, last.top_k, last.min_p, last.stop_token_ids, last.ignore_eos],
    [2, 0.9, 5, 0.1, [3], true],
  );
  const sent = srv.bodies.length;
  await assert.rejects(
    policy.generate(["1="], { top_p: 0.9 } as never),
    /remote.RemotePolicy.generate: options.top_p is the vLLM \/ HF spelling \(got top_p\)\. Use topP/,
  );
  await assert.rejects(
    policy.chat([[{ role: "user", content: "1" }]], { max_new_tokens: 2 } as never),
    /Use maxNewTokens/,
  );
  assert.equal(srv.bodies.length, sent);
  policy.close();
  await srv.close();
});

test("429 with Retry-After: the wait is the server's, then success", async () => {
  const srv = await fakeServer((b, i) =>
    i === 0
      ? { status: 429, headers: { "retry-after": "0.05" }, body: { error: { message: "slow down" } } }
      : { body: completionBody(b) },
  );
  const retries: RetryEvent[] = [];
  const c = new RemoteClient(srv.url, { ...fast, onRetry: (e) => retries.push(e) });
  await c.request("POST", "/completions", { prompt: [1] }, "test");
  assert.equal(retries.length, 1);
  assert.equal(retries[0].status, 429);
  assert.equal(retries[0].delayMs, 50);
  c.close();
  await srv.close();
});

test("slow responses time out with a clear error; the timeout is retried like any transport failure", async () => {
  const srv = await fakeServer((b) => ({ delayMs: 400, body: completionBody(b) }));
  const c = new RemoteClient(srv.url, { ...fast, timeoutMs: 60, retries: 1 });
  await assert.rejects(c.request("POST", "/completions", { prompt: [1] }, "remote.test"), (e: any) => {
    assert.ok(e instanceof RemoteRequestError);
    assert.equal(e.transport, "timeout");
    assert.equal(e.status, null);
    assert.equal(e.attempts, 2);
    assert.match(
      e.message,
      /^remote\.test: POST http:\/\/127\.0\.0\.1:\d+\/v1\/completions failed after 2 attempts \(got no response in time \(ETIMEDOUT\); expected a JSON response\)\. The server took longer than timeoutMs = 60 ms; raise options\.timeoutMs/,
    );
    return true;
  });
  assert.equal(srv.bodies.length, 2);
  c.close();
  await srv.close();
});

test("malformed JSON: retried, then an error quoting the body", async () => {
  const srv = await fakeServer(() => ({ body: '{"choices": [ {"text": "trunc' }));
  const c = new RemoteClient(srv.url, { ...fast, retries: 2 });
  await assert.rejects(c.request("POST", "/completions", { prompt: [1] }, "remote.test"), (e: any) => {
    assert.equal(e.attempts, 3);
    assert.match(e.message, /HTTP 200 with a body that is not JSON: "\{\\"choices\\": \[ \{\\"text\\": \\"trunc"/);
    assert.match(e.message, /check that the URL points at an OpenAI-compatible server/);
    return true;
  });
  c.close();
  await srv.close();
});

test("a 400 is not retried: one attempt, the server's message and the fix", async () => {
  const srv = await fakeServer(() => ({
    status: 400,
    body: {
      object: "error",
      message: "Requested prompt logprobs of 50, which is greater than max allowed: 20",
      type: "BadRequestError",
      param: null,
      code: 400,
    },
  }));
  const c = new RemoteClient(srv.url, fast);
  await assert.rejects(
    c.request("POST", "/completions", { prompt: [1], prompt_logprobs: 50 }, "remote.test"),
    (e: any) => {
      assert.equal(e.status, 400);
      assert.equal(e.attempts, 1);
      assert.match(e.message, /got HTTP 400: "Requested prompt logprobs of 50, which is greater than max allowed: 20"/);
      assert.match(e.message, /start vLLM with --max-logprobs K/);
      return true;
    },
  );
  assert.equal(srv.bodies.length, 1);
  c.close();
  await srv.close();
});

test("connection refused: retried, then 'is the server running?' naming the URL", async () => {
  const port = await freePort();
  const policy = new RemotePolicy(`http://127.0.0.1:${port}/v1/`, { tokenizer: tok, ...fast, retries: 2 });
  await assert.rejects(policy.generate(["1+1="]), (e: any) => {
    assert.ok(e instanceof RemoteBatchError);
    assert.equal(e.failures.length, 1);
    const inner = e.failures[0].error as RemoteRequestError;
    assert.equal(inner.transport, "refused");
    assert.equal(inner.attempts, 3);
    assert.equal(inner.url, `http://127.0.0.1:${port}/v1/completions`);
    assert.match(e.message, /1 of 1 requests failed \(prompts 0\)/);
    assert.match(
      e.message,
      /connection refused \(ECONNREFUSED\).*Is the server running\? Start one with `npx cellrl serve --model DIR --port P`/s,
    );
    return true;
  });
  policy.close();
});

test("server killed mid-batch: the finished prompts are kept, the failed ones named", async () => {
  let kill: () => void = () => {};
  const srv = await fakeServer((b, i) => {
    if (i === 3) {
      kill();
      return { hangUp: true };
    }
    return { body: completionBody(b, [5 + i, 2], String(i)) };
  });
  kill = () => void srv.close();
  const policy = new RemotePolicy(srv.url, { tokenizer: tok, ...fast, retries: 2, concurrency: 1 });
  const prompts = ["1", "2", "3", "4", "5", "6"];
  const err = await policy.generate(prompts, { n: 1 }).then(
    () => null,
    (e) => e,
  );
  assert.ok(err instanceof RemoteBatchError, String(err));
  assert.deepEqual(err.failedIndices, [3, 4, 5]);
  const partial = err.partial as { result: { group: number[]; ids: number[][]; text: string[] }; done: number[] };
  assert.deepEqual(partial.done, [0, 1, 2]);
  assert.deepEqual(partial.result.group, [0, 1, 2]);
  assert.deepEqual(partial.result.ids, [
    [5, 2],
    [6, 2],
    [7, 2],
  ]);
  assert.deepEqual(partial.result.text, ["0", "1", "2"]);
  assert.match(err.message, /3 of 6 requests failed \(prompts 3, 4, 5\)/);
  assert.match(err.message, /The 3 finished results are kept in err\.partial/);
  for (const f of err.failures)
    assert.ok(["refused", "reset"].includes((f.error as RemoteRequestError).transport!), f.error.message);
  policy.close();
});

test("a prompt the server always fails on does not take the others down (generateSettled)", async () => {
  const srv = await fakeServer((b) =>
    (b.prompt as number[]).length === 2 ? { status: 503, body: "overloaded" } : { body: completionBody(b) },
  );
  const policy = new RemotePolicy(srv.url, { tokenizer: tok, ...fast, retries: 1, concurrency: 3 });
  const s = await policy.generateSettled(["1", "22", "3", "44"], { n: 2 });
  assert.deepEqual(s.done, [0, 2]);
  assert.deepEqual(
    s.failures.map((f) => f.index),
    [1, 3],
  );
  assert.equal(s.result.ids.length, 4);
  assert.deepEqual(s.result.group, [0, 0, 2, 2]);
  assert.match(s.failures[0].error.message, /got HTTP 503; body "overloaded"/);
  policy.close();
  await srv.close();
});

test("servers that ignore n (llama.cpp) are topped up; servers without token ids are re-encoded with a warning", async () => {
  const srv = await fakeServer((b) => {
    const one = completionBody({ ...b, n: 1 }, [5, 6], "12") as any;
    delete one.choices[0].token_ids;
    one.choices[0].logprobs = {
      content: [
        { token: "1", logprob: -0.1, bytes: [49], top_logprobs: [] },
        { token: "2", logprob: -0.2, bytes: [50], top_logprobs: [] },
      ],
    };
    return { body: one };
  });
  const policy = new RemotePolicy(srv.url, { tokenizer: tok, ...fast });
  const out = await policy.generate([[3, 4]], { n: 3, seed: 1 });
  assert.equal(out.ids.length, 3);
  assert.equal(srv.bodies.length, 3);
  assert.deepEqual(
    srv.bodies.map((b) => b.n),
    [3, 2, 1],
  );
  const seeds = srv.bodies.map((b) => b.seed as number);
  assert.deepEqual([seeds[1] - seeds[0], seeds[2] - seeds[0]], [1, 2], "each top-up asks for fresh samples");
  assert.deepEqual(out.ids[0], tok.encode("12"));
  assert.deepEqual(out.logprobs[0], [-0.1, -0.2]);
  assert.ok(warnings().some((w) => w.key === "remote/retokenized"));
  policy.close();
  await srv.close();
});

test("remote teacher keeps finished rows when one request fails, and rejects ids outside the student vocabulary", async () => {
  const srv = await fakeServer((b) => {
    const p = b.prompt as number[];
    if (p[0] === 9) return { status: 500, body: "no" };
    const pl = [
      null,
      ...p.slice(1).map((id) => ({
        [String(id)]: { logprob: -1, rank: 1, decoded_token: "x" },
        [String(p.length === 3 ? 999 : 1)]: { logprob: -2, rank: 2, decoded_token: "y" },
      })),
    ];
    return {
      body: {
        object: "text_completion",
        model: "fake",
        choices: [{ index: 0, text: "", logprobs: null, finish_reason: "length", prompt_logprobs: pl }],
      },
    };
  });
  const t = remoteTeacher(srv.url, { vocabSize: 20, topK: 2, ...fast, retries: 0, scoreBatchSize: 1 });
  const err = await Promise.resolve(
    t.score({
      ids: [
        [1, 2],
        [9, 3],
      ],
    }),
  ).then(
    () => null,
    (e) => e,
  );
  assert.ok(err instanceof RemoteBatchError);
  assert.deepEqual(err.failedIndices, [1]);
  const part = err.partial as { output: { ids: Int32Array; logprobs: Float32Array }; done: number[] };
  assert.deepEqual(part.done, [0]);
  assert.deepEqual(Array.from(part.output.ids.slice(2, 4)), [2, 1]);
  assert.deepEqual(Array.from(part.output.logprobs.slice(2, 4)), [-1, -2]);
  await assert.rejects(
    Promise.resolve(t.score({ ids: [[1, 2, 3]] })),
    /token id 999 .* outside the student vocabulary \[0, 20\)/,
  );
  t.close();
  await srv.close();
});

test("scoring 'auto' falls back to echo when a server ignores or rejects prompt_logprobs, but not on a value error", async () => {
  // answers a list of prompts with one choice each, as vLLM does
  const prompts = (b: Record<string, unknown>) =>
    Array.isArray((b.prompt as unknown[])[0]) ? (b.prompt as number[][]) : [b.prompt as number[]];
  const echoChoice = (p: number[], i: number) => ({
    index: i,
    text: "",
    finish_reason: "length",
    logprobs: {
      tokens: [...p, 7].map((t) => `token_id:${t}`),
      token_logprobs: [null, ...p.slice(1).map(() => -0.25), -1],
      top_logprobs: [null, ...p.slice(1).map((t) => ({ [`token_id:${t}`]: -0.25 })), { "token_id:7": -1 }],
      text_offset: [...p, 7].map((_, k) => k),
    },
  });
  const fixtureEcho = (b: Record<string, unknown>) => ({
    object: "text_completion",
    model: "fake",
    choices: prompts(b).map(echoChoice),
  });
  const plain = (b: Record<string, unknown>) => ({
    object: "text_completion",
    model: "fake",
    choices: prompts(b).map((_, i) => ({ index: i, text: "x", logprobs: null, finish_reason: "length" })),
  });
  for (const mode of ["ignore", "reject"] as const) {
    const srv = await fakeServer((b) => {
      if (b.echo) return { body: fixtureEcho(b) };
      if (mode === "reject")
        return {
          status: 400,
          body: {
            object: "error",
            message: "1 validation error: prompt_logprobs: Extra inputs are not permitted",
            code: 400,
          },
        };
      return { body: plain(b) }; // completions without prompt_logprobs: the extension was ignored
    });
    const policy = new RemotePolicy(srv.url, { tokenizer: tok, ...fast });
    const r = await policy.score({
      ids: [
        [1, 2, 3],
        [4, 5, 6],
      ],
    });
    assert.deepEqual(
      srv.bodies[0].prompt,
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      "both rows in one request",
    );
    assert.deepEqual(
      r.logp,
      [
        [0, -0.25, -0.25],
        [0, -0.25, -0.25],
      ],
      mode,
    );
    assert.equal(policy.scorer.mode, "echo");
    // once in echo mode, no more prompt_logprobs requests
    const before = srv.bodies.filter((b) => b.prompt_logprobs !== undefined).length;
    await policy.score({ ids: [[1, 2, 3]] });
    assert.equal(srv.bodies.filter((b) => b.prompt_logprobs !== undefined).length, before);
    policy.close();
    await srv.close();
  }
  const srv = await fakeServer(() => ({
    status: 400,
    body: {
      object: "error",
      message: "Requested prompt logprobs of 50, which is greater than max allowed: 20",
      code: 400,
    },
  }));
  const policy = new RemotePolicy(srv.url, { tokenizer: tok, ...fast });
  await assert.rejects(policy.score({ ids: [[1, 2, 3]] }, { topK: 50 }), /greater than max allowed: 20/);
  assert.equal(policy.scorer.mode, "auto");
  assert.ok(srv.bodies.every((b) => !b.echo));
  policy.close();
  await srv.close();
});

test("a server that answers one choice for a list of prompts gets a clear error naming scoreBatchSize", async () => {
  const srv = await fakeServer(() => ({
    body: {
      object: "text_completion",
      choices: [{ index: 0, text: "", prompt_logprobs: [null, { "2": { logprob: -1, rank: 1 } }] }],
    },
  }));
  const policy = new RemotePolicy(srv.url, { tokenizer: tok, ...fast, retries: 0 });
  await assert.rejects(
    policy.score({
      ids: [
        [1, 2],
        [1, 2],
      ],
    }),
    /returned 1 choices for 2 prompts .* use options\.scoreBatchSize: 1/,
  );
  const one = new RemotePolicy(srv.url, { tokenizer: tok, ...fast, retries: 0, scoreBatchSize: 1 });
  assert.deepEqual(
    (
      await one.score({
        ids: [
          [1, 2],
          [1, 2],
        ],
      })
    ).logp,
    [
      [0, -1],
      [0, -1],
    ],
  );
  policy.close();
  one.close();
  await srv.close();
});

test("a server that returns no logprobs for logprobs: 0 is asked again with 1, once, and the policy remembers", async () => {
  const srv = await fakeServer((b) => {
    const body = completionBody(b) as any;
    if (b.logprobs === 0) for (const c of body.choices) c.logprobs = null;
    return { body };
  });
  const policy = new RemotePolicy(srv.url, { tokenizer: tok, ...fast });
  const out = await policy.generate([[1, 2]], { n: 1 });
  assert.deepEqual(out.logprobs, [[-0.5, -0.5, -0.5]]);
  assert.deepEqual(
    srv.bodies.map((b) => b.logprobs),
    [0, 1],
  );
  await policy.generate([[3]], { n: 1 });
  assert.deepEqual(
    srv.bodies.map((b) => b.logprobs),
    [0, 1, 1],
  );
  policy.close();
  await srv.close();
});

test("options.signal cancels in-flight and queued requests at once (no retries), keeping what finished", async () => {
  const srv = await fakeServer((b, i) =>
    i === 0 ? { body: completionBody(b) } : { delayMs: 5000, body: completionBody(b) },
  );
  const ac = new AbortController();
  const policy = new RemotePolicy(srv.url, { tokenizer: tok, ...fast, concurrency: 1, signal: ac.signal });
  const t = setTimeout(() => ac.abort(), 100);
  const err = await policy.generate([[1], [2], [3]]).then(
    () => null,
    (e) => e,
  );
  clearTimeout(t);
  assert.ok(err instanceof RemoteBatchError);
  assert.deepEqual(err.failedIndices, [1, 2]);
  assert.deepEqual((err.partial as any).done, [0]);
  assert.match(err.failures[0].error.message, /failed after 1 attempt \(got aborted.*cancelled \(options\.signal\)/);
  assert.match(err.failures[1].error.message, /aborted before it was sent/);
  assert.equal(srv.bodies.length, 2);
  policy.close();
  await srv.close();
});
