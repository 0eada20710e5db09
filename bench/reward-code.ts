// Code reward throughput: all 164 HumanEval canonical solutions (from the repo's datasets/) checked in the bubblewrap
// sandbox, in parallel over os.cpus().length warm sandboxes. Target: >= 20 solutions/s.
// Run: node --import tsx bench/reward-code.ts
import { cpus, loadavg } from "node:os";
import * as path from "node:path";
import { readJsonl } from "../lib/data/jsonl.js";
import type { VerlRecord } from "../lib/data/record.js";
import { codeReward, type CodeRewardOptions } from "../lib/reward/code.js";
import { closeSandboxes, sandboxStatus } from "../lib/reward/sandbox.js";

/** One benchmark measurement. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  extra?: Record<string, unknown>;
}

const FILE = path.join(__dirname, "..", "datasets", "humaneval_test.jsonl.gz");

/** A program (the HumanEval prompt + canonical body) and its tests ({test, entry_point}). */
interface Solution {
  program: string;
  tests: { test: string; entry_point: string };
}

async function pass(rows: Solution[], options: CodeRewardOptions): Promise<number> {
  const t0 = process.hrtime.bigint();
  const results = await Promise.all(
    rows.map((r) => codeReward("```python\n" + r.program + "\n```", r.tests, undefined, options)),
  );
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
  // extra_info.canonical_solution is prompt + canonical body; the ground truth is the JSON string {test, entry_point}
  const rows: Solution[] = readJsonl<VerlRecord>(FILE).map((r) => ({
    program: String(r.extra_info?.canonical_solution),
    tests: JSON.parse(r.reward_model.ground_truth as string),
  }));
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
    {
      name: "code_checks_per_s/humaneval-fresh-sandbox",
      value: Math.round(rows.length / cold),
      unit: "solutions/s",
      extra,
    },
  ];
}

if (require.main === module) benchRewardCode().then((r) => console.log(JSON.stringify(r)));
