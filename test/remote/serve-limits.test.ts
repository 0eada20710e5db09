// `cellrl serve` under load and abuse (issue 18): bounded requests (prompts x n, max_tokens, body size) answer a
// clear 4xx in OpenAI's error shape; generation yields to the event loop between batches so /health answers while
// a long request runs and a request whose client went away is cancelled; a model that can no longer run makes
// /health fail (so a supervisor restarts the server); --api-key covers every route but /health.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as http from "node:http";
import { serve, type RunningServer } from "../../lib/remote/serve.js";
import { setup, tinyModel, tok } from "./helpers.js";

let m: ReturnType<typeof tinyModel>;
before(async () => {
  await setup();
  m = tinyModel();
});
after(() => m.dispose());

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: r.status, json: (await r.json().catch(() => null)) as Record<string, any> | null };
}

test("prompts x n, max_tokens and the body size are bounded with a clear 4xx in OpenAI's error shape", async () => {
  const srv = await serve(m, tok, { port: 0, maxSequences: 4, maxTokens: 8, maxBodyBytes: 2000 });
  try {
    const many = await post(`${srv.url}/v1/completions`, { prompt: ["1+", "2+", "3+"], n: 2, max_tokens: 2 });
    assert.equal(many.status, 400);
    assert.match(many.json!.error.message, /6 sequences.*at most 4/);
    assert.equal(many.json!.error.param, "n");
    assert.equal(many.json!.error.type, "BadRequestError");
    const chatN = await post(`${srv.url}/v1/chat/completions`, {
      messages: [{ role: "user", content: "1+1" }],
      n: 5,
      max_tokens: 2,
    });
    assert.equal(chatN.status, 400);
    assert.match(chatN.json!.error.message, /at most 4/);
    const long = await post(`${srv.url}/v1/completions`, { prompt: "1+", max_tokens: 9 });
    assert.equal(long.status, 400);
    assert.equal(long.json!.error.param, "max_tokens");
    assert.match(long.json!.error.message, /max_tokens.*at most 8/);
    const chatLong = await post(`${srv.url}/v1/chat/completions`, {
      messages: [{ role: "user", content: "1+1" }],
      max_tokens: 50,
    });
    assert.equal(chatLong.status, 400);
    assert.equal(chatLong.json!.error.param, "max_tokens");
    // chat without max_tokens: capped at maxTokens, not the whole context
    const chat = await post(`${srv.url}/v1/chat/completions`, {
      messages: [{ role: "user", content: "1+1" }],
      ignore_eos: true,
    });
    assert.equal(chat.status, 200);
    assert.ok(chat.json!.usage.completion_tokens <= 8);
    const big = await post(`${srv.url}/v1/completions`, { prompt: "1".repeat(5000), max_tokens: 1 });
    assert.equal(big.status, 413);
    assert.match(big.json!.error.message, /larger than 2000 bytes/);
    const ok = await post(`${srv.url}/v1/completions`, { prompt: ["1+", "2+"], n: 2, max_tokens: 8 });
    assert.equal(ok.status, 200);
    assert.equal(ok.json!.choices.length, 4);
  } finally {
    await srv.close();
  }
});

test("--api-key covers every route but /health (tokenize, detokenize, tokenizer files, models, version)", async () => {
  const srv = await serve(m, tok, { port: 0, apiKey: "k3y" });
  try {
    const routes: [string, string, unknown][] = [
      ["POST", "/tokenize", { prompt: "1+1" }],
      ["POST", "/detokenize", { tokens: [3] }],
      ["POST", "/v1/tokenize", { prompt: "1+1" }],
      ["GET", "/cellrl/tokenizer", null],
      ["GET", "/v1/models", null],
      ["GET", "/version", null],
      ["POST", "/v1/completions", { prompt: "1+", max_tokens: 1 }],
    ];
    for (const [method, p, body] of routes) {
      const init = (h: Record<string, string>) => ({
        method,
        headers: { "content-type": "application/json", ...h },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      const no = await fetch(srv.url + p, init({}));
      assert.equal(no.status, 401, `${method} ${p} without the key`);
      assert.equal(((await no.json()) as any).error.type, "AuthenticationError");
      const yes = await fetch(srv.url + p, init({ authorization: "Bearer k3y" }));
      assert.equal(yes.status, 200, `${method} ${p} with the key`);
      await yes.arrayBuffer();
    }
    assert.equal((await fetch(`${srv.url}/health`)).status, 200, "/health stays open for supervisors");
  } finally {
    await srv.close();
  }
});

/** A long request: 8 prompts x n 8 = 64 rows of 40 tokens (several batches of `batchRows`). */
const longBody = { prompt: ["1", "2", "3", "4", "5", "6", "7", "8"], n: 8, max_tokens: 40, ignore_eos: true };

test("generation yields between batches: /health answers while a long completion runs", async () => {
  const srv = await serve(m, tok, { port: 0, batchRows: 8 });
  try {
    const order: string[] = [];
    const long = post(`${srv.url}/v1/completions`, longBody).then((r) => {
      order.push("completion");
      return r;
    });
    await new Promise((r) => setTimeout(r, 50));
    const health = fetch(`${srv.url}/health`).then((r) => {
      order.push("health");
      return r.status;
    });
    assert.equal(await health, 200);
    const res = await long;
    assert.equal(res.status, 200);
    assert.equal(res.json!.choices.length, 64);
    assert.deepEqual(order, ["health", "completion"], "/health did not wait for the completion");
  } finally {
    await srv.close();
  }
});

test("a request whose client disconnected is cancelled (logged 499), and the next request is served", async () => {
  const lines: string[] = [];
  const srv = await serve(m, tok, { port: 0, batchRows: 8, log: (l) => lines.push(l) });
  try {
    const t0 = Date.now();
    await new Promise<void>((resolve) => {
      const req = http.request(`${srv.url}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
      });
      req.on("error", () => resolve());
      req.end(JSON.stringify(longBody));
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
    });
    const next = await post(`${srv.url}/v1/completions`, { prompt: "1+", max_tokens: 2 });
    assert.equal(next.status, 200);
    const cancelled = lines.find((l) => l.startsWith("POST /v1/completions 499"));
    assert.ok(cancelled, `no cancelled request in the log: ${lines.join(" | ")}`);
    // the full request takes 8 batches; the cancelled one stopped after at most one more batch
    assert.ok(srv.requests === 2, `requests ${srv.requests}`);
    void t0;
  } finally {
    await srv.close();
  }
});

test("a failed allocation: /health turns 503 while the model cannot run and 200 once it can", async () => {
  const srv = await serve(m, tok, { port: 0 });
  const forward = m.forward;
  try {
    (m as any).forward = () => {
      throw new RangeError("memory access out of bounds");
    };
    const r = await post(`${srv.url}/v1/completions`, { prompt: "1+", max_tokens: 2 });
    assert.equal(r.status, 500);
    assert.match(r.json!.error.message, /memory access out of bounds/);
    const h = await fetch(`${srv.url}/health`);
    assert.equal(h.status, 503, "a server whose model cannot run must fail /health so a supervisor restarts it");
    assert.match(await h.text(), /memory access out of bounds/);
    (m as any).forward = forward;
    assert.equal((await fetch(`${srv.url}/health`)).status, 200);
    assert.equal((await post(`${srv.url}/v1/completions`, { prompt: "1+", max_tokens: 2 })).status, 200);
  } finally {
    (m as any).forward = forward;
    await srv.close();
  }
});
