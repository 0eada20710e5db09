// Code reward throughput: all 164 HumanEval canonical solutions checked in the bubblewrap sandbox, in parallel over
// os.cpus().length warm sandboxes. Target: >= 20 solutions/s. Run: node --import tsx bench/reward-code.ts
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { gunzipSync } from "node:zlib";
import { codeReward, type CodeRewardOptions } from "../lib/reward/code.js";
import { closeSandboxes, sandboxStatus } from "../lib/reward/sandbox.js";

/** One benchmark measurement. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  extra?: Record<string, unknown>;
}

const FILE = "/work/shared/data/openai-human-eval/HumanEval.jsonl.gz";

async function pass(rows: { prompt: string; canonical_solution: string; test: string; entry_point: string }[], options: CodeRewardOptions): Promise<number> {
  const t0 = process.hrtime.bigint();
  const results = await Promise.all(rows.map((r) =>
    codeReward("```python\n" + r.prompt + r.canonical_solution + "\n```", { test: r.test, entry_point: r.entry_point }, undefined, options)));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const bad = results.filter((r) => r.score !== 1).length;
  if (bad > 0) throw new Error(`bench/reward-code: ${bad} canonical solutions did not pass`);
  return s;
}

/**
 * HumanEval solutions checked per second: warm sandboxes (the default, best of 3 passes after a warm-up) and a fresh
 * sandbox per solution ({reuse: false}, one pass).
 * @example const [r] = await benchRewardCode(); r.value // e.g. 150
 */
export async function benchRewardCode(): Promise<BenchResult[]> {
  const rows = gunzipSync(readFileSync(FILE)).toString("utf8").split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l));
  const status = await sandboxStatus();
  if (status.level === null) throw new Error(`bench/reward-code: no sandbox (${status.reasons.join("; ")})`);
  const extra = { sandbox: status.level, concurrency: cpus().length, loadavg: loadavg()[0], solutions: rows.length };
  await pass(rows, {});
  let best = Infinity;
  for (let k = 0; k < 3; k++) best = Math.min(best, await pass(rows, {}));
  const cold = await pass(rows, { reuse: false });
  closeSandboxes();
  return [
    { name: "code_checks_per_s/humaneval", value: Math.round(rows.length / best), unit: "solutions/s", extra },
    { name: "code_checks_per_s/humaneval-fresh-sandbox", value: Math.round(rows.length / cold), unit: "solutions/s", extra },
  ];
}

if (require.main === module) benchRewardCode().then((r) => console.log(JSON.stringify(r)));
