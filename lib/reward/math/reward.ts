// The "math" and "gsm8k" rewards: extract the final answer from a response, grade it against the ground truth.
import { normalizeAnswer } from "./normalize.js";
import { boxedAnswers, boxedGroup, extractAnswer, type ExtractRule } from "./extract.js";
import { gradeMath, goldText, type GradeMathOptions } from "./grade.js";
import { register } from "../registry.js";
import type { RewardRecord, RewardResult } from "../types.js";

/** Options of the math rewards (pass them as score(record, response, {rewardOptions})). */
export interface MathRewardOptions extends GradeMathOptions {
  /**
   * Extraction rules in order.
   * Defaults to ["boxed", "phrase", "gsm8k"] for "math", ["gsm8k", "boxed", "phrase"] for "gsm8k".
   */
  rules?: ExtractRule[];
  /** Add the last-number fallback after the rules. Defaults to false. */
  lastNumberFallback?: boolean;
  /**
   * Several \boxed{} with different answers: "last" grades the last one (as Math-Verify and Qwen do); "reject"
   * scores it as wrong (a hedging guard for RL). Defaults to "last".
   */
  multipleBoxed?: "last" | "reject";
  /** Score of a correct answer. Defaults to 1. */
  correctScore?: number;
  /** Score of a wrong answer. Defaults to 0 (DAPO uses -1). */
  wrongScore?: number;
  /** Score when no answer could be extracted. Defaults to the wrongScore. */
  noAnswerScore?: number;
}

/** Defaults of the "math" reward. */
export const defaults = {
  rules: ["boxed", "phrase", "gsm8k"] as ExtractRule[],
  lastNumberFallback: false,
  multipleBoxed: "last" as "last" | "reject",
  correctScore: 1,
  wrongScore: 0,
};

// Distinct boxed answers of a response: the final answer (its last box, with the boxes that form one answer with it,
// "\\boxed{1} and \\boxed{2}") and every other non-empty box whose content is not part of it.
function distinctBoxed(response: string): string[] {
  const all = boxedAnswers(response).filter((b) => b.content.trim() !== "");
  const key = (c: string) => normalizeAnswer(c).compact;
  const group = boxedGroup(response, all);
  const final = group.map((b) => key(b.content));
  const others = all
    .filter((b) => !group.includes(b))
    .map((b) => key(b.content))
    .filter((k) => !final.includes(k));
  return [final.join(", "), ...new Set(others)];
}

function grade(
  response: string,
  groundTruth: unknown,
  options: MathRewardOptions,
  baseRules: ExtractRule[],
): RewardResult {
  const rules = [...(options.rules ?? baseRules)];
  if (options.lastNumberFallback && !rules.includes("last-number")) rules.push("last-number");
  const correct = options.correctScore ?? defaults.correctScore;
  const wrong = options.wrongScore ?? defaults.wrongScore;
  const gold = goldText(groundTruth, mathReward);
  const ex = extractAnswer(response, { rules });
  if (ex.answer === null || ex.answer.trim() === "")
    return {
      score: options.noAnswerScore ?? wrong,
      details: { extracted: ex.answer, extractedBy: ex.rule, gold, rule: "no-answer" },
    };
  if ((options.multipleBoxed ?? defaults.multipleBoxed) === "reject" && ex.boxedCount > 1) {
    const distinct = distinctBoxed(response);
    if (distinct.length > 1)
      return {
        score: wrong,
        details: { extracted: ex.answer, extractedBy: ex.rule, gold, rule: "conflicting-boxed", boxed: distinct },
      };
  }
  const r = gradeMath(gold, ex.answer, { ...options, mode: "answer" });
  return {
    score: r.equal ? correct : wrong,
    details: { extracted: ex.answer, extractedBy: ex.rule, boxedCount: ex.boxedCount, ...r.details },
  };
}

/**
 * Math reward: last \boxed{} (or "the answer is", "####") graded by gradeMath; 1 if equal, else 0.
 * @example reward.mathReward("... so \\boxed{\\dfrac{1}{2}}", "0.5").score // 1
 */
export function mathReward(
  response: string,
  groundTruth: unknown,
  _record?: RewardRecord,
  options: MathRewardOptions = {},
): RewardResult {
  return grade(response, groundTruth, options, defaults.rules);
}

/**
 * GSM8K reward: "#### n" first, then \boxed{} and "the answer is"; the gold may be the raw GSM8K answer with "####".
 * @example reward.gsm8kReward("3 + 4 = 7\n#### 7", "Janet sells ... #### 7").score // 1
 */
export function gsm8kReward(
  response: string,
  groundTruth: unknown,
  _record?: RewardRecord,
  options: MathRewardOptions = {},
): RewardResult {
  return grade(response, groundTruth, options, ["gsm8k", "boxed", "phrase"]);
}

register("math", mathReward, { summary: "last \\boxed{} (or 'the answer is') graded by gradeMath: 1 / 0" });
register("gsm8k", gsm8kReward, {
  paper: "arXiv:2110.14168",
  summary: "'#### n' (or \\boxed{}) graded by gradeMath: 1 / 0",
});
