import { fail } from "../core/errors.js";
import { figure } from "../kernel/plotly.js";
import { displayHandle, type DisplayHandle } from "../kernel/display.js";
import { escapeHtml, type Displayable, type MimeBundle } from "../kernel/mime.js";
import { num } from "./format.js";

/** One panel of the dashboard: a title and the metric keys drawn in it. */
export interface DashboardPanel {
  title: string;
  /** Metric keys (exact) drawn as lines. */
  keys: string[];
  /** Key of a ± band around the first key (e.g. reward std). */
  band?: string;
}

/** Default panels; a panel is shown when any of its keys appears in the history. */
export const defaultPanels: DashboardPanel[] = [
  { title: "reward", keys: ["reward/mean"], band: "reward/std" },
  { title: "accuracy", keys: ["eval/accuracy", "reward/accuracy", "eval/acc"] },
  { title: "KL", keys: ["update/kl", "update/approxKl", "actor/kl_loss", "distill/kl"] },
  { title: "entropy", keys: ["update/entropy", "rollout/entropy"] },
  { title: "clip fraction", keys: ["update/clipFrac", "update/clipFracLow", "update/clipFracHigh"] },
  { title: "response length", keys: ["rollout/lengthMean", "rollout/lengthMax", "rollout/truncFrac"] },
  { title: "grad norm", keys: ["update/gradNorm"] },
  { title: "loss", keys: ["update/loss", "update/pgLoss", "distill/loss", "sft/loss", "flowrl/logZ"] },
  { title: "seconds per phase", keys: ["time/rollout", "time/reward", "time/logprob", "time/update"] },
];

/** A step of metrics: numbers by key, with the step index under "step". */
export type MetricsRow = Record<string, number | string | null | undefined>;

/** Options of dashboard. */
export interface DashboardOptions {
  /** Panels to draw. Defaults to `defaultPanels` filtered to keys present in the history. */
  panels?: DashboardPanel[];
  /** Alerts to list under the chart (plain-language messages). */
  alerts?: readonly string[];
  title?: string;
  /** Columns of the panel grid. Defaults to 3. */
  columns?: number;
}

function series(history: readonly MetricsRow[], key: string): { x: number[]; y: number[] } {
  const x: number[] = [], y: number[] = [];
  history.forEach((row, i) => {
    const v = row[key];
    if (typeof v === "number" && Number.isFinite(v)) {
      x.push(typeof row.step === "number" ? row.step : i);
      y.push(v);
    }
  });
  return { x, y };
}

/**
 * A training dashboard: one small chart per metric group (reward ± std, accuracy, KL, entropy, clip fraction,
 * length, grad norm, time per phase), with alerts listed below.
 * @example display(viz.dashboard(history, {alerts}))
 */
export function dashboard(history: readonly MetricsRow[], options: DashboardOptions = {}): Displayable {
  if (!Array.isArray(history)) fail("invalid_input", "viz.dashboard: history must be an array of metric rows ({step, 'reward/mean': ...}).", {}, dashboard);
  const present = new Set(history.flatMap((r) => Object.keys(r)));
  const panels = (options.panels ?? defaultPanels)
    .map((p) => ({ ...p, keys: p.keys.filter((k) => present.has(k)) }))
    .filter((p) => p.keys.length > 0);
  const cols = Math.max(1, Math.min(options.columns ?? 3, panels.length || 1));
  const rows = Math.max(1, Math.ceil(panels.length / cols));
  const data: Record<string, unknown>[] = [];
  const annotations: Record<string, unknown>[] = [];
  const layout: Record<string, unknown> = {
    height: 60 + 210 * rows, showlegend: false, margin: { l: 45, r: 15, t: options.title ? 60 : 30, b: 30 },
    grid: { rows, columns: cols, pattern: "independent", xgap: 0.12, ygap: 0.28 },
    title: options.title ? { text: options.title } : undefined,
  };
  const colors = ["rgb(31,119,180)", "rgb(255,127,14)", "rgb(44,160,44)", "rgb(214,39,40)"];
  panels.forEach((p, i) => {
    const ax = i === 0 ? "" : String(i + 1);
    p.keys.forEach((k, j) => {
      const s = series(history, k);
      if (j === 0 && p.band && present.has(p.band)) {
        const b = series(history, p.band);
        const bandAt = new Map(b.x.map((x, t) => [x, b.y[t]]));
        const up = s.y.map((v, t) => v + (bandAt.get(s.x[t]) ?? 0));
        const lo = s.y.map((v, t) => v - (bandAt.get(s.x[t]) ?? 0));
        data.push({ type: "scatter", mode: "lines", x: [...s.x, ...s.x.slice().reverse()], y: [...up, ...lo.reverse()], fill: "toself",
          fillcolor: "rgba(31,119,180,0.15)", line: { width: 0 }, hoverinfo: "skip", xaxis: `x${ax}`, yaxis: `y${ax}` });
      }
      data.push({ type: "scatter", mode: s.x.length > 30 ? "lines" : "lines+markers", name: k, x: s.x, y: s.y,
        line: { color: colors[j % colors.length], width: 1.5 }, marker: { size: 4 }, xaxis: `x${ax}`, yaxis: `y${ax}` });
    });
    annotations.push({ text: `<b>${p.title}</b> ${p.keys.length > 1 ? `<span style="font-size:9px">(${p.keys.map((k) => k.split("/").pop()).join(", ")})</span>` : ""}`,
      xref: `x${ax} domain`, yref: `y${ax} domain`, x: 0.5, y: 1.18, showarrow: false, font: { size: 12 } });
  });
  layout.annotations = annotations;
  const last = history[history.length - 1] ?? {};
  const summary = [`${history.length} steps`, ...panels.map((p) => `${p.title}: ${p.keys.map((k) => `${k}=${num(last[k] as number)}`).join(" ")}`)];
  const alerts = options.alerts ?? [];
  if (alerts.length) summary.push(...alerts.map((a) => `ALERT: ${a}`));
  const fig = figure({ data, layout }, { summary: summary.join("\n") });
  if (!alerts.length) return fig;
  return {
    toMimeBundle(): MimeBundle {
      const b = fig.toMimeBundle();
      const list = `<div style="margin-top:4px">${alerts.map((a) => `<div style="background-color:rgb(255,240,214);border-left:4px solid rgb(230,140,0);padding:3px 8px;margin:2px 0;font-size:90%;color:rgb(0,0,0)">⚠ ${escapeHtml(a)}</div>`).join("")}</div>`;
      return { ...b, "text/html": String(b["text/html"] ?? "") + list };
    },
  };
}

/** A dashboard that redraws in place as metrics arrive; the last drawing stays in the notebook. */
export interface LiveDashboard {
  /** Add a step's metrics (and any new alerts) and redraw (throttled). */
  push(metrics: MetricsRow, alerts?: readonly string[]): void;
  /** Redraw now (call at the end so the final state is kept). */
  flush(): void;
  /** Every row pushed so far. */
  readonly history: MetricsRow[];
  readonly alerts: string[];
}

/**
 * Start a live dashboard output: `push(metrics)` each step; it updates the same output (display_id).
 * @example const dash = viz.liveDashboard(); for (...) dash.push(metrics, alerts); dash.flush()
 */
export function liveDashboard(options: DashboardOptions & { throttleMs?: number } = {}): LiveDashboard {
  const history: MetricsRow[] = [];
  const alerts: string[] = [];
  const handle: DisplayHandle = displayHandle();
  const throttle = options.throttleMs ?? 1000;
  let last = 0;
  const draw = () => {
    last = Date.now();
    handle.update(dashboard(history, { ...options, alerts }));
  };
  return {
    history,
    alerts,
    push(metrics, newAlerts = []) {
      history.push({ step: history.length, ...metrics });
      for (const a of newAlerts) if (!alerts.includes(a)) alerts.push(a);
      if (Date.now() - last >= throttle || newAlerts.length) draw();
    },
    flush: draw,
  };
}
