// Agreement of cellrl's graders with the upstream graders on the real labelled generations in /work/shared/data.
// Used by agreement.test.ts (which pins the numbers) and printable: node --import tsx test/reward/agreement.ts
import { readFileSync } from "node:fs";
import { gsm8kReward, mathReward } from "../../lib/reward/math/reward.js";
import { extractChoice } from "../../lib/reward/multiple-choice.js";

export const DATA = "/work/shared/data/";

/** Rows of a JSONL file (split on "\n" only: some records contain U+2028). */
export function jsonl(file: string): any[] {
  return readFileSync(DATA + file, "utf8").split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l));
}

/** One comparison with an upstream label. */
export interface Disagreement {
  id: string;
  upstream: unknown;
  ours: unknown;
  gold: unknown;
  extracted: unknown;
}

export interface Agreement {
  name: string;
  upstream: string;
  agree: number;
  total: number;
  disagreements: Disagreement[];
}

/** Qwen2.5-Math math_cot_100 (800 responses, `score` from Qwen's grader.py math_equal). */
export function qwen(): Agreement {
  const dis: Disagreement[] = [];
  let total = 0;
  for (const r of jsonl("qwen25-math-eval/math_cot_100_generations.jsonl"))
    r.code.forEach((resp: string, k: number) => {
      total++;
      const out = mathReward(resp, r.gt);
      if ((out.score === 1) !== r.score[k])
        dis.push({ id: `${r.idx}/${k}`, upstream: r.score[k], ours: out.score === 1, gold: r.gt, extracted: out.details.extracted });
    });
  return { name: "qwen25-math math_cot_100 (800)", upstream: "Qwen2.5-Math grader.py", agree: total - dis.length, total, disagreements: dis };
}

/** NeMo-Skills MATH-train fixtures (150 generations, `symbolic_correct`). */
export function nemo(): Agreement {
  const dis: Disagreement[] = [];
  const rows = jsonl("nemo-skills-outputs/math_train_50q_3seeds.jsonl");
  for (const r of rows) {
    const out = mathReward(r.generation, r.expected_answer);
    if ((out.score === 1) !== r.symbolic_correct)
      dis.push({ id: `${r.id}/seed${r.seed}`, upstream: r.symbolic_correct, ours: out.score === 1, gold: r.expected_answer, extracted: out.details.extracted });
  }
  return { name: "nemo-skills MATH train (150)", upstream: "NeMo-Skills math_grader", agree: rows.length - dis.length, total: rows.length, disagreements: dis };
}

/** AReaL reward test cases (10 prompts x 16 response tails, rewards +5 / -5). */
export function areal(): Agreement {
  const dis: Disagreement[] = [];
  let total = 0;
  jsonl("areal/math_reward_sample_generations.jsonl").forEach((r, i) =>
    r.generateds.forEach((g: string, k: number) => {
      total++;
      const out = mathReward(g, r.solutions[0]);
      if ((out.score === 1) !== r.rewards[k] > 0)
        dis.push({ id: `${i}/${k}`, upstream: r.rewards[k], ours: out.score, gold: r.solutions[0], extracted: out.details.extracted });
    }),
  );
  return { name: "AReaL math reward cases (160)", upstream: "AReaL math_parser.verify_math_solution", agree: total - dis.length, total, disagreements: dis };
}

/** GSM8K example solutions of 4 GPT-3 models (4 x 1319, `is_correct`); answers end with "A: n". */
export function gsm8kSolutions(): Agreement {
  const dis: Disagreement[] = [];
  let total = 0;
  for (const [i, r] of jsonl("openai-grade-school-math/gsm8k_example_model_solutions.jsonl").entries()) {
    const gold = String(r.ground_truth).split("A:").pop()!.trim();
    for (const m of ["6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification"]) {
      total++;
      const out = gsm8kReward(r[m].solution, gold, undefined, { lastNumberFallback: true });
      const up = r[m].is_correct === true || r[m].is_correct === "True";
      if ((out.score === 1) !== up) dis.push({ id: `${i}/${m}`, upstream: up, ours: out.score === 1, gold, extracted: out.details.extracted });
    }
  }
  return { name: "GSM8K GPT-3 example solutions (5276)", upstream: "openai/grade-school-math is_correct", agree: total - dis.length, total, disagreements: dis };
}

/** MMLU-Pro outputs of 4 models (1200, `pred` = letter from MMLU-Pro's regexes, null when it failed). */
export function mmluPro(): Agreement & { categories: Record<string, number> } {
  const dis: Disagreement[] = [];
  const categories: Record<string, number> = {
    "upstream-guess-no-letter-in-text": 0,
    "upstream-last-letter-fallback": 0,
    "upstream-none-ours-letter": 0,
    "different-letters": 0,
  };
  const rows = jsonl("mmlu-pro-outputs/mmlu_pro_stem_300q_4models.jsonl");
  for (const r of rows) {
    const ex = extractChoice(r.generated_text);
    if (ex.letter === r.pred) continue;
    let cat: string;
    if (ex.letter === null)
      cat = extractChoice(r.generated_text, { lastLetterFallback: true }).letter === r.pred ? "upstream-last-letter-fallback" : "upstream-guess-no-letter-in-text";
    else cat = r.pred === null ? "upstream-none-ours-letter" : "different-letters";
    categories[cat]++;
    dis.push({ id: `${r.model}/${r.question_id}`, upstream: r.pred, ours: ex.letter, gold: r.answer, extracted: ex.matches.join("") });
  }
  return { name: "MMLU-Pro outputs (1200)", upstream: "MMLU-Pro evaluate regexes (pred)", agree: rows.length - dis.length, total: rows.length, disagreements: dis, categories };
}

/** Accuracy against the gold letter of upstream `pred` and of our extraction (both count a missing letter as wrong). */
export function mmluProAccuracy(): { upstream: number; ours: number; oursFirst: number } {
  const rows = jsonl("mmlu-pro-outputs/mmlu_pro_stem_300q_4models.jsonl");
  let up = 0, ours = 0, first = 0;
  for (const r of rows) {
    if (r.pred === r.answer) up++;
    if (extractChoice(r.generated_text).letter === r.answer) ours++;
    if (extractChoice(r.generated_text, { pick: "first" }).letter === r.answer) first++;
  }
  return { upstream: up / rows.length, ours: ours / rows.length, oursFirst: first / rows.length };
}

if (require.main === module) {
  for (const a of [qwen(), nemo(), areal(), gsm8kSolutions(), mmluPro()]) {
    console.log(`${a.name}: ${a.agree}/${a.total} = ${((100 * a.agree) / a.total).toFixed(2)}% agreement with ${a.upstream}`);
    if ("categories" in a) console.log("  categories:", JSON.stringify((a as { categories: unknown }).categories));
    for (const d of a.disagreements.slice(0, 200)) console.log("  ", JSON.stringify(d));
  }
  console.log("MMLU-Pro accuracy vs gold:", JSON.stringify(mmluProAccuracy()));
}
