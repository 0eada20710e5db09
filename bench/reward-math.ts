// Math grader throughput on the 800 real Qwen2.5-Math responses (extract the last \boxed{} + grade vs gold).
// Target: >= 10,000 responses/s on one core (Math-Verify does ~1,000/s). Run: node --import tsx bench/reward-math.ts
import { readFileSync } from "node:fs";
import { gradeMath } from "../lib/reward/math/grade.js";
import { mathReward } from "../lib/reward/math/reward.js";

/** One benchmark measurement. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
}

const FILE = "/work/shared/data/qwen25-math-eval/math_cot_100_generations.jsonl";
const MATH500 = "/work/shared/data/openai-prm800k-math500/math500_test.jsonl";

function load(): { response: string; gold: string }[] {
  const rows = readFileSync(FILE, "utf8").split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l));
  return rows.flatMap((r: { code: string[]; gt: string }) => r.code.map((response) => ({ response, gold: r.gt })));
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
  const answers: string[] = readFileSync(MATH500, "utf8").split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l).answer);
  const mismatch = bestRate(answers.length, () => {
    for (let i = 0; i < answers.length; i++) sink += gradeMath(answers[i], answers[(i + 1) % answers.length]).equal ? 1 : 0;
  });
  if (sink < 0) console.log(sink); // keep the work observable
  return [
    { name: "math_grade_per_s/qwen800", value: qwen, unit: "responses/s" },
    { name: "math_grade_per_s/math500-mismatch", value: mismatch, unit: "pairs/s" },
  ];
}

export default benchRewardMath;

if (require.main === module) benchRewardMath().then((r) => console.log(JSON.stringify(r)));
