import { describe, fail } from "../core/errors.js";
import { escapeHtml, type Displayable } from "../kernel/mime.js";
import { figure, type PlotlyFigure } from "../kernel/plotly.js";
import { num } from "./format.js";
import { stack, View } from "./view.js";

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
  const colors = ["rgb(31,119,180)", "rgb(255,127,14)", "rgb(44,160,44)", "rgb(214,39,40)", "rgb(148,103,189)"];
  const cols = Math.min(3, metrics.length),
    rows = Math.ceil(metrics.length / cols);
  const data: Record<string, unknown>[] = [];
  const annotations: Record<string, unknown>[] = [];
  metrics.forEach((m, i) => {
    const ax = i === 0 ? "" : String(i + 1);
    runs.forEach((r, j) => {
      const pts: [number, number][] = [];
      rowsOf[j].forEach((s, t) => {
        const v = s[m];
        if (finite(v)) pts.push([finite(s.step) ? s.step : t, v]);
      });
      data.push({
        type: "scatter",
        mode: "lines",
        name: r.name,
        legendgroup: r.name,
        showlegend: i === 0,
        x: pts.map((p) => p[0]),
        y: pts.map((p) => p[1]),
        line: { color: colors[j % colors.length] },
        xaxis: `x${ax}`,
        yaxis: `y${ax}`,
      });
    });
    annotations.push({
      text: `<b>${m}</b>`,
      xref: `x${ax} domain`,
      yref: `y${ax} domain`,
      x: 0.5,
      y: 1.15,
      showarrow: false,
    });
  });
  const fig = figure(
    {
      data,
      layout: {
        height: 60 + 220 * rows,
        grid: { rows, columns: cols, pattern: "independent", ygap: 0.3 },
        annotations,
        margin: { l: 45, r: 15, t: 40, b: 30 },
        title: options.title ? { text: options.title } : undefined,
      },
    },
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
  // The stacked view (chart above the config table) plus the chart's Plotly JSON, to read the drawn traces back.
  return Object.assign(stack([fig, new View(table, text)]), { figure: fig.figure });
}
