// gradeMath(gold, pred): are two final answers the same? The pipeline is extract (when pred is a whole response)
// -> normalise -> exact string -> structure + value/symbolic equivalence -> case-insensitive text.
import { describe, fail } from "../../core/errors.js";
import { answersEq, newCtx, type EqualSettings } from "./equal.js";
import { boxedAnswers, extractAnswer, joinBoxes, percentAfter, responseRules, type ExtractRule } from "./extract.js";
import { normalizeAnswer, type NormalizedAnswer } from "./normalize.js";
import { structureOf } from "./structure.js";

/** Options of gradeMath. */
export interface GradeMathOptions {
  /** Relative tolerance once a decimal literal is involved (0.3333 vs 1/3). Defaults to 1e-4 (as Qwen2.5-Math). */
  relTol?: number;
  /** Random points for expressions with variables. Defaults to 6. */
  points?: number;
  /** Seed of those points (fixed so grading is deterministic). Defaults to 20240917. */
  seed?: number;
  /**
   * "answer": `pred` is a final answer (or a text whose last \boxed{} is used). "response": `pred` and `gold` are free
   * text read as Math-Verify does (box, "Final Answer: ...", the last LaTeX expression or number).
   * Defaults to "answer".
   */
  mode?: "answer" | "response";
  /** Extraction rules of "response" mode. Defaults to ["boxed", "phrase", "latex", "last-number"]. */
  rules?: ExtractRule[];
  /**
   * A percent sign on one side only: "either" (10% equals 10 and 0.1) or "fraction" (a predicted 10% is only 0.1; a
   * gold 10% still accepts both, as Math-Verify reads percents). Defaults to "either".
   */
  percent?: "either" | "fraction";
}

/** Defaults of gradeMath. */
export const defaults = {
  relTol: 1e-4,
  points: 6,
  seed: 20240917,
  mode: "answer" as "answer" | "response",
  rules: responseRules,
  percent: "either" as "either" | "fraction",
};

/** Result of gradeMath: `equal` plus the forms compared and the rule that decided. */
export interface GradeMathResult {
  equal: boolean;
  details: {
    gold: string;
    pred: string;
    goldNormalized: string;
    predNormalized: string;
    /**
     * "string", "exact-rational", "numeric", "symbolic", "percent", "tuple", "set", "matrix", "equation", "text", ...
     * or "none"/"empty".
     */
    rule: string;
    units?: string;
  };
}

/** The gold answer as a string: numbers as written by JSON, lists joined (OlympiadBench), \boxed{} unwrapped. */
export function goldText(gold: unknown, from: Function = goldText): string {
  if (typeof gold === "number" && Number.isFinite(gold)) return String(gold);
  if (typeof gold === "bigint") return gold.toString();
  if (Array.isArray(gold) && gold.length > 0 && gold.every((g) => typeof g === "string" || typeof g === "number"))
    return gold.map((g) => goldText(g, from)).join(", ");
  if (typeof gold === "string" && gold.trim().length > 0) {
    if (gold.includes("\\boxed") || gold.includes("\\fbox")) {
      // A gold is written by the dataset, never hedged: all its boxes are the answer ("\\boxed{1} \\text{ or }
      // \\boxed{2}" is 1, 2), never cut to the last; the same content boxed twice counts once.
      const boxes = boxedAnswers(gold).filter((b) => b.content.trim() !== "");
      const seen = new Set<string>();
      const distinct = boxes.filter(
        (b) => !seen.has(b.content.replace(/\s+/g, "")) && seen.add(b.content.replace(/\s+/g, "")),
      );
      if (distinct.length === 1 && percentAfter(gold, distinct[0].end) && !/%\s*$/.test(distinct[0].content))
        return distinct[0].content + "\\%";
      if (distinct.length > 0) return joinBoxes(distinct);
    }
    if (gold.includes("####")) return gold.slice(gold.lastIndexOf("####") + 4).trim();
    return gold;
  }
  return fail(
    "invalid_input",
    `reward.gradeMath: gold must be a non-empty string, a number or a list of them ` +
      `(got ${describe(gold)}). Check record.reward_model.ground_truth.`,
    { got: gold, path: ["reward_model", "ground_truth"] },
    from,
  );
}

// "C" against "C. x = 42" or "(C) 42": a multiple-choice letter and the option it starts (one option only: "C. or D."
// names two).
function optionLetter(letter: string, option: string): boolean {
  if (!/^[A-J]$/.test(letter) || !new RegExp(`^\\(?${letter}\\)?[.:)]\\s`).test(option)) return false;
  const rest = option.replace(/^\S+\s/, "");
  return !/\bor\b|(?:^|\s)\(?[A-J]\)?[.:)](?:\s|$)/.test(rest);
}

function textKey(n: NormalizedAnswer): string {
  return n.compact.toLowerCase().replace(/[^a-z0-9]/g, "");
}

/** Compare two already-normalised answers. */
export function equalNormalized(g: NormalizedAnswer, p: NormalizedAnswer, settings: EqualSettings): string | null {
  if (p.compact.length === 0) return null;
  if (g.compact === p.compact && g.percent === p.percent) return "string";
  if (optionLetter(g.text, p.text) || optionLetter(p.text, g.text)) return "choice";
  const ga = structureOf(g.text),
    pa = structureOf(p.text);
  // Percent signs live outside the structure: put them back on top-level expressions.
  if (ga.t === "expr" && g.percent) ga.pct = true;
  if (pa.t === "expr" && p.percent) pa.pct = true;
  const ctx = newCtx(settings);
  try {
    if (answersEq(ga, pa, ctx)) return ctx.rule;
  } catch (err) {
    if (!(err instanceof RangeError || (err instanceof Error && err.message.startsWith("unbound")))) throw err;
  }
  // same text, only a % differs: "10%" vs "10" (not a predicted % against a plain gold when percent is "fraction")
  if (g.compact === p.compact && !(settings.percent === "fraction" && p.percent && !g.percent)) return "string";
  // Words: "\text{East}" vs "east", "\text{(C)}" vs "C".
  const gk = textKey(g);
  if (gk.length > 0 && !/\d/.test(gk) && gk === textKey(p)) return "text";
  return null;
}

/**
 * Whether `pred` is the same math answer as `gold`. `pred` may be a whole response: its last \boxed{} is used.
 * @example reward.gradeMath("\\frac{1}{2}", "0.5").equal // true (rule "numeric")
 */
export function gradeMath(gold: unknown, pred: string, options: GradeMathOptions = {}): GradeMathResult {
  if (typeof pred !== "string")
    fail("invalid_input", `reward.gradeMath: pred must be a string (got ${describe(pred)}).`, { got: pred }, gradeMath);
  const settings: EqualSettings = {
    relTol: options.relTol ?? defaults.relTol,
    points: options.points ?? defaults.points,
    seed: options.seed ?? defaults.seed,
    percent: options.percent ?? defaults.percent,
  };
  const mode = options.mode ?? defaults.mode;
  if (mode !== "answer" && mode !== "response")
    fail(
      "invalid_option",
      `reward.gradeMath: mode must be "answer" or "response" (got ${describe(mode)}).`,
      { path: ["mode"], got: mode },
      gradeMath,
    );
  if (settings.percent !== "either" && settings.percent !== "fraction")
    fail(
      "invalid_option",
      `reward.gradeMath: percent must be "either" or "fraction" (got ${describe(settings.percent)}).`,
      { path: ["percent"], got: settings.percent },
      gradeMath,
    );
  let gold0 = goldText(gold, gradeMath);
  let predAnswer = pred;
  if (mode === "response") {
    const rules = options.rules ?? defaults.rules;
    predAnswer = extractAnswer(pred, { rules, phraseAfterBox: true }).answer ?? "";
    if (typeof gold === "string") gold0 = extractAnswer(gold, { rules, phraseAfterBox: true }).answer ?? gold0;
  } else if (pred.includes("\\boxed") || pred.includes("\\fbox")) {
    const ex = extractAnswer(pred, { rules: ["boxed"] });
    if (ex.answer !== null) predAnswer = ex.answer;
  }
  const g = normalizeAnswer(gold0),
    p = normalizeAnswer(predAnswer);
  const rule = equalNormalized(g, p, settings);
  return {
    equal: rule !== null,
    details: {
      gold: gold0,
      pred: predAnswer,
      goldNormalized: g.compact,
      predNormalized: p.compact,
      rule: rule ?? (p.compact.length === 0 ? "empty" : "none"),
      ...(p.units ? { units: p.units } : {}),
    },
  };
}
