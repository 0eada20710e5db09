import { describe, fail } from "../core/errors.js";
import { escapeHtml, type Displayable, type MimeBundle } from "../kernel/mime.js";
import { figure, type PlotlyFigure } from "../kernel/plotly.js";
import { seriesColor } from "./color.js";
import { num } from "./format.js";
import { panelGrid, panelTitle } from "./panel-grid.js";

/** A table of step rows, as `update.readRunLog(file).steps` returns (an arquero table: anything with `objects()`). */
export interface StepTable {
  objects(): object[];
}

/**
 * A run to compare: a name, its config and its per-step metrics. `update.readRunLog(file)` returns one as is (its
 * `steps` is an arquero table); a plain array of metric rows (`{step, "reward/mean": ...}`) works too.
 */
export interface RunLog {
  name: string;
  config?: Record<string, unknown>;
  steps: readonly Record<string, unknown>[] | StepTable;
}

/** The step rows of a run, whether `steps` is an array of rows or an arquero table. */
function stepRows(r: RunLog, i: number): readonly Record<string, unknown>[] {
  const steps = (r as { steps?: unknown } | null)?.steps;
  if (Array.isArray(steps)) return steps;
  if (steps && typeof (steps as StepTable).objects === "function")
    return (steps as StepTable).objects() as Record<string, unknown>[];
  return fail(
    "invalid_input",
    `viz.compareRuns: runs[${i}].steps must be an array of metric rows or an arquero table ` +
      `(update.readRunLog(file).steps); got ${describe(steps)}. Pass update.readRunLog(file) or {name, ` +
      `config, steps: [...]}.`,
    { path: ["runs", i, "steps"] },
    compareRuns,
  );
}

const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function flatten(obj: Record<string, unknown>, prefix = "", out: Record<string, string> = {}): Record<string, string> {
  for (const [k, v] of Object.entries(obj ?? {})) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === "object" && !Array.isArray(v)) flatten(v as Record<string, unknown>, key, out);
    else out[key] = JSON.stringify(v);
  }
  return out;
}

/** Config keys whose values differ between runs, with each run's value. */
export function configDiff(runs: readonly RunLog[]): { key: string; values: string[] }[] {
  const flats = runs.map((r) => flatten(r.config ?? {}));
  const keys = [...new Set(flats.flatMap((f) => Object.keys(f)))].sort();
  return keys
    .map((key) => ({ key, values: flats.map((f) => f[key] ?? "—") }))
    .filter((d) => new Set(d.values).size > 1);
}

/**
 * N runs overlaid: one chart per metric with a line per run, and a table of the config keys that differ. Each run is
 * what `update.readRunLog(file)` returns, or `{name, config?, steps: rows[]}`. Non-finite values (a logged NaN/null)
 * leave a gap. The result also carries `.figure` (the chart's Plotly JSON). Default metrics: up to 6 numeric keys
 * matching reward/mean, accuracy, kl, entropy or loss.
 * @example
 * const runs = [update.readRunLog("runs/a.jsonl"), update.readRunLog("runs/b.jsonl")]
 * viz.compareRuns(runs, {metrics: ["reward/mean", "update/refKl"]})
 */
export function compareRuns(
  runs: readonly RunLog[],
  options: { metrics?: string[]; title?: string } = {},
): Displayable & { figure: PlotlyFigure } {
  if (!Array.isArray(runs) || runs.length === 0)
    fail(
      "invalid_input",
      "viz.compareRuns: give at least one run {name, config, steps} (e.g. update.readRunLog(file)).",
      {},
      compareRuns,
    );
  const rowsOf = runs.map((r, i) => stepRows(r, i));
  const numericKeys: string[] = [];
  for (const rows of rowsOf)
    for (const s of rows)
      for (const k of Object.keys(s))
        if (finite(s[k]) && k !== "step" && k !== "time" && !numericKeys.includes(k)) numericKeys.push(k);
  const metrics =
    options.metrics ?? numericKeys.filter((k) => /reward\/mean|accuracy|kl|entropy|loss/i.test(k)).slice(0, 6);
  if (metrics.length === 0)
    fail(
      "invalid_input",
      `viz.compareRuns: no metrics to draw (numeric keys: ${numericKeys.join(", ") || "none"}).`,
      {},
      compareRuns,
    );
  const cols = Math.min(3, metrics.length);
  // The figure title in the top margin, the runs' legend on the line under it, each metric's title just above its
  // own plot: the three never share a line (they used to collide).
  const top = options.title ? 80 : 50;
  const grid = panelGrid(metrics.length, cols, { top });
  const data: Record<string, unknown>[] = [];
  const annotations: Record<string, unknown>[] = [];
  const layout: Record<string, unknown> = {
    height: grid.height,
    margin: { l: 45, r: 15, t: top, b: 30 },
    title: options.title ? { text: options.title, y: 1, yref: "container", yanchor: "top", pad: { t: 8 } } : undefined,
    showlegend: true,
    legend: {
      orientation: "h",
      x: 0,
      xanchor: "left",
      yref: "container",
      y: 1 - (options.title ? 38 : 6) / grid.height,
      yanchor: "top",
    },
  };
  metrics.forEach((m, i) => {
    const cell = grid.cells[i],
      ax = cell.ax;
    layout[`xaxis${ax}`] = { domain: cell.x, anchor: `y${ax}`, tickfont: { size: 10 } };
    layout[`yaxis${ax}`] = { domain: cell.y, anchor: `x${ax}`, tickfont: { size: 10 } };
    runs.forEach((r, j) => {
      const pts: [number, number][] = [];
      rowsOf[j].forEach((s, t) => {
        const v = s[m];
        if (finite(v)) pts.push([finite(s.step) ? s.step : t, v]);
      });
      data.push({
        type: "scatter",
        mode: pts.length > 30 ? "lines" : "lines+markers",
        name: r.name,
        legendgroup: r.name,
        showlegend: i === 0,
        x: pts.map((p) => p[0]),
        y: pts.map((p) => p[1]),
        line: { color: seriesColor(j) }, // run j is series j in every panel
        marker: { size: 4 },
        xaxis: `x${ax}`,
        yaxis: `y${ax}`,
      });
    });
    annotations.push(panelTitle(cell, m));
  });
  layout.annotations = annotations;
  const fig = figure(
    { data, layout },
    {
      summary: runs
        .map(
          (r, j) =>
            `${r.name}: ${metrics
              .map((m) => {
                const last = [...rowsOf[j]].reverse().find((s) => finite(s[m]));
                return `${m}=${num(last?.[m] as number)}`;
              })
              .join(" ")}`,
        )
        .join("\n"),
    },
  );
  const diff = configDiff(runs);
  const head = "text-align:left;padding:2px 6px";
  const mono = "padding:2px 6px;font-family:monospace";
  const table = diff.length
    ? `<table style="border-collapse:collapse;font-size:12px;color:rgb(0,0,0)">` +
      `<tr><th style="${head}">config key</th>` +
      `${runs.map((r) => `<th style="${head}">${escapeHtml(r.name)}</th>`).join("")}</tr>` +
      diff
        .map(
          (d) =>
            `<tr><td style="${mono}">${escapeHtml(d.key)}</td>` +
            `${d.values.map((v) => `<td style="${mono}">${escapeHtml(v)}</td>`).join("")}</tr>`,
        )
        .join("") +
      "</table>"
    : `<div style="font-size:12px">The runs' configs are identical.</div>`;
  const text = diff.length
    ? "config differences:\n" + diff.map((d) => `  ${d.key}: ${d.values.join(" | ")}`).join("\n")
    : "configs identical";
  // One output: the chart's own bundle (Plotly JSON, static image, text) with the config table appended to its HTML
  // and text, so viewers that draw the Plotly JSON (JupyterLab, VS Code) or the image (GitHub) still get the chart.
  return {
    figure: fig.figure,
    toMimeBundle(): MimeBundle {
      const b = fig.toMimeBundle();
      return {
        ...b,
        "text/html": String(b["text/html"] ?? `<pre>${escapeHtml(b["text/plain"])}</pre>`) + table,
        "text/plain": `${b["text/plain"]}\n${text}`,
      };
    },
  };
}
