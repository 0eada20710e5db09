// The logits explorer: the next-token distribution at one position (top-k bars, student vs teacher), a per-token
// quantity along a sequence (entropy, surprisal), and the k1 / k2 / k3 KL estimates next to the exact KL per token.
import { describe, fail } from "../core/errors.js";
import { escapeHtml, type Displayable } from "../kernel/mime.js";
import { figure } from "../kernel/plotly.js";
import type { Tokenizer } from "../model/tokenizer-types.js";
import { num, visibleTokenText } from "./format.js";
import { css, roles, series } from "./color.js";
import { htmlTable } from "./html-table.js";
import { tokenKl, tokenStrings, type LogprobsLike } from "./token-adapters.js";
import type { TokenCandidate } from "./topk-table.js";
import { stack, View } from "./view.js";

// Contract colours (docs/viz.md#colour-and-scale-contract): student / teacher roles, exact = black, series palette.
const BLUE = css(roles.student);
const ORANGE = css(roles.teacher);
const PALETTE = series.map(css);

/**
 * The top-k candidates at position `t` of row `i` of model.logprobs(..., {topK}) output, decoded.
 * @example const cands = viz.topkAt(lp, 0, 12, tok) // [{token: "4", logp: -0.1}, ...]
 */
export function topkAt(lp: LogprobsLike, i: number, t: number, tokenizer: Tokenizer): TokenCandidate[] {
  if (!lp?.topK)
    fail(
      "invalid_input",
      "viz.topkAt: these logprobs have no top-k; call model.logprobs(m, batch, {topK: 10}).",
      { path: ["topK"] },
      topkAt,
    );
  const ids = lp.topK.ids[i]?.[t];
  if (!ids)
    fail(
      "invalid_input",
      `viz.topkAt: no position [${i}, ${t}] (the batch is [${lp.topK.ids.length}, ${lp.topK.ids[0]?.length}]).`,
      { got: [i, t] },
      topkAt,
    );
  if (ids.length === 0)
    fail(
      "invalid_input",
      `viz.topkAt: position [${i}, ${t}] is not scored (outside the response mask); pick a response position.`,
      { got: [i, t] },
      topkAt,
    );
  const toks = tokenStrings(tokenizer, ids);
  return ids.map((_, j) => ({ token: toks[j], logp: lp.topK!.logp[i][t][j] }));
}

/** Options of distributionBars. */
export interface DistributionBarsOptions {
  /** A second distribution at the same position (e.g. the teacher's), drawn as a second bar per token. */
  other?: readonly TokenCandidate[];
  /** Names of the two distributions. Defaults to ["student", "teacher"]. */
  labels?: [string, string];
  /** The token actually sampled here (marked with ◀). */
  target?: string;
  title?: string;
  /** Most tokens shown. Defaults to 12. */
  k?: number;
}

/**
 * The next-token distribution at one position as horizontal probability bars; with `other`, student vs teacher side
 * by side over the union of both top-k lists (a token missing from one list shows as 0 there, "(not in top-k)").
 * @example viz.distributionBars(viz.topkAt(lpS, 0, 7, tok), {other: viz.topkAt(lpT, 0, 7, tok), target: "4"})
 */
export function distributionBars(first: readonly TokenCandidate[], options: DistributionBarsOptions = {}): Displayable {
  if (
    !Array.isArray(first) ||
    first.length === 0 ||
    first.some((c) => typeof c?.token !== "string" || !Number.isFinite(c?.logp))
  )
    fail(
      "invalid_input",
      `viz.distributionBars: give a non-empty list of {token, logp} (got ${describe(first)}). viz.topkAt(lp, ` +
        `row, position, tok) makes one.`,
      {},
      distributionBars,
    );
  const [la, lb] = options.labels ?? ["student", "teacher"];
  const k = options.k ?? 12;
  const pa = new Map(first.map((c) => [c.token, Math.exp(c.logp)]));
  const pb = new Map((options.other ?? []).map((c) => [c.token, Math.exp(c.logp)]));
  const tokens = [...new Set([...first.map((c) => c.token), ...(options.other ?? []).map((c) => c.token)])]
    .sort((x, y) => Math.max(pa.get(y) ?? 0, pb.get(y) ?? 0) - Math.max(pa.get(x) ?? 0, pb.get(x) ?? 0))
    .slice(0, k);
  const label = (tok: string) =>
    `${JSON.stringify(visibleTokenText(tok)).slice(1, -1)}${tok === options.target ? " ◀" : ""}`;
  const y = tokens.map(label).reverse();
  const bar = (name: string, p: Map<string, number>, color: string) => ({
    type: "bar",
    orientation: "h",
    name,
    y,
    x: tokens.map((t) => p.get(t) ?? 0).reverse(),
    marker: { color },
    text: tokens.map((t) => (p.has(t) ? num(p.get(t)!, 3) : "not in top-k")).reverse(),
    textposition: "outside",
    cliponaxis: false,
  });
  const data = [bar(la, pa, BLUE), ...(options.other ? [bar(lb, pb, ORANGE)] : [])];
  const lines = tokens.map(
    (t) =>
      `${label(t)}: ${la} p=${pa.has(t) ? num(pa.get(t)!, 3) : "—"}` +
      `${options.other ? ` ${lb} p=${pb.has(t) ? num(pb.get(t)!, 3) : "—"}` : ""}`,
  );
  return figure(
    {
      data,
      layout: {
        title: options.title ? { text: options.title } : undefined,
        barmode: "group",
        height: Math.max(220, 70 + tokens.length * (options.other ? 34 : 22)),
        margin: { l: 80, r: 60, t: options.title ? 40 : 10, b: 40 },
        xaxis: { title: { text: "probability" }, range: [0, 1.15] },
        // Tokens like "7" must stay categories (plotly would read them as numbers and place bars at y = 7).
        yaxis: { type: "category", automargin: true },
        showlegend: !!options.other,
        legend: { orientation: "h", y: -0.2 },
      },
    },
    { summary: `${options.title ? options.title + "\n" : ""}${lines.join("\n")}` },
  );
}

/**
 * A per-token quantity along a sequence as lines (entropy by default; e.g. student and teacher entropy, or
 * surprisal −logp), with the token under each point on hover and as tick labels for short sequences.
 * @example viz.entropyLine(series.tokens, {student: hS, teacher: hT}, {title: "entropy along the answer"})
 */
export function entropyLine(
  tokens: readonly string[],
  series: Record<string, ArrayLike<number>>,
  options: {
    title?: string;
    y?: string;
    /** x-axis title. Defaults to "token". */
    x?: string;
    mask?: ArrayLike<number>;
    height?: number;
  } = {},
): Displayable {
  if (!Array.isArray(tokens))
    fail(
      "invalid_input",
      `viz.entropyLine: tokens must be an array of strings (got ${describe(tokens)}).`,
      { path: ["tokens"] },
      entropyLine,
    );
  const names = Object.keys(series ?? {});
  if (names.length === 0)
    fail(
      "invalid_input",
      "viz.entropyLine: give at least one series, e.g. {entropy: values}.",
      { path: ["series"] },
      entropyLine,
    );
  for (const n of names)
    if (!series[n] || series[n].length !== tokens.length)
      fail(
        "shape_mismatch",
        `viz.entropyLine: series.${n} has ${series[n]?.length ?? describe(series[n])} entries but there ` +
          `are ${tokens.length} tokens.`,
        { path: ["series", n] },
        entropyLine,
      );
  const keep = tokens.map((_, t) => t).filter((t) => !options.mask || options.mask[t] !== 0);
  const x = keep;
  const hover = keep.map((t) => `#${t} ${JSON.stringify(tokens[t])}`);
  const data = names.map((n, j) => ({
    type: "scatter",
    mode: keep.length > 60 ? "lines" : "lines+markers",
    name: n,
    x,
    y: keep.map((t) => Number(series[n][t])),
    text: hover,
    hovertemplate: "%{text}<br>" + n + "=%{y:.3f}<extra></extra>",
    line: { color: PALETTE[j % PALETTE.length] },
  }));
  const ticks = tokenTicks(keep, tokens);
  const stats = names.map((n) => {
    const v = keep.map((t) => Number(series[n][t])).filter(Number.isFinite);
    const mean = v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
    const at = keep[v.indexOf(Math.max(...v))];
    return `${n}: mean ${num(mean)} max ${num(Math.max(...v))} at #${at} ${JSON.stringify(tokens[at] ?? "")}`;
  });
  return figure(
    {
      data,
      layout: {
        title: options.title ? { text: options.title } : undefined,
        height: options.height ?? 280,
        margin: { l: 55, r: 20, t: options.title ? 40 : 10, b: 45 },
        xaxis: { title: { text: options.x ?? "token" }, ...ticks },
        yaxis: { title: { text: options.y ?? "entropy (nats)" }, rangemode: "tozero" },
        showlegend: names.length > 1,
      },
    },
    { summary: stats.join("\n") },
  );
}

/** Inputs of klEstimatorView: one sequence's tokens and per-token numbers. */
export interface KlEstimatorInputs {
  tokens: readonly string[];
  /** log π(y_t) under the policy the tokens were sampled from. */
  logp: ArrayLike<number>;
  /** log π_ref(y_t) (the reference or teacher). */
  refLogp: ArrayLike<number>;
  /** Exact full-vocabulary KL(π ‖ π_ref) at each position (update.exactKl). */
  exact: ArrayLike<number>;
  /** 1 on the tokens to show (the response). Defaults to all. */
  mask?: ArrayLike<number>;
}

/** Mean, standard deviation and bias (mean − exact mean) of each estimator over a set of tokens. */
export interface KlEstimatorStats {
  n: number;
  mean: { k1: number; k2: number; k3: number; exact: number };
  std: { k1: number; k2: number; k3: number; exact: number };
  /** Mean minus the exact mean. */
  bias: { k1: number; k2: number; k3: number };
  /** Root mean squared error against the exact KL per token. */
  rmse: { k1: number; k2: number; k3: number };
}

/**
 * k1 / k2 / k3 statistics against the exact KL over every masked token of a batch ([B, T] matrices or one row):
 * mean, std, bias and per-token RMSE. k1 and k3 are unbiased (their mean tends to the exact mean), k2 is not; verl's
 * clamp of k3 at 10 nats costs a little bias when the models are far apart (`clamp: false` reports the raw k3).
 * @example viz.klEstimatorStats({logp: pol.logp, refLogp: ref.logp, exact, mask: ro.responseMask}).bias.k3
 */
export function klEstimatorStats(
  inputs: {
    logp: readonly ArrayLike<number>[] | ArrayLike<number>;
    refLogp: readonly ArrayLike<number>[] | ArrayLike<number>;
    exact: readonly ArrayLike<number>[] | ArrayLike<number>;
    mask?: readonly ArrayLike<number>[] | ArrayLike<number>;
  },
  options: { clamp?: boolean } = {},
): KlEstimatorStats {
  const { k1, k2, k3 } = tokenKl(
    { logp: inputs.logp as ArrayLike<number>, refLogp: inputs.refLogp as ArrayLike<number> },
    options,
  );
  const rows = (m: unknown) =>
    Array.isArray(m) && m.length && typeof m[0] !== "number" ? (m as ArrayLike<number>[]) : [m as ArrayLike<number>];
  const ex = rows(inputs.exact);
  const mk = inputs.mask ? rows(inputs.mask) : null;
  if (ex.length !== k1.length || ex.some((r, b) => r.length !== k1[b].length))
    fail(
      "shape_mismatch",
      `viz.klEstimatorStats: exact must have logp's shape [${k1.length}, ${k1[0]?.length}] ` +
        `(got ${describe(inputs.exact)}). Align exactKl's [B, T-1] output to the tokens first.`,
      { path: ["exact"] },
      klEstimatorStats,
    );
  const acc = { k1: [] as number[], k2: [] as number[], k3: [] as number[], exact: [] as number[] };
  k1.forEach((r, b) =>
    r.forEach((_, t) => {
      if (mk && !mk[b]?.[t]) return;
      acc.k1.push(k1[b][t]);
      acc.k2.push(k2[b][t]);
      acc.k3.push(k3[b][t]);
      acc.exact.push(Number(ex[b][t]));
    }),
  );
  const n = acc.exact.length;
  if (n === 0)
    fail("invalid_input", "viz.klEstimatorStats: the mask selects no tokens.", { path: ["mask"] }, klEstimatorStats);
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const std = (v: number[]) => {
    const m = mean(v);
    return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
  };
  const rmse = (v: number[]) => Math.sqrt(v.reduce((a, x, i) => a + (x - acc.exact[i]) ** 2, 0) / v.length);
  const m = { k1: mean(acc.k1), k2: mean(acc.k2), k3: mean(acc.k3), exact: mean(acc.exact) };
  return {
    n,
    mean: m,
    std: { k1: std(acc.k1), k2: std(acc.k2), k3: std(acc.k3), exact: std(acc.exact) },
    bias: { k1: m.k1 - m.exact, k2: m.k2 - m.exact, k3: m.k3 - m.exact },
    rmse: { k1: rmse(acc.k1), k2: rmse(acc.k2), k3: rmse(acc.k3) },
  };
}

/** Token strings as x tick labels when they fit (≤ 24 tokens; slanted above 12), else plain positions. */
function tokenTicks(keep: readonly number[], tokens: readonly string[]): Record<string, unknown> {
  if (keep.length > 24) return {};
  return {
    tickmode: "array",
    tickvals: [...keep],
    ticktext: keep.map((t) => (visibleTokenText(tokens[t]) || "∅").slice(0, 8)),
    tickangle: keep.length > 12 ? -45 : 0,
  };
}

/**
 * k1 / k2 / k3 estimates next to the exact KL, token by token along one sequence: a line chart and a table (each
 * token's logp, refLogp, the three estimates and the exact KL), with the means in the last row.
 * @example
 * viz.klEstimatorView({tokens, logp: pol.logp[0], refLogp: ref.logp[0], exact: exact[0],
 *   mask: ro.responseMask[0]})
 */
export function klEstimatorView(
  inputs: KlEstimatorInputs,
  options: { title?: string } = {},
): View & { stats: KlEstimatorStats } {
  const { tokens, logp, refLogp, exact, mask } = inputs ?? ({} as KlEstimatorInputs);
  if (!Array.isArray(tokens))
    fail(
      "invalid_input",
      `viz.klEstimatorView: inputs.tokens must be an array of strings (got ${describe(tokens)}).`,
      { path: ["tokens"] },
      klEstimatorView,
    );
  for (const [k, v] of [
    ["logp", logp],
    ["refLogp", refLogp],
    ["exact", exact],
    ["mask", mask],
  ] as const)
    if ((k !== "mask" || v !== undefined) && (!v || v.length !== tokens.length))
      fail(
        "shape_mismatch",
        `viz.klEstimatorView: inputs.${k} has ${v?.length ?? describe(v)} entries but there ` +
          `are ${tokens.length} tokens; pass one row (e.g. lp.logp[0]).`,
        { path: [k] },
        klEstimatorView,
      );
  const keep = tokens.map((_, t) => t).filter((t) => !mask || mask[t] !== 0);
  if (keep.length === 0)
    fail("invalid_input", "viz.klEstimatorView: the mask selects no tokens.", { path: ["mask"] }, klEstimatorView);
  const sel = (v: ArrayLike<number>) => keep.map((t) => Number(v[t]));
  const lp = sel(logp),
    rp = sel(refLogp),
    ex = sel(exact);
  const { k1, k2, k3 } = tokenKl({ logp: lp, refLogp: rp });
  const stats = klEstimatorStats({ logp: lp, refLogp: rp, exact: ex });
  const toks = keep.map((t) => tokens[t]);
  const hover = keep.map((t) => `#${t} ${JSON.stringify(tokens[t])}`);
  const line = (name: string, y: number[], color: string, dash = "solid", width = 1.5) => ({
    type: "scatter",
    mode: keep.length > 60 ? "lines" : "lines+markers",
    name,
    x: keep,
    y,
    text: hover,
    line: { color, dash, width },
    hovertemplate: "%{text}<br>" + name + "=%{y:.4f}<extra></extra>",
  });
  const ticks = tokenTicks(keep, tokens);
  void toks;
  // k2 = ½x² grows quadratically and would set the y axis for all four lines, hiding the k1 vs k3 comparison the
  // chart exists for: it gets its own panel below (with the exact KL repeated for reference).
  const k2Panel = (l: Record<string, unknown>) => ({ ...l, xaxis: "x2", yaxis: "y2", showlegend: false });
  const chart = figure(
    {
      data: [
        line("exact KL", ex, css(roles.exact), "solid", 3),
        line("k1 = log π/π_ref", k1[0], PALETTE[0], "dot"),
        line("k3 = r − 1 − log r", k3[0], PALETTE[2]),
        k2Panel(line("exact KL", ex, css(roles.exact), "solid", 3)),
        { ...k2Panel(line("k2 = ½(log π/π_ref)² (panel below)", k2[0], PALETTE[1], "dash")), showlegend: true },
      ],
      layout: {
        title: { text: options.title ?? "KL(π ‖ π_ref) per token: estimators vs exact" },
        height: 480,
        margin: { l: 60, r: 20, t: 70, b: 50 },
        xaxis: { domain: [0, 1], anchor: "y", showticklabels: false, matches: "x2" },
        yaxis: { domain: [0.4, 1], title: { text: "nats (exact, k1, k3)" } },
        xaxis2: { domain: [0, 1], anchor: "y2", title: { text: "token" }, ...ticks },
        yaxis2: { domain: [0, 0.3], title: { text: "nats (k2)" } },
        legend: { orientation: "h", x: 0, y: 1.02, xanchor: "left", yanchor: "bottom" },
        annotations: [
          {
            text: "k2 = ½(log π/π_ref)²: biased, on its own scale",
            xref: "x2 domain",
            yref: "y2 domain",
            x: 0,
            y: 1,
            xanchor: "left",
            yanchor: "bottom",
            showarrow: false,
            font: { size: 11 },
          },
        ],
      },
    },
    {
      summary:
        `means over ${stats.n} tokens: exact ${num(stats.mean.exact, 4)}, k1 ${num(stats.mean.k1, 4)}, ` +
        `k2 ${num(stats.mean.k2, 4)}, k3 ${num(stats.mean.k3, 4)}`,
    },
  );
  const rows = keep.map((t, j) => ({
    "#": t,
    token: JSON.stringify(tokens[t]),
    logp: lp[j],
    refLogp: rp[j],
    k1: k1[0][j],
    k2: k2[0][j],
    k3: k3[0][j],
    exact: ex[j],
  }));
  rows.push({
    "#": NaN,
    token: "mean",
    logp: NaN,
    refLogp: NaN,
    k1: stats.mean.k1,
    k2: stats.mean.k2,
    k3: stats.mean.k3,
    exact: stats.mean.exact,
  });
  const table = htmlTable(rows, {
    columns: ["#", "token", "logp", "refLogp", "k1", "k2", "k3", "exact"],
    digits: 4,
    maxRows: 80,
  });
  const note =
    `<div style="font-size:12px;color:rgb(60,60,60);margin:4px 0">On one sampled token the estimators scatter ` +
    `around the exact value; k1 can go negative, k3 never does. ` +
    `Their means over many tokens are what match: k1 and k3 are unbiased, k2 is not (here: bias ` +
    `k1 ${escapeHtml(num(stats.bias.k1, 3))}, k2 ${escapeHtml(num(stats.bias.k2, 3))}, ` +
    `k3 ${escapeHtml(num(stats.bias.k3, 3))}).</div>`;
  const view = stack([chart, new View(note + table.html, table.text)]);
  return Object.assign(view, { stats });
}

/**
 * A table of klEstimatorStats (one row per estimator: mean, std, bias, RMSE vs the exact per-token KL).
 * @example viz.klStatsTable(viz.klEstimatorStats({logp, refLogp, exact, mask}))
 */
export function klStatsTable(stats: KlEstimatorStats, options: { title?: string } = {}): View {
  if (!stats?.mean)
    fail(
      "invalid_input",
      `viz.klStatsTable: expected the result of viz.klEstimatorStats (got ${describe(stats)}).`,
      {},
      klStatsTable,
    );
  const rows = (["exact", "k1", "k2", "k3"] as const).map((k) => ({
    estimator: k,
    mean: stats.mean[k],
    std: stats.std[k],
    bias: k === "exact" ? 0 : stats.bias[k],
    rmse: k === "exact" ? 0 : stats.rmse[k],
  }));
  const t = htmlTable(rows, { digits: 4, title: options.title ?? `KL estimators over ${stats.n} tokens` });
  return new View(t.html, t.text);
}
