// One optimizer step on a loss of the policy's per-token logprobs: the piece every algorithm step is made of.
// The logprobs are computed under the tape (model.logprobTensors) and handed to the loss closure; micro-batches
// accumulate gradients weighted by their token (or row) counts, so the update equals the full-batch one.
import * as tf from "@tensorflow/tfjs";
import { describe, fail } from "../core/errors.js";
import type { LlamaModel } from "../model/llama.js";
import { logprobTensors, type LogprobsBatch, type LogprobTensors } from "../model/logprobs.js";
import type { AdamW } from "../model/optim.js";
import { take } from "./rows.js";
import { gatherColumns } from "./tensors.js";

/** A trainable local model, or anything holding one (rollout.LocalPolicy). */
export type TrainableModel = LlamaModel | { model: LlamaModel };

/** What the loss closure receives: differentiable logprobs of the (micro-)batch and the batch rows they belong to. */
export interface StepTensors extends LogprobTensors {
  /** Rows of the full batch in this micro-batch (use update.take(x, rows) on per-row data). */
  rows: number[];
  /** Full next-token logits [B, T, V], tokens-aligned (row t predicts token t; row 0 is zeros), with `logits: true`. */
  logits?: tf.Tensor3D;
}

/** A loss closure: a scalar, or {loss, metrics} as policyLoss / flowrlLoss / sftLoss return. */
export type StepLossFn = (t: StepTensors) => tf.Scalar | { loss: tf.Scalar; metrics?: Record<string, number> };

/** Options of step. */
export interface StepOptions {
  /** Divide logits by this (use the sampling temperature, as verl does). Defaults to 1. */
  temperature?: number;
  /** Compute per-token entropy (for an entropy bonus). Defaults to false. */
  entropy?: boolean;
  /** Return final hidden states (for FlowRL's log Z head). Defaults to false. */
  hidden?: boolean;
  /** Rows per forward/backward pass; gradients are accumulated. Defaults to all rows. */
  microBatch?: number;
  /** Weight micro-batches by "tokens" (for token-mean losses) or "rows" (seq-mean losses). Defaults to "tokens". */
  weightBy?: "tokens" | "rows";
  /** Also pass the full logits (for distillation losses and the exact KL; `entropy` still works, `hidden` does not). Defaults to false. */
  logits?: boolean;
}

/** Metrics of one step: the loss closure's metrics plus "update/gradNorm", "update/lr", "update/loss". */
export type StepMetrics = Record<string, number>;

/**
 * The model inside a TrainableModel.
 * @example update.modelOf(policy, "myStep").config.vocab_size
 */
export function modelOf(m: TrainableModel, fn: string): LlamaModel {
  const model = m && typeof (m as LlamaModel).forward === "function" ? (m as LlamaModel) : (m as { model?: LlamaModel })?.model;
  if (!model || typeof model.forward !== "function")
    fail("invalid_input", `${fn}: expected a model.LlamaModel or a rollout.LocalPolicy (got ${describe(m)}). Training needs a local model.`, {}, modelOf);
  return model;
}

function sliceBatch(b: LogprobsBatch, rows: number[]): LogprobsBatch {
  return { ids: take(b.ids as ArrayLike<unknown>, rows) as LogprobsBatch["ids"], attentionMask: b.attentionMask ? (take(b.attentionMask as ArrayLike<unknown>, rows) as LogprobsBatch["ids"]) : b.attentionMask, responseMask: b.responseMask ? (take(b.responseMask as ArrayLike<unknown>, rows) as LogprobsBatch["ids"]) : b.responseMask };
}

/** Scored response tokens of `rows` (positions t >= 1 with responseMask > 0; all rows count 1 each without a mask). */
export function maskCount(m: LogprobsBatch["responseMask"], rows: number[]): number {
  if (!m) return rows.length;
  const a = m instanceof tf.Tensor ? (m.arraySync() as number[][]) : (m as ArrayLike<number>[]);
  let n = 0;
  for (const r of rows) for (let t = 1; t < a[r].length; t++) n += a[r][t] > 0 ? 1 : 0;
  return n;
}

/**
 * The full next-token log-distribution of every position [B, T, V], tokens-aligned like model.logprobs (row t is
 * log π(· | ids[<t]) at `temperature`; row 0 is a uniform placeholder, always masked). Plain tensors, no gradient
 * intended (call it outside a tape, e.g. for the frozen reference of the exact KL); the caller disposes it.
 * Memory is B·T·V floats: fine for small vocabularies, heavy for 150k.
 * @example const refFull = update.fullLogprobs(ref, ro, {temperature: 1}); update.klPenalty({logits, refLogits: refFull}, {estimator: "exact"})
 */
export function fullLogprobs(m: TrainableModel, batch: LogprobsBatch, options: { temperature?: number } = {}): tf.Tensor3D {
  const model = modelOf(m, "update.fullLogprobs");
  const temperature = options.temperature ?? 1;
  if (!(temperature > 0) || !Number.isFinite(temperature))
    fail("invalid_option", `update.fullLogprobs: options.temperature must be a positive number (got ${describe(temperature)}). Use the sampling temperature.`, { path: ["options", "temperature"] }, fullLogprobs);
  // Row 0's logits are zeros, so its log-softmax is the uniform placeholder −log V.
  return tf.tidy(() => tf.logSoftmax(alignedLogits(model, batch, temperature)) as tf.Tensor3D);
}

/** The model's next-token logits at `temperature`, tokens-aligned [B, T, V]: row t predicts ids[t]; row 0 is zeros. */
function alignedLogits(model: LlamaModel, b: LogprobsBatch, temperature: number): tf.Tensor3D {
  return tf.tidy(() => {
    const { logits: raw } = model.forward({ ids: b.ids, attentionMask: b.attentionMask ?? null });
    const [B, T, V] = raw.shape;
    const z = temperature === 1 ? raw : raw.div(temperature);
    return tf.concat([tf.zeros([B, 1, V]), tf.slice(z, [0, 0, 0], [B, T - 1, V])], 1) as tf.Tensor3D;
  });
}

/**
 * Tokens-aligned logits [B, T, V] and logprobs of the given tokens from one forward pass (the distillation and
 * exact-KL path). Column t scores ids[t] from position t − 1, as model.logprobTensors does; column 0 is zero and
 * masked. With `entropy`, also the exact per-token entropy [B, T] (masked), differentiable.
 */
function withLogits(model: LlamaModel, b: LogprobsBatch, temperature: number, entropy = false): LogprobTensors & { logits: tf.Tensor3D } {
  const ids = (b.ids instanceof tf.Tensor ? b.ids.arraySync() : b.ids) as ArrayLike<number>[];
  const [B, T, V] = [ids.length, ids[0].length, model.config.vocab_size];
  const rm = (b.responseMask instanceof tf.Tensor ? b.responseMask.arraySync() : b.responseMask) as ArrayLike<number>[] | null | undefined;
  const am = (b.attentionMask instanceof tf.Tensor ? b.attentionMask.arraySync() : b.attentionMask) as ArrayLike<number>[] | null | undefined;
  const mask = new Float32Array(B * T), tok = new Int32Array(B * T); // the token id per position
  for (let i = 0; i < B; i++)
    for (let t = 0; t < T; t++) {
      tok[i * T + t] = ids[i][t];
      mask[i * T + t] = t === 0 ? 0 : rm ? (rm[i][t] > 0 ? 1 : 0) : am ? (am[i][t] > 0 && am[i][t - 1] > 0 ? 1 : 0) : 1;
    }
  return tf.tidy(() => {
    const logits = alignedLogits(model, b, temperature);
    const lp = tf.logSoftmax(logits.reshape([B * T, V]));
    const m = tf.tensor2d(mask, [B, T]);
    const logp = gatherColumns(lp as tf.Tensor2D, tok, 1).reshape([B, T]).mul(m) as tf.Tensor2D;
    if (!entropy) return { logits, logp, mask: m } as unknown as tf.TensorContainer;
    const H = lp.exp().mul(lp).sum(-1).neg().reshape([B, T]).mul(m);
    return { logits, logp, mask: m, entropy: H } as unknown as tf.TensorContainer;
  }) as unknown as LogprobTensors & { logits: tf.Tensor3D };
}

/**
 * One optimizer step: loss(logprobs of `batch` under `model`) → gradients → opt update (clipping, lr schedule inside).
 * @returns metrics: the loss's own plus "update/gradNorm" (before clipping), "update/lr", "update/loss"
 * @example update.step(policy, opt, ro, ({logp, mask, rows}) => update.policyLoss("ppo-clip", {logp, mask, oldLogp: update.take(old, rows), adv: update.take(A, rows)}))
 */
export function step(m: TrainableModel, opt: AdamW, batch: LogprobsBatch, lossFn: StepLossFn, options: StepOptions = {}): StepMetrics {
  const model = modelOf(m, "update.step");
  if (!opt || typeof (opt as AdamW).accumulateLoss !== "function")
    fail("invalid_input", `update.step: opt must be a model.AdamW (got ${describe(opt)}). Create it with new model.AdamW(policy.namedVariables(), {lr}).`, {}, step);
  if (typeof lossFn !== "function") fail("invalid_input", `update.step: lossFn must be a function of the logprob tensors (got ${describe(lossFn)}).`, {}, step);
  const B = (batch?.ids as ArrayLike<unknown>)?.length ?? (batch?.ids as tf.Tensor)?.shape?.[0];
  if (!(B > 0)) fail("invalid_input", `update.step: batch.ids must be a non-empty [B, T] matrix (got ${describe(batch?.ids)}).`, {}, step);
  const mb = options.microBatch ?? B;
  if (!Number.isInteger(mb) || mb < 1) fail("invalid_option", `update.step: options.microBatch must be a positive integer (got ${describe(mb)}).`, { path: ["options", "microBatch"] }, step);
  const weightBy = options.weightBy ?? "tokens";
  const metricSums: Record<string, number> = {};
  let totalWeight = 0;
  const run = (rows: number[]) => () => {
    const sub = rows.length === B ? batch : sliceBatch(batch, rows);
    const lt = options.logits ? withLogits(model, sub, options.temperature ?? 1, options.entropy ?? false) : logprobTensors(model, sub, { temperature: options.temperature, entropy: options.entropy, hidden: options.hidden });
    const out = lossFn({ ...lt, rows });
    const loss = out instanceof tf.Tensor ? out : out?.loss;
    if (!(loss instanceof tf.Tensor) || loss.rank !== 0)
      fail("invalid_input", `update.step: the loss closure returned ${describe(out)} (expected a scalar tensor or {loss, metrics}).`, {}, step);
    const w = weightBy === "tokens" ? maskCount(batch.responseMask, rows) : rows.length;
    totalWeight += w;
    for (const [k, v] of Object.entries(out instanceof tf.Tensor ? {} : out.metrics ?? {})) metricSums[k] = (metricSums[k] ?? 0) + v * w;
    return loss as tf.Scalar;
  };
  let res;
  if (mb >= B) res = opt.minimize(run(Array.from({ length: B }, (_, i) => i)));
  else {
    for (let s = 0; s < B; s += mb) {
      const rows = Array.from({ length: Math.min(mb, B - s) }, (_, i) => s + i);
      const w = weightBy === "tokens" ? maskCount(batch.responseMask, rows) : rows.length;
      opt.accumulateLoss(run(rows), { weight: Math.max(w, 1e-9) });
    }
    res = opt.stepAccumulated();
  }
  const metrics: StepMetrics = {};
  for (const [k, v] of Object.entries(metricSums)) metrics[k] = v / Math.max(totalWeight, 1e-9);
  metrics["update/loss"] = res.loss;
  metrics["update/gradNorm"] = res.gradNorm;
  metrics["update/lr"] = res.lr;
  if (res.skipped) metrics["update/skipped"] = 1;
  return metrics;
}
