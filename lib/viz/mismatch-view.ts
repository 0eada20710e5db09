// The train/inference mismatch, token by token: the sampler's log μ (ro.logprobs, orange) against the trainer's
// recomputed log π_old (blue), the ratio ρ_t = π_old/μ, and what each correction did to every token (truncated at C,
// weight zeroed by IcePop / OPSM, rejected from the mask), for one completion, one group, or the whole batch. Reads
// update.rolloutCorrection results only (log π_old = log μ + log ρ): nothing is recomputed here.
import { describe, fail } from "../core/errors.js";
import type { Displayable } from "../kernel/mime.js";
import { figure } from "../kernel/plotly.js";
import type { Tokenizer } from "../model/tokenizer-types.js";
import type { RolloutCorrectionResult } from "../update/rollout-correction.js";
import { absQuantile, css, NEGATIVE, POSITIVE, roles, series, seriesColor, MISSING } from "./color.js";
import { clip, num, visibleTokenText } from "./format.js";
import { panelGrid, panelLegend, panelTitle } from "./panel-grid.js";
import { tokenStrings } from "./token-adapters.js";
import { tokenView } from "./token-view.js";
import { stack, View } from "./view.js";

/** The parts of a Rollout the view reads. */
export interface MismatchRolloutLike {
  ids: readonly ArrayLike<number>[];
  responseIds: readonly ArrayLike<number>[];
  promptLength: number;
  /** The sampler's log μ [B, T]. */
  logprobs: readonly ArrayLike<number>[];
  /** Group (prompt) index per row; needed for options.group. */
  group?: readonly number[];
}

/** Corrections to show: one result, a list, or results by label. */
export type MismatchCorrections =
  RolloutCorrectionResult | readonly RolloutCorrectionResult[] | Record<string, RolloutCorrectionResult>;

/** Options of mismatchView. */
export interface MismatchViewOptions {
  /** Decodes the token ids (policy.tokenizer). Defaults to none: tokens shown as "#id". */
  tokenizer?: Tokenizer;
  /** Show one completion: the two log-probs, the ratio with the caps, and each correction's action per token. */
  row?: number;
  /** Show the completions of one group (prompt index) as token rows coloured by log ρ. */
  group?: number;
  /** Most completions drawn in group mode. Defaults to 8. */
  maxRows?: number;
  title?: string;
}

/**
 * Defaults of mismatchView.
 * @example viz.mismatchViewDefaults.maxRows // 8
 */
export const mismatchViewDefaults = { maxRows: 8 };

interface Named {
  label: string;
  r: RolloutCorrectionResult;
}

function namedOf(c: MismatchCorrections): Named[] {
  const isResult = (x: unknown): x is RolloutCorrectionResult =>
    !!x && typeof x === "object" && Array.isArray((x as RolloutCorrectionResult).weights) && "tokens" in (x as object);
  const list: Named[] = isResult(c)
    ? [{ label: c.name, r: c }]
    : Array.isArray(c)
      ? (c as RolloutCorrectionResult[]).map((r) => ({ label: r?.name, r }))
      : c && typeof c === "object"
        ? Object.entries(c as Record<string, RolloutCorrectionResult>).map(([label, r]) => ({ label, r }))
        : [];
  if (!list.length || list.some((n) => !isResult(n.r)))
    fail(
      "invalid_input",
      `viz.mismatchView: corrections must be update.rolloutCorrection results (one, a list, or by label; got ` +
        `${describe(c)}).`,
      { path: ["corrections"] },
      mismatchView,
    );
  return list;
}

/** Where a correction acted on a token: "truncated", "zeroed", "rejected" or "". */
function actionOf(r: RolloutCorrectionResult, b: number, t: number): string {
  const k = r.tokens;
  return k.rejected[b][t] ? "rejected" : k.zeroed[b][t] ? "zeroed" : k.truncated[b][t] ? "truncated" : "";
}

/** log C_hi and log C_lo of a correction's IS weights (null without IS or a custom function). */
function caps(r: RolloutCorrectionResult): { hi: number; lo: number | null } | null {
  const o = r.options;
  if (!o || o.level !== "token" || o.threshold === undefined) return null;
  const th = o.threshold;
  return typeof th === "number" ? { hi: Math.log(th), lo: null } : { hi: Math.log(th[1]), lo: Math.log(th[0]) };
}

const ACTIONS = ["truncated", "zeroed", "rejected"] as const;
const SYMBOL: Record<string, string> = { truncated: "triangle-down", zeroed: "x", rejected: "square" };

function checkRollout(ro: MismatchRolloutLike, list: Named[]): void {
  if (!ro || !Array.isArray(ro.ids) || !Array.isArray(ro.logprobs) || typeof ro.promptLength !== "number")
    fail(
      "invalid_input",
      `viz.mismatchView: expected a Rollout (ids, responseIds, promptLength, logprobs) (got ${describe(ro)}).`,
      {},
      mismatchView,
    );
  for (const { label, r } of list)
    if (r.weights.length !== ro.ids.length || r.weights[0]?.length !== ro.ids[0]?.length)
      fail(
        "shape_mismatch",
        `viz.mismatchView: the correction "${label}" is [${r.weights.length}, ${r.weights[0]?.length}] but the ` +
          `rollout is [${ro.ids.length}, ${ro.ids[0]?.length}]. Pass the rollout the correction was computed on.`,
        { path: ["corrections", label] },
        mismatchView,
      );
}

/**
 * The train/inference mismatch per token: sampler log μ vs trainer log π_old, ρ_t = π_old/μ, and the caps, masks and
 * zeroed weights of each correction. Without `row` / `group`: the batch summary (distribution of log ρ, μ vs π_old
 * per token, how many tokens each correction truncated / zeroed / rejected, the mismatch metrics).
 * @example
 * const c = update.rolloutCorrection("token-is", {oldLogp: old, rolloutLogp: ro.logprobs, mask: ro.responseMask});
 * viz.mismatchView(ro, c, {tokenizer: tok, row: 0})
 */
export function mismatchView(
  ro: MismatchRolloutLike,
  corrections: MismatchCorrections,
  options: MismatchViewOptions = {},
): Displayable {
  const list = namedOf(corrections);
  checkRollout(ro, list);
  const B = ro.ids.length;
  const { row, group } = options;
  if (row !== undefined && (!Number.isInteger(row) || row < 0 || row >= B))
    fail(
      "invalid_option",
      `viz.mismatchView: options.row is ${describe(row)} (expected an integer in [0, ${B})).`,
      { path: ["options", "row"] },
      mismatchView,
    );
  if (group !== undefined) {
    if (!Array.isArray(ro.group) || !ro.group.includes(group))
      fail(
        "invalid_option",
        `viz.mismatchView: options.group is ${describe(group)} but the rollout's groups are ` +
          `${ro.group ? `0..${Math.max(...ro.group)}` : "missing (ro.group)"}.`,
        { path: ["options", "group"] },
        mismatchView,
      );
    return groupView(ro, list, group, options);
  }
  return row !== undefined ? rowView(ro, list, row, options) : batchView(ro, list, options);
}

function tokensOf(ro: MismatchRolloutLike, b: number, tokenizer?: Tokenizer): string[] {
  const ids = Array.from(ro.responseIds[b], Number);
  return tokenizer ? tokenStrings(tokenizer, ids) : ids.map((id) => `#${id}`);
}

/** Response columns of row b with sampler / trainer log-probs and log ρ (from the first correction). */
function rowData(ro: MismatchRolloutLike, r: RolloutCorrectionResult, b: number) {
  const P = ro.promptLength,
    len = ro.responseIds[b].length;
  const cols = Array.from({ length: len }, (_, t) => P + t);
  const mu = cols.map((c) => Number(ro.logprobs[b][c]));
  const lr = cols.map((c) => r.tokens.logRatio[b][c]);
  return { cols, mu, lr, old: mu.map((m, t) => m + lr[t]) };
}

function rowView(ro: MismatchRolloutLike, list: Named[], b: number, o: MismatchViewOptions): View {
  const first = list[0].r;
  const { cols, mu, lr, old } = rowData(ro, first, b);
  const toks = tokensOf(ro, b, o.tokenizer);
  const x = toks.map((_, t) => t);
  const tick = toks.map((s, t) => `${t}:${clip(visibleTokenText(s), 6)}`);
  const grid = panelGrid(2, 1, { rowHeight: 210, top: 40 });
  const [c0, c1] = grid.cells;
  const data: Record<string, unknown>[] = [
    { type: "scatter", mode: "lines+markers", name: "sampler log μ", x, y: mu, line: { color: css(roles.sampler) } },
    {
      type: "scatter",
      mode: "lines+markers",
      name: "trainer log π_old",
      x,
      y: old,
      line: { color: css(roles.trainer) },
    },
    {
      type: "bar",
      name: "log ρ = log π_old − log μ",
      x,
      y: lr,
      xaxis: "x2",
      yaxis: "y2",
      legend: "legend2",
      marker: { color: lr.map((v) => css(v >= 0 ? POSITIVE : NEGATIVE)) },
      text: lr.map((v) => `ρ=${num(Math.exp(v))}`),
    },
  ];
  const shapes: Record<string, unknown>[] = [];
  list.forEach(({ label, r }, i) => {
    const cap = caps(r);
    if (cap)
      for (const y of [cap.hi, cap.lo])
        if (y !== null)
          shapes.push({
            type: "line",
            xref: "x2 domain",
            x0: 0,
            x1: 1,
            yref: "y2",
            y0: y,
            y1: y,
            line: { color: seriesColor(i + 2), dash: "dash", width: 1 },
          });
    for (const a of ACTIONS) {
      const ts = x.filter((t) => actionOf(r, b, cols[t]) === a);
      if (ts.length)
        data.push({
          type: "scatter",
          mode: "markers",
          name: `${label}: ${a}`,
          x: ts,
          y: ts.map((t) => lr[t]),
          xaxis: "x2",
          yaxis: "y2",
          legend: "legend2",
          marker: { symbol: SYMBOL[a], size: 10, color: seriesColor(i + 2) },
        });
    }
  });
  const fig = figure(
    {
      data,
      layout: {
        height: grid.height,
        margin: { t: 40, l: 50, r: 10, b: 60 },
        title: { text: o.title ?? `mismatch, completion ${b}`, x: 0, xanchor: "left", font: { size: 14 } },
        xaxis: { domain: c0.x, anchor: "y", tickvals: x, ticktext: tick, tickfont: { size: 9 } },
        yaxis: { domain: c0.y, anchor: "x", title: { text: "log p" } },
        xaxis2: { domain: c1.x, anchor: "y2", tickvals: x, ticktext: tick, tickfont: { size: 9 } },
        yaxis2: { domain: c1.y, anchor: "x2", title: { text: "log ρ" }, zeroline: true },
        legend: panelLegend(c0),
        legend2: panelLegend(c1),
        shapes,
        annotations: [
          panelTitle(c0, "sampler vs trainer log-prob per token"),
          panelTitle(c1, "ratio ρ = π_old/μ (dashed: caps C) and each correction's action"),
        ],
        bargap: 0.3,
      },
    },
    { summary: rowText(ro, list, b, toks, mu, old, lr) },
  );
  const values: Record<string, number[]> = { logRatio: lr, samplerLogp: mu, trainerLogp: old };
  for (const { label, r } of list) {
    values[`w ${label}`] = cols.map((c) => r.weights[b][c]);
    values[`isFlag ${label}`] = cols.map((c) => (actionOf(r, b, c) ? 1 : 0));
  }
  const maxAbs = Math.max(1e-6, ...lr.map(Math.abs));
  const tv = tokenView(
    { tokens: toks, values },
    {
      color: "logRatio",
      scale: { type: "diverging", max: maxAbs },
      overline: `isFlag ${list[0].label}`,
      title: `completion ${b}: colour = log ρ (blue: trainer below sampler), overline = ${list[0].label} acted`,
    },
  );
  return stack([fig, tv]);
}

function rowText(
  ro: MismatchRolloutLike,
  list: Named[],
  b: number,
  toks: string[],
  mu: number[],
  old: number[],
  lr: number[],
): string {
  const head = `mismatch, completion ${b}: ${toks.length} tokens, Σ log ρ = ${num(
    lr.reduce((a, v) => a + v, 0),
    4,
  )}`;
  const lines = toks.map((s, t) => {
    const acts = list.map(({ label, r }) => {
      const a = actionOf(r, b, ro.promptLength + t);
      return `${label}: w=${num(r.weights[b][ro.promptLength + t], 4)}${a ? ` (${a})` : ""}`;
    });
    return (
      `${String(t).padStart(4)} ${visibleTokenText(s).padEnd(10)} log μ=${num(mu[t], 4)} ` +
      `log π_old=${num(old[t], 4)} ρ=${num(Math.exp(lr[t]), 4)} | ${acts.join(" | ")}`
    );
  });
  return [head, ...lines].join("\n");
}

function groupView(ro: MismatchRolloutLike, list: Named[], g: number, o: MismatchViewOptions): View {
  const rows = ro.group!.map((gg, b) => (gg === g ? b : -1)).filter((b) => b >= 0);
  const shown = rows.slice(0, o.maxRows ?? mismatchViewDefaults.maxRows);
  const first = list[0];
  // one shared colour scale for the group's rows (98th percentile of |log ρ|)
  const all = shown.flatMap((b) => rowData(ro, first.r, b).lr);
  const maxAbs = Math.max(1e-6, absQuantile(all, 0.98));
  const parts: Displayable[] = [];
  const seq = shown.map((b) => {
    const { lr } = rowData(ro, first.r, b);
    return { b, sum: lr.reduce((a, v) => a + v, 0), n: lr.length };
  });
  const grid = panelGrid(1, 1, { rowHeight: 200, top: 40 });
  parts.push(
    figure(
      {
        data: [
          {
            type: "bar",
            name: "Σ_t log ρ (sequence)",
            x: seq.map((s) => `#${s.b}`),
            y: seq.map((s) => s.sum),
            marker: { color: css(series[0]) },
          },
          {
            type: "bar",
            name: "mean_t log ρ (geometric)",
            x: seq.map((s) => `#${s.b}`),
            y: seq.map((s) => s.sum / Math.max(1, s.n)),
            marker: { color: css(series[1]) },
          },
          ...list.map(({ label, r }, i) => ({
            type: "scatter",
            mode: "markers",
            name: `${label}: mean weight`,
            x: seq.map((s) => `#${s.b}`),
            y: seq.map((s) => {
              const c = rowData(ro, r, s.b).cols;
              return c.reduce((a, t) => a + r.weights[s.b][t], 0) / Math.max(1, c.length);
            }),
            marker: { symbol: "diamond", size: 9, color: seriesColor(i + 2) },
          })),
        ],
        layout: {
          height: grid.height,
          barmode: "group",
          margin: { t: 40, l: 50, r: 10, b: 40 },
          title: { text: o.title ?? `mismatch, group ${g}`, x: 0, xanchor: "left", font: { size: 14 } },
          xaxis: { domain: grid.cells[0].x, anchor: "y" },
          yaxis: { domain: grid.cells[0].y, anchor: "x", zeroline: true },
          legend: panelLegend(grid.cells[0]),
          annotations: [panelTitle(grid.cells[0], "per completion: log-ratio and each correction's mean weight")],
        },
      },
      {
        summary:
          `mismatch, group ${g}: ${rows.length} completions\n` +
          seq
            .map((s) => `#${s.b}: Σ log ρ = ${num(s.sum, 4)}, mean log ρ = ${num(s.sum / Math.max(1, s.n), 4)}`)
            .join("\n"),
      },
    ),
  );
  for (const b of shown) {
    const { cols, lr, mu, old } = rowData(ro, first.r, b);
    const values: Record<string, number[]> = { logRatio: lr, samplerLogp: mu, trainerLogp: old };
    for (const { label, r } of list) {
      values[`w ${label}`] = cols.map((c) => r.weights[b][c]);
      values[`isFlag ${label}`] = cols.map((c) => (actionOf(r, b, c) ? 1 : 0));
    }
    parts.push(
      tokenView(
        { tokens: tokensOf(ro, b, o.tokenizer), values },
        {
          color: "logRatio",
          scale: { type: "diverging", max: maxAbs },
          overline: `isFlag ${first.label}`,
          title: `#${b}`,
          legend: b === shown[shown.length - 1],
        },
      ),
    );
  }
  if (rows.length > shown.length)
    parts.push(new View(`<div>… ${rows.length - shown.length} more</div>`, `… ${rows.length - shown.length} more`));
  return stack(parts, { gap: 2 });
}

const SUMMARY_KEYS: [string, string][] = [
  ["mismatch/kl", "KL(μ‖π_old)"],
  ["mismatch/k3Kl", "K3"],
  ["mismatch/absLogpDiffMean", "mean |Δ log p|"],
  ["mismatch/absLogpDiffMax", "max |Δ log p|"],
  ["mismatch/chi2Token", "χ² token"],
  ["mismatch/isMean", "mean weight"],
  ["mismatch/isFracHigh", "frac ρ > C"],
  ["mismatch/isOobFrac", "frac outside band"],
  ["mismatch/rsMaskedFrac", "frac rejected"],
  ["mismatch/opsmFrac", "frac seqs OPSM"],
];

function batchView(ro: MismatchRolloutLike, list: Named[], o: MismatchViewOptions): Displayable {
  const first = list[0].r;
  const mu: number[] = [],
    old: number[] = [],
    lr: number[] = [];
  for (let b = 0; b < ro.ids.length; b++) {
    const d = rowData(ro, first, b);
    mu.push(...d.mu);
    old.push(...d.old);
    lr.push(...d.lr);
  }
  const count = lr.length;
  const grid = panelGrid(3, 3, { rowHeight: 260, top: 40 });
  const [a, b, c] = grid.cells;
  const frac = (r: RolloutCorrectionResult, act: string) => {
    let n = 0;
    for (let i = 0; i < ro.ids.length; i++) {
      const P = ro.promptLength;
      for (let t = 0; t < ro.responseIds[i].length; t++) if (actionOf(r, i, P + t) === act) n++;
    }
    return n / Math.max(1, count);
  };
  const lo = Math.min(...mu, ...old),
    hi = Math.max(...mu, ...old);
  const data: Record<string, unknown>[] = [
    {
      type: "histogram",
      name: "log ρ per token",
      x: lr,
      nbinsx: 30,
      marker: { color: css(roles.trainer) },
    },
    {
      type: "scatter",
      mode: "markers",
      name: "token (μ, π_old)",
      x: mu,
      y: old,
      xaxis: "x2",
      yaxis: "y2",
      legend: "legend2",
      marker: { size: 4, color: css(roles.trainer), opacity: 0.6 },
    },
    {
      type: "scatter",
      mode: "lines",
      name: "π_old = μ",
      x: [lo, hi],
      y: [lo, hi],
      xaxis: "x2",
      yaxis: "y2",
      legend: "legend2",
      line: { color: css(MISSING), dash: "dash" },
    },
    ...ACTIONS.map((act, i) => ({
      type: "bar",
      name: act,
      x: list.map((n) => n.label),
      y: list.map((n) => frac(n.r, act)),
      xaxis: "x3",
      yaxis: "y3",
      legend: "legend3",
      marker: { color: seriesColor(i + 1) },
    })),
  ];
  const rowsText = list.map(({ label, r }) =>
    [
      label.padEnd(16),
      ...SUMMARY_KEYS.filter(([k]) => r.metrics[k] !== undefined).map(([k, t]) => `${t}=${num(r.metrics[k], 4)}`),
      ...ACTIONS.map((act) => `${act}=${num(frac(r, act), 3)}`),
    ].join(" "),
  );
  const fig = figure(
    {
      data,
      layout: {
        height: grid.height,
        barmode: "group",
        margin: { t: 40, l: 50, r: 10, b: 40 },
        title: {
          text: o.title ?? `mismatch over the batch: ${count} response tokens`,
          x: 0,
          xanchor: "left",
          font: { size: 14 },
        },
        xaxis: { domain: a.x, anchor: "y", title: { text: "log ρ = log π_old − log μ" } },
        yaxis: { domain: a.y, anchor: "x", title: { text: "tokens" } },
        xaxis2: { domain: b.x, anchor: "y2", title: { text: "sampler log μ" } },
        yaxis2: { domain: b.y, anchor: "x2", title: { text: "trainer log π_old" } },
        xaxis3: { domain: c.x, anchor: "y3" },
        yaxis3: { domain: c.y, anchor: "x3", title: { text: "fraction of tokens" }, range: [0, 1] },
        legend: panelLegend(a),
        legend2: panelLegend(b),
        legend3: panelLegend(c),
        annotations: [
          panelTitle(a, "distribution of log ρ"),
          panelTitle(b, "sampler vs trainer, per token"),
          panelTitle(c, "what each correction did"),
        ],
      },
    },
    { summary: [`mismatch over the batch: ${count} response tokens`, ...rowsText].join("\n") },
  );
  return fig;
}
