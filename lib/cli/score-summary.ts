// The r1 recipe's metric per data_source: mean@k = mean over prompts of (mean over that prompt's k response scores).
import { meanAtK, standardError } from "../eval/aggregate.js";
import { textTable } from "../kernel/mime.js";

/** One line of the summary table. */
export interface SourceSummary {
  data_source: string;
  prompts: number;
  /** Responses per prompt ("8", or "4-8" when it varies). */
  k: string;
  /** mean@k in [0, 1] (null when no prompt had a response). */
  mean: number | null;
  /** Standard error over prompts. */
  se: number | null;
  /** Responses whose reward raised an error and scored 0 (see details.error). */
  errors: number;
}

/**
 * Collects per-row scores by data_source and prints the mean@k table.
 * @example const s = new ScoreSummary(); s.add("openai/gsm8k", [1, 0]); console.log(s.toText())
 */
export class ScoreSummary {
  private bySource = new Map<
    string,
    { scores: number[][]; kMin: number; kMax: number; errors: number; empty: number }
  >();

  /** Add one scored row (its scores, and how many of them were reward errors). */
  add(dataSource: string, scores: readonly number[], errors = 0): void {
    let s = this.bySource.get(dataSource);
    if (!s) this.bySource.set(dataSource, (s = { scores: [], kMin: Infinity, kMax: 0, errors: 0, empty: 0 }));
    s.errors += errors;
    if (scores.length === 0) s.empty++;
    else s.scores.push([...scores]);
    s.kMin = Math.min(s.kMin, scores.length);
    s.kMax = Math.max(s.kMax, scores.length);
  }

  /** Rows of the table, sorted by data_source. */
  rows(): SourceSummary[] {
    return [...this.bySource.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([data_source, s]) => ({
        data_source,
        prompts: s.scores.length + s.empty,
        k: s.kMin === s.kMax ? String(s.kMax) : `${s.kMin}-${s.kMax}`,
        mean: s.scores.length > 0 ? meanAtK(s.scores) : null,
        se: s.scores.length > 0 ? standardError(s.scores) : null,
        errors: s.errors,
      }));
  }

  /** The table as text: data_source, prompts, k, mean@k (percent) ± standard error, reward errors. */
  toText(): string {
    const pct = (x: number | null) => (x === null ? "-" : (100 * x).toFixed(1));
    return textTable(
      this.rows().map((r) => ({
        data_source: r.data_source,
        prompts: r.prompts,
        k: r.k,
        "mean@k %": pct(r.mean),
        "± se": pct(r.se),
        errors: r.errors,
      })),
    );
  }
}
