// Shared helpers of the remote tests: a tiny char-level model, an in-process `serve`, and a fake OpenAI-compatible
// server whose every answer is scripted (for fault injection). Every server is closed by the test that opens it.
import * as http from "node:http";
import { after } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/core/backend.js";
import { resetWarnings } from "../../lib/core/warn.js";
import { Rng } from "../../lib/core/random.js";
import { LlamaModel } from "../../lib/model/llama.js";
import { CharTokenizer } from "../../lib/model/tokenizer-char.js";

export async function setup(): Promise<void> {
  const force = (process.env.CELLRL_TEST_BACKEND ?? "wasm") as "wasm" | "cpu";
  if (tf.getBackend() !== force) await useBackend({ force });
  resetWarnings(null);
}

export const tok = CharTokenizer.fromAlphabet("0123456789+= abc", { chatTemplate: "plain" });

export function tinyModel(seedValue = 3): LlamaModel {
  return new LlamaModel(
    {
      hidden_size: 32,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      intermediate_size: 64,
      vocab_size: tok.vocabSize,
      max_position_embeddings: 64,
      initializer_range: 0.3,
      eos_token_id: tok.eosTokenId,
      pad_token_id: tok.padTokenId,
    },
    { rng: new Rng(seedValue) },
  );
}

/** What the fake server's handler returns for one request. */
export interface FakeReply {
  status?: number;
  headers?: Record<string, string>;
  /** JSON-serialised unless a string. */
  body?: unknown;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Destroy the socket without answering. */
  hangUp?: boolean;
}

export interface FakeServer {
  url: string;
  port: number;
  /** Bodies of the requests received, in order. */
  bodies: Record<string, unknown>[];
  close(): Promise<void>;
}

const open = new Set<() => Promise<void>>();
// a failed assertion must not leave a server holding the test process open
after(async () => {
  for (const close of [...open]) await close();
});

/** A scripted HTTP server: `handler(body, i)` decides each answer (i counts requests). */
export async function fakeServer(
  handler: (body: Record<string, unknown>, i: number, path: string) => FakeReply,
): Promise<FakeServer> {
  const bodies: Record<string, unknown>[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      const i = bodies.length;
      bodies.push(body);
      const r = handler(body, i, req.url ?? "/");
      const answer = () => {
        if (r.hangUp) return void req.socket.destroy();
        const payload = typeof r.body === "string" ? r.body : JSON.stringify(r.body ?? {});
        res.writeHead(r.status ?? 200, { "content-type": "application/json", ...r.headers });
        res.end(payload);
      };
      if (r.delayMs) {
        const t = setTimeout(() => {
          timers.delete(t);
          answer();
        }, r.delayMs);
        timers.add(t);
      } else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  const close = () =>
    new Promise<void>((resolve) => {
      open.delete(close);
      for (const t of timers) clearTimeout(t);
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  open.add(close);
  return { url: `http://127.0.0.1:${port}`, port, bodies, close };
}

/** A minimal vLLM-style completion answer: one choice per requested sample, with token ids and logprobs. */
export function completionBody(
  body: Record<string, unknown>,
  ids: number[] = [5, 6, 2],
  text = "12",
): Record<string, unknown> {
  const n = (body.n as number) ?? 1;
  return {
    id: "cmpl-test",
    object: "text_completion",
    created: 0,
    model: "fake",
    choices: Array.from({ length: n }, (_, i) => ({
      index: i,
      text,
      logprobs: {
        text_offset: ids.map((_, k) => k),
        token_logprobs: ids.map(() => -0.5),
        tokens: ids.map((t) => `token_id:${t}`),
        top_logprobs: ids.map((t) => ({ [`token_id:${t}`]: -0.5 })),
      },
      finish_reason: "stop",
      stop_reason: null,
      token_ids: ids,
    })),
    usage: { prompt_tokens: 3, completion_tokens: 3 * n, total_tokens: 3 + 3 * n },
  };
}

/** A port nothing listens on (bound then released). */
export async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
