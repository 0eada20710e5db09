// Views of update.compareLosses (the loss lab) and update.replay (a step re-run): per-variant numbers as bars and a
// table, then the same completions as token views under every variant (how hard each token is pushed, and how its
// logprob actually moved), on one shared colour scale so the variants compare by eye.
import { describe, fail } from "../core/errors.js";
import { escapeHtml, type Displayable } from "../kernel/mime.js";
import { figure } from "../kernel/plotly.js";
import type { Tokenizer } from "../model/tokenizer-types.js";
import { COUNT, NEGATIVE, POSITIVE, css, seriesColor } from "./color.js";
import { num } from "./format.js";
import { htmlTable } from "./html-table.js";
import { histogram } from "./histogram.js";
import { labTokens, maskedRow, type LabVariantLike, type TokenBatch } from "./token-adapters.js";
import { tokenView } from "./token-view.js";
import { stack, View } from "./view.js";

/** The loss-lab result as far as the view reads it (update.compareLosses returns this). */
export interface LossLabLike {
  variants: readonly (LabVariantLike & {
    loss: number;
    gradNorm: number;
    meanAbsChange: number;
    meanChangePosAdv: number;
    meanChangeNegAdv: number;
    metrics?: Record<string, number>;
  })[];
}

/** The batch given to compareLosses, as far as the view reads it. */
export interface LabBatchLike extends TokenBatch {
  responseMask?: readonly ArrayLike<number>[] | unknown | null;
  adv?: ArrayLike<number> | readonly ArrayLike<number>[];
}

/** Options of lossLabView. */
export interface LossLabViewOptions {
  /** Decodes the token ids. */
  tokenizer: Tokenizer;
  /**
   * Completions (batch rows) drawn as token views.
   * Defaults to the first positive- and the first negative-advantage row.
   */
  rows?: number[];
  /**
   * Which token series to draw per variant: "push" (−∂loss/∂log π), "dlogp" (change after one step). Defaults to both.
   */
  show?: ("push" | "dlogp")[];
  /**
   * The variants whose values set the shared colour scales and the bars' y ranges (the others saturate past them; a
   * bar past its range is drawn to the edge, its label marked ▲ / ▼): keep a variant on another scale, e.g. SFT's
   * push on every token, from washing out the RL variants. Defaults to every variant.
   */
  scaleFrom?: string[];
  /** Pinned scale maxima (|push|, |Δlogp|) instead of the 98th percentile of |value| over `scaleFrom`. */
  scale?: { push?: number; dlogp?: number };
  /**
   * Completions (batch rows, e.g. a short and a long one with the same advantage) compared in a length panel: per
   * variant, the mean push per token and the total push on the completion (summed over its tokens). Shows the length
   * bias of an aggregation at a glance. Defaults to none.
   */
  lengthRows?: number[];
  title?: string;
}

function advOf(batch: LabBatchLike, b: number): number {
  const a = batch.adv as ArrayLike<number> | readonly ArrayLike<number>[] | undefined;
  if (!a) return NaN;
  const x = a[b] as number | ArrayLike<number>;
  return typeof x === "number" ? x : Array.from(x).reduce((s, v) => s + v, 0);
}

/**
 * A shared colour scale: the q-quantile of |value| over every nonzero entry (one outlier token, e.g. a KL term that
 * exploded, would otherwise wash every other token out to white); larger values saturate.
 */
function scaleOf(mats: readonly (readonly ArrayLike<number>[])[], q = 0.98): number {
  const v: number[] = [];
  for (const mat of mats)
    for (const r of mat)
      for (let t = 0; t < r.length; t++) if (Number.isFinite(r[t]) && r[t] !== 0) v.push(Math.abs(r[t]));
  if (!v.length) return 1e-12;
  v.sort((a, b) => a - b);
  return Math.max(1e-12, v[Math.min(v.length - 1, Math.floor(q * (v.length - 1)))]);
}

/**
 * The loss lab: grad norm and mean logprob change on positive / negative-advantage completions per variant (bars),
 * the lab table, and for chosen completions one token line per variant coloured by push (−∂loss/∂log π: red = the
 * update raises the token) and by the logprob change one step causes, on shared scales.
 * @example display(viz.lossLabView(lab, batch, {tokenizer: tok, rows: [0, 5]}))
 */
export function lossLabView(lab: LossLabLike, batch: LabBatchLike, options: LossLabViewOptions): Displayable {
  if (!lab || !Array.isArray(lab.variants) || lab.variants.length === 0)
    fail(
      "invalid_input",
      `viz.lossLabView: expected the result of update.compareLosses (got ${describe(lab)}).`,
      {},
      lossLabView,
    );
  const ids = batch?.ids as readonly ArrayLike<number>[];
  if (!Array.isArray(ids))
    fail(
      "invalid_input",
      `viz.lossLabView: batch.ids must be the [B, T] rows given to compareLosses (got ${describe(batch?.ids)}).`,
      { path: ["batch", "ids"] },
      lossLabView,
    );
  const B = ids.length;
  const show = options?.show ?? ["push", "dlogp"];
  let rows = options?.rows;
  if (!rows) {
    const pos = ids.findIndex((_, b) => advOf(batch, b) > 0);
    const neg = ids.findIndex((_, b) => advOf(batch, b) < 0);
    rows = [...new Set([pos, neg].filter((r) => r >= 0))];
    if (!rows.length) rows = [0];
  }
  for (const r of rows)
    if (!Number.isInteger(r) || r < 0 || r >= B)
      fail(
        "invalid_option",
        `viz.lossLabView: options.rows has ${describe(r)} (expected row indices in [0, ${B})).`,
        { path: ["options", "rows"] },
        lossLabView,
      );
  const vs = lab.variants;
  const names = vs.map((v) => v.name);
  const ax = (i: number) => (i === 0 ? "" : String(i + 1));
  const scaleFrom = options?.scaleFrom;
  if (scaleFrom !== undefined && (!Array.isArray(scaleFrom) || !scaleFrom.some((n) => names.includes(n))))
    fail(
      "invalid_option",
      `viz.lossLabView: options.scaleFrom must name at least one variant (got ${describe(scaleFrom)}; variants: ` +
        `${names.join(", ")}).`,
      { path: ["options", "scaleFrom"] },
      lossLabView,
    );
  for (const k of ["push", "dlogp"] as const) {
    const x = options?.scale?.[k];
    if (x !== undefined && !(typeof x === "number" && x > 0 && Number.isFinite(x)))
      fail(
        "invalid_option",
        `viz.lossLabView: options.scale.${k} must be a positive number (got ${describe(x)}).`,
        { path: ["options", "scale", k] },
        lossLabView,
      );
  }
  const panels: [string, number[]][] = [
    ["grad norm", vs.map((v) => v.gradNorm)],
    // no "<" in titles: plotly and the static SVG read annotation text as HTML
    ["mean Δlogp, positive A", vs.map((v) => v.meanChangePosAdv)],
    ["mean Δlogp, negative A", vs.map((v) => v.meanChangeNegAdv)],
  ];
  // With scaleFrom, each panel's y range is set by those variants; a bar beyond it is drawn to the edge and its label
  // keeps the true value with ▲ / ▼ (one outlier, e.g. DRO's large step, would otherwise flatten the rest).
  const shown = panels.map(([, y]) => {
    if (!scaleFrom) return { y, text: y.map((v) => num(v, 3)), range: undefined };
    const ref = y.filter((_, j) => scaleFrom.includes(names[j]));
    const lo = Math.min(0, ...ref),
      hi = Math.max(0, ...ref);
    const pad = 0.15 * (hi - lo || Math.abs(hi) || 1);
    const [a, b] = [lo - pad, hi + pad];
    const capped = y.map((v) => Math.max(a + 0.1 * pad, Math.min(b - 0.1 * pad, v)));
    const text = y.map((v, j) => num(v, 3) + (v > capped[j] ? " ▲" : v < capped[j] ? " ▼" : ""));
    return { y: capped, text, range: [a, b] };
  });
  const yAxes = Object.fromEntries(shown.flatMap((p, i) => (p.range ? [[`yaxis${ax(i)}`, { range: p.range }]] : [])));
  const bars = figure(
    {
      data: panels.map(([title, y], i) => ({
        type: "bar",
        name: title,
        x: names,
        y: shown[i].y,
        text: shown[i].text,
        textposition: "auto",
        xaxis: `x${ax(i)}`,
        yaxis: `y${ax(i)}`,
        // the colour contract: grad norm is a magnitude (neutral), Δlogp a direction (red = up, blue = down)
        marker: { color: i === 0 ? css(COUNT) : y.map((v) => css(v >= 0 ? POSITIVE : NEGATIVE)) },
      })),
      layout: {
        title: { text: options?.title ?? "Loss lab: what one step of each variant would do" },
        height: 320,
        showlegend: false,
        grid: { rows: 1, columns: 3, pattern: "independent", xgap: 0.1 },
        ...yAxes,
        margin: { l: 45, r: 15, t: 60, b: 90 },
        annotations: panels.map(([title], i) => ({
          text: `<b>${title}</b>`,
          xref: `x${ax(i)} domain`,
          yref: `y${ax(i)} domain`,
          x: 0.5,
          y: 1.12,
          showarrow: false,
        })),
      },
    },
    {
      summary: vs
        .map(
          (v) =>
            `${v.name}: loss=${num(v.loss, 4)} gradNorm=${num(v.gradNorm, 4)} ` +
            `Δlogp(A>0)=${num(v.meanChangePosAdv, 3)} Δlogp(A<0)=${num(v.meanChangeNegAdv, 3)}`,
        )
        .join("\n"),
    },
  );
  const table = htmlTable(
    vs.map((v) => ({
      variant: v.name,
      loss: v.loss,
      gradNorm: v.gradNorm,
      "mean |Δlogp|": v.meanAbsChange,
      "Δlogp A>0": v.meanChangePosAdv,
      "Δlogp A<0": v.meanChangeNegAdv,
      clipFrac: v.metrics?.["update/clipFrac"] ?? NaN,
    })),
    { digits: 4 },
  );
  const scaled = vs.filter((v) => !scaleFrom || scaleFrom.includes(v.name));
  const pushMax = options?.scale?.push ?? scaleOf(scaled.map((v) => v.tokenWeights));
  const dMax = options?.scale?.dlogp ?? scaleOf(scaled.map((v) => v.logpChange));
  const blocks: Displayable[] = [bars];
  if (options?.lengthRows?.length) blocks.push(lengthPanel(vs, batch, options.lengthRows, B));
  blocks.push(new View(table.html, table.text));
  for (const r of rows) {
    const a = advOf(batch, r);
    const parts: string[] = [];
    const texts: string[] = [];
    // A table, not flex boxes: table layout survives every sanitizer (flex may be stripped), and long completions
    // wrap inside their cell.
    const td = (html: string, extra = "") =>
      `<td style="vertical-align:top;padding:0 6px 0 0;border-top:1px solid rgb(235,235,235);${extra}">${html}</td>`;
    for (const [j, v] of vs.entries()) {
      const series = labTokens(batch as LabBatchLike & { responseMask?: readonly ArrayLike<number>[] }, v, r, {
        tokenizer: options.tokenizer,
      });
      const last = j === vs.length - 1;
      // Clipped tokens (the variant's own flags) are overlined.
      const overline = series.values?.clipped ? "clipped" : undefined;
      const views = show.map((what) =>
        tokenView(series, {
          color: what,
          overline,
          scale: { type: "diverging", max: what === "push" ? pushMax : dMax },
          legend: last,
        }),
      );
      const nameCell = `<div style="font-size:12px;font-family:monospace;padding-top:6px">${escapeHtml(v.name)}</div>`;
      const cellWidth = `width:${Math.floor(90 / show.length)}%`;
      parts.push(`<tr>${td(nameCell, "width:140px")}${views.map((tv) => td(tv.html, cellWidth)).join("")}</tr>`);
      for (const what of show) {
        const values = series.tokens.map((tok, t) => `${JSON.stringify(tok)}=${num(series.values![what][t], 3)}`);
        texts.push(`${v.name} ${what}: ${values.join(" ")}`);
      }
    }
    const th = (text: string) => `<th style="text-align:left;font-size:11px">${text}</th>`;
    const headerLabel = (w: string) => (w === "push" ? "push = −∂loss/∂log π" : "Δlogp after one step");
    parts.unshift(`<tr>${th("variant")}${show.map((w) => th(headerLabel(w))).join("")}</tr>`);
    const head =
      `<div style="font-weight:bold;font-size:13px;margin-top:6px">completion #${r} · advantage ${num(a, 3)}</div>` +
      `<div style="font-size:11px;color:rgb(90,90,90)">red: the step raises the token, blue: lowers it; ` +
      `shared scales across variants (push ±${num(pushMax, 3)}, Δlogp ±${num(dMax, 3)}` +
      `${scaleFrom ? `, set by ${scaleFrom.filter((n) => names.includes(n)).join(", ")}` : ""}; ` +
      `larger values saturate)</div>`;
    blocks.push(
      new View(
        `<div class="cellrl-lab-row tex2jax_ignore">${head}<table ` +
          `style="border-collapse:collapse;width:100%">${parts.join("")}</table></div>`,
        `completion #${r} (advantage ${num(a, 3)})\n${texts.join("\n")}`,
      ),
    );
  }
  return stack(blocks);
}

/** The length panel: mean push per token and total push per completion, for each chosen row, per variant. */
function lengthPanel(vs: LossLabLike["variants"], batch: LabBatchLike, rows: number[], B: number): Displayable {
  for (const r of rows)
    if (!Number.isInteger(r) || r < 0 || r >= B)
      fail(
        "invalid_option",
        `viz.lossLabView: options.lengthRows has ${describe(r)} (expected row indices in [0, ${B})).`,
        { path: ["options", "lengthRows"] },
        lossLabView,
      );
  const names = vs.map((v) => v.name);
  const stats = (v: LossLabLike["variants"][number], r: number) => {
    // the push is −∂loss/∂log π; a token is in the completion where the lab reports a weight or the mask says so
    const w = v.tokenWeights[r];
    const m = (batch.responseMask as readonly ArrayLike<number>[] | undefined)?.[r];
    let n = 0,
      sum = 0;
    for (let t = 0; t < w.length; t++)
      if (m ? m[t] : w[t] !== 0) {
        n++;
        sum -= w[t];
      }
    return { n, sum, mean: n ? sum / n : 0 };
  };
  const data: Record<string, unknown>[] = [];
  rows.forEach((r, j) => {
    const st = vs.map((v) => stats(v, r));
    const label = `#${r} (${st[0].n} tokens, A = ${num(advOf(batch, r), 3)})`;
    for (const [i, key] of (["mean", "sum"] as const).entries())
      data.push({
        type: "bar",
        name: label,
        legendgroup: label,
        showlegend: i === 0,
        x: names,
        y: st.map((x) => x[key]),
        xaxis: i === 0 ? "x" : "x2",
        yaxis: i === 0 ? "y" : "y2",
        marker: { color: seriesColor(j) },
      });
  });
  const summary = rows
    .map((r) => {
      const parts = vs.map((v) => {
        const st = stats(v, r);
        return `${v.name} per-token ${num(st.mean, 3)} total ${num(st.sum, 3)}`;
      });
      return `completion #${r} (${stats(vs[0], r).n} tokens): ${parts.join("; ")}`;
    })
    .join("\n");
  return figure(
    {
      data,
      layout: {
        title: { text: "Length: push per token and per completion" },
        height: 300,
        barmode: "group",
        grid: { rows: 1, columns: 2, pattern: "independent", xgap: 0.12 },
        margin: { l: 50, r: 15, t: 70, b: 90 },
        legend: { orientation: "h", y: -0.3 },
        annotations: ["push per token (mean)", "push on the completion (sum)"].map((text, i) => ({
          text: `<b>${text}</b>`,
          xref: `x${i ? 2 : ""} domain`,
          yref: `y${i ? 2 : ""} domain`,
          x: 0.5,
          y: 1.12,
          showarrow: false,
        })),
      },
    },
    { summary },
  );
}

/** update.replay's result as far as the view reads it. */
export interface ReplayLike {
  before: readonly ArrayLike<number>[];
  after: readonly ArrayLike<number>[];
  delta: readonly ArrayLike<number>[];
  meanAbsDelta: number;
  maxAbsDelta: { value: number; sample: number; token: number };
}

/**
 * A replayed step: how far log π moved on each token of the same completions (histogram of Δ over the response
 * tokens and token views coloured by Δ, with before / after in the tooltip).
 * @example display(viz.replayView(rep, rep.output.rollout, {tokenizer: tok}))
 */
export function replayView(
  rep: ReplayLike,
  batch: LabBatchLike,
  options: { tokenizer: Tokenizer; rows?: number[]; title?: string },
): Displayable {
  if (!rep || !Array.isArray(rep.delta) || !Array.isArray(rep.before))
    fail(
      "invalid_input",
      `viz.replayView: expected the result of update.replay (got ${describe(rep)}).`,
      {},
      replayView,
    );
  const ids = batch?.ids as readonly ArrayLike<number>[];
  if (!Array.isArray(ids) || ids.length !== rep.delta.length)
    fail(
      "shape_mismatch",
      `viz.replayView: batch.ids has ${describe(ids)} rows but the replay scored ${rep.delta.length}; pass ` +
        `the batch it scored (options.scoreBatch, or the snapshot's batch).`,
      { path: ["batch", "ids"] },
      replayView,
    );
  const resp = (batch.responseMask ?? null) as readonly ArrayLike<number>[] | null;
  const deltas: number[] = [];
  rep.delta.forEach((r, b) => {
    for (let t = 0; t < r.length; t++) if (!resp || resp[b][t]) deltas.push(r[t]);
  });
  const rows = options?.rows ?? [...new Set([rep.maxAbsDelta.sample >= 0 ? rep.maxAbsDelta.sample : 0, 0])];
  for (const r of rows)
    if (!Number.isInteger(r) || r < 0 || r >= ids.length)
      fail(
        "invalid_option",
        `viz.replayView: options.rows has ${describe(r)} (expected row indices in [0, ${ids.length})).`,
        { path: ["options", "rows"] },
        replayView,
      );
  const dMax = scaleOf([rep.delta]);
  const head =
    `max |Δlogp| ${num(rep.maxAbsDelta.value, 3)} at completion #${rep.maxAbsDelta.sample}, ` +
    `token ${rep.maxAbsDelta.token}; mean |Δlogp| ${num(rep.meanAbsDelta, 3)}`;
  const views = rows.map((r) => {
    const series = maskedRow(
      batch,
      ids,
      r,
      { delta: rep.delta, before: rep.before, after: rep.after },
      { tokenizer: options.tokenizer },
      replayView,
    );
    return tokenView(series, {
      color: "delta",
      scale: { type: "diverging", max: dMax },
      title: `completion #${r}: log π after − before`,
    });
  });
  return stack([
    new View(
      `<div style="font-weight:bold">${escapeHtml(options?.title ?? "Step replay")}</div><div ` +
        `style="font-size:12px">${escapeHtml(head)}</div>`,
      `${options?.title ?? "Step replay"}\n${head}`,
    ),
    histogram({ Δlogp: deltas }, { title: "log π after − before, every response token", x: "Δlogp", bins: 40 }),
    ...views,
  ]);
}
