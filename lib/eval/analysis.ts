// Looking inside an eval run: accuracy by a field (subject, level, model), per-item difficulty from the samples,
// and response length against correctness.
import { describe, fail } from "../core/errors.js";
import { checkWholeAtLeast } from "../core/checks.js";
import {
  checkScored,
  correctDefaults,
  correctFlags,
  defined,
  fieldOf,
  isNoAnswer,
  itemId,
  type CorrectOptions,
  type EvalRecord,
} from "./items.js";
import { summarizeGroup, type SummarizeOptions, type SummaryRow } from "./summarize.js";

const natural = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

/**
 * Accuracy broken down by a field or function of each record (e.g. "extra_info.level", "extra_info.subject",
 * "extra_info.model"): one summary row per value (its `data_source` holds the value), sorted naturally.
 * @example evals.breakdown(scored, "extra_info.level").map(r => [r.data_source, r.meanAtK])
 */
export function breakdown(
  records: readonly EvalRecord[],
  by: string | ((r: EvalRecord) => unknown),
  options: SummarizeOptions & { missing?: string } = {},
): SummaryRow[] {
  if (typeof by !== "string" && typeof by !== "function")
    fail(
      "invalid_option",
      `evals.breakdown: by must be a dotted field path like "extra_info.level" or a function (got ${describe(by)}).`,
      { path: ["by"] },
      breakdown,
    );
  const recs = checkScored(records, "evals.breakdown");
  const groups = new Map<string, EvalRecord[]>();
  let missing = 0;
  for (const r of recs) {
    const v = fieldOf(r, by);
    if (v === undefined || v === null) missing++;
    const key = v === undefined || v === null ? (options.missing ?? "(missing)") : String(v);
    const list = groups.get(key);
    if (list) list.push(r);
    else groups.set(key, [r]);
  }
  if (missing === recs.length)
    fail(
      "invalid_input",
      `evals.breakdown: no record has ` +
        `${typeof by === "string" ? `a field "${by}"` : "a value for the given function"} (got ${recs.length} ` +
        `records without it). Check the path, e.g. "extra_info.level".`,
      {
        path: ["by"],
      },
      breakdown,
    );
  return [...groups.keys()]
    .sort((a, b) => natural.compare(a, b))
    .map((k) => summarizeGroup(k, groups.get(k) as EvalRecord[], options));
}

/** One item's difficulty, measured by how many of its samples were correct. */
export interface ItemDifficulty {
  id: string;
  data_source: string;
  /** Position in the input. */
  index: number;
  n: number;
  /** Correct samples. */
  c: number;
  /** c / n. */
  passRate: number;
  /** "always" (c = n), "mostly" (c/n >= 0.5), "rarely" (0 < c/n < 0.5), "never" (c = 0). */
  bucket: "always" | "mostly" | "rarely" | "never";
  /** Samples with no extracted answer. */
  noAnswer: number;
}

/** Per-item difficulty of a run and how items spread over it. */
export interface DifficultyReport {
  items: ItemDifficulty[];
  /** How many items fall in each bucket. */
  buckets: Record<ItemDifficulty["bucket"], number>;
  /** byCorrect[c] = items with exactly c correct samples (when every item has the same n; else null). */
  byCorrect: number[] | null;
}

/**
 * Per-item difficulty from the samples: c of n correct, the pass rate and a bucket; the histogram over c shows
 * whether accuracy comes from many half-solved items or from solved and unsolvable ones.
 * @example evals.itemDifficulty(scored).buckets // {always: 71, mostly: 17, rarely: 6, never: 6}
 */
export function itemDifficulty(records: readonly EvalRecord[], options: CorrectOptions = {}): DifficultyReport {
  const o = { ...correctDefaults, ...defined(options) };
  const recs = checkScored(records, "evals.itemDifficulty");
  const items = recs.map((r, i): ItemDifficulty => {
    const n = r.responses.length;
    const c = correctFlags(r, o).filter(Boolean).length;
    const rate = c / n;
    return {
      id: itemId(r, i),
      data_source: r.data_source,
      index: i,
      n,
      c,
      passRate: rate,
      bucket: c === n ? "always" : c === 0 ? "never" : rate >= 0.5 ? "mostly" : "rarely",
      noAnswer: (r.details ?? []).filter((d) => isNoAnswer(d)).length,
    };
  });
  const buckets = { always: 0, mostly: 0, rarely: 0, never: 0 };
  for (const it of items) buckets[it.bucket]++;
  const n0 = items[0].n;
  let byCorrect: number[] | null = null;
  if (items.every((it) => it.n === n0)) {
    byCorrect = new Array<number>(n0 + 1).fill(0);
    for (const it of items) byCorrect[it.c]++;
  }
  return { items, buckets, byCorrect };
}

/** Length statistics of one set of responses. */
export interface LengthGroup {
  responses: number;
  mean: number;
  median: number;
}

/** Response length against correctness. */
export interface LengthReport {
  /** "tokens" when records carry response_lengths (from generate), else "chars" (or "custom" with lengthOf). */
  unit: "tokens" | "chars" | "custom";
  correct: LengthGroup;
  wrong: LengthGroup;
  /** Wrong responses where no answer was extracted (often cut off or rambling). */
  noAnswer: LengthGroup;
  /** Accuracy per length bin (equal-count bins). */
  bins: { low: number; high: number; responses: number; accuracy: number }[];
  /**
   * Mean over items that have both correct and wrong responses of (mean wrong length − mean correct length): the
   * length gap with item difficulty held fixed (hard items make both long and wrong answers).
   */
  withinItemGap: number | null;
  /** Items that have both correct and wrong responses. */
  mixedItems: number;
  /** One point per response, for viz.lengthVsCorrectness. */
  points: { length: number; correct: boolean }[];
}

/** Options of lengthStats. */
export interface LengthOptions extends CorrectOptions {
  /** Length of one response. Defaults to response_lengths (tokens) when present, else characters. */
  lengthOf?: (response: string) => number;
  /** Number of equal-count length bins. Defaults to 5. */
  bins?: number;
}

function group(xs: number[]): LengthGroup {
  if (xs.length === 0) return { responses: 0, mean: NaN, median: NaN };
  const s = xs.slice().sort((a, b) => a - b);
  const mid = s.length >> 1;
  return {
    responses: xs.length,
    mean: xs.reduce((a, b) => a + b, 0) / xs.length,
    median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2,
  };
}

/**
 * Response length vs correctness: length of correct, wrong and no-answer responses, accuracy per length bin, and the
 * within-item gap (wrong minus correct length on items that have both).
 * @example const L = evals.lengthStats(scored); display(viz.lengthVsCorrectness(L.points))
 */
export function lengthStats(records: readonly EvalRecord[], options: LengthOptions = {}): LengthReport {
  const o = { ...correctDefaults, bins: 5, ...defined(options) };
  checkWholeAtLeast({ where: "evals.lengthStats", from: lengthStats }, "bins", o.bins, 1);
  const recs = checkScored(records, "evals.lengthStats");
  const tokens =
    !o.lengthOf &&
    recs.every((r) => Array.isArray(r.response_lengths) && r.response_lengths.length === r.responses.length);
  const unit: LengthReport["unit"] = o.lengthOf ? "custom" : tokens ? "tokens" : "chars";
  const points: { length: number; correct: boolean }[] = [];
  const ok: number[] = [],
    bad: number[] = [],
    none: number[] = [];
  let gapSum = 0,
    mixed = 0;
  for (const r of recs) {
    const flags = correctFlags(r, o);
    const lens = r.responses.map((resp, j) =>
      o.lengthOf ? o.lengthOf(resp) : tokens ? (r.response_lengths as number[])[j] : resp.length,
    );
    const itemOk: number[] = [],
      itemBad: number[] = [];
    lens.forEach((len, j) => {
      points.push({ length: len, correct: flags[j] });
      (flags[j] ? ok : bad).push(len);
      (flags[j] ? itemOk : itemBad).push(len);
      if (!flags[j] && isNoAnswer(r.details?.[j])) none.push(len);
    });
    if (itemOk.length && itemBad.length) {
      mixed++;
      gapSum += group(itemBad).mean - group(itemOk).mean;
    }
  }
  const sorted = points.slice().sort((a, b) => a.length - b.length);
  const bins: LengthReport["bins"] = [];
  const nb = Math.min(o.bins, sorted.length);
  for (let b = 0; b < nb; b++) {
    const part = sorted.slice(Math.floor((b * sorted.length) / nb), Math.floor(((b + 1) * sorted.length) / nb));
    if (part.length === 0) continue;
    bins.push({
      low: part[0].length,
      high: part[part.length - 1].length,
      responses: part.length,
      accuracy: part.filter((p) => p.correct).length / part.length,
    });
  }
  return {
    unit,
    correct: group(ok),
    wrong: group(bad),
    noAnswer: group(none),
    bins,
    withinItemGap: mixed ? gapSum / mixed : null,
    mixedItems: mixed,
    points,
  };
}
