// The colour and scale contract of every cellrl view (docs/viz.md#colour-and-scale-contract). One meaning, one colour:
//   direction  (signed: advantage, push = -dloss/dlogp, dlogp, teacher gap)  blue = down / negative, red = up / positive
//   outcome    (categorical: correct / wrong / unscored)                       green = good, amber = bad, grey = none
//   magnitude  (>= 0: KL, entropy, surprisal, |x|)                            white = none -> purple = high
//   score      (bounded "higher is better": reward in [0, 1], accuracy)       white = 0 -> green = 1
//   count      (histogram counts, densities)                                  white = 0 -> dark grey
//   roles      (categorical lines: sampler vs trainer, student vs teacher)    fixed colours below; other series: `series`
// Red never means "wrong" and green never means "pushed up": a wrong completion that the step pushes up is amber-badged
// with a red advantage. Scales of comparable views are pinned (`scales`) or shared (`sharedSigned`), never auto-fitted
// per view unless the caller asks.

/** An RGB colour. */
export type RGB = [number, number, number];

/** White: the zero of every scale. */
export const WHITE: RGB = [255, 255, 255];
/** Non-finite / missing values and unscored tokens. */
export const MISSING: RGB = [200, 200, 200];

/** Direction: negative values, "pushed down" (CircuitsVis convention). */
export const NEGATIVE: RGB = [59, 110, 201];
/** Direction: positive values, "pushed up". */
export const POSITIVE: RGB = [214, 55, 46];
/** Magnitude (divergence, entropy, surprisal): the high end of white -> purple. */
export const PURPLE: RGB = [118, 66, 178];
/** Score (higher is better: reward, accuracy, probability of the right token): the high end of white -> green. */
export const GREEN: RGB = [26, 135, 72];
/** Counts: the high end of white -> dark grey. */
export const COUNT: RGB = [45, 45, 45];

/** Outcome colours: correct, wrong, not scored. Never used for direction. */
export const outcome = {
  good: [26, 135, 72] as RGB,
  bad: [196, 120, 0] as RGB,
  none: [130, 130, 130] as RGB,
};

/**
 * Role colours for lines and bars that stand for a fixed actor, so "sampler" is the same orange in every chart.
 * sampler = the engine that generated the rollout (π_old, vLLM, llama.cpp); trainer = the policy being updated (π_θ);
 * reference = π_ref (KL anchor); teacher / student in distillation; exact = a ground truth an estimator is compared to.
 */
export const roles = {
  sampler: [230, 159, 0] as RGB,
  trainer: [0, 114, 178] as RGB,
  reference: [90, 90, 90] as RGB,
  teacher: [204, 121, 167] as RGB,
  student: [0, 114, 178] as RGB,
  exact: [0, 0, 0] as RGB,
};

/**
 * Categorical palette (Okabe-Ito, colour-blind safe) for series without a role: runs, variants, estimators, levels.
 * Series i takes `series[i % 7]`; a chart with more than one series must show a legend.
 */
export const series: readonly RGB[] = [
  [0, 114, 178],
  [230, 159, 0],
  [0, 158, 115],
  [204, 121, 167],
  [86, 180, 233],
  [213, 94, 0],
  [110, 110, 110],
];

/** Colour of series `i` as CSS. */
export function seriesColor(i: number): string {
  return css(series[((i % series.length) + series.length) % series.length]);
}

function mix(a: RGB, b: RGB, t: number): RGB {
  const u = Math.max(0, Math.min(1, t));
  return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * u)) as RGB;
}

/** CSS `rgb(...)` of a colour. */
export function css(c: RGB): string {
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** CSS `rgba(...)` of a colour with opacity `a` (for bands and fills). */
export function cssAlpha(c: RGB, a: number): string {
  return `rgba(${c[0]},${c[1]},${c[2]},${a})`;
}

/** Diverging scale: white at 0, `POSITIVE` at +maxAbs, `NEGATIVE` at −maxAbs. Non-finite values are grey. */
export function diverging(v: number, maxAbs: number): RGB {
  if (!Number.isFinite(v)) return MISSING;
  if (maxAbs <= 0) return WHITE;
  return v >= 0 ? mix(WHITE, POSITIVE, v / maxAbs) : mix(WHITE, NEGATIVE, -v / maxAbs);
}

/** Sequential scale from white at `lo` to `end` at `hi`. */
export function sequential(v: number, lo: number, hi: number, end: RGB = PURPLE): RGB {
  if (!Number.isFinite(v)) return MISSING;
  return hi > lo ? mix(WHITE, end, (v - lo) / (hi - lo)) : WHITE;
}

/** Black or white text, whichever reads better on `bg`. */
export function textOn(bg: RGB): RGB {
  const lum = (0.299 * bg[0] + 0.587 * bg[1] + 0.114 * bg[2]) / 255;
  return lum < 0.55 ? [255, 255, 255] : [0, 0, 0];
}

/** The meaning of a colour scale; each kind has exactly one colour ramp. */
export type ScaleKind = "signed" | "magnitude" | "score" | "count";

/** A colour scale: its kind and the domain its ramp spans (values outside are clamped to the end colours). */
export interface ColorScale {
  kind: ScaleKind;
  /** [lo, hi]; for "signed" it is symmetric, [−m, m], so white is exactly 0. */
  domain: [number, number];
  /** What the colour means, for legends ("advantage", "KL"). */
  label?: string;
}

/**
 * Pinned scales of quantities whose range is known: comparable views use these (not a fit to the data), so the same
 * colour means the same value in every cell of a notebook. Override with a view's `scale` option.
 */
export const scales = {
  /** Reward or accuracy in [0, 1] (a 0/1 reward grid, pass rates): white = 0, green = 1. */
  reward01: { kind: "score", domain: [0, 1], label: "reward" } as ColorScale,
  /** A probability. */
  probability: { kind: "score", domain: [0, 1], label: "probability" } as ColorScale,
  /** A 0/1 flag (clipped, truncated). */
  flag: { kind: "magnitude", domain: [0, 1], label: "flag" } as ColorScale,
  /** Surprisal −log p in nats: white = certain, purple at 5 nats (p ≈ 0.7%) and beyond. */
  surprisal: { kind: "magnitude", domain: [0, 5], label: "−log p" } as ColorScale,
  /** GRPO advantages (group-normalised: one right answer out of 8 is +2.65, so ±3 covers G ≤ 10). */
  advantage: { kind: "signed", domain: [-3, 3], label: "advantage" } as ColorScale,
};

/** A pinned scale by name, or a scale kind whose domain is fitted to the data. */
export type ScaleName = keyof typeof scales | ScaleKind;

/**
 * Resolve a view's `scale` option: a `ColorScale` as given, a pinned scale by name ("reward01", "advantage", ...), or
 * a kind ("signed", "magnitude", "score", "count") fitted to `values` (signed: ±max|v|; others: [min, max], with 0 as
 * the low end when every value is ≥ 0).
 * @example resolveScale("signed", [-0.5, 2]).domain // [-2, 2]
 */
export function resolveScale(scale: ScaleName | ColorScale, values: Iterable<number>, label?: string): ColorScale {
  if (typeof scale === "object" && scale) return scale;
  if (typeof scale === "string" && scale in scales)
    return { ...scales[scale as keyof typeof scales], ...(label ? { label } : {}) };
  const kind = scale as ScaleKind;
  const f: number[] = [];
  for (const v of values) if (Number.isFinite(v)) f.push(v);
  if (kind === "signed") {
    const m = Math.max(1e-9, ...f.map(Math.abs));
    return { kind, domain: [-m, m], label };
  }
  const lo = f.length ? Math.min(...f) : 0,
    hi = f.length ? Math.max(...f) : 1;
  return { kind, domain: [lo >= 0 ? 0 : lo, hi > (lo >= 0 ? 0 : lo) ? hi : (lo >= 0 ? 0 : lo) + 1], label };
}

/** The high-end colour of a scale kind (the negative end of "signed" is `NEGATIVE`). */
export function rampEnd(kind: ScaleKind): RGB {
  return kind === "signed" ? POSITIVE : kind === "magnitude" ? PURPLE : kind === "score" ? GREEN : COUNT;
}

/** The colour of `v` on `scale`. */
export function colorOf(scale: ColorScale, v: number): RGB {
  const [lo, hi] = scale.domain;
  if (scale.kind === "signed") return diverging(v, Math.max(Math.abs(lo), Math.abs(hi)));
  return sequential(Math.max(lo, Math.min(hi, v)), lo, hi, rampEnd(scale.kind));
}

/** The q-quantile (0..1) of |x| over finite values; 0 for none. */
export function absQuantile(values: Iterable<number>, q: number): number {
  const a: number[] = [];
  for (const v of values) if (Number.isFinite(v)) a.push(Math.abs(v));
  if (!a.length) return 0;
  a.sort((x, y) => x - y);
  return a[Math.min(a.length - 1, Math.max(0, Math.ceil(q * a.length) - 1))];
}

/**
 * One symmetric signed scale shared by several views (pass every view's values): ±(q-quantile of |x|), q = 0.98 by
 * default so one outlier cannot wash the rest out. Give the result to each view's `scale` option.
 * @example const s = sharedSigned([lab.push, other.push]); viz.tokenView(a, {scale: s}); viz.tokenView(b, {scale: s})
 */
export function sharedSigned(
  groups: Iterable<number>[],
  options: { quantile?: number; label?: string } = {},
): ColorScale {
  const all: number[] = [];
  for (const g of groups) for (const v of g) all.push(v);
  const m = absQuantile(all, options.quantile ?? 0.98) || 1e-9;
  return { kind: "signed", domain: [-m, m], label: options.label };
}

/** One magnitude scale [0, q-quantile] shared by several views (KL, entropy). */
export function sharedMagnitude(
  groups: Iterable<number>[],
  options: { quantile?: number; label?: string } = {},
): ColorScale {
  const all: number[] = [];
  for (const g of groups) for (const v of g) all.push(v);
  const m = absQuantile(all, options.quantile ?? 0.98) || 1e-9;
  return { kind: "magnitude", domain: [0, m], label: options.label };
}

/**
 * The plotly colorscale + zmin/zmax of a scale, for heatmaps: `{...plotlyScale(s), z}`.
 * @example {type: "heatmap", z, ...plotlyScale(scales.reward01)}
 */
export function plotlyScale(scale: ColorScale): { colorscale: [number, string][]; zmin: number; zmax: number } {
  const [lo, hi] = scale.domain;
  if (scale.kind === "signed") {
    const m = Math.max(Math.abs(lo), Math.abs(hi)) || 1e-9;
    return {
      colorscale: [
        [0, css(NEGATIVE)],
        [0.5, css(WHITE)],
        [1, css(POSITIVE)],
      ],
      zmin: -m,
      zmax: m,
    };
  }
  return {
    colorscale: [
      [0, css(WHITE)],
      [1, css(rampEnd(scale.kind))],
    ],
    zmin: lo,
    zmax: hi > lo ? hi : lo + 1e-9,
  };
}

/** What each end of a scale means, in words, for legends ("blue = pushed down · red = pushed up"). */
export function scaleWords(scale: ColorScale): string {
  const [lo, hi] = scale.domain;
  const f = (x: number) => (Math.abs(x) >= 100 || x === Math.round(x) ? String(Math.round(x)) : x.toPrecision(2));
  const what = scale.label ? `${scale.label}: ` : "";
  if (scale.kind === "signed")
    return `${what}blue = ${f(-Math.max(-lo, hi))} (down) · white = 0 · red = +${f(hi)} (up)`;
  if (scale.kind === "magnitude") return `${what}white = ${f(lo)} · purple = ${f(hi)} (high)`;
  if (scale.kind === "score") return `${what}white = ${f(lo)} · green = ${f(hi)} (good)`;
  return `${what}white = ${f(lo)} · dark = ${f(hi)}`;
}
