import { fail } from "../core/errors.js";
import { Rng } from "../core/random.js";

/** Mean of a list (fails on empty). */
function mean(xs: readonly number[], where: string): number {
  if (xs.length === 0) fail("invalid_input", `${where}: no values to average (got an empty list).`);
  let s = 0;
  for (const x of xs) {
    if (!Number.isFinite(x)) fail("non_finite", `${where}: scores must be finite numbers (got ${x}).`, { got: x });
    s += x;
  }
  return s / xs.length;
}

/**
 * mean@k as the R1 recipe reports it: average score over each item's responses, then over items.
 * @param scores one list of response scores per item
 * @example meanAtK([[1, 0], [1, 1]]) // 0.75
 */
export function meanAtK(scores: readonly (readonly number[])[]): number {
  return mean(
    scores.map((s, i) => mean(s, `eval.meanAtK: item ${i}`)),
    "eval.meanAtK",
  );
}

/** Standard error of the mean over items of their per-item mean score (sample std / sqrt(items)). */
export function standardError(scores: readonly (readonly number[])[]): number {
  const per = scores.map((s, i) => mean(s, `eval.standardError: item ${i}`));
  if (per.length < 2) return 0;
  const m = mean(per, "eval.standardError");
  let v = 0;
  for (const x of per) v += (x - m) ** 2;
  return Math.sqrt(v / (per.length - 1) / per.length);
}

/** Options of bootstrapCI. */
export interface BootstrapOptions {
  /** Resamples. Defaults to 1000. */
  resamples?: number;
  /** Two-sided confidence level. Defaults to 0.95. */
  level?: number;
  /** Seed of the resampling stream. Defaults to 42 (as verl's validation metrics). */
  seed?: number;
}

/** Defaults of bootstrapCI. */
export const bootstrapDefaults: Required<BootstrapOptions> = { resamples: 1000, level: 0.95, seed: 42 };

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Percentile bootstrap confidence interval of a statistic over items (items are resampled with replacement).
 * @example bootstrapCI(perItemScores, (xs) => xs.reduce((a, b) => a + b) / xs.length)
 */
export function bootstrapCI<T>(
  items: readonly T[],
  statistic: (sample: T[]) => number,
  options: BootstrapOptions = {},
): { estimate: number; low: number; high: number } {
  const { resamples, level, seed } = { ...bootstrapDefaults, ...options };
  if (items.length === 0) fail("invalid_input", "eval.bootstrapCI: no items (got an empty list).", {}, bootstrapCI);
  if (!(level > 0 && level < 1))
    fail("invalid_option", `eval.bootstrapCI: level must be in (0, 1) (got ${level}).`, {}, bootstrapCI);
  if (!Number.isInteger(resamples) || resamples < 10)
    fail("invalid_option", `eval.bootstrapCI: resamples must be an integer >= 10 (got ${resamples}).`, {}, bootstrapCI);
  const rng = new Rng(seed);
  const stats: number[] = [];
  const sample: T[] = new Array(items.length);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < items.length; i++) sample[i] = items[rng.int(items.length)];
    stats.push(statistic(sample));
  }
  stats.sort((a, b) => a - b);
  const alpha = (1 - level) / 2;
  return { estimate: statistic(items.slice()), low: quantile(stats, alpha), high: quantile(stats, 1 - alpha) };
}

/**
 * maj@k: the fraction of items whose most frequent answer among the first k responses is correct (ties go to the
 * answer seen first). Responses with no extracted answer (null) do not vote.
 * @param items per item, its responses' extracted answers (normalised strings) and whether each is correct
 * @example majAtK([{answers: ["4", "4", "5"], correct: [true, true, false]}], 3) // 1
 */
export function majAtK(
  items: readonly { answers: readonly (string | null)[]; correct: readonly boolean[] }[],
  k: number,
): number {
  if (items.length === 0) fail("invalid_input", "eval.majAtK: no items (got an empty list).", {}, majAtK);
  let hit = 0;
  items.forEach((it, idx) => {
    if (it.answers.length !== it.correct.length)
      fail(
        "shape_mismatch",
        `eval.majAtK: item ${idx} has ${it.answers.length} answers but ${it.correct.length} correctness flags.`,
        {
          path: ["items", idx],
        },
        majAtK,
      );
    if (k < 1 || k > it.answers.length)
      fail(
        "invalid_input",
        `eval.majAtK: k must be in [1, ${it.answers.length}] for item ${idx} (got ${k}).`,
        { path: ["k"] },
        majAtK,
      );
    const votes = new Map<string, { count: number; first: number; correct: boolean }>();
    for (let j = 0; j < k; j++) {
      const a = it.answers[j];
      if (a === null) continue;
      const v = votes.get(a);
      if (v) v.count++;
      else votes.set(a, { count: 1, first: j, correct: it.correct[j] });
    }
    let best: { count: number; first: number; correct: boolean } | null = null;
    for (const v of votes.values())
      if (!best || v.count > best.count || (v.count === best.count && v.first < best.first)) best = v;
    if (best?.correct) hit++;
  });
  return hit / items.length;
}
