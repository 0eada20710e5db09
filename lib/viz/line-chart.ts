import { fail } from "../core/errors.js";
import { figure } from "../kernel/plotly.js";
import type { Displayable } from "../kernel/mime.js";
import { num } from "./format.js";
import { seriesColor } from "./color.js";

/** One line of a line chart. */
export interface LineSeries {
  name: string;
  x?: readonly number[];
  y: readonly number[];
  /** Optional band half-width per point (e.g. std or CI half-width), drawn as a shaded area. */
  band?: readonly number[];
  dash?: "solid" | "dash" | "dot";
  /** CSS colour; defaults to the contract's series palette (docs/viz.md#colour-and-scale-contract), series i. */
  color?: string;
}

/**
 * A line chart of named series with optional ± bands (pass@k curves, reward over steps, ...).
 * @example viz.lineChart([{name: "pass@k", x: ks, y: values}], {x: "k", y: "pass@k", logX: true})
 */
export function lineChart(
  series: LineSeries[],
  options: { title?: string; x?: string; y?: string; logX?: boolean; height?: number; yRange?: [number, number] } = {},
): Displayable {
  if (!Array.isArray(series) || series.length === 0)
    fail("invalid_input", "viz.lineChart: give at least one series {name, y}.", {}, lineChart);
  const data: Record<string, unknown>[] = [];
  series.forEach((s, i) => {
    const x = s.x ? [...s.x] : s.y.map((_, j) => j);
    const color = s.color ?? seriesColor(i);
    if (s.band) {
      const up = s.y.map((v, j) => v + (s.band![j] ?? 0));
      const lo = s.y.map((v, j) => v - (s.band![j] ?? 0));
      data.push({
        type: "scatter",
        mode: "lines",
        x: [...x, ...x.slice().reverse()],
        y: [...up, ...lo.reverse()],
        fill: "toself",
        fillcolor: color.startsWith("rgb(") ? color.replace("rgb", "rgba").replace(")", ",0.15)") : color,
        line: { width: 0 },
        hoverinfo: "skip",
        showlegend: false,
      });
    }
    data.push({
      type: "scatter",
      mode: x.length > 40 ? "lines" : "lines+markers",
      name: s.name,
      x,
      y: [...s.y],
      line: { color, dash: s.dash ?? "solid" },
    });
  });
  const summary = series
    .map((s) => `${s.name}: ${s.y.length} points, first=${num(s.y[0])} last=${num(s.y[s.y.length - 1])}`)
    .join("\n");
  return figure(
    {
      data,
      layout: {
        title: options.title ? { text: options.title } : undefined,
        height: options.height ?? 300,
        margin: { l: 55, r: 20, t: options.title ? 40 : 10, b: 45 },
        xaxis: { title: { text: options.x ?? "" }, type: options.logX ? "log" : "linear" },
        yaxis: { title: { text: options.y ?? "" }, ...(options.yRange ? { range: options.yRange } : {}) },
      },
    },
    { summary },
  );
}
