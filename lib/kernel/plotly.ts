import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { fail } from "../core/errors.js";
import { escapeHtml, type Displayable, type MimeBundle } from "./mime.js";
import { display, displayTarget } from "./display.js";
import { defaultColorway, domainOf, figureSvg } from "./static-svg.js";

/** A Plotly figure as plain JSON: traces, layout, config (see plotly.js docs). */
export interface PlotlyFigure {
  data: Record<string, unknown>[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

/**
 * How figures carry plotly.js: "inline-once" (the library goes into the first figure of the kernel session, later
 * figures reuse it), "inline-every" (each figure is self-contained) or "mime-only" (JupyterLab/VS Code render it;
 * exported HTML shows the text fallback).
 */
export type PlotlyMode = "inline-once" | "inline-every" | "mime-only";

let mode: PlotlyMode = "inline-once";
let libraryEmitted = false;
let librarySource: string | null = null;

/** Choose how plotly.js is carried in outputs. Defaults to "inline-once". */
export function setPlotlyMode(m: PlotlyMode): void {
  if (!["inline-once", "inline-every", "mime-only"].includes(m))
    fail(
      "invalid_option",
      `setPlotlyMode: unknown mode ${JSON.stringify(m)} (known: inline-once, inline-every, mime-only).`,
    );
  mode = m;
}

/** Forget that plotly.js was inlined (call after restarting or clearing the notebook's first figure). */
export function resetPlotlyLibrary(): void {
  libraryEmitted = false;
}

function plotlySource(): string {
  if (librarySource === null) {
    const file = require.resolve("plotly.js-cartesian-dist-min/plotly-cartesian.min.js");
    librarySource = readFileSync(file, "utf8");
  }
  return librarySource;
}

function libraryTag(): string {
  // require.js pages (classic Notebook, nbconvert) would capture a UMD bundle as an anonymous module; hide `define`.
  return (
    `<script type="text/javascript">if (!window.Plotly) { ` +
    `(function () { var __def = window.define; window.define = undefined;\n` +
    `try {\n${plotlySource()}\n} finally { window.define = __def; } }).call(window); }</script>`
  );
}

function json(x: unknown): string {
  return JSON.stringify(x).replace(/</g, "\\u003c");
}

/**
 * The HTML for one figure: a div plus a script that waits for plotly.js to be present. `fallback` (the figure's text
 * summary) sits inside the div until the chart draws, so viewers that run no scripts (an untrusted notebook, GitHub)
 * show the numbers instead of a blank box.
 */
export function figureHtml(
  fig: PlotlyFigure,
  options: { height?: number; withLibrary?: boolean; fallback?: string; svg?: string } = {},
): string {
  const id = `cellrl-plot-${randomUUID()}`;
  const height = options.height ?? Number((fig.layout as { height?: number } | undefined)?.height ?? 360);
  const config = { responsive: true, displaylogo: false, ...(fig.config ?? {}) };
  const lib = options.withLibrary ? libraryTag() : "";
  const fallbackStyle = "margin:0;font-size:11px;white-space:pre-wrap;color:rgb(90,90,90)";
  // Until plotly.js draws, the div shows the static image (an <img> of the SVG: sanitizers keep it, scripts are not
  // needed) above the text summary; the script removes both when it draws the interactive chart.
  const img = options.svg
    ? `<img class="cellrl-plot-static" alt="chart" style="max-width:100%;height:auto;display:block" ` +
      `src="data:image/svg+xml;base64,${Buffer.from(options.svg).toString("base64")}">`
    : "";
  const fallback =
    options.fallback || img
      ? `<div class="cellrl-plot-fallback">${img}` +
        (options.fallback ? `<pre style="${fallbackStyle}">${escapeHtml(options.fallback)}</pre>` : "") +
        `</div>`
      : "";
  const findEl = `var el=document.getElementById("${id}"); if(!el) return;`;
  const newPlot = `window.Plotly.newPlot(el, ${json(fig.data)}, ${json(fig.layout ?? {})}, ${json(config)});`;
  const notLoaded =
    "<pre>plotly.js not loaded: re-run the notebook's first chart cell, or setPlotlyMode('inline-every')</pre>";
  const box = img ? `min-height:${height}px` : `height:${height}px`;
  return `${lib}<div id="${id}" class="cellrl-plot" style="width:100%;${box}">${fallback}</div>
<script type="text/javascript">(function(){ var n=0; function draw(){ ${findEl}
if (window.Plotly) { var fb=el.querySelector(".cellrl-plot-fallback"); if (fb) el.removeChild(fb); el.style.height="${height}px"; ${newPlot} }
else if (n++ < 100) setTimeout(draw, 50); else el.insertAdjacentHTML("afterbegin", "${notLoaded}"); }
draw(); })();</script>`;
}

/**
 * The trace types the bundled plotly.js (plotly.js-cartesian-dist-min, inlined into notebooks and exported HTML) can
 * draw. Other types (scattergl, scatter3d, surface, sankey, sunburst, treemap, parcoords, scattergeo, scattermapbox,
 * ...) are not in that bundle and would leave an empty box.
 */
export const supportedTraceTypes: readonly string[] = [
  "scatter",
  "bar",
  "box",
  "violin",
  "histogram",
  "histogram2d",
  "histogram2dcontour",
  "heatmap",
  "contour",
  "image",
  "pie",
  "scatterternary",
];

/** What to draw instead of a trace type the bundle lacks. */
const replacement: Record<string, string> = {
  scattergl: 'type "scatter" (same fields; for > 50k points, subsample or use "histogram2d")',
  heatmapgl: 'type "heatmap"',
  pointcloud: 'type "scatter" with mode "markers"',
  scatter3d: 'a "scatter" of two of the axes, or a "heatmap" / "contour" of the third over the other two',
  surface: 'type "heatmap" or "contour" over the same x, y, z',
  mesh3d: 'type "heatmap" or "contour"',
  scattergeo: 'type "scatter" on longitude / latitude',
  scattermapbox: 'type "scatter" on longitude / latitude',
  choropleth: 'type "bar" or "heatmap"',
  sunburst: 'type "bar" (or "pie" for one level)',
  treemap: 'type "bar" (or "pie" for one level)',
  icicle: 'type "bar"',
  sankey: 'type "heatmap" of the flow matrix, or viz.table',
  parcoords: 'one "scatter" per dimension pair, or viz.table',
  funnel: 'type "bar" with orientation "h"',
  waterfall: 'type "bar" (base = running total)',
  candlestick: 'type "box" or "scatter"',
  ohlc: 'type "box" or "scatter"',
  indicator: "viz.table or a text summary",
  table: "viz.table (an HTML table)",
};

/** Fail clearly on a trace the bundled plotly.js cannot draw (it would silently draw nothing). */
function checkTraces(data: readonly Record<string, unknown>[]): void {
  data.forEach((trace, i) => {
    if (!trace || typeof trace !== "object")
      fail(
        "invalid_input",
        `figure: data[${i}] must be a Plotly trace object ({type: "scatter", x, y, ...}); ` +
          `got ${trace === null ? "null" : typeof trace}.`,
        { path: ["data", i] },
        figure,
      );
    const type = trace.type ?? "scatter"; // plotly.js's default
    if (typeof type !== "string" || !supportedTraceTypes.includes(type))
      fail(
        "invalid_option",
        `figure: data[${i}] has type ${JSON.stringify(type)}, which the bundled plotly.js (cartesian) cannot draw: ` +
          `it would show an empty chart. Supported trace types: ${supportedTraceTypes.join(", ")}. ` +
          `Use ${(typeof type === "string" && replacement[type]) || "one of those types"} instead.`,
        { path: ["data", i, "type"], got: type, expected: supportedTraceTypes },
        figure,
      );
  });
}

let staticImages = true;
/**
 * Whether figures carry a static SVG (`image/svg+xml`, drawn in Node with Observable Plot) next to the plotly JSON.
 * Default true: the chart then shows on GitHub, in untrusted notebooks and wherever no script runs.
 * @example setStaticImages(false) // smaller outputs, no picture without plotly.js
 */
export function setStaticImages(on: boolean): void {
  staticImages = on;
}

/** The figure's static SVG, or undefined (with a warning on stderr) when drawing it failed: the chart still shows. */
export function staticSvg(fig: PlotlyFigure): string | undefined {
  try {
    return figureSvg(fig);
  } catch (e) {
    process.stderr.write(`cellrl: no static image for a figure (${(e as Error).message})\n`);
    return undefined;
  }
}

/**
 * A displayable Plotly figure: plotly JSON for JupyterLab/VS Code, a static SVG (`image/svg+xml`, drawn with Observable
 * Plot in Node) for GitHub and untrusted notebooks, HTML with plotly.js inlined (once per session) for Notebook 6 and
 * exported HTML (the SVG shows until the script draws), and a text summary that carries `summary` (put the numbers there). Every trace
 * must be one of `supportedTraceTypes` (the bundled cartesian plotly.js); another type is an error naming the trace.
 * @example display(figure({data: [{type: "scatter", y: [1, 3, 2]}]}, {summary: "reward 1 -> 2"}))
 */
export function figure(
  fig: PlotlyFigure,
  options: { summary?: string } = {},
): Displayable & { figure: PlotlyFigure; toString(): string } {
  if (!fig || !Array.isArray(fig.data))
    fail(
      "invalid_input",
      "figure: expected {data: [...traces], layout?, config?} (data must be an array of Plotly traces).",
      {
        path: ["data"],
      },
      figure,
    );
  checkTraces(fig.data);
  const title = (fig.layout as { title?: unknown } | undefined)?.title;
  const titleText = typeof title === "string" ? title : (title as { text?: string } | undefined)?.text;
  const text =
    `<Plotly figure${titleText ? ` "${titleText}"` : ""}: ${fig.data.length} trace(s)>` +
    (options.summary ? `\n${options.summary}` : "");
  return {
    figure: fig,
    toString: () => text,
    toMimeBundle(): MimeBundle {
      // The contract's series palette as plotly's colorway, so the interactive chart and the static SVG agree.
      const layout = { colorway: defaultColorway, ...(fig.layout ?? {}) };
      const bundle: MimeBundle = {
        "text/plain": text,
        "application/vnd.plotly.v1+json": { data: fig.data, layout, config: fig.config ?? {} },
      };
      const svg = staticImages ? staticSvg({ ...fig, layout }) : undefined;
      if (svg) bundle["image/svg+xml"] = svg;
      if (mode !== "mime-only") {
        let withLibrary = mode === "inline-every";
        if (mode === "inline-once" && !libraryEmitted) {
          // In a notebook the library goes out as its own output just before this figure, so figures that are later
          // replaced in place (dashboards) never carry it and the saved notebook keeps exactly one copy.
          if (displayTarget() !== "console") display({ "text/html": libraryTag(), "text/plain": "" });
          else withLibrary = true;
          libraryEmitted = true;
        }
        bundle["text/html"] = figureHtml({ ...fig, layout }, { withLibrary, fallback: text, svg });
      }
      return bundle;
    },
  };
}

type Rec = Record<string, unknown>;

/**
 * Several figures as one figure, stacked top to bottom: each keeps its height, subplots, legend (one legend per
 * figure, above it), annotations and shapes; its title becomes an annotation above its slot.
 * H = Σ heightᵢ + gap·(n − 1); figure i's paper y ∈ [0, 1] maps to its slot.
 * @example stackFigures([a.figure, b.figure]).data.length === a.figure.data.length + b.figure.data.length
 */
export function stackFigures(figs: readonly PlotlyFigure[], options: { gap?: number } = {}): PlotlyFigure {
  if (!Array.isArray(figs) || figs.length === 0)
    fail("invalid_input", "stackFigures: give at least one figure ({data, layout}).", {}, stackFigures);
  const gap = options.gap ?? 16;
  const heights = figs.map((f) => Number((f.layout as Rec | undefined)?.height ?? 360));
  const H = heights.reduce((a, b) => a + b, 0) + gap * (figs.length - 1);
  const margins = figs.map((f) => ({ l: 60, r: 20, t: 40, b: 45, ...(((f.layout as Rec)?.margin as Rec) ?? {}) }));
  const L = Math.max(...margins.map((m) => Number(m.l))),
    R = Math.max(...margins.map((m) => Number(m.r)));
  const data: Record<string, unknown>[] = [];
  const layout: Rec = { height: H, margin: { l: L, r: R, t: 0, b: 0 }, annotations: [], shapes: [] };
  let axisN = 0,
    legendN = 0,
    slotTop = 0;
  figs.forEach((f, k) => {
    const fl = (f.layout ?? {}) as Rec;
    const m = margins[k];
    const h = heights[k];
    const t = Number(m.t),
      plotH = h - t - Number(m.b);
    // Figure-paper y (0 = bottom of its plot area, 1 = top) -> combined paper y.
    const py = (y: number) => 1 - (slotTop + t + (1 - y) * plotH) / H;
    const refs = new Set<string>(["x", "y"]);
    for (const tr of f.data) {
      refs.add(String(tr.xaxis ?? "x"));
      refs.add(String(tr.yaxis ?? "y"));
    }
    for (const key of Object.keys(fl)) {
      const mm = /^([xy])axis(\d*)$/.exec(key);
      if (mm) refs.add(`${mm[1]}${mm[2]}`);
    }
    const num = (ref: string) => Number(/^[xy](\d*)$/.exec(ref)?.[1] || 1);
    const ids = [...new Set([...refs].map(num))].sort((a, b) => a - b);
    const map = new Map<number, number>(ids.map((i) => [i, ++axisN]));
    const ax = (ref: string) => `${ref[0]}${map.get(num(ref)) === 1 ? "" : map.get(num(ref))}`;
    const mapRef = (ref: unknown) => {
      const s = String(ref ?? "paper");
      const [head, tail] = s.split(" ");
      return /^[xy]\d*$/.test(head) ? `${ax(head)}${tail ? ` ${tail}` : ""}` : s;
    };
    for (const ref of refs) {
      const key = ref[0] === "x" ? "xaxis" : "yaxis";
      const src = (fl[`${key}${ref.length > 1 && ref.slice(1) !== "1" ? ref.slice(1) : ""}`] ?? {}) as Rec;
      const [d0, d1] = domainOf(fl, ref);
      const dst: Rec = { ...src };
      if (ref[0] === "x") dst.domain = [d0, d1];
      else dst.domain = [Math.max(0, py(d0)), Math.min(1, py(d1))];
      dst.anchor = ax(ref[0] === "x" ? `y${ref.slice(1)}` : `x${ref.slice(1)}`);
      if (src.matches) dst.matches = ax(String(src.matches));
      if (src.overlaying) dst.overlaying = ax(String(src.overlaying));
      const n = map.get(num(ref))!;
      layout[`${key}${n === 1 ? "" : n}`] = dst;
    }
    // One legend per figure, on top of its plot area (its own per-subplot legends keep their own keys).
    const legendMap = new Map<string, string>();
    const legendKey = (old: string) => {
      if (!legendMap.has(old)) legendMap.set(old, `legend${++legendN === 1 ? "" : legendN}`);
      return legendMap.get(old)!;
    };
    for (const tr of f.data) {
      const old = String(tr.legend ?? "legend");
      data.push({
        ...tr,
        xaxis: ax(String(tr.xaxis ?? "x")),
        yaxis: ax(String(tr.yaxis ?? "y")),
        legend: legendKey(old),
        ...(fl.showlegend === false ? { showlegend: false } : {}),
      });
    }
    for (const [old, key] of legendMap) {
      const src = (fl[old] ?? {}) as Rec;
      layout[key] = {
        orientation: "h",
        xanchor: "left",
        x: 0,
        yanchor: "bottom",
        ...src,
        y: py(Number(src.y ?? 1.02)),
      };
    }
    const title = fl.title as { text?: string } | string | undefined;
    const titleText = typeof title === "string" ? title : title?.text;
    if (titleText)
      (layout.annotations as Rec[]).push({
        text: titleText,
        xref: "paper",
        yref: "paper",
        x: 0.5,
        y: 1 - (slotTop + 4) / H,
        xanchor: "center",
        yanchor: "top",
        showarrow: false,
        font: { size: 15 },
      });
    for (const a of (fl.annotations ?? []) as Rec[]) {
      const yr = String(a.yref ?? "paper");
      (layout.annotations as Rec[]).push({
        ...a,
        xref: mapRef(a.xref),
        yref: mapRef(a.yref),
        ...(yr === "paper" ? { y: py(Number(a.y ?? 0)) } : {}),
      });
    }
    for (const s of (fl.shapes ?? []) as Rec[]) {
      const yr = String(s.yref ?? "paper");
      (layout.shapes as Rec[]).push({
        ...s,
        xref: mapRef(s.xref),
        yref: mapRef(s.yref),
        ...(yr === "paper" ? { y0: py(Number(s.y0 ?? 0)), y1: py(Number(s.y1 ?? 0)) } : {}),
      });
    }
    if (fl.barmode && layout.barmode === undefined) layout.barmode = fl.barmode;
    slotTop += h + gap;
  });
  return { data, layout, config: figs[0].config };
}
