// The numbers of an eval run per data_source: r1's mean@k, its standard error and bootstrap CI, unbiased pass@k for
// every k <= n, maj@k, and how many responses had no answer, were truncated, or made the reward fail.
import { checkFinite } from "../core/checks.js";
import { bootstrapCI, bootstrapDefaults, majAtK, meanAtK, standardError, type BootstrapOptions } from "./aggregate.js";
import {
  answerOf,
  checkScored,
  correctDefaults,
  correctFlags,
  defined,
  firstK,
  isNoAnswer,
  isRewardError,
  truncatedFlags,
  type CorrectOptions,
  type EvalRecord,
} from "./items.js";
import { warnNoAnswers } from "./no-answer.js";
import { passAtK } from "./pass-at-k.js";

/** One line of a summary: one data_source (or all of them pooled). */
export interface SummaryRow {
  data_source: string;
  /** Prompts (problems). */
  items: number;
  /** Responses per item (the smallest count when they differ): pass@k and maj@k are given for k = 1..n. */
  n: number;
  /** Responses in all. */
  responses: number;
  /** r1's metric (`test_score/<data_source>`): mean over items of the mean score of their responses, in [0, 1]. */
  meanAtK: number;
  /** Standard error of meanAtK over items. */
  se: number;
  /** Percentile bootstrap CI of meanAtK over items. */
  ci: { low: number; high: number };
  /** Unbiased pass@k (Chen et al.) for k = 1..n, averaged over items: passAtK[k]. */
  passAtK: Record<number, number>;
  /** maj@k for k = 1..n over the first k responses (null when no grader details give the answers). */
  majAtK: Record<number, number> | null;
  /** Responses where the grader found no answer (extraction failures). */
  noAnswer: number;
  /** Responses cut at the length limit (null when the generator's finish reasons are unknown). */
  truncated: number | null;
  /** Responses whose reward raised an error (scored 0). */
  errors: number;
  /** Mean response length in characters. */
  meanChars: number;
}

/** A whole eval run summarised. */
export interface EvalSummary {
  /** One row per data_source, sorted by name. */
  rows: SummaryRow[];
  /** All items pooled (null when there is a single data_source). */
  overall: SummaryRow | null;
  /** Correctness threshold used for pass@k / maj@k. */
  threshold: number;
  /** Bootstrap settings of the CIs. */
  bootstrap: Required<BootstrapOptions>;
}

/** Options of summarize. */
export interface SummarizeOptions extends CorrectOptions, BootstrapOptions {
  /**
   * Summarise only the first k responses of every record (what "k=8" means in r1's README). Defaults to all of them.
   */
  k?: number;
}

/**
 * Defaults of summarize: correct = score >= 1, 1000 bootstrap resamples, 95% level, seed 42.
 * @example evals.summarizeDefaults.resamples // 1000
 */
export const summarizeDefaults = { ...correctDefaults, ...bootstrapDefaults };

function mean(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}

/**
 * Summarise one group of scored records (any grouping: a data_source, a level, a model).
 * @example evals.summarizeGroup("MATH", scored).passAtK[8]
 */
export function summarizeGroup(
  name: string,
  records: readonly EvalRecord[],
  options: SummarizeOptions = {},
): SummaryRow {
  const o = { ...summarizeDefaults, ...defined(options) };
  const recs = checkScored(records, "evals.summarizeGroup");
  const scores = recs.map((r) => r.scores);
  const perItem = scores.map((s) => mean(s));
  const n = Math.min(...recs.map((r) => r.responses.length));
  const counts = recs.map((r) => ({ n: r.responses.length, c: correctFlags(r, o).filter(Boolean).length }));
  const passAt: Record<number, number> = {};
  for (let k = 1; k <= n; k++) passAt[k] = mean(counts.map((it) => passAtK(it.n, it.c, k)));
  const hasDetails = recs.every((r) => Array.isArray(r.details) && r.details.length === r.responses.length);
  let majAt: Record<number, number> | null = null;
  if (hasDetails) {
    const votes = recs.map((r) => ({
      answers: (r.details as Record<string, unknown>[]).map(answerOf),
      correct: correctFlags(r, o),
    }));
    if (votes.some((v) => v.answers.some((a) => a !== null))) {
      majAt = {};
      for (let k = 1; k <= n; k++) majAt[k] = majAtK(votes, k);
    }
  }
  let noAnswer = 0,
    errors = 0,
    truncated = 0,
    truncKnown = true,
    chars = 0,
    responses = 0;
  for (const r of recs) {
    r.details?.forEach((d) => {
      if (isNoAnswer(d)) noAnswer++;
      if (isRewardError(d)) errors++;
    });
    for (const t of truncatedFlags(r)) {
      if (t === null) truncKnown = false;
      else if (t) truncated++;
    }
    for (const resp of r.responses) chars += resp.length;
    responses += r.responses.length;
  }
  const ci = bootstrapCI(perItem, (xs) => mean(xs), { resamples: o.resamples, level: o.level, seed: o.seed });
  return {
    data_source: name,
    items: recs.length,
    n,
    responses,
    meanAtK: meanAtK(scores),
    se: standardError(scores),
    ci: { low: ci.low, high: ci.high },
    passAtK: passAt,
    majAtK: majAt,
    noAnswer,
    truncated: truncKnown ? truncated : null,
    errors,
    meanChars: chars / responses,
  };
}

/**
 * Summarise an eval run per data_source: mean@k (r1's metric) ± standard error and bootstrap CI, unbiased pass@k for
 * every k <= n, maj@k, extraction failures, truncations and reward errors counted separately. Warns (core `warn()`)
 * about each data_source where more than half of the responses had no extracted answer.
 * @example const s = evals.summarize(scored); s.rows[0].meanAtK; s.rows[0].passAtK[8]; evals.summarize(scored, {k: 4})
 */
export function summarize(records: readonly EvalRecord[], options: SummarizeOptions = {}): EvalSummary {
  const o = { ...summarizeDefaults, ...defined(options) };
  checkFinite({ where: "evals.summarize", from: summarize }, "threshold", o.threshold);
  let recs = checkScored(records, "evals.summarize");
  if (options.k !== undefined) recs = firstK(recs, options.k);
  const by = new Map<string, EvalRecord[]>();
  for (const r of recs) {
    const list = by.get(r.data_source);
    if (list) list.push(r);
    else by.set(r.data_source, [r]);
  }
  const names = [...by.keys()].sort();
  const rows = names.map((name) => summarizeGroup(name, by.get(name) as EvalRecord[], o));
  // A data_source where most responses had no extracted answer: say so, with examples and the option that fits.
  warnNoAnswers(recs);
  return {
    rows,
    overall: names.length > 1 ? summarizeGroup("all", recs, o) : null,
    threshold: o.threshold,
    bootstrap: { resamples: o.resamples, level: o.level, seed: o.seed },
  };
}
