import { fail } from "../core/errors.js";
import { figure } from "../kernel/plotly.js";
import { displayHandle, type DisplayHandle } from "../kernel/display.js";
import { escapeHtml, type Displayable, type MimeBundle } from "../kernel/mime.js";
import { cssAlpha, series as palette, seriesColor } from "./color.js";
import { num } from "./format.js";
import { panelGrid, panelLegend, panelTitle } from "./panel-grid.js";

/** One panel of the dashboard: a title and the metric keys drawn in it. */
export interface DashboardPanel {
  title: string;
  /** Metric keys (exact) drawn as lines; a key absent from the history, or constant over it, is not drawn. */
  keys: string[];
  /** Key of a ± band around the first key (e.g. reward std). */
  band?: string;
  /**
   * Keys of the per-step lower and upper bounds the band may not cross (e.g. ["reward/min", "reward/max"]): mean ±
   * std of 0/1 rewards stays inside [0, 1]. Without them the band is clipped to the range of the line itself.
   */
  bandLimits?: [string, string];
  /** Pinned y range (shares: [0, 1]); by default the axis fits the data. */
  yRange?: [number, number];
  /** Keys drawn only when none of the panel's other present keys is (e.g. update/loss when no named loss is). */
  fallback?: string[];
  /** Legend labels by key. Defaults to the key's last part ("update/refKl" → "refKl"); the full key is the trace's
   * `meta` and shows on hover. */
  labels?: Record<string, string>;
}

/**
 * Default panels, one layout family for every algorithm: the same panels in the same order (outcome, learning
 * signal, objective, movement of the policy, lengths, cost), a panel shown when one of its keys appears and varies
 * in the history. Every key is one a step function emits: update.grpoStep / update.policyLoss (update/*, rollout/*,
 * reward/*, time/*), update.flowrlStep (update/flowLoss, update/logZMean, ...), distill.gkdStep (distill/*,
 * time/teacher), update.sftStep (update/sftLoss), update.train's eval (eval/<key>), or liveDashboard.onStep's
 * learning signal (signal/gradTokenFrac). test/viz/dashboard.test.ts checks that each key is emitted somewhere.
 */
export const defaultPanels: DashboardPanel[] = [
  { title: "reward", keys: ["reward/mean"], band: "reward/std", bandLimits: ["reward/min", "reward/max"] },
  { title: "held-out accuracy", keys: ["eval/accuracy"], yRange: [0, 1] },
  // The learning signal: a group whose completions all got the same reward has zero advantage everywhere (GRPO), so
  // none of its tokens moves the policy; signal/gradTokenFrac is the share of response tokens the loss can move.
  {
    title: "learning signal",
    keys: ["reward/zeroStdFrac", "signal/gradTokenFrac"],
    yRange: [0, 1],
    labels: { "reward/zeroStdFrac": "zero-std groups", "signal/gradTokenFrac": "grad tokens" },
  },
  {
    title: "loss",
    keys: ["update/pgLoss", "update/flowLoss", "distill/loss", "update/sftLoss"],
    fallback: ["update/loss"],
  },
  // KL(π ‖ π_ref): measured on the batch (refKl, with a reference), the loss term before β (klLoss), or the
  // reward penalty's mean (rewardKl, kl: {in: "reward"}).
  { title: "KL to reference", keys: ["update/refKl", "update/klLoss", "update/rewardKl"] },
  // KL(π_old ‖ π_θ) estimated on the mini-batch: how far one update moved the policy (0 on the first mini-batch).
  { title: "policy change (approx KL old→new)", keys: ["update/approxKl"] },
  { title: "entropy", keys: ["update/entropy", "rollout/entropy"] },
  { title: "clip fraction", keys: ["update/clipFrac", "update/clipFracLow", "update/clipFracHigh"] },
  { title: "FlowRL log Z", keys: ["update/logZMean", "update/tbResidualMean"] },
  {
    title: "distillation",
    keys: ["distill/teacherTopkMass", "distill/studentTopkMass", "distill/onPolicyFrac"],
    yRange: [0, 1],
  },
  { title: "response length (tokens)", keys: ["rollout/lengthMean", "rollout/lengthMax"] },
  { title: "truncated share", keys: ["rollout/truncFrac"], yRange: [0, 1] },
  { title: "grad norm", keys: ["update/gradNorm"] },
  { title: "seconds per phase", keys: ["time/rollout", "time/reward", "time/logprob", "time/teacher", "time/update"] },
];

/** A step of metrics: numbers by key, with the step index under "step". */
export type MetricsRow = Record<string, number | string | null | undefined>;

/** Options of dashboard. */
export interface DashboardOptions {
  /** Panels to draw. Defaults to `defaultPanels`, each drawn with the keys that are present and not constant. */
  panels?: DashboardPanel[];
  /** Alerts to list under the chart (plain-language messages). */
  alerts?: readonly string[];
  title?: string;
  /** Columns of the panel grid. Defaults to 3. */
  columns?: number;
  /** Steps to mark with a dotted line on every panel (e.g. the film strip's frames, to read both side by side). */
  marks?: readonly number[];
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
 * A key's legend label: the panel's label for it, else its last part ("update/refKl" → "refKl"), else (when two keys
 * of the panel share their last part, as update/entropy and rollout/entropy do) its first part ("update").
 */
function legendLabel(p: DashboardPanel, k: string): string {
  if (p.labels?.[k]) return p.labels[k];
  const last = (x: string) => x.split("/").pop()!;
  return p.keys.filter((o) => last(o) === last(k)).length > 1 ? k.split("/")[0] : last(k);
}

/** A key's state over the history: absent (no finite value), constant (≥ 2 steps, one value) or varying. */
function keyState(
  history: readonly MetricsRow[],
  key: string,
): { kind: "absent" | "constant" | "varying"; value?: number } {
  const { y } = series(history, key);
  if (y.length === 0) return { kind: "absent" };
  const lo = Math.min(...y),
    hi = Math.max(...y);
  if (y.length >= 2 && hi - lo <= 1e-12 * Math.max(1, Math.abs(hi))) return { kind: "constant", value: hi };
  return { kind: "varying" };
}

/** The panels to draw: each with its varying keys, and the constant keys left out (listed in the text summary). */
function choosePanels(
  history: readonly MetricsRow[],
  panels: readonly DashboardPanel[],
): { panels: DashboardPanel[]; constant: string[] } {
  const constant: string[] = [];
  const out: DashboardPanel[] = [];
  for (const p of panels) {
    const keep = (keys: readonly string[]) =>
      keys.filter((k) => {
        const st = keyState(history, k);
        if (st.kind === "constant" && !constant.some((c) => c.startsWith(`${k}=`)))
          constant.push(`${k}=${num(st.value)}`);
        return st.kind === "varying";
      });
    const present = p.keys.filter((k) => keyState(history, k).kind !== "absent");
    let keys = keep(p.keys);
    if (present.length === 0 && p.fallback) keys = keep(p.fallback);
    if (keys.length) out.push({ ...p, keys });
  }
  return { panels: out, constant };
}

/**
 * A training dashboard: one small chart per metric group, the same panels in the same order for every algorithm
 * (reward ± std, held-out accuracy, learning signal, loss, KL, entropy, clip fraction, FlowRL's log Z or the
 * distillation masses, lengths, grad norm, time per phase), with alerts listed below. A metric that is absent or
 * constant (truncation 0, on-policy fraction 1, ...) is not drawn: the text summary names it with its value. Every
 * panel with more than one line has its own legend; the reward band mean ± std is clipped to [reward/min, reward/max].
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
  const { panels, constant } = choosePanels(history, options.panels ?? defaultPanels);
  const cols = Math.max(1, Math.min(options.columns ?? 3, panels.length || 1));
  const data: Record<string, unknown>[] = [];
  const annotations: Record<string, unknown>[] = [];
  const shapes: Record<string, unknown>[] = [];
  const top = options.title ? 70 : 40;
  const grid = panelGrid(panels.length, cols, { top });
  const layout: Record<string, unknown> = {
    height: grid.height,
    showlegend: true,
    margin: { l: 45, r: 15, t: top, b: 30 },
    title: options.title ? { text: options.title } : undefined,
  };
  panels.forEach((p, i) => {
    const cell = grid.cells[i],
      ax = cell.ax;
    const legend = p.keys.length > 1 ? `legend${ax}` : undefined;
    layout[`xaxis${ax}`] = { domain: cell.x, anchor: `y${ax}`, tickfont: { size: 10 } };
    layout[`yaxis${ax}`] = {
      domain: cell.y,
      anchor: `x${ax}`,
      tickfont: { size: 10 },
      ...(p.yRange ? { range: p.yRange } : {}),
    };
    if (legend) layout[legend] = panelLegend(cell);
    p.keys.forEach((k, j) => {
      const s = series(history, k);
      const color = seriesColor(j); // the contract's series palette: a panel's first key is always series 0
      if (j === 0 && p.band && keyState(history, p.band).kind !== "absent") {
        const b = series(history, p.band);
        const bandAt = new Map(b.x.map((x, t) => [x, b.y[t]]));
        // Per-step bounds from the limit keys when they were logged, else the line's own range.
        const lim = p.bandLimits?.every((key) => keyState(history, key).kind !== "absent")
          ? p.bandLimits.map((key) => {
              const l = series(history, key);
              return new Map(l.x.map((x, t) => [x, l.y[t]]));
            })
          : undefined;
        const lineLo = Math.min(...s.y),
          lineHi = Math.max(...s.y);
        const clampAt = (t: number, v: number) =>
          Math.min(lim?.[1].get(s.x[t]) ?? lineHi, Math.max(lim?.[0].get(s.x[t]) ?? lineLo, v));
        const up = s.y.map((v, t) => clampAt(t, v + (bandAt.get(s.x[t]) ?? 0)));
        const lo = s.y.map((v, t) => clampAt(t, v - (bandAt.get(s.x[t]) ?? 0)));
        data.push({
          type: "scatter",
          mode: "lines",
          showlegend: false,
          x: [...s.x, ...s.x.slice().reverse()],
          y: [...up, ...lo.reverse()],
          fill: "toself",
          fillcolor: cssAlpha(palette[j % palette.length], 0.15),
          line: { width: 0 },
          hoverinfo: "skip",
          xaxis: `x${ax}`,
          yaxis: `y${ax}`,
        });
      }
      data.push({
        type: "scatter",
        mode: s.x.length > 30 ? "lines" : "lines+markers",
        name: legend ? legendLabel(p, k) : k,
        meta: k,
        hovertemplate: `${k}: %{y}<extra>step %{x}</extra>`,
        showlegend: legend !== undefined,
        ...(legend ? { legend } : {}),
        x: s.x,
        y: s.y,
        line: { color, width: 1.5 },
        marker: { size: 4 },
        xaxis: `x${ax}`,
        yaxis: `y${ax}`,
      });
    });
    for (const m of options.marks ?? [])
      shapes.push({
        type: "line",
        xref: `x${ax}`,
        yref: `y${ax} domain`,
        x0: m,
        x1: m,
        y0: 0,
        y1: 1,
        line: { color: "rgb(150,150,150)", width: 1, dash: "dot" },
      });
    annotations.push(panelTitle(cell, p.title));
  });
  layout.annotations = annotations;
  if (shapes.length) layout.shapes = shapes;
  const last = history[history.length - 1] ?? {};
  const lastOf = (k: string) => {
    const s = series(history, k);
    return s.y.length ? s.y[s.y.length - 1] : (last[k] as number);
  };
  const summary = [
    `${history.length} steps`,
    ...panels.map((p) => `${p.title}: ${p.keys.map((k) => `${k}=${num(lastOf(k))}`).join(" ")}`),
  ];
  if (constant.length) summary.push(`constant (not drawn): ${constant.join(" ")}`);
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

/**
 * The learning signal of one step's output, as liveDashboard.onStep adds it: signal/gradTokenFrac, the share of
 * response tokens whose loss gradient can be non-zero. GRPO-style steps (an advantage per row or per token): tokens
 * with Â ≠ 0 (a zero-variance group contributes none). FlowRL (update/flowLoss) and distillation (distill/loss):
 * every token, since the flow residual and the per-token divergence reach all of them.
 */
export function learningSignal(output: unknown, metrics: Record<string, unknown> = {}): Record<string, number> {
  const o = (output ?? {}) as { rollout?: { responseMask?: number[][] }; adv?: ArrayLike<number | ArrayLike<number>> };
  const mask = o.rollout?.responseMask;
  if (!Array.isArray(mask)) return {};
  if ("update/flowLoss" in metrics || "distill/loss" in metrics) return { "signal/gradTokenFrac": 1 };
  const adv = o.adv;
  if (!adv || typeof adv.length !== "number" || adv.length !== mask.length) return {};
  let live = 0,
    all = 0;
  mask.forEach((row, b) => {
    const a = adv[b];
    row.forEach((m, t) => {
      if (!m) return;
      all++;
      const v = typeof a === "number" ? a : Number((a as ArrayLike<number>)[t]);
      if (Math.abs(v) > 1e-8) live++;
    });
  });
  return all ? { "signal/gradTokenFrac": live / all } : {};
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
  /**
   * update.train's onStep hook: pushes the step's metrics with its learning signal (learningSignal of the step's
   * output: the share of tokens that carry gradient) and its alerts. Pass it as it is: `onStep: dash.onStep`.
   */
  onStep(e: { metrics: Record<string, number>; alerts?: readonly DashboardAlert[]; output?: unknown }): void;
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
  const dash: LiveDashboard = {
    history,
    alerts,
    get draws() {
      return draws;
    },
    onStep: (e) => dash.push({ ...e.metrics, ...learningSignal(e.output, e.metrics) }, e.alerts ?? []),
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
  return dash;
}
