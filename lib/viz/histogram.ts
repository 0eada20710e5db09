import { fail } from "../core/errors.js";
import { figure } from "../kernel/plotly.js";
import { num } from "./format.js";
import type { Displayable } from "../kernel/mime.js";
import { plotlyScale, resolveScale, seriesColor, type ColorScale, type ScaleName } from "./color.js";

/** Options of histogram. */
export interface HistogramOptions {
  title?: string;
  /** x-axis label. Defaults to "value". */
  x?: string;
  /** Number of bins. Defaults to plotly's choice. */
  bins?: number;
  height?: number;
}

function stats(xs: number[]): string {
  const f = xs.filter(Number.isFinite);
  if (!f.length) return "no finite values";
  const m = f.reduce((a, b) => a + b, 0) / f.length;
  const sd = Math.sqrt(f.reduce((a, b) => a + (b - m) ** 2, 0) / f.length);
  return `n=${f.length} mean=${num(m)} std=${num(sd)} min=${num(Math.min(...f))} max=${num(Math.max(...f))}`;
}

/**
 * A histogram of one or several named series (e.g. rewards per step, advantages), overlaid.
 * @example viz.histogram({reward: rewards}, {title: "rewards"})
 */
export function histogram(
  series: Record<string, ArrayLike<number>> | ArrayLike<number>,
  options: HistogramOptions = {},
): Displayable {
  const named: Record<string, number[]> = ArrayLike(series)
    ? { [options.x ?? "value"]: Array.from(series as ArrayLike<number>, Number) }
    : Object.fromEntries(Object.entries(series).map(([k, v]) => [k, Array.from(v, Number)]));
  if (Object.keys(named).length === 0) fail("invalid_input", "viz.histogram: no series given.", {}, histogram);
  const data = Object.entries(named).map(([name, xs], i) => ({
    type: "histogram",
    name,
    x: xs,
    marker: { color: seriesColor(i) },
    opacity: Object.keys(named).length > 1 ? 0.6 : 0.9,
    ...(options.bins ? { nbinsx: options.bins } : {}),
  }));
  return figure(
    {
      data,
      layout: {
        title: options.title ? { text: options.title } : undefined,
        barmode: "overlay",
        height: options.height ?? 280,
        margin: { l: 50, r: 20, t: options.title ? 40 : 10, b: 40 },
        xaxis: { title: { text: options.x ?? "value" } },
        yaxis: { title: { text: "count" } },
        showlegend: Object.keys(named).length > 1,
      },
    },
    {
      summary: Object.entries(named)
        .map(([k, v]) => `${k}: ${stats(v)}`)
        .join("\n"),
    },
  );
}

function ArrayLike(x: unknown): boolean {
  return Array.isArray(x) || ArrayBuffer.isView(x);
}

/**
 * A heatmap of a matrix (rows x columns), e.g. advantages as prompts x samples.
 * @example viz.heatmap(advMatrix, {title: "advantage", x: "sample", y: "prompt"})
 */
export function heatmap(
  z: readonly (readonly number[])[],
  options: {
    title?: string;
    x?: string;
    y?: string;
    /** Signed values on the direction scale (blue < 0 < red). Defaults to true when any value is negative. */
    diverging?: boolean;
    /**
     * The colour scale (docs/viz.md#colour-and-scale-contract): a pinned one by name ("reward01", "probability",
     * "advantage", "surprisal", "flag"), a kind fitted to the data ("signed", "magnitude", "score", "count"), or
     * `{kind, domain: [lo, hi]}` to share one scale between heatmaps. Defaults to "signed" when `diverging`, else
     * "magnitude" (white = 0 → purple = high, as KL in the token view).
     */
    scale?: ScaleName | ColorScale;
    /** Label of the colour bar. */
    valueLabel?: string;
    height?: number;
    xLabels?: string[];
    yLabels?: string[];
    text?: readonly (readonly string[])[];
    summary?: string;
  } = {},
): Displayable {
  if (!Array.isArray(z) || z.length === 0)
    fail("invalid_input", "viz.heatmap: z must be a non-empty matrix (array of rows).", {}, heatmap);
  const flat = z.flat().filter(Number.isFinite);
  const diverging = options.diverging ?? flat.some((v) => v < 0);
  const scale = resolveScale(options.scale ?? (diverging ? "signed" : "magnitude"), flat, options.valueLabel);
  return figure(
    {
      data: [
        {
          type: "heatmap",
          z,
          x: options.xLabels,
          y: options.yLabels,
          ...(options.text
            ? { text: options.text, hovertemplate: "%{y} / %{x}: %{z:.3f}<br>%{text}<extra></extra>" }
            : {}),
          ...plotlyScale(scale),
          ...(options.valueLabel ? { colorbar: { title: { text: options.valueLabel } } } : {}),
        },
      ],
      layout: {
        title: options.title ? { text: options.title } : undefined,
        height: options.height ?? Math.min(600, 120 + 18 * z.length),
        margin: { l: 60, r: 20, t: options.title ? 40 : 10, b: 40 },
        // automargin: long row labels (prompts, responses) widen the left margin instead of being cut off
        xaxis: { title: { text: options.x ?? "" } },
        yaxis: { title: { text: options.y ?? "" }, autorange: "reversed", automargin: true },
      },
    },
    { summary: options.summary ?? `${z.length} x ${z[0]?.length ?? 0} matrix; ${stats(flat)}` },
  );
}
