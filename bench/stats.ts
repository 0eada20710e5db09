// Small statistics helpers for the benchmarks: medians and spreads of repeated timings.

/**
 * One benchmark result as written to BENCHMARKS.json (github-action-benchmark's format): `range` is a readable
 * spread ("±4%"), `extra` free text (sample count); `spread` is the relative half-range used to build `range`.
 */
export interface BenchEntry {
  name: string;
  value: number;
  unit: string;
  range?: string;
  extra?: string;
  spread?: number;
}

/**
 * An entry whose `range` shows the relative spread of its samples.
 * @example entry("train_tokens_per_s/tiny", 6100, "tokens/s", [0.02, 3])
 */
export function entry(name: string, value: number, unit: string, spreadAndCount?: [number, number]): BenchEntry {
  const e: BenchEntry = { name, value, unit };
  if (spreadAndCount) {
    e.spread = spreadAndCount[0];
    e.range = `±${(spreadAndCount[0] * 100).toFixed(1)}%`;
    e.extra = `median of ${spreadAndCount[1]} samples`;
  }
  return e;
}

/**
 * Median of a list of numbers (NaN for an empty list).
 * @example median([3, 1, 2]) // 2
 */
export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Relative spread of samples: (p90 - p10) / 2 / median, a noise figure that ignores one outlier.
 * @example spread([9, 10, 11]) // 0.1
 */
export function spread(xs: number[]): number {
  if (xs.length < 2) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))];
  return (q(0.9) - q(0.1)) / 2 / median(xs);
}
