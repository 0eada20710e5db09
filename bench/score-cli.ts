// `cellrl score` throughput as a user runs it: 5,000 verl records (the 100 real Qwen2.5-Math prompts with 8 responses
// each, repeated 50 times: 40,000 responses) from a JSONL file to a JSONL and a .jsonl.gz output, process start-up,
// the validating scan, the crash-safe partial file and the final write included. Best of 3 runs each.
// Uses the built dist/cli/main.js when present (`npm run build`), else the TypeScript sources through tsx.
// Run: node --import tsx bench/score-cli.ts
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readJsonl } from "../lib/data/jsonl.js";
import type { BenchResult } from "./grade-math-cli.js";

const ROOT = path.join(__dirname, "..");
const REPEAT = 50;

function cliCommand(): string[] {
  const dist = path.join(ROOT, "dist", "cli", "main.js");
  return fs.existsSync(dist) ? [dist] : ["--import", "tsx", path.join(ROOT, "lib", "cli", "main.ts")];
}

function rate(input: string, output: string, n: number): number {
  let best = Infinity;
  for (let k = 0; k < 3; k++) {
    fs.rmSync(output, { force: true });
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [...cliCommand(), "score", "--input", input, "--output", output, "-q"], {
      cwd: ROOT,
      maxBuffer: 1 << 24,
    });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`cellrl score failed: ${String(r.stderr).slice(0, 300)}`);
    const rows = readJsonl<{ scores: number[] }>(output);
    const scored = rows.reduce((t, row) => t + row.scores.length, 0);
    if (scored !== n) throw new Error(`cellrl score wrote ${scored} scores for ${n} responses`);
    best = Math.min(best, s);
  }
  return Math.round(n / best);
}

/**
 * Math responses scored per second by `cellrl score` on 5,000 records (40,000 responses), default threads.
 * @example const rows = await benchScoreCli(); rows[0].value // e.g. 6000
 */
export async function benchScoreCli(): Promise<BenchResult[]> {
  const rows = readJsonl<{ responses: string[] }>(path.join(ROOT, "datasets", "qwen25_math_cot_100x8.jsonl.gz"));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-bench-score-"));
  try {
    const input = path.join(dir, "gen5k.jsonl");
    const lines = rows.map((r) => JSON.stringify(r));
    fs.writeFileSync(input, Array.from({ length: REPEAT }, () => lines.join("\n")).join("\n") + "\n");
    const n = REPEAT * rows.reduce((t, r) => t + r.responses.length, 0);
    return [
      {
        name: "math_score_per_s/cli-score-5k-jsonl",
        value: rate(input, path.join(dir, "out.jsonl"), n),
        unit: "responses/s",
      },
      {
        name: "math_score_per_s/cli-score-5k-gz",
        value: rate(input, path.join(dir, "out.jsonl.gz"), n),
        unit: "responses/s",
      },
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export default benchScoreCli;

if (require.main === module) benchScoreCli().then((r) => console.log(JSON.stringify(r)));
