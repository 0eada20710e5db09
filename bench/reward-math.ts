// Math grader throughput on the 800 real Qwen2.5-Math responses (extract the last \boxed{} + grade vs gold), read from
// the repo's datasets/. Target: >= 10,000 responses/s on one core (Math-Verify does ~1,000/s).
// Run: node --import tsx bench/reward-math.ts
import * as path from "node:path";
import { readJsonl } from "../lib/data/jsonl.js";
import type { GeneratedRecord } from "../lib/data/record.js";
import { gradeMath } from "../lib/reward/math/grade.js";
import { mathReward } from "../lib/reward/math/reward.js";

/** One benchmark measurement. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
}

const DATASETS = path.join(__dirname, "..", "datasets");
const FILE = path.join(DATASETS, "qwen25_math_cot_100x8.jsonl.gz");
const MATH500 = path.join(DATASETS, "math500_test.jsonl.gz");

function load(): { response: string; gold: string }[] {
  const rows = readJsonl<GeneratedRecord>(FILE);
  return rows.flatMap((r) =>
    (r.responses ?? []).map((response) => ({ response, gold: r.reward_model.ground_truth as string })),
  );
}

function bestRate(n: number, pass: () => void): number {
  pass();
  let best = Infinity;
  for (let k = 0; k < 5; k++) {
    const t0 = process.hrtime.bigint();
    pass();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return Math.round(n / best);
}

/**
 * Responses graded per second (best of 5 timed passes after a warm-up pass): the 800 Qwen responses, and MATH-500
 * answers against a different problem's answer (never string-equal, so every pair goes through the parser).
 * @example const [r] = await benchRewardMath(); r.value // e.g. 100000
 */
export async function benchRewardMath(): Promise<BenchResult[]> {
  const items = load();
  let sink = 0;
  const qwen = bestRate(items.length, () => {
    for (const it of items) sink += mathReward(it.response, it.gold).score;
  });
  const answers = readJsonl<GeneratedRecord>(MATH500).map((r) => r.reward_model.ground_truth as string);
  const mismatch = bestRate(answers.length, () => {
    for (let i = 0; i < answers.length; i++)
      sink += gradeMath(answers[i], answers[(i + 1) % answers.length]).equal ? 1 : 0;
  });
  if (sink < 0) console.log(sink); // keep the work observable
  return [
    { name: "math_grade_per_s/qwen800", value: qwen, unit: "responses/s" },
    { name: "math_grade_per_s/math500-mismatch", value: mismatch, unit: "pairs/s" },
  ];
}

export default benchRewardMath;

if (require.main === module) benchRewardMath().then((r) => console.log(JSON.stringify(r)));
