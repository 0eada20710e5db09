// Two runs (models, checkpoints, graders) on the same items: align them by item, then agreement, flipped items,
// McNemar's exact test and a paired bootstrap of the accuracy difference (the math is in compare.ts).
import { describe, fail } from "../core/errors.js";
import { type BootstrapOptions } from "./aggregate.js";
import { compareRuns, type PairedComparison } from "./compare.js";
import { checkScored, correctFlags, defined, type EvalRecord, itemId, questionOf } from "./items.js";

/** One item in a comparison. */
export interface ComparedItem {
  id: string;
  data_source: string;
  /** Per-item mean score of run A / run B. */
  a: number;
  b: number;
}

/** Result of compareEvals. */
export interface EvalComparison extends PairedComparison {
  /** Names of the two runs. */
  labels: [string, string];
  /** Items present in both runs. */
  items: number;
  /** mean@k of each run over the shared items. */
  meanA: number;
  meanB: number;
  /** Items only A gets right / only B gets right (by the item threshold). */
  flippedToA: ComparedItem[];
  flippedToB: ComparedItem[];
  /** Responses whose correct / wrong call is the same in both runs (same sample position; null when n differs). */
  sampleAgreement: number | null;
  /** Items found in one run only (left out). */
  onlyInA: number;
  onlyInB: number;
  perItem: ComparedItem[];
}

/** Options of compareEvals. */
export interface CompareEvalsOptions extends BootstrapOptions {
  /** How items are matched between runs. Defaults to data_source + question text. */
  key?: (record: EvalRecord, index: number) => string;
  /** An item counts as solved when its mean score is >= this. Defaults to 0.5 (a majority of its samples). */
  threshold?: number;
  /** A response counts as correct when its score is >= this. Defaults to 1. */
  responseThreshold?: number;
  /** Names of the runs. Defaults to ["A", "B"]. */
  labels?: [string, string];
}

/**
 * Defaults of compareEvals.
 * @example evals.compareDefaults.threshold // 0.5
 */
export const compareDefaults = { threshold: 0.5, responseThreshold: 1, labels: ["A", "B"] as [string, string] };

const defaultKey = (r: EvalRecord) => `${r.data_source}\u0000${questionOf(r)}`;

function index(recs: EvalRecord[], key: (r: EvalRecord, i: number) => string, label: string): Map<string, EvalRecord> {
  const m = new Map<string, EvalRecord>();
  recs.forEach((r, i) => {
    const k = key(r, i);
    if (typeof k !== "string")
      fail(
        "invalid_option",
        `evals.compareEvals: key() must return a string (got ${describe(k)} for record ${i} of ${label}).`,
        { path: ["key"] },
        compareEvals,
      );
    if (m.has(k))
      fail(
        "invalid_input",
        `evals.compareEvals: run ${label} has two records for the same item (${itemId(r, i)}; record ${i}). ` +
          `Filter one model / run per side, or pass {key: (r) => id} that tells them apart.`,
        {
          path: [label, i],
        },
        compareEvals,
      );
    m.set(k, r);
  });
  return m;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Compare two scored runs on the items they share: per-item agreement, which items flipped each way, McNemar's exact
 * test on the flips, and a paired bootstrap CI of the accuracy difference (A − B).
 * @example const c = evals.compareEvals(runA, runB, {labels: ["step 0", "step 100"]}); c.mcnemarP; c.diffCI
 */
export function compareEvals(
  a: readonly EvalRecord[],
  b: readonly EvalRecord[],
  options: CompareEvalsOptions = {},
): EvalComparison {
  const o = { ...compareDefaults, ...defined(options) };
  const ra = checkScored(a, "evals.compareEvals (run A)");
  const rb = checkScored(b, "evals.compareEvals (run B)");
  const key = o.key ?? defaultKey;
  const ia = index(ra, key, o.labels[0]);
  const ib = index(rb, key, o.labels[1]);
  const shared = [...ia.keys()].filter((k) => ib.has(k));
  if (shared.length === 0)
    fail(
      "invalid_input",
      `evals.compareEvals: the runs share no item (got ${ra.length} and ${rb.length} records; expected the ` +
        `same prompts). Pass {key} if the prompts differ in wording (e.g. templates).`,
      {},
      compareEvals,
    );
  const perItem: ComparedItem[] = shared.map((k) => {
    const x = ia.get(k) as EvalRecord,
      y = ib.get(k) as EvalRecord;
    return { id: itemId(x, ra.indexOf(x)), data_source: x.data_source, a: mean(x.scores), b: mean(y.scores) };
  });
  const cmp = compareRuns(
    perItem.map((p) => p.a),
    perItem.map((p) => p.b),
    { threshold: o.threshold, ...defined({ resamples: o.resamples, level: o.level, seed: o.seed }) },
  );
  let same = 0,
    total = 0,
    sameN = true;
  for (const k of shared) {
    const x = ia.get(k) as EvalRecord,
      y = ib.get(k) as EvalRecord;
    if (x.scores.length !== y.scores.length) {
      sameN = false;
      break;
    }
    const fx = correctFlags(x, { threshold: o.responseThreshold }),
      fy = correctFlags(y, { threshold: o.responseThreshold });
    fx.forEach((f, j) => {
      total++;
      if (f === fy[j]) same++;
    });
  }
  return {
    ...cmp,
    labels: o.labels,
    items: shared.length,
    meanA: mean(perItem.map((p) => p.a)),
    meanB: mean(perItem.map((p) => p.b)),
    flippedToA: perItem.filter((p) => p.a >= o.threshold && p.b < o.threshold),
    flippedToB: perItem.filter((p) => p.b >= o.threshold && p.a < o.threshold),
    sampleAgreement: sameN ? same / total : null,
    onlyInA: ia.size - shared.length,
    onlyInB: ib.size - shared.length,
    perItem,
  };
}
