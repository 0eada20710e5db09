// Agreement of cellrl's graders with the upstream graders on the real labelled generations the repo ships in datasets/
// (each record keeps the upstream verdicts in extra_info.upstream_scores / upstream_preds, see datasets/README.md).
// Used by agreement.test.ts (which pins the numbers) and printable: node --import tsx test/reward/agreement.ts
import { gsm8kReward, mathReward } from "../../lib/reward/math/reward.js";
import { extractChoice } from "../../lib/reward/multiple-choice.js";
import { shipped } from "../support/shipped-data.js";

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
  for (const r of shipped("qwen25_math_cot_100x8.jsonl.gz")) {
    const gold = r.reward_model.ground_truth as string;
    const up = r.extra_info!.upstream_scores as number[];
    r.responses!.forEach((resp, k) => {
      total++;
      const out = mathReward(resp, gold);
      if ((out.score === 1) !== (up[k] === 1))
        dis.push({
          id: `${r.extra_info!.idx}/${k}`,
          upstream: up[k] === 1,
          ours: out.score === 1,
          gold,
          extracted: out.details.extracted,
        });
    });
  }
  return {
    name: "qwen25-math math_cot_100 (800)",
    upstream: "Qwen2.5-Math grader.py",
    agree: total - dis.length,
    total,
    disagreements: dis,
  };
}

/** NeMo-Skills MATH-train fixtures (50 problems x 3 seeds, `symbolic_correct`), seed by seed as upstream lists them. */
export function nemo(): Agreement {
  const dis: Disagreement[] = [];
  const rows = shipped("nemo_skills_math_50x3.jsonl.gz");
  let total = 0;
  for (let k = 0; k < 3; k++)
    for (const r of rows) {
      total++;
      const gold = r.reward_model.ground_truth as string;
      const up = (r.extra_info!.upstream_scores as number[])[k] === 1;
      const out = mathReward(r.responses![k], gold);
      if ((out.score === 1) !== up)
        dis.push({
          id: `${r.extra_info!.id}/seed${(r.extra_info!.seeds as number[])[k]}`,
          upstream: up,
          ours: out.score === 1,
          gold,
          extracted: out.details.extracted,
        });
    }
  return {
    name: "nemo-skills MATH train (150)",
    upstream: "NeMo-Skills math_grader",
    agree: total - dis.length,
    total,
    disagreements: dis,
  };
}

/** AReaL reward test cases (10 prompts x 16 response tails, rewards +5 / -5). */
export function areal(): Agreement {
  const dis: Disagreement[] = [];
  let total = 0;
  shipped("areal_math_10x16.jsonl.gz").forEach((r, i) => {
    // upstream's gold is "\\boxed{4}" and the record keeps only "4": grade against the same string upstream did
    const gold = `\\boxed{${r.reward_model.ground_truth}}`;
    const rewards = r.extra_info!.upstream_rewards as number[];
    r.responses!.forEach((g, k) => {
      total++;
      const out = mathReward(g, gold);
      if ((out.score === 1) !== rewards[k] > 0)
        dis.push({ id: `${i}/${k}`, upstream: rewards[k], ours: out.score, gold, extracted: out.details.extracted });
    });
  });
  return {
    name: "AReaL math reward cases (160)",
    upstream: "AReaL math_parser.verify_math_solution",
    agree: total - dis.length,
    total,
    disagreements: dis,
  };
}

/** GSM8K example solutions of 4 GPT-3 models (4 x 1319 records, `is_correct`); answers end with "A: n". */
export function gsm8kSolutions(): Agreement {
  const dis: Disagreement[] = [];
  let total = 0;
  for (const r of shipped("gsm8k_gpt3_solutions.jsonl.gz")) {
    total++;
    const gold = r.reward_model.ground_truth as string;
    const out = gsm8kReward(r.responses![0], gold, undefined, { lastNumberFallback: true });
    const up = (r.extra_info!.upstream_scores as number[])[0] === 1;
    const id = `${r.extra_info!.index}/${String(r.extra_info!.model).replace(/^gpt3-/, "")}`;
    if ((out.score === 1) !== up)
      dis.push({ id, upstream: up, ours: out.score === 1, gold, extracted: out.details.extracted });
  }
  return {
    name: "GSM8K GPT-3 example solutions (5276)",
    upstream: "openai/grade-school-math is_correct",
    agree: total - dis.length,
    total,
    disagreements: dis,
  };
}

/** The MMLU-Pro output rows (one response per record) under their upstream field names. */
function mmluProRows(): {
  generated_text: string;
  pred: string | null;
  answer: string;
  model: string;
  question_id: number;
}[] {
  return shipped("mmlu_pro_stem_300x4.jsonl.gz").map((r) => ({
    generated_text: r.responses![0],
    pred: (r.extra_info!.upstream_preds as (string | null)[])[0],
    answer: r.reward_model.ground_truth as string,
    model: String(r.extra_info!.model),
    question_id: r.extra_info!.question_id as number,
  }));
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
  const rows = mmluProRows();
  for (const r of rows) {
    const ex = extractChoice(r.generated_text);
    if (ex.letter === r.pred) continue;
    let cat: string;
    if (ex.letter === null)
      cat =
        extractChoice(r.generated_text, { lastLetterFallback: true }).letter === r.pred
          ? "upstream-last-letter-fallback"
          : "upstream-guess-no-letter-in-text";
    else cat = r.pred === null ? "upstream-none-ours-letter" : "different-letters";
    categories[cat]++;
    dis.push({
      id: `${r.model}/${r.question_id}`,
      upstream: r.pred,
      ours: ex.letter,
      gold: r.answer,
      extracted: ex.matches.join(""),
    });
  }
  return {
    name: "MMLU-Pro outputs (1200)",
    upstream: "MMLU-Pro evaluate regexes (pred)",
    agree: rows.length - dis.length,
    total: rows.length,
    disagreements: dis,
    categories,
  };
}

/** Accuracy against the gold letter of upstream `pred` and of our extraction (both count a missing letter as wrong). */
export function mmluProAccuracy(): { upstream: number; ours: number; oursFirst: number } {
  const rows = mmluProRows();
  let up = 0,
    ours = 0,
    first = 0;
  for (const r of rows) {
    if (r.pred === r.answer) up++;
    if (extractChoice(r.generated_text).letter === r.answer) ours++;
    if (extractChoice(r.generated_text, { pick: "first" }).letter === r.answer) first++;
  }
  return { upstream: up / rows.length, ours: ours / rows.length, oursFirst: first / rows.length };
}

if (require.main === module) {
  for (const a of [qwen(), nemo(), areal(), gsm8kSolutions(), mmluPro()]) {
    console.log(
      `${a.name}: ${a.agree}/${a.total} = ${((100 * a.agree) / a.total).toFixed(2)}% agreement with ${a.upstream}`,
    );
    if ("categories" in a) console.log("  categories:", JSON.stringify((a as { categories: unknown }).categories));
    for (const d of a.disagreements.slice(0, 200)) console.log("  ", JSON.stringify(d));
  }
  console.log("MMLU-Pro accuracy vs gold:", JSON.stringify(mmluProAccuracy()));
}
