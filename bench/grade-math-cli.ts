// Math grader throughput through the CLI, as a user runs it: `cellrl grade-math --input - [--mode response]` on the
// 800 real Qwen2.5-Math responses (repeated 10 times: 8,000 lines), process start-up and JSONL I/O included.
// Uses the built dist/cli/main.js when present (`npm run build`), else the TypeScript sources through tsx.
// Run: node --import tsx bench/grade-math-cli.ts
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { readJsonl } from "../lib/data/jsonl.js";
import type { GeneratedRecord } from "../lib/data/record.js";

/** One benchmark measurement. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
}

const ROOT = path.join(__dirname, "..");
const REPEAT = 10;

function cliCommand(): string[] {
  const dist = path.join(ROOT, "dist", "cli", "main.js");
  return fs.existsSync(dist) ? [dist] : ["--import", "tsx", path.join(ROOT, "lib", "cli", "main.ts")];
}

function pairsInput(): { text: string; n: number } {
  const rows = readJsonl<GeneratedRecord>(path.join(ROOT, "datasets", "qwen25_math_cot_100x8.jsonl.gz"));
  const lines = rows.flatMap((r) =>
    (r.responses ?? []).map((pred) => JSON.stringify({ gold: r.reward_model.ground_truth, pred })),
  );
  const all = Array.from({ length: REPEAT }, () => lines).flat();
  return { text: all.join("\n") + "\n", n: all.length };
}

function rate(args: string[], input: string, n: number): number {
  let best = Infinity;
  for (let k = 0; k < 3; k++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [...cliCommand(), "grade-math", "--input", "-", ...args], {
      cwd: ROOT,
      input,
      maxBuffer: 1 << 28,
    });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`grade-math failed: ${String(r.stderr).slice(0, 300)}`);
    const lines = String(r.stdout).trim().split("\n").length;
    if (lines !== n) throw new Error(`grade-math wrote ${lines} lines for ${n} pairs`);
    best = Math.min(best, s);
  }
  return Math.round(n / best);
}

/**
 * Responses graded per second by `cellrl grade-math` (best of 3 runs), in answer mode (the last \boxed{} of each
 * response) and in response mode (Math-Verify-style extraction from free text).
 * @example const rows = await benchGradeMathCli(); rows[1].value // e.g. 20000
 */
export async function benchGradeMathCli(): Promise<BenchResult[]> {
  const { text, n } = pairsInput();
  return [
    { name: "math_grade_per_s/cli-answer-qwen800x10", value: rate([], text, n), unit: "responses/s" },
    {
      name: "math_grade_per_s/cli-response-qwen800x10",
      value: rate(["--mode", "response"], text, n),
      unit: "responses/s",
    },
  ];
}

export default benchGradeMathCli;

if (require.main === module) benchGradeMathCli().then((r) => console.log(JSON.stringify(r)));
