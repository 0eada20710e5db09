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

/**
 * Default panels; a panel is shown when any of its keys appears in the history. Every key is one a step function
 * emits: update.grpoStep / update.policyLoss (update/*, rollout/*, reward/*, time/*), update.flowrlStep
 * (update/logZMean, update/tbResidualMean, ...), distill.gkdStep (distill/*, time/teacher), update.sftStep
 * (update/sftLoss), update.train's eval (eval/<key>, e.g. eval/accuracy). test/viz/dashboard.test.ts checks that each
 * key is emitted somewhere in lib/.
 */
export const defaultPanels: DashboardPanel[] = [
  { title: "reward", keys: ["reward/mean"], band: "reward/std" },
  { title: "accuracy", keys: ["eval/accuracy"] },
  // KL(π ‖ π_ref): measured on the batch (refKl, with a reference), the loss term before β (klLoss), or the
  // reward penalty's mean (rewardKl, kl: {in: "reward"}).
  { title: "KL to reference", keys: ["update/refKl", "update/klLoss", "update/rewardKl"] },
  // KL(π_old ‖ π_θ) estimated on the mini-batch: how far one update moved the policy (0 on the first mini-batch).
  { title: "policy change (approx KL old→new)", keys: ["update/approxKl"] },
  { title: "entropy", keys: ["update/entropy", "rollout/entropy"] },
  { title: "clip fraction", keys: ["update/clipFrac", "update/clipFracLow", "update/clipFracHigh"] },
  { title: "response length", keys: ["rollout/lengthMean", "rollout/lengthMax", "rollout/truncFrac"] },
  { title: "grad norm", keys: ["update/gradNorm"] },
  { title: "loss", keys: ["update/loss", "update/pgLoss", "update/sftLoss"] },
  { title: "FlowRL log Z", keys: ["update/logZMean", "update/tbResidualMean"] },
  {
    title: "distillation",
    keys: ["distill/loss", "distill/teacherTopkMass", "distill/studentTopkMass", "distill/onPolicyFrac"],
  },
  { title: "seconds per phase", keys: ["time/rollout", "time/reward", "time/logprob", "time/teacher", "time/update"] },
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
  const x: number[] = [],
    y: number[] = [];
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
  if (!Array.isArray(history))
    fail(
      "invalid_input",
      "viz.dashboard: history must be an array of metric rows ({step, 'reward/mean': ...}).",
      {},
      dashboard,
    );
  const present = new Set(history.flatMap((r) => Object.keys(r)));
  const panels = (options.panels ?? defaultPanels)
    .map((p) => ({ ...p, keys: p.keys.filter((k) => present.has(k)) }))
    .filter((p) => p.keys.length > 0);
  const cols = Math.max(1, Math.min(options.columns ?? 3, panels.length || 1));
  const rows = Math.max(1, Math.ceil(panels.length / cols));
  const data: Record<string, unknown>[] = [];
  const annotations: Record<string, unknown>[] = [];
  const layout: Record<string, unknown> = {
    height: 60 + 210 * rows,
    showlegend: false,
    margin: { l: 45, r: 15, t: options.title ? 60 : 30, b: 30 },
    grid: { rows, columns: cols, pattern: "independent", xgap: 0.12, ygap: 0.28 },
    title: options.title ? { text: options.title } : undefined,
  };
  const colors = ["rgb(31,119,180)", "rgb(255,127,14)", "rgb(44,160,44)", "rgb(214,39,40)", "rgb(148,103,189)"];
  panels.forEach((p, i) => {
    const ax = i === 0 ? "" : String(i + 1);
    p.keys.forEach((k, j) => {
      const s = series(history, k);
      if (j === 0 && p.band && present.has(p.band)) {
        const b = series(history, p.band);
        const bandAt = new Map(b.x.map((x, t) => [x, b.y[t]]));
        const up = s.y.map((v, t) => v + (bandAt.get(s.x[t]) ?? 0));
        const lo = s.y.map((v, t) => v - (bandAt.get(s.x[t]) ?? 0));
        data.push({
          type: "scatter",
          mode: "lines",
          x: [...s.x, ...s.x.slice().reverse()],
          y: [...up, ...lo.reverse()],
          fill: "toself",
          fillcolor: "rgba(31,119,180,0.15)",
          line: { width: 0 },
          hoverinfo: "skip",
          xaxis: `x${ax}`,
          yaxis: `y${ax}`,
        });
      }
      data.push({
        type: "scatter",
        mode: s.x.length > 30 ? "lines" : "lines+markers",
        name: k,
        x: s.x,
        y: s.y,
        line: { color: colors[j % colors.length], width: 1.5 },
        marker: { size: 4 },
        xaxis: `x${ax}`,
        yaxis: `y${ax}`,
      });
    });
    annotations.push({
      text:
        `<b>${p.title}</b> ` +
        (p.keys.length > 1
          ? `<span style="font-size:9px">(${p.keys.map((k) => k.split("/").pop()).join(", ")})</span>`
          : ""),
      xref: `x${ax} domain`,
      yref: `y${ax} domain`,
      x: 0.5,
      y: 1.18,
      showarrow: false,
      font: { size: 12 },
    });
  });
  layout.annotations = annotations;
  const last = history[history.length - 1] ?? {};
  const summary = [
    `${history.length} steps`,
    ...panels.map((p) => `${p.title}: ${p.keys.map((k) => `${k}=${num(last[k] as number)}`).join(" ")}`),
  ];
  const alerts = options.alerts ?? [];
  if (alerts.length) summary.push(...alerts.map((a) => `ALERT: ${a}`));
  const fig = figure({ data, layout }, { summary: summary.join("\n") });
  if (!alerts.length) return fig;
  return {
    toMimeBundle(): MimeBundle {
      const b = fig.toMimeBundle();
      const alertStyle =
        "background-color:rgb(255,240,214);border-left:4px solid rgb(230,140,0);padding:3px 8px;margin:2px 0;" +
        "font-size:90%;color:rgb(0,0,0)";
      const list =
        `<div style="margin-top:4px">` +
        `${alerts.map((a) => `<div style="${alertStyle}">⚠ ${escapeHtml(a)}</div>`).join("")}</div>`;
      return { ...b, "text/html": String(b["text/html"] ?? "") + list };
    },
  };
}

/** An alert as update.checkAlerts returns it ({key, step, message}), or just its message. */
export type DashboardAlert = string | { key?: string; step?: number; message: string };

/** A dashboard that redraws in place as metrics arrive; the last drawing stays in the notebook. */
export interface LiveDashboard {
  /**
   * Add a step's metrics (and this step's alerts) and redraw, at most once per `throttleMs`: pushes in between are
   * coalesced into the next drawing. A new alert redraws at once; a repeat of one already listed only updates its
   * count (shown at the next drawing).
   */
  push(metrics: MetricsRow, alerts?: readonly DashboardAlert[]): void;
  /** Draw every pushed row now if anything is not drawn yet (call at the end: the final drawing is what stays). */
  flush(): void;
  /** Every row pushed so far. */
  readonly history: MetricsRow[];
  /** The listed alerts: one line per distinct alert (latest message, with the count and first step when repeated). */
  readonly alerts: string[];
  /** How many times the output was (re)drawn. */
  readonly draws: number;
}

/**
 * The identity of an alert for de-duplication: its key (update.checkAlerts' Alert), else its message without the
 * leading "step N:" and with numbers blanked, so "step 3: entropy is 0.01 nats" and "step 9: entropy is 0.02 nats"
 * are one alert seen twice.
 */
function alertIdentity(a: DashboardAlert): string {
  if (typeof a !== "string" && typeof a.key === "string" && a.key) return `key:${a.key}`;
  const msg = typeof a === "string" ? a : a.message;
  return "msg:" + msg.replace(/^\s*step\s+\d+\s*:\s*/i, "").replace(/[-+]?\d+(\.\d+)?(e[-+]?\d+)?/gi, "#");
}

/**
 * Start a live dashboard output: `push(metrics, alerts)` each step; it updates the same output (display_id) at most
 * once per `throttleMs` (default 1000), and `flush()` draws the final state.
 * @example const dash = viz.liveDashboard(); for (...) dash.push(r.metrics, r.alerts); dash.flush()
 */
export function liveDashboard(options: DashboardOptions & { throttleMs?: number } = {}): LiveDashboard {
  const history: MetricsRow[] = [];
  const alerts: string[] = [];
  const seen = new Map<string, { index: number; count: number; firstStep: number }>();
  const handle: DisplayHandle = displayHandle();
  const throttle = options.throttleMs ?? 1000;
  if (!(throttle >= 0))
    fail(
      "invalid_option",
      `viz.liveDashboard: throttleMs must be a number ≥ 0 (got ${options.throttleMs}).`,
      { path: ["throttleMs"] },
      liveDashboard,
    );
  let last = -Infinity,
    dirty = false,
    drawn = false,
    draws = 0;
  const draw = () => {
    last = Date.now();
    dirty = false;
    drawn = true;
    draws++;
    handle.update(dashboard(history, { ...options, alerts: [...(options.alerts ?? []), ...alerts] }));
  };
  return {
    history,
    alerts,
    get draws() {
      return draws;
    },
    push(metrics, newAlerts = []) {
      const step = typeof metrics?.step === "number" ? metrics.step : history.length;
      history.push({ step: history.length, ...metrics });
      dirty = true;
      let fresh = false;
      for (const a of newAlerts) {
        const msg = typeof a === "string" ? a : a?.message;
        if (typeof msg !== "string")
          fail(
            "invalid_input",
            `viz.liveDashboard.push: an alert must be a string or {key, message} (got ${JSON.stringify(a)}).`,
            { path: ["alerts"] },
          );
        const id = alertIdentity(a),
          s = typeof a !== "string" && typeof a.step === "number" ? a.step : step;
        const prev = seen.get(id);
        if (!prev) {
          seen.set(id, { index: alerts.length, count: 1, firstStep: s });
          alerts.push(msg);
          fresh = true;
        } else {
          prev.count++;
          alerts[prev.index] = `${msg} (seen ${prev.count}×, first at step ${prev.firstStep})`;
        }
      }
      if (fresh || Date.now() - last >= throttle) draw();
    },
    flush() {
      if (dirty || !drawn) draw();
    },
  };
}
