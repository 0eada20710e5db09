// Multiple-choice letter extraction and reward (GPQA A-D, MMLU-Pro A-J). The LAST stated answer counts: a
// reasoning model writes "Answer: B" while thinking and its final "Answer: C" later (r1's gpqa.py takes the first).
import { describe, fail } from "../core/errors.js";
import { register } from "./registry.js";
import type { RewardRecord, RewardResult } from "./types.js";

/** Options of extractChoice and the multiple-choice rewards. */
export interface ChoiceOptions {
  /** Valid letters. Defaults to "ABCDEFGHIJ" (MMLU-Pro); GPQA uses "ABCD". */
  letters?: string;
  /** Which match counts when several are found. Defaults to "last" ("first" reproduces r1's gpqa.py). */
  pick?: "last" | "first";
  /**
   * When no answer statement is found, take the last standalone capital letter of the valid set anywhere in the text
   * (MMLU-Pro's third regex). Lenient and hackable ("I" the pronoun counts). Defaults to false.
   */
  lastLetterFallback?: boolean;
  /**
   * Cut the response at the first occurrence of any of these strings (few-shot runs that start a new "Question:").
   * Defaults to [].
   */
  stopAt?: string[];
}

/** Defaults of extractChoice. */
export const defaults: Required<ChoiceOptions> = {
  letters: "ABCDEFGHIJ",
  pick: "last",
  lastLetterFallback: false,
  stopAt: [],
};

/** What extractChoice found. */
export interface ChoiceExtraction {
  letter: string | null;
  /** "answer-phrase", "boxed" or "none". */
  rule: string;
  /** Index in the response of the match used, -1 when none. */
  index: number;
  /** How many answer statements were found (and their letters, in order). */
  matches: string[];
}

// "Answer: B", "**Answer:** (B)", "The answer is $\boxed{B}$", "the correct option is C", "Final Answer: \text{D}".
// A connector (is / : / =) is required, so "we can eliminate answer (I)" and "Option E is incorrect" do not count.
const PHRASE =
  /(?:[Aa]nswer|ANSWER|(?:[Cc]orrect|[Bb]est|[Cc]losest|[Ff]inal|[Rr]ight) (?:[Oo]ption|[Cc]hoice))(?:\s+(?:is|would be|should be|must be)|\s*[:=])\s*(?:\*\*|__)?\s*(?::\s*)?(?:\*\*)?\s*(?:[Oo]ption\s+|[Cc]hoice\s+)?(?:\$+\s*)?(?:\\(?:boxed|text|textbf|mathrm|mathbf)\s*\{\s*)*[(\[]?\s*([A-Z])\s*[)\]]?(?![A-Za-z0-9])/g;
const BOXED = /\\boxed\s*\{\s*(?:\\(?:text|textbf|mathrm|mathbf)\s*\{\s*)?[(\[]?\s*([A-Z])\s*[)\]]?\s*\}?/g;

/**
 * The chosen letter of a multiple-choice response: the last "Answer: X" (bold, parentheses, $...$, \boxed{X},
 * "the answer is (X)" variants) or \boxed{X}.
 * @example reward.extractChoice("I think Answer: A ... no. **Answer:** (C)").letter // "C"
 */
export function extractChoice(response: string, options: ChoiceOptions = {}): ChoiceExtraction {
  const letters = options.letters ?? defaults.letters;
  let text = response;
  for (const stop of options.stopAt ?? defaults.stopAt) {
    const k = text.indexOf(stop);
    if (k >= 0) text = text.slice(0, k);
  }
  const found: { letter: string; index: number; rule: string }[] = [];
  for (const [re, rule] of [
    [PHRASE, "answer-phrase"],
    [BOXED, "boxed"],
  ] as const) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text))
      if (letters.includes(m[1])) found.push({ letter: m[1], index: m.index, rule });
  }
  if (found.length === 0 && (options.lastLetterFallback ?? defaults.lastLetterFallback)) {
    const re = new RegExp(`\\b([${letters}])\\b`, "g");
    let last: RegExpExecArray | null = null;
    for (let m = re.exec(text); m; m = re.exec(text)) last = m;
    if (last) return { letter: last[1], rule: "last-letter", index: last.index, matches: [last[1]] };
  }
  if (found.length === 0) return { letter: null, rule: "none", index: -1, matches: [] };
  found.sort((a, b) => a.index - b.index);
  const pick = (options.pick ?? defaults.pick) === "first" ? found[0] : found[found.length - 1];
  return { letter: pick.letter, rule: pick.rule, index: pick.index, matches: found.map((f) => f.letter) };
}

function goldLetter(groundTruth: unknown, letters: string): string {
  if (
    typeof groundTruth === "number" &&
    Number.isInteger(groundTruth) &&
    groundTruth >= 0 &&
    groundTruth < letters.length
  )
    return letters[groundTruth];
  if (typeof groundTruth === "string") {
    const g = groundTruth
      .trim()
      .replace(/^\(|\)$/g, "")
      .toUpperCase();
    if (g.length === 1 && letters.includes(g)) return g;
  }
  return fail(
    "invalid_input",
    `reward.multipleChoice: ground_truth must be one letter of ${letters} or its 0-based index ` +
      `(got ${describe(groundTruth)}). Set reward_model.ground_truth to the gold letter, e.g. "C".`,
    { got: groundTruth, expected: letters, path: ["reward_model", "ground_truth"] },
  );
}

/**
 * Multiple-choice reward: 1 when the last stated letter equals the gold letter, else 0.
 * @example reward.multipleChoiceReward("... Answer: C", "C").score // 1
 */
export function multipleChoiceReward(
  response: string,
  groundTruth: unknown,
  _record?: RewardRecord,
  options: ChoiceOptions = {},
): RewardResult {
  const letters = options.letters ?? defaults.letters;
  const gold = goldLetter(groundTruth, letters);
  const ex = extractChoice(response, options);
  const ok = ex.letter === gold;
  return {
    score: ok ? 1 : 0,
    details: {
      extracted: ex.letter,
      gold,
      rule: ex.letter === null ? "no-answer" : ok ? ex.rule : "wrong-letter",
      matches: ex.matches,
    },
  };
}

/**
 * GPQA reward: letters A-D, the last "Answer: X" counts.
 * @example reward.gpqaReward("Answer: B", "B").score // 1
 */
export function gpqaReward(
  response: string,
  groundTruth: unknown,
  record?: RewardRecord,
  options: ChoiceOptions = {},
): RewardResult {
  return multipleChoiceReward(response, groundTruth, record, { letters: "ABCD", ...options });
}

register("multiple-choice", multipleChoiceReward, { summary: "last stated letter A-J equals the gold letter" });
register("gpqa", gpqaReward, { paper: "arXiv:2311.12022", summary: "last 'Answer: X' (A-D) equals the gold letter" });
register("mmlu-pro", multipleChoiceReward, {
  paper: "arXiv:2406.01574",
  summary: "last 'the answer is (X)' (A-J) equals the gold letter",
});
