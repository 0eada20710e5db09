// A static SVG of a Plotly figure, drawn in Node with Observable Plot on a linkedom document, so a chart shows as an
// image where no script runs (GitHub, untrusted notebooks, VS Code without the Plotly renderer). It reads the subset of
// the Plotly JSON that cellrl's views emit: scatter (lines, markers, toself bands, error bars), bar (vertical or
// horizontal; grouped, overlaid or stacked; error bars, text labels), histogram, heatmap; subplots by axis domains or
// layout.grid; titles, axis titles, log / category / reversed axes, ranges, subplot-title annotations, vertical and
// horizontal line shapes, legends (one per figure, or per subplot via trace.legend). Other fields are ignored.
import type { PlotlyFigure } from "./plotly.js";
import { escapeHtml } from "./mime.js";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;
type Rec = Record<string, Any>;

let plotLib: Any = null;
let domDoc: Any = null;
function lib(): { Plot: Any; document: Any } {
  if (!plotLib) {
    // Both are loaded on first use: d3 + Plot cost ~100 ms to load, which `import "cellrl"` should not pay.
    plotLib = require("@observablehq/plot");
    const { parseHTML } = require("linkedom");
    domDoc = parseHTML("<!doctype html><html><head></head><body></body></html>").document;
  }
  return { Plot: plotLib, document: domDoc };
}

/** The default series colours (the viz colour contract's categorical palette; figure() also sets it as colorway). */
export const defaultColorway = [
  "rgb(0,114,178)",
  "rgb(230,159,0)",
  "rgb(0,158,115)",
  "rgb(204,121,167)",
  "rgb(86,180,233)",
  "rgb(213,94,0)",
  "rgb(110,110,110)",
];

const arr = (v: Any): Any[] =>
  v == null ? [] : Array.isArray(v) ? v : ArrayBuffer.isView(v) ? Array.from(v as Any) : [];
const num = (v: Any): number => (v === null || v === undefined || v === "" ? NaN : Number(v));
const plain = (s: Any): string =>
  String(s ?? "")
    .replace(/<br\s*\/?>/gi, " ")
    .replace(/<[^>]+>/g, "")
    .replace(/&nbsp;/g, " ");
const titleOf = (t: Any): string => plain(typeof t === "string" ? t : (t?.text ?? ""));
const textWidth = (s: string, size = 11) => s.length * size * 0.58;

interface Axis {
  key: string; // "x", "x2", ...
  spec: Rec;
}

function axisSpec(layout: Rec, ref: string): Rec {
  const m = /^([xy])(\d*)$/.exec(ref);
  if (!m) return {};
  return (layout[`${m[1]}axis${m[2] === "1" ? "" : m[2]}`] as Rec) ?? {};
}

/** The paper domain of axis `ref` ("x2", "y"): its own `domain`, else its cell of `layout.grid`, else [0, 1]. */
export function domainOf(layout: Rec, ref: string): [number, number] {
  const spec = axisSpec(layout, ref);
  if (Array.isArray(spec.domain)) return [Number(spec.domain[0]), Number(spec.domain[1])];
  const grid = layout.grid as Rec | undefined;
  const m = /^([xy])(\d*)$/.exec(ref);
  if (grid && m) {
    const idx = (m[2] ? Number(m[2]) : 1) - 1;
    const rows = Number(grid.rows ?? 1),
      cols = Number(grid.columns ?? 1);
    if (m[1] === "x") {
      const gap = Number(grid.xgap ?? 0.1),
        c = idx % cols,
        w = 1 / cols;
      return [c * w + (c ? (gap * w) / 2 : 0), (c + 1) * w - (c < cols - 1 ? (gap * w) / 2 : 0)];
    }
    const gap = Number(grid.ygap ?? 0.1),
      r = Math.floor(idx / cols),
      h = 1 / rows;
    const top = 1 - r * h,
      bottom = 1 - (r + 1) * h;
    return [bottom + (r < rows - 1 ? (gap * h) / 2 : 0), top - (r ? (gap * h) / 2 : 0)];
  }
  return [0, 1];
}

const dashOf = (d: Any): string | undefined =>
  d === "dash" ? "6,4" : d === "dot" ? "2,3" : d === "dashdot" ? "6,3,2,3" : d === "longdash" ? "10,4" : undefined;

function traceColor(t: Rec, i: number, colorway: string[]): string {
  const c = t.line?.color ?? (typeof t.marker?.color === "string" ? t.marker.color : undefined) ?? t.fillcolor;
  return typeof c === "string" ? c : colorway[i % colorway.length];
}

const NAMED_SCHEMES: Record<string, string> = {
  viridis: "viridis",
  blues: "blues",
  greys: "greys",
  reds: "reds",
  greens: "greens",
  purples: "purples",
  rdbu: "rdbu",
  ylorrd: "ylorrd",
  hot: "reds",
  cividis: "cividis",
  plasma: "plasma",
};

function colorScaleOf(t: Rec, values: number[]): Rec {
  const finite = values.filter(Number.isFinite);
  const zmin = Number.isFinite(num(t.zmin)) ? num(t.zmin) : finite.length ? Math.min(...finite) : 0;
  let zmax = Number.isFinite(num(t.zmax)) ? num(t.zmax) : finite.length ? Math.max(...finite) : 1;
  if (!(zmax > zmin)) zmax = zmin + 1e-9;
  const cs = t.colorscale;
  if (Array.isArray(cs) && cs.length >= 2) {
    let stops = cs.map((s: Any) => [Number(s[0]), String(s[1])] as [number, string]);
    if (t.reversescale) stops = stops.map(([p], j) => [p, stops[stops.length - 1 - j][1]] as [number, string]);
    return {
      type: "linear",
      domain: stops.map(([p]) => zmin + p * (zmax - zmin)),
      range: stops.map(([, c]) => c),
      clamp: true,
    };
  }
  const scheme = NAMED_SCHEMES[String(cs ?? "viridis").toLowerCase()] ?? "viridis";
  return { type: "linear", scheme, domain: [zmin, zmax], clamp: true, reverse: !!t.reversescale };
}

function fmtTick(v: Any): string {
  if (typeof v === "number") {
    if (Number.isInteger(v)) return String(v);
    return Math.abs(v) >= 1000 || Math.abs(v) < 1e-3 ? v.toPrecision(2) : String(Number(v.toPrecision(3)));
  }
  const s = String(v);
  return s.length > 28 ? s.slice(0, 27) + "…" : s;
}

interface Subplot {
  xa: string;
  ya: string;
  traces: { t: Rec; i: number }[];
}

interface Piece {
  x: number;
  y: number;
  w: number;
  h: number;
  svg: string;
}

interface LegendEntry {
  name: string;
  color: string;
  dash?: string;
  box: boolean;
}

function bandDomain(values: Any[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const v of values) {
    const s = String(v);
    if (!seen.has(s)) {
      seen.add(s);
      out.push(s);
    }
  }
  return out;
}

function everyKth(domain: string[], max: number): string[] | undefined {
  if (domain.length <= max) return undefined;
  const k = Math.ceil(domain.length / max);
  return domain.filter((_, j) => j % k === 0);
}

/** Marks and scale options of one subplot. */
function subplotSpec(sp: Subplot, layout: Rec, colorway: string[], Plot: Any) {
  const xs = axisSpec(layout, sp.xa),
    ys = axisSpec(layout, sp.ya);
  const marks: Any[] = [];
  const barmode = String(layout.barmode ?? "group");
  const bars = sp.traces.filter(({ t }) => (t.type ?? "scatter") === "bar");
  const horizontal = bars.length > 0 && bars.every(({ t }) => t.orientation === "h");
  const grouped = barmode === "group" && bars.length > 1;
  let xBand: string[] | null = null,
    yBand: string[] | null = null;
  let colorOpts: Rec | null = null;
  let fxDomain: string[] | null = null,
    fyDomain: string[] | null = null;
  const heat = sp.traces.find(({ t }) => t.type === "heatmap");
  // Scatter with string x values is categorical too.
  const catX =
    xs.type === "category" ||
    (!horizontal && bars.length > 0) ||
    sp.traces.some(({ t }) => arr(t.x).some((v) => typeof v === "string" && !Number.isFinite(Number(v))));
  const catY = ys.type === "category" || horizontal;

  for (const { t, i } of sp.traces) {
    const type = t.type ?? "scatter";
    const color = traceColor(t, i, colorway);
    const opacity = t.opacity === undefined ? undefined : Number(t.opacity);
    if (type === "scatter") {
      const y = arr(t.y).map(num);
      const x = t.x === undefined ? y.map((_, j) => j) : arr(t.x).map((v) => (catX ? String(v) : num(v)));
      if (t.fill === "toself" && x.length % 2 === 0 && x.length > 0) {
        const n = x.length / 2;
        const rows = x.slice(0, n).map((xv, j) => ({ x: xv, y1: y[2 * n - 1 - j], y2: y[j] }));
        marks.push(
          Plot.areaY(
            rows.filter((r) => Number.isFinite(r.y1) && Number.isFinite(r.y2)),
            { x: "x", y1: "y1", y2: "y2", fill: t.fillcolor ?? color, fillOpacity: t.fillcolor ? 1 : 0.2 },
          ),
        );
        continue;
      }
      const rows = x.map((xv, j) => ({ x: xv, y: y[j], j }));
      const mode = String(t.mode ?? (x.length < 20 ? "lines+markers" : "lines"));
      if (mode.includes("lines"))
        marks.push(
          Plot.line(rows, {
            x: "x",
            y: "y",
            stroke: color,
            strokeWidth: Number(t.line?.width ?? 2),
            strokeDasharray: dashOf(t.line?.dash),
            strokeOpacity: opacity,
          }),
        );
      if (mode.includes("markers")) {
        const mc = t.marker?.color;
        const fills = Array.isArray(mc) ? mc : null;
        marks.push(
          Plot.dot(rows, {
            x: "x",
            y: "y",
            r: Number(t.marker?.size ?? 6) / 2,
            fill: fills ? (d: Rec) => fills[d.j] : typeof mc === "string" ? mc : color,
            fillOpacity: opacity,
          }),
        );
      }
      const ey = arr(t.error_y?.array).map(num);
      if (ey.length && t.error_y?.visible !== false)
        marks.push(
          Plot.ruleX(
            rows.map((r) => ({ x: r.x, y1: r.y - (ey[r.j] ?? 0), y2: r.y + (ey[r.j] ?? 0) })),
            { x: "x", y1: "y1", y2: "y2", stroke: color },
          ),
        );
    } else if (type === "bar") {
      const h = t.orientation === "h";
      const cats = arr(h ? t.y : t.x).map(String);
      const vals = arr(h ? t.x : t.y).map(num);
      const mc = t.marker?.color;
      const err = arr((h ? t.error_x : t.error_y)?.array).map(num);
      const texts = arr(t.text).map(plain);
      const name = String(t.name ?? `trace ${i}`);
      const rows = cats.map((c, j) => ({
        c,
        s: name,
        v: vals[j],
        e: err[j] ?? NaN,
        fill: Array.isArray(mc) ? String(mc[j]) : typeof mc === "string" ? mc : color,
        text: texts[j] ?? (typeof t.text === "string" ? plain(t.text) : ""),
      }));
      const fill = (d: Rec) => d.fill;
      if (grouped) {
        if (h) {
          fyDomain = fyDomain ?? bandDomain(bars.flatMap(({ t: b }) => arr(b.y)));
          marks.push(Plot.barX(rows, { fy: "c", y: "s", x1: 0, x2: "v", fill, fillOpacity: opacity }));
          if (err.length)
            marks.push(Plot.ruleY(rows, { fy: "c", y: "s", x1: (d: Rec) => d.v - d.e, x2: (d: Rec) => d.v + d.e }));
          if (texts.length)
            marks.push(
              Plot.text(rows, { fy: "c", y: "s", x: "v", text: "text", textAnchor: "start", dx: 4, fontSize: 9 }),
            );
        } else {
          fxDomain = fxDomain ?? bandDomain(bars.flatMap(({ t: b }) => arr(b.x)));
          marks.push(Plot.barY(rows, { fx: "c", x: "s", y1: 0, y2: "v", fill, fillOpacity: opacity }));
          if (err.length)
            marks.push(Plot.ruleX(rows, { fx: "c", x: "s", y1: (d: Rec) => d.v - d.e, y2: (d: Rec) => d.v + d.e }));
          if (texts.length) marks.push(Plot.text(rows, { fx: "c", x: "s", y: "v", text: "text", dy: -6, fontSize: 9 }));
        }
      } else if (h) {
        yBand = yBand ?? bandDomain(bars.flatMap(({ t: b }) => arr(b.y)));
        const stackBars = barmode === "stack" || barmode === "relative";
        marks.push(
          stackBars
            ? Plot.barX(rows, { y: "c", x: "v", fill, fillOpacity: opacity })
            : Plot.barX(rows, { y: "c", x1: 0, x2: "v", fill, fillOpacity: opacity }),
        );
        if (err.length)
          marks.push(
            Plot.ruleY(rows, { y: "c", x1: (d: Rec) => d.v - d.e, x2: (d: Rec) => d.v + d.e, stroke: "rgb(60,60,60)" }),
          );
        if (texts.length)
          // Labels sit right of the error bar's end, so the bar never draws through its own label.
          marks.push(
            Plot.text(rows, {
              y: "c",
              x: (d: Rec) => d.v + (Number.isFinite(d.e) ? d.e : 0),
              text: "text",
              textAnchor: "start",
              dx: 4,
              fontSize: 9,
            }),
          );
      } else {
        xBand = xBand ?? bandDomain(bars.flatMap(({ t: b }) => arr(b.x)));
        const stackBars = barmode === "stack" || barmode === "relative";
        marks.push(
          stackBars
            ? Plot.barY(rows, { x: "c", y: "v", fill, fillOpacity: opacity })
            : Plot.barY(rows, { x: "c", y1: 0, y2: "v", fill, fillOpacity: opacity }),
        );
        if (err.length)
          marks.push(
            Plot.ruleX(rows, { x: "c", y1: (d: Rec) => d.v - d.e, y2: (d: Rec) => d.v + d.e, stroke: "rgb(60,60,60)" }),
          );
        if (texts.length)
          marks.push(
            Plot.text(rows, {
              x: "c",
              y: (d: Rec) => d.v + (Number.isFinite(d.e) ? d.e : 0),
              text: "text",
              dy: -6,
              fontSize: 9,
            }),
          );
      }
    } else if (type === "histogram") {
      const vals = arr(t.x).map(num).filter(Number.isFinite);
      const xb = t.xbins as Rec | undefined;
      let thresholds: Any = t.nbinsx ? Number(t.nbinsx) : undefined;
      if (xb && Number(xb.size) > 0 && Number.isFinite(num(xb.start))) {
        thresholds = [];
        const end = Number.isFinite(num(xb.end)) ? num(xb.end) : Math.max(...vals);
        for (let b = num(xb.start); b <= end + Number(xb.size) * 1e-9; b += Number(xb.size)) thresholds.push(b);
      }
      const over = barmode === "overlay";
      marks.push(
        Plot.rectY(
          vals.map((v) => ({ v })),
          Plot.binX(
            { y: "count" },
            {
              x: "v",
              fill: color,
              fillOpacity: opacity ?? (over ? 0.6 : 1),
              inset: 0.5,
              ...(thresholds !== undefined ? { thresholds } : {}),
            },
          ),
        ),
      );
    } else if (type === "heatmap") {
      const z = arr(t.z).map((r: Any) => arr(r).map(num));
      const nCols = Math.max(0, ...z.map((r: number[]) => r.length));
      const xl = t.x !== undefined ? arr(t.x) : Array.from({ length: nCols }, (_, j) => j);
      const yl = t.y !== undefined ? arr(t.y) : z.map((_: Any, r: number) => r);
      const cells: Rec[] = [];
      z.forEach((row: number[], r: number) =>
        row.forEach((v, c) => cells.push({ x: fmtTick(xl[c] ?? c), y: fmtTick(yl[r] ?? r), v })),
      );
      xBand = xl.map(fmtTick);
      yBand = yl.map(fmtTick);
      if (ys.autorange !== "reversed") yBand = [...yBand].reverse(); // plotly draws row 0 at the bottom
      colorOpts = colorScaleOf(
        t,
        cells.map((c) => c.v),
      );
      colorOpts.label = titleOf(t.colorbar?.title);
      marks.push(
        Plot.cell(
          cells.filter((c) => Number.isFinite(c.v)),
          { x: "x", y: "y", fill: "v", inset: 0 },
        ),
      );
    }
  }
  for (const s of arr(layout.shapes) as Rec[]) {
    if (s.type !== "line") continue;
    const onX = String(s.xref ?? "").split(" ")[0] === sp.xa;
    const onY = String(s.yref ?? "").split(" ")[0] === sp.ya;
    const stroke = s.line?.color ?? "rgb(150,150,150)";
    const strokeDasharray = dashOf(s.line?.dash);
    if (onX && num(s.x0) === num(s.x1) && String(s.yref ?? "").endsWith("domain"))
      marks.push(Plot.ruleX([num(s.x0)], { stroke, strokeDasharray }));
    else if (onY && num(s.y0) === num(s.y1) && String(s.xref ?? "").endsWith("domain"))
      marks.push(Plot.ruleY([num(s.y0)], { stroke, strokeDasharray }));
  }
  if (heat === undefined && !horizontal && sp.traces.some(({ t }) => ["bar", "histogram"].includes(t.type)))
    marks.push(Plot.ruleY([0], { stroke: "rgb(120,120,120)" }));

  const axisOpts = (spec: Rec, band: string[] | null, cat: boolean): Rec => {
    const o: Rec = {
      label: titleOf(spec.title) || null,
      labelAnchor: "center",
      labelArrow: "none",
      grid: !band && !cat,
    };
    if (band) {
      o.type = "band";
      o.domain = band;
      if (heat) o.padding = 0.02;
      o.ticks = everyKth(band, 24);
      o.tickFormat = (v: Any) => fmtTick(v);
    } else if (cat) {
      o.type = "point";
      o.tickFormat = (v: Any) => fmtTick(v);
    } else if (spec.type === "log") {
      o.type = "log";
      if (Array.isArray(spec.range)) o.domain = spec.range.map((r: Any) => 10 ** Number(r));
    } else if (Array.isArray(spec.range)) o.domain = spec.range.map(Number);
    if (spec.autorange === "reversed" && !band) o.reverse = true;
    if (!band && Array.isArray(spec.tickvals) && Array.isArray(spec.ticktext)) {
      const label = new Map(spec.tickvals.map((v: Any, j: number) => [String(v), plain(spec.ticktext[j])]));
      o.ticks = spec.tickvals;
      o.tickFormat = (v: Any) => label.get(String(v)) ?? "";
      if (Number(spec.tickangle) < 0) o.tickRotate = Number(spec.tickangle);
    }
    if (spec.showticklabels === false) o.tickFormat = () => "";
    return o;
  };
  const x = axisOpts(xs, xBand, catX && !fxDomain);
  const y = axisOpts(ys, yBand, catY && !fyDomain);
  if (fxDomain) x.axis = null;
  if (fyDomain) y.axis = null;
  const yLabels = yBand ?? fyDomain ?? [];
  const yTickWidth = yLabels.length
    ? Math.min(200, Math.max(...yLabels.map((s) => textWidth(fmtTick(s), 10))) + 12)
    : 44;
  return {
    marks,
    x,
    y,
    colorOpts,
    fxDomain,
    fyDomain,
    yTickWidth,
    xRotate: (xBand ?? fxDomain ?? []).some((s) => s.length > 6),
  };
}

/**
 * The figure as a standalone SVG document string (xmlns set, white background, fonts as plain attributes), drawn with
 * Observable Plot in Node. `width` defaults to layout.width or 720 px; the height is layout.height (default 360)
 * plus room for a title and legend when the layout's top margin is too small for them.
 * @example figureSvg({data: [{type: "scatter", y: [1, 3, 2]}]}).startsWith("<svg") // true
 */
export function figureSvg(fig: PlotlyFigure, options: { width?: number } = {}): string {
  const { Plot, document } = lib();
  const layout: Rec = fig.layout ?? {};
  const colorway: string[] = Array.isArray(layout.colorway) ? layout.colorway.map(String) : defaultColorway;
  const W = options.width ?? Number(layout.width ?? 720);
  const H0 = Number(layout.height ?? 360);
  const m: Rec = { l: 60, r: 20, t: 40, b: 45, ...(layout.margin ?? {}) };
  const title = titleOf(layout.title);
  const showLegend = layout.showlegend;

  // Subplots in order of first appearance.
  const subplots = new Map<string, Subplot>();
  fig.data.forEach((t: Rec, i) => {
    const xa = String(t.xaxis ?? "x"),
      ya = String(t.yaxis ?? "y");
    const key = `${xa}|${ya}`;
    if (!subplots.has(key)) subplots.set(key, { xa, ya, traces: [] });
    subplots.get(key)!.traces.push({ t, i });
  });

  // Legends: the figure's own, and one per `legendN` key (per-subplot legends of dashboards).
  const legends = new Map<string, LegendEntry[]>();
  fig.data.forEach((t: Rec, i) => {
    if (t.showlegend === false || t.name === undefined || t.name === "" || t.type === "heatmap") return;
    const key = String(t.legend ?? "legend");
    if (!legends.has(key)) legends.set(key, []);
    const list = legends.get(key)!;
    const name = plain(t.name);
    if (!list.some((e) => e.name === name))
      list.push({
        name,
        color: traceColor(t, i, colorway),
        dash: dashOf(t.line?.dash),
        box: ["bar", "histogram"].includes(t.type),
      });
  });
  for (const [k, list] of legends) {
    const named = fig.data.filter((t: Rec) => t.showlegend !== false && t.name);
    if (showLegend === false || (list.length < 2 && !(showLegend === true && named.length >= 1))) legends.delete(k);
  }

  // Header: title, then the figure-level legend in rows.
  const headerParts: string[] = [];
  let headY = 6;
  if (title) {
    headY += 16;
    headerParts.push(
      `<text x="${W / 2}" y="${headY}" text-anchor="middle" font-size="15" fill="rgb(40,40,40)">${escapeHtml(title)}</text>`,
    );
    headY += 6;
  }
  const legendSvg = (
    entries: LegendEntry[],
    x0: number,
    y0: number,
    maxW: number,
    anchorRight = false,
    vertical = false,
  ): [string, number] => {
    // Positions are laid out here; the swatches and labels are drawn by Plot.
    let cx = 0,
      row = 0;
    const items = entries.map((e) => {
      const w = 18 + textWidth(e.name, 10) + 14;
      if (cx > 0 && (vertical || cx + w > maxW)) {
        cx = 0;
        row++;
      }
      const it = { ...e, x: cx, row };
      cx += w;
      return it;
    });
    const rowsN = row + 1;
    const totalW = Math.min(maxW, Math.max(...items.map((it) => it.x + 18 + textWidth(it.name, 10) + 4)));
    const h = rowsN * 16;
    const svg = Plot.plot({
      document,
      className: "cellrl-legend",
      width: Math.max(10, totalW),
      height: h,
      margin: 0,
      x: { domain: [0, Math.max(10, totalW)], axis: null },
      y: { domain: [0, rowsN], axis: null, reverse: true },
      marks: [
        Plot.rect(items, {
          x1: (d: Rec) => d.x,
          x2: (d: Rec) => d.x + 14,
          y1: (d: Rec) => d.row + (d.box ? 0.25 : 0.45),
          y2: (d: Rec) => d.row + (d.box ? 0.75 : 0.55),
          fill: (d: Rec) => d.color,
        }),
        Plot.text(items, {
          x: (d: Rec) => d.x + 18,
          y: (d: Rec) => d.row + 0.5,
          text: "name",
          textAnchor: "start",
          fontSize: 10,
          fill: "rgb(50,50,50)",
        }),
      ],
    });
    const xPos = anchorRight ? x0 - totalW : x0;
    svg.setAttribute("x", String(xPos));
    svg.setAttribute("y", String(y0));
    return [svg.outerHTML, h];
  };
  const mainLegend = legends.get("legend");
  if (mainLegend) {
    const [s, h] = legendSvg(mainLegend, m.l, headY + 2, W - m.l - m.r);
    headerParts.push(s);
    headY += h + 6;
  }
  // A heatmap's colour ramp (drawn by Plot.legend) goes in the header, right-aligned, so it never covers a chart.
  let colorLegend: string | null = null;
  const heatTrace = fig.data.find((t: Rec) => t.type === "heatmap") as Rec | undefined;
  if (heatTrace) {
    const z = arr(heatTrace.z).flatMap((r: Any) => arr(r).map(num));
    // A ramp drawn as 64 rects by Plot (Plot.legend's ramp needs a canvas, which linkedom lacks).
    const cs = colorScaleOf(heatTrace, z);
    const [lo, hi] = [cs.domain[0], cs.domain[cs.domain.length - 1]];
    const steps = Array.from({ length: 64 }, (_, k) => ({
      a: lo + ((hi - lo) * k) / 64,
      b: lo + ((hi - lo) * (k + 1)) / 64,
    }));
    const label = titleOf(heatTrace.colorbar?.title);
    const ramp = Plot.plot({
      document,
      className: "cellrl-static-ramp",
      width: 240,
      height: 34,
      marginTop: 2,
      marginBottom: 16,
      marginLeft: 10,
      marginRight: 10,
      style: { fontSize: "10px", overflow: "visible" },
      x: {
        domain: [lo, hi],
        ticks: 5,
        tickFormat: fmtTick,
        label: null,
      },
      y: { axis: null },
      color: cs,
      marks: [Plot.rectX(steps, { x1: "a", x2: "b", y1: 0, y2: 1, fill: (d: Rec) => (d.a + d.b) / 2 })],
    });
    ramp.setAttribute("x", String(W - m.r - 240));
    ramp.setAttribute("y", String(headY));
    // The ramp's label sits left of it (Plot would put it under the first tick label).
    colorLegend =
      ramp.outerHTML +
      (label
        ? `<text x="${W - m.r - 234}" y="${headY + 12}" text-anchor="end" font-size="10" fill="rgb(60,60,60)">` +
          `${escapeHtml(label)}</text>`
        : "");
    headY += 40;
  }
  // Subplot titles (annotations above a domain) need a line of their own below the header.
  const topNotes = arr(layout.annotations).some((a: Rec) => a.yanchor === "bottom" && num(a.y) >= 0.99);
  if (topNotes && (title || mainLegend)) headY += 14;
  const shift = Math.max(0, headY - Number(m.t) + 4);
  const H = H0 + shift;
  const top = Number(m.t) + shift;
  const plotW = W - m.l - m.r,
    plotH = H0 - Number(m.t) - m.b;

  const pieces: Piece[] = [];
  const placed = new Set<string>();
  const texts: string[] = [];
  for (const sp of subplots.values()) {
    const [dx0, dx1] = domainOf(layout, sp.xa);
    const [dy0, dy1] = domainOf(layout, sp.ya);
    const fx0 = m.l + dx0 * plotW,
      fx1 = m.l + dx1 * plotW;
    const fy0 = top + (1 - dy1) * plotH,
      fy1 = top + (1 - dy0) * plotH;
    const spec = subplotSpec(sp, layout, colorway, Plot);
    const ML = Math.max(spec.yTickWidth + (spec.y.label ? 14 : 0), 30),
      MR = 8,
      MT = 6,
      MB = 22 + (spec.x.label ? 14 : 0) + (spec.xRotate || spec.x.tickRotate ? 24 : 0);
    const w = Math.max(40, fx1 - fx0),
      h = Math.max(30, fy1 - fy0);
    const opts: Rec = {
      document,
      className: "cellrl-static-plot",
      width: w + ML + MR,
      height: h + MT + MB,
      marginLeft: ML,
      marginRight: MR,
      marginTop: MT,
      marginBottom: MB,
      style: { fontSize: "10px", overflow: "visible" },
      x: { ...(spec.xRotate ? { tickRotate: -30 } : {}), ...spec.x },
      y: spec.y,
      marks: spec.marks,
    };
    if (spec.colorOpts) opts.color = spec.colorOpts;
    if (spec.fxDomain)
      opts.fx = {
        domain: spec.fxDomain,
        label: spec.x.label,
        padding: 0.15,
        tickFormat: fmtTick,
        ...(spec.xRotate ? { tickRotate: -30 } : {}),
      };
    if (spec.fyDomain)
      opts.fy = { domain: spec.fyDomain, label: spec.y.label, padding: 0.15, tickFormat: fmtTick, axis: "left" };
    const svg = Plot.plot(opts);
    const px = fx0 - ML,
      py = fy0 - MT;
    svg.setAttribute("x", String(px));
    svg.setAttribute("y", String(py));
    pieces.push({ x: px, y: py, w: w + ML + MR, h: h + MT + MB, svg: svg.outerHTML });
    const legendKey = sp.traces.map(({ t }) => t.legend).find((k) => k && k !== "legend");
    if (legendKey && legends.has(legendKey) && !placed.has(legendKey)) {
      placed.add(legendKey);
      const spec = (layout[legendKey] ?? {}) as Rec;
      const vertical = spec.orientation !== "h";
      if (Number.isFinite(num(spec.x)) && Number.isFinite(num(spec.y))) {
        // Where the layout puts it (paper coordinates, plotly's anchors).
        const lx = m.l + num(spec.x) * plotW,
          ly = top + (1 - num(spec.y)) * plotH;
        const right = spec.xanchor === "right";
        // As plotly: one row while it fits in the paper (a long panel legend may reach over the next panel's margin).
        const maxW = right ? Math.max(80, lx - m.l) : Math.max(80, W - m.r - lx);
        const [, h] = legendSvg(legends.get(legendKey)!, lx, 0, maxW, right, vertical);
        const y0 = spec.yanchor === "bottom" ? ly - h : spec.yanchor === "middle" ? ly - h / 2 : ly;
        texts.push(legendSvg(legends.get(legendKey)!, lx, y0, maxW, right, vertical)[0]);
      } else texts.push(legendSvg(legends.get(legendKey)!, fx1, fy0 - 16, Math.max(80, (fx1 - fx0) * 0.7), true)[0]);
    }
  }
  // Annotations placed on a subplot's domain or the paper (subplot titles, notes).
  for (const a of arr(layout.annotations) as Rec[]) {
    const text = plain(a.text);
    if (!text) continue;
    const xr = String(a.xref ?? "paper"),
      yr = String(a.yref ?? "paper");
    let px: number, py: number;
    if (xr === "paper") px = m.l + num(a.x) * plotW;
    else if (xr.endsWith(" domain")) {
      const [d0, d1] = domainOf(layout, xr.split(" ")[0]);
      px = m.l + (d0 + num(a.x) * (d1 - d0)) * plotW;
    } else continue;
    if (yr === "paper") py = top + (1 - num(a.y)) * plotH;
    else if (yr.endsWith(" domain")) {
      const [d0, d1] = domainOf(layout, yr.split(" ")[0]);
      py = top + (1 - (d0 + num(a.y) * (d1 - d0))) * plotH;
    } else continue;
    if (!Number.isFinite(px) || !Number.isFinite(py)) continue;
    const anchor = a.xanchor === "left" ? "start" : a.xanchor === "right" ? "end" : "middle";
    const dy = (a.yanchor === "bottom" ? -4 : a.yanchor === "top" ? 12 : 4) - (num(a.yshift) || 0);
    const size = Number(a.font?.size ?? 12);
    const bold = /<b>/.test(String(a.text)) ? ' font-weight="bold"' : "";
    texts.push(
      `<text x="${px.toFixed(1)}" y="${(py + dy).toFixed(1)}" text-anchor="${anchor}" font-size="${size}"${bold} fill="rgb(40,40,40)">${escapeHtml(text)}</text>`,
    );
  }
  const minX = Math.min(0, ...pieces.map((p) => p.x));
  const maxX = Math.max(W, ...pieces.map((p) => p.x + p.w));
  const maxY = Math.max(H, ...pieces.map((p) => p.y + p.h));
  const vw = Math.ceil(maxX - minX),
    vh = Math.ceil(maxY);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${vw}" height="${vh}" viewBox="${Math.floor(minX)} 0 ${vw} ${vh}" ` +
    `font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="10" ` +
    `style="background:white;max-width:100%;height:auto">` +
    `<rect x="${Math.floor(minX)}" y="0" width="${vw}" height="${vh}" fill="white"/>` +
    headerParts.join("") +
    (colorLegend ?? "") +
    pieces.map((p) => p.svg).join("") +
    texts.join("") +
    `</svg>`
  );
}
