// Thin adapters from what the other folders return (a Rollout row, model.logprobs output, a loss-lab variant) to the
// one TokenSeries that tokenView draws, plus the per-token quantities people colour by: advantage x ratio (the token's
// weight in the surrogate), clip flags, KL estimates to a reference, teacher minus student logprob. The loss weights
// and KL estimates come from update's own formulas (policyLoss's per-token diagnostics, kl.ts), never re-derived here.
// Inputs and outputs are plain arrays; the few tensors made on the way are freed inside a tidy.
import { describe, fail } from "../core/errors.js";
import type { Tokenizer } from "../model/tokenizer-types.js";
import { klHost } from "../update/kl.js";
import { policyLossTokens } from "../update/policy-loss.js";
import type { TokenSeries } from "./token-view.js";

/** A [B, T] matrix of per-token values (rows may be plain arrays or typed arrays). */
export type TokenMatrix = readonly ArrayLike<number>[];

/**
 * Per-token values for an adapter: a [B, T] tokens-aligned matrix, a [B] per-sequence vector (broadcast), or per-row
 * response arrays.
 */
export type TokenValues = TokenMatrix | ArrayLike<number>;

/** The parts of a Rollout the adapters read (a Rollout has them all). */
export interface RolloutLike {
  ids: readonly ArrayLike<number>[];
  responseIds: readonly ArrayLike<number>[];
  promptLength: number;
  size?: number;
}

/** The parts of a scored batch (Rollout, LabBatch, LogprobsBatch with array ids) the adapters read. */
export interface TokenBatch {
  ids: readonly ArrayLike<number>[] | unknown;
  attentionMask?: readonly ArrayLike<number>[] | unknown | null;
}

/**
 * The printable text of each token id: `tokenizer.decode([id])`, or `tokenToString(id)` when a lone byte-level
 * piece does not decode to valid text (then the tooltip still names the token).
 * @example viz.tokenStrings(tok, [5, 6, 7]) // ["1", "+", "2"]
 */
export function tokenStrings(tokenizer: Tokenizer, ids: ArrayLike<number>): string[] {
  if (!tokenizer || typeof tokenizer.decode !== "function")
    fail(
      "invalid_input",
      `viz.tokenStrings: tokenizer must implement decode (got ${describe(tokenizer)}). Pass the policy's ` +
        `tokenizer (policy.tokenizer).`,
      { path: ["tokenizer"] },
      tokenStrings,
    );
  const out: string[] = [];
  for (let i = 0; i < ids.length; i++) {
    const s = tokenizer.decode([ids[i]]);
    out.push(s.includes("\uFFFD") && tokenizer.tokenToString ? tokenizer.tokenToString(ids[i]) : s);
  }
  return out;
}

function isMatrix(x: unknown): x is TokenMatrix {
  return Array.isArray(x) && x.length > 0 && (Array.isArray(x[0]) || ArrayBuffer.isView(x[0]));
}

function rowsOf(x: unknown, what: string, from: Function): readonly ArrayLike<number>[] {
  if (!isMatrix(x))
    fail(
      "invalid_input",
      `${what} must be a [B, T] array of rows (got ${describe(x)}). Tensors: pass await t.array().`,
      {},
      from,
    );
  return x;
}

function elementwise(
  from: Function,
  fn: string,
  inputs: Record<string, unknown>,
  f: (...xs: number[]) => number,
): number[][] {
  const names = Object.keys(inputs);
  const mats = names.map((n) => (isMatrix(inputs[n]) ? (inputs[n] as TokenMatrix) : [inputs[n] as ArrayLike<number>]));
  for (const [j, m] of mats.entries()) {
    if (!m.every((r) => r && typeof r.length === "number"))
      fail(
        "invalid_input",
        `viz.${fn}: ${names[j]} must be a [B, T] matrix or a [T] array (got ${describe(inputs[names[j]])}).`,
        { path: [names[j]] },
        from,
      );
    if (m.length !== mats[0].length)
      fail(
        "shape_mismatch",
        `viz.${fn}: ${names[j]} has ${m.length} rows but ${names[0]} has ${mats[0].length}; give all inputs ` +
          `the same [B, T] shape.`,
        { path: [names[j]] },
        from,
      );
    m.forEach((r, b) => {
      if (r.length !== mats[0][b].length)
        fail(
          "shape_mismatch",
          `viz.${fn}: row ${b} of ${names[j]} has ${r.length} entries but ${names[0]} has ${mats[0][b].length}.`,
          { path: [names[j], b] },
          from,
        );
    });
  }
  return mats[0].map((r, b) => Array.from({ length: r.length }, (_, t) => f(...mats.map((m) => Number(m[b][t])))));
}

/** Options of lossWeights: the policy-loss variant and its options, as update.policyLoss takes them. */
export interface LossWeightOptions {
  /** The policy-loss variant (a registered name: "ppo-clip", "gspo", "cispo", "pg", ...). Defaults to "ppo-clip". */
  loss?: string;
  /** Clip ε, or [ε_low, ε_high] (clip-higher). Defaults to 0.2 (as update.policyLoss). */
  clip?: number | [number, number];
  /** Dual-clip constant c for A < 0, or null. Defaults to 3 (as update.policyLoss). */
  clipC?: number | null;
  /** Further variant options, passed through. */
  [variantOption: string]: unknown;
}

/**
 * Defaults of lossWeights.
 * @example viz.lossWeightDefaults.clip // 0.2
 */
export const lossWeightDefaults = {
  loss: "ppo-clip",
  clip: 0.2 as number | [number, number],
  clipC: 3 as number | null,
};

/**
 * Per-token loss weights of a policy-gradient step, as the variant itself reports them (update.policyLoss's per-token
 * diagnostics, nothing re-derived here): ratio = the variant's π/π_old, weight = A x ratio (how hard the surrogate
 * pushes the token: > 0 up, < 0 down), clipped = 1 where a clip binds (PPO's both sides and dual-clip, CISPO's weight
 * clip), effective = −∂ℓ/∂log π of the token's loss (0 where PPO's clip stops the gradient). `adv` is per sequence [B]
 * or per token [B, T]; `mask` (the response mask) zeroes everything off the response.
 * @example
 * const w = viz.lossWeights({logp: now.logp, oldLogp: ro.logprobs, adv: A}, {clip: [0.2, 0.28]});
 * viz.tokenView(viz.rolloutTokens(ro, 0, {tokenizer: tok, values: w}), {color: "effective", overline: "clipped"})
 */
export function lossWeights(
  inputs: { logp: TokenMatrix; oldLogp: TokenMatrix; adv: ArrayLike<number> | TokenMatrix; mask?: TokenMatrix },
  options: LossWeightOptions = {},
): { ratio: number[][]; weight: number[][]; clipped: number[][]; effective: number[][] } {
  const {
    loss = lossWeightDefaults.loss,
    clip = lossWeightDefaults.clip,
    clipC = lossWeightDefaults.clipC,
    ...rest
  } = options ?? {};
  const [lo, hi] =
    typeof clip === "number" ? [clip, clip] : Array.isArray(clip) && clip.length === 2 ? clip : [NaN, NaN];
  if (!(lo >= 0 && lo < 1) || !(hi >= 0 && Number.isFinite(hi)))
    fail(
      "invalid_option",
      `viz.lossWeights: options.clip is ${describe(clip)} (expected ε in [0, 1) or [ε_low, ε_high], e.g. [0.2, 0.28]).`,
      { path: ["options", "clip"] },
      lossWeights,
    );
  const logp = rowsOf(inputs?.logp, "viz.lossWeights: inputs.logp", lossWeights);
  const adv = isMatrix(inputs.adv)
    ? inputs.adv
    : logp.map((r, b) => {
        const a = inputs.adv as ArrayLike<number>;
        if (!a || a.length !== logp.length)
          fail(
            "shape_mismatch",
            `viz.lossWeights: inputs.adv has ${a?.length ?? describe(a)} entries but logp has ${logp.length} ` +
              `rows; give one advantage per sequence or a [B, T] matrix.`,
            { path: ["inputs", "adv"] },
            lossWeights,
          );
        return new Array<number>(r.length).fill(Number(a[b]));
      });
  // Shape checks (same [B, T] for every input, rows may differ in length), then padded to a rectangle for the loss.
  const old = elementwise(lossWeights, "lossWeights", { logp, oldLogp: inputs.oldLogp }, (_, b) => b);
  const A = elementwise(lossWeights, "lossWeights", { logp, adv }, (_, a) => a);
  const mask = inputs.mask
    ? elementwise(lossWeights, "lossWeights", { logp, mask: inputs.mask }, (_, k) => (k ? 1 : 0))
    : logp.map((r) => new Array<number>(r.length).fill(1));
  const T = Math.max(...logp.map((r) => r.length));
  const pad = (m: readonly ArrayLike<number>[]) =>
    m.map((r) => Array.from({ length: T }, (_, t) => (t < r.length ? Number(r[t]) : 0)));
  const d = policyLossTokens(
    loss,
    { logp: pad(logp), oldLogp: pad(old), adv: pad(A), mask: pad(mask) },
    { ...rest, clip, clipC },
  );
  const cut = (m: number[][]) => m.map((r, b) => r.slice(0, logp[b].length));
  const ratio = cut(d.ratio),
    clipped = cut(d.clipped);
  const weight = ratio.map((r, b) => r.map((x, t) => (mask[b][t] ? A[b][t] * x : 0)));
  const effective = cut(d.grad).map((r) => r.map((g) => (g === 0 ? 0 : -g)));
  return { ratio, weight, clipped, effective };
}

/**
 * Per-token KL estimates of KL(π ‖ π_ref) on the sampled tokens, by update's estimators (x = log π − log π_ref):
 * k1 = x, k2 = x²/2, k3 = e^(−x) + x − 1 (clamped to [−10, 10] as verl does; `clamp: false` for the raw value). Host
 * arrays.
 * @example const {k1, k2, k3} = viz.tokenKl({logp: pol.logp, refLogp: ref.logp})
 */
export function tokenKl(
  inputs: { logp: TokenMatrix | ArrayLike<number>; refLogp: TokenMatrix | ArrayLike<number> },
  options: { clamp?: boolean } = {},
): { k1: number[][]; k2: number[][]; k3: number[][] } {
  if (!inputs || inputs.logp === undefined || inputs.refLogp === undefined)
    fail("invalid_input", `viz.tokenKl: expected {logp, refLogp} (got ${describe(inputs)}).`, {}, tokenKl);
  const x = elementwise(tokenKl, "tokenKl", { logp: inputs.logp, refLogp: inputs.refLogp }, (a, b) => a - b);
  const k3 = options.clamp === false ? klHost.k3Raw : klHost.k3;
  return { k1: x.map((r) => r.map(klHost.k1)), k2: x.map((r) => r.map(klHost.k2)), k3: x.map((r) => r.map(k3)) };
}

/**
 * Teacher minus student logprob of each sampled token (> 0: the teacher likes the token more than the student does).
 * @example const gap = viz.teacherGap({studentLogp: s.logp, teacherLogp: t.logp})
 */
export function teacherGap(inputs: {
  studentLogp: TokenMatrix | ArrayLike<number>;
  teacherLogp: TokenMatrix | ArrayLike<number>;
}): number[][] {
  if (!inputs || inputs.studentLogp === undefined || inputs.teacherLogp === undefined)
    fail(
      "invalid_input",
      `viz.teacherGap: expected {studentLogp, teacherLogp} (got ${describe(inputs)}).`,
      {},
      teacherGap,
    );
  return elementwise(
    teacherGap,
    "teacherGap",
    { teacherLogp: inputs.teacherLogp, studentLogp: inputs.studentLogp },
    (t, s) => t - s,
  );
}

/** Options of rolloutTokens. */
export interface RolloutTokensOptions {
  /** Decodes the token ids (the policy's tokenizer). */
  tokenizer: Tokenizer;
  /**
   * Named values: [B, T] tokens-aligned matrices (ro.logprobs, model.logprobs(...).entropy, lossWeights(...).weight),
   * [B] per-sequence vectors (advantages, rewards: broadcast over the tokens), or per-row response arrays.
   */
  values?: Record<string, TokenValues>;
  /** Also show the prompt tokens (greyed out). Defaults to false. */
  prompt?: boolean;
}

/**
 * One completion of a Rollout as a TokenSeries for tokenView: its response tokens and the chosen values sliced to them.
 * @example
 * viz.tokenView(viz.rolloutTokens(ro, 3, {tokenizer: tok, values: {logp: ro.logprobs, adv: A}}), {color: "adv"})
 */
export function rolloutTokens(ro: RolloutLike, i: number, options: RolloutTokensOptions): TokenSeries {
  if (!ro || !Array.isArray(ro.ids) || !Array.isArray(ro.responseIds) || typeof ro.promptLength !== "number")
    fail(
      "invalid_input",
      `viz.rolloutTokens: expected a Rollout (ids, responseIds, promptLength) (got ${describe(ro)}).`,
      {},
      rolloutTokens,
    );
  const B = ro.ids.length;
  if (!Number.isInteger(i) || i < 0 || i >= B)
    fail(
      "invalid_input",
      `viz.rolloutTokens: row ${describe(i)} is out of range (expected an integer in [0, ${B})).`,
      { got: i },
      rolloutTokens,
    );
  const { tokenizer, values = {}, prompt = false } = options ?? ({} as RolloutTokensOptions);
  const P = ro.promptLength;
  const len = ro.responseIds[i].length;
  const T = ro.ids[i].length;
  let start = P;
  if (prompt) {
    // Skip left padding: the prompt is right-aligned against column P.
    const attn = (ro as { attentionMask?: readonly ArrayLike<number>[] }).attentionMask;
    start = 0;
    if (attn) while (start < P && !attn[i][start]) start++;
  }
  const ids = Array.from(ro.ids[i], Number).slice(start, P + len);
  const out: Record<string, number[]> = {};
  for (const [name, v] of Object.entries(values)) {
    if (isMatrix(v)) {
      if (v.length !== B)
        fail(
          "shape_mismatch",
          `viz.rolloutTokens: values.${name} has ${v.length} rows but the rollout has ${B}. Pass a [B, T] ` +
            `matrix aligned with ro.ids, or one value per row.`,
          { path: ["values", name] },
          rolloutTokens,
        );
      const r = v[i];
      if (r.length === T) out[name] = Array.from(r).slice(start, P + len);
      else if (r.length === len) out[name] = [...new Array<number>(P - start).fill(NaN), ...Array.from(r)];
      else
        fail(
          "shape_mismatch",
          `viz.rolloutTokens: row ${i} of values.${name} has ${r.length} entries (expected ${T}, ` +
            `tokens-aligned like ro.ids, or ${len}, the response only).`,
          { path: ["values", name, i] },
          rolloutTokens,
        );
    } else if (v && typeof (v as ArrayLike<number>).length === "number") {
      const a = v as ArrayLike<number>;
      if (a.length !== B)
        fail(
          "shape_mismatch",
          `viz.rolloutTokens: values.${name} has ${a.length} entries but the rollout has ${B} rows. A vector ` +
            `gives one value per completion.`,
          { path: ["values", name] },
          rolloutTokens,
        );
      out[name] = ids.map((_, t) => (start + t < P ? NaN : Number(a[i])));
    } else
      fail(
        "invalid_input",
        `viz.rolloutTokens: values.${name} must be a [B, T] matrix or a [B] vector (got ${describe(v)}).`,
        { path: ["values", name] },
        rolloutTokens,
      );
  }
  return { tokens: tokenStrings(tokenizer, ids), values: out, mask: ids.map((_, t) => (start + t < P ? 0 : 1)) };
}

/** The output of model.logprobs (LogprobsResult) as far as the adapter reads it. */
export interface LogprobsLike {
  logp: readonly ArrayLike<number>[];
  entropy?: readonly ArrayLike<number>[];
  topK?: { ids: number[][][]; logp: number[][][] };
  mask: readonly ArrayLike<number>[];
}

/**
 * Row `i` of model.logprobs output as a TokenSeries: logp and entropy per token, top-k alternatives in the tooltip,
 * padding dropped, unscored (prompt) tokens greyed. `extra` adds more [B, T] series (e.g. a teacher gap).
 * @example
 * const lp = model.logprobs(m, ro, {topK: 5});
 * viz.tokenView(viz.logprobTokens(ro, lp, 0, {tokenizer: tok}), {color: "logp", underline: "entropy"})
 */
export function logprobTokens(
  batch: TokenBatch,
  lp: LogprobsLike,
  i: number,
  options: { tokenizer: Tokenizer; extra?: Record<string, TokenMatrix> },
): TokenSeries {
  const ids = rowsOf(batch?.ids, "viz.logprobTokens: batch.ids", logprobTokens);
  if (!lp || !Array.isArray(lp.logp) || !Array.isArray(lp.mask))
    fail(
      "invalid_input",
      `viz.logprobTokens: expected the result of model.logprobs ({logp, mask, entropy?, topK?}) (got ${describe(lp)}).`,
      {},
      logprobTokens,
    );
  if (lp.logp.length !== ids.length || lp.logp[0]?.length !== ids[0]?.length)
    fail(
      "shape_mismatch",
      `viz.logprobTokens: logp is [${lp.logp.length}, ${lp.logp[0]?.length}] but batch.ids is ` +
        `[${ids.length}, ${ids[0]?.length}]. Use align: "tokens" (the default) in model.logprobs.`,
      {},
      logprobTokens,
    );
  if (!Number.isInteger(i) || i < 0 || i >= ids.length)
    fail(
      "invalid_input",
      `viz.logprobTokens: row ${describe(i)} is out of range (expected an integer in [0, ${ids.length})).`,
      { got: i },
      logprobTokens,
    );
  const attn = batch.attentionMask
    ? rowsOf(batch.attentionMask, "viz.logprobTokens: batch.attentionMask", logprobTokens)[i]
    : null;
  const keep: number[] = [];
  for (let t = 0; t < ids[i].length; t++) if (!attn || attn[t]) keep.push(t);
  const pick = (m: readonly ArrayLike<number>[]) => keep.map((t) => Number(m[i][t]));
  const values: Record<string, number[]> = { logp: pick(lp.logp) };
  if (lp.entropy) values.entropy = pick(lp.entropy);
  for (const [k, m] of Object.entries(options?.extra ?? {})) {
    if (!isMatrix(m) || m.length !== ids.length || m[i].length !== ids[i].length)
      fail(
        "shape_mismatch",
        `viz.logprobTokens: extra.${k} must be a [B, T] matrix like batch.ids (got ${describe(m)}).`,
        { path: ["extra", k] },
        logprobTokens,
      );
    values[k] = pick(m);
  }
  const tokenizer = options?.tokenizer;
  const topk = lp.topK
    ? keep.map((t) =>
        (lp.topK!.ids[i][t] ?? []).map((id, j) => ({
          token: tokenStrings(tokenizer, [id])[0],
          logp: lp.topK!.logp[i][t][j],
        })),
      )
    : undefined;
  return {
    tokens: tokenStrings(
      tokenizer,
      keep.map((t) => Number(ids[i][t])),
    ),
    values,
    mask: pick(lp.mask),
    topk,
  };
}

/** One variant of update.compareLosses as far as the adapter reads it. */
export interface LabVariantLike {
  name: string;
  tokenWeights: readonly ArrayLike<number>[];
  logpChange: readonly ArrayLike<number>[];
  /** 1 where the variant's clip binds (the policy-loss variant's own flags), when reported. */
  clipped?: readonly ArrayLike<number>[];
}

/**
 * Row `i` of a loss-lab variant as a TokenSeries: `push` = −∂loss/∂log π (> 0: the update raises the token),
 * `dlogp` = the logprob change one step causes, and `clipped` (1 where the variant's clip binds) when the variant
 * reports it. Pass the batch given to compareLosses.
 * @example viz.tokenView(viz.labTokens(batch, lab.variants[0], 0, {tokenizer: tok}), {color: "push"})
 */
export function labTokens(
  batch: TokenBatch & { responseMask?: readonly ArrayLike<number>[] | unknown | null },
  variant: LabVariantLike,
  i: number,
  options: { tokenizer: Tokenizer; prompt?: boolean },
): TokenSeries {
  if (!variant || !Array.isArray(variant.tokenWeights) || !Array.isArray(variant.logpChange))
    fail(
      "invalid_input",
      `viz.labTokens: expected a variant of update.compareLosses(...).variants (got ${describe(variant)}).`,
      {},
      labTokens,
    );
  const ids = rowsOf(batch?.ids, "viz.labTokens: batch.ids", labTokens);
  if (!Number.isInteger(i) || i < 0 || i >= ids.length)
    fail(
      "invalid_input",
      `viz.labTokens: row ${describe(i)} is out of range (expected an integer in [0, ${ids.length})).`,
      { got: i },
      labTokens,
    );
  if (variant.tokenWeights.length !== ids.length || variant.tokenWeights[i].length !== ids[i].length)
    fail(
      "shape_mismatch",
      `viz.labTokens: variant "${variant.name}" is ` +
        `[${variant.tokenWeights.length}, ${variant.tokenWeights[i]?.length}] but batch.ids is ` +
        `[${ids.length}, ${ids[i].length}]; pass the batch given to compareLosses.`,
      {},
      labTokens,
    );
  const values: Record<string, TokenMatrix> = {
    push: variant.tokenWeights.map((r) => Array.from(r, (x: number) => (x === 0 ? 0 : -x))),
    dlogp: variant.logpChange,
  };
  if (variant.clipped) values.clipped = variant.clipped;
  return maskedRow(batch, ids, i, values, options, labTokens);
}

/**
 * Pick the attended tokens of row i (only the response unless `prompt`) with their values and the response mask.
 * @example maskedRow(batch, batch.ids, 0, {delta: rep.delta}, {tokenizer: tok}, replayView).tokens
 */
export function maskedRow(
  batch: TokenBatch & { responseMask?: unknown },
  ids: readonly ArrayLike<number>[],
  i: number,
  values: Record<string, TokenMatrix>,
  options: { tokenizer: Tokenizer; prompt?: boolean },
  from: Function,
): TokenSeries {
  const attn = batch.attentionMask ? rowsOf(batch.attentionMask, "batch.attentionMask", from)[i] : null;
  const resp = batch.responseMask ? rowsOf(batch.responseMask, "batch.responseMask", from)[i] : null;
  const keep: number[] = [];
  for (let t = 0; t < ids[i].length; t++) {
    if (attn && !attn[t]) continue;
    if (!options.prompt && resp && !resp[t]) continue;
    keep.push(t);
  }
  const out: Record<string, number[]> = {};
  for (const [k, m] of Object.entries(values)) out[k] = keep.map((t) => Number(m[i][t]));
  return {
    tokens: tokenStrings(
      options.tokenizer,
      keep.map((t) => Number(ids[i][t])),
    ),
    values: out,
    mask: keep.map((t) => (resp ? (resp[t] ? 1 : 0) : 1)),
  };
}
