// Streaming latency of `cellrl serve`: the shipped sortletters-teacher checkpoint behind remote.serve, one prompt,
// 48 new tokens (ignore_eos, logprobs 0). Time to the first byte of a stream: false answer (= the whole answer) against
// the first and last event of the same request with stream: true, over loopback with node:http (median of 5 each).
// Run: node --import tsx bench/serve-stream.ts
import * as http from "node:http";
import * as path from "node:path";
import { useBackend } from "../lib/core/backend.js";
import { loadCheckpoint } from "../lib/model/checkpoint.js";
import { serve } from "../lib/remote/serve.js";

/** One benchmark measurement. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
}

const ROOT = path.join(__dirname, "..");
const BODY = { prompt: "dcba", max_tokens: 48, ignore_eos: true, seed: 1, logprobs: 0 };

/** Milliseconds from sending to each body chunk's arrival. */
function timed(url: string, stream: boolean): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const times: number[] = [];
    const req = http.request(
      `${url}/v1/completions`,
      { method: "POST", headers: { "content-type": "application/json" } },
      (res) => {
        if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}`));
        res.on("data", () => times.push(performance.now() - t0));
        res.on("end", () => resolve(times));
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify({ ...BODY, stream }));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Time to the whole answer without streaming, and to the first / last event with streaming (ms, median of 5).
 * @example const rows = await benchServeStream(); rows[1].value // first streamed token, e.g. 10 ms
 */
export async function benchServeStream(): Promise<BenchResult[]> {
  await useBackend();
  const { model, tokenizer } = loadCheckpoint(path.join(ROOT, "datasets", "checkpoints", "sortletters-teacher"), {
    trainable: false,
  });
  const srv = await serve(model, tokenizer!, { port: 0 });
  try {
    await timed(srv.url, false);
    await timed(srv.url, true);
    const plain: number[] = [];
    const first: number[] = [];
    const last: number[] = [];
    for (let i = 0; i < 5; i++) {
      const p = await timed(srv.url, false);
      plain.push(p[p.length - 1]);
      const s = await timed(srv.url, true);
      first.push(s[0]);
      last.push(s[s.length - 1]);
    }
    const r = (x: number) => Math.round(x * 10) / 10;
    return [
      { name: "serve_ms/completion-48tok-sortletters", value: r(median(plain)), unit: "ms" },
      { name: "serve_ms/stream-first-token-sortletters", value: r(median(first)), unit: "ms" },
      { name: "serve_ms/stream-48tok-sortletters", value: r(median(last)), unit: "ms" },
    ];
  } finally {
    await srv.close();
    model.dispose();
  }
}

export default benchServeStream;

if (require.main === module) benchServeStream().then((r) => console.log(JSON.stringify(r)));
