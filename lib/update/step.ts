// One optimizer step on a loss of the policy's per-token logprobs: the piece every algorithm step is made of.
// The logprobs are computed under the tape (model.logprobTensors) and handed to the loss closure together with the
// caller's per-row fields (old logprobs, advantages, reference logprobs, teacher data), cut to the micro-batch's rows;
// micro-batches accumulate gradients weighted by their token (or row) counts, so the update equals the full-batch one.
import * as tf from "@tensorflow/tfjs";
import { describe, fail } from "../core/errors.js";
import { checkPositiveInt } from "../core/checks.js";
import type { LlamaModel } from "../model/llama.js";
import { logprobTensors, type LogprobsBatch, type LogprobTensors } from "../model/logprobs.js";
import type { AdamW } from "../model/optim.js";
import { checkRowFields, sliceRows, type RowFields, type SlicedRows } from "./rows.js";

/** A trainable local model, or anything holding one (rollout.LocalPolicy). */
export type TrainableModel = LlamaModel | { model: LlamaModel };

/**
 * What the loss closure receives: differentiable logprobs of the (micro-)batch, plus every per-row field cut to its
 * rows.
 */
export interface StepTensors extends LogprobTensors {
  /** Rows of the full batch in this micro-batch (for logging; per-row data arrives already sliced). */
  rows: number[];
}

/** A loss closure: a scalar, or {loss, metrics} as policyLoss / flowrlLoss / sftLoss return. */
export type StepLossFn<D = {}> = (
  t: StepTensors & SlicedRows<D>,
) => tf.Scalar | { loss: tf.Scalar; metrics?: Record<string, number> };

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
  /**
   * Weight micro-batches by "tokens" (for token-mean losses) or "rows" (seq-mean losses: the rows with a scored token).
   * Defaults to "tokens".
   */
  weightBy?: "tokens" | "rows";
  /**
   * Also pass the full tokens-aligned logits [B, T, V] as `logits` (distillation losses, the exact KL).
   * Defaults to false.
   */
  logits?: boolean;
}

/** Metrics of one step: the loss closure's metrics plus "update/gradNorm", "update/lr", "update/loss". */
export type StepMetrics = Record<string, number>;

/**
 * The model inside a TrainableModel.
 * @example update.modelOf(policy, "myStep").config.vocab_size
 */
export function modelOf(m: TrainableModel, fn: string): LlamaModel {
  const model =
    m && typeof (m as LlamaModel).forward === "function" ? (m as LlamaModel) : (m as { model?: LlamaModel })?.model;
  if (!model || typeof model.forward !== "function")
    fail(
      "invalid_input",
      `${fn}: expected a model.LlamaModel or a rollout.LocalPolicy (got ${describe(m)}). Training needs a local model.`,
      {},
      modelOf,
    );
  return model;
}

function sliceBatch(b: LogprobsBatch, rows: number[]): LogprobsBatch {
  return sliceRows(
    { ids: b.ids, attentionMask: b.attentionMask, responseMask: b.responseMask } as RowFields,
    rows,
  ) as unknown as LogprobsBatch;
}

/**
 * Rows of `rows` with at least one scored response token (t >= 1, responseMask > 0): the seq-mean aggregations'
 * denominator (verl's seq_mask), so micro-batches weighted by it average to the whole batch's loss. All rows without a
 * mask.
 * @example seqCount(batch.responseMask, [0, 1, 2]) // 2 when row 1 has no response token
 */
export function seqCount(m: LogprobsBatch["responseMask"], rows: number[]): number {
  if (!m) return rows.length;
  const a = m instanceof tf.Tensor ? (m.arraySync() as number[][]) : (m as ArrayLike<number>[]);
  let n = 0;
  for (const r of rows)
    for (let t = 1; t < a[r].length; t++)
      if (a[r][t] > 0) {
        n++;
        break;
      }
  return n;
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
 * One optimizer step: loss(logprobs of `batch` under `model`, the per-row `fields` of those rows) → gradients → opt
 * update (clipping, lr schedule inside). Every field ([B] or [B, T] arrays, typed arrays, tensors; values with a
 * `sliceRows(rows)` method slice themselves) reaches the closure cut to the micro-batch, under the same name.
 * @returns metrics: the loss's own plus "update/gradNorm" (before clipping), "update/lr", "update/loss"
 * @example
 * const loss = (mb) => update.policyLoss("ppo-clip", mb, {clip: [0.2, 0.28]});
 * update.step(policy, opt, ro, {oldLogp: old.logp, adv: A}, loss, {microBatch: 8})
 */
export function step<D extends RowFields>(
  m: TrainableModel,
  opt: AdamW,
  batch: LogprobsBatch,
  fields: D,
  lossFn: StepLossFn<D>,
  options?: StepOptions,
): StepMetrics;
export function step(
  m: TrainableModel,
  opt: AdamW,
  batch: LogprobsBatch,
  lossFn: StepLossFn,
  options?: StepOptions,
): StepMetrics;
export function step(m: TrainableModel, opt: AdamW, batch: LogprobsBatch, ...rest: unknown[]): StepMetrics {
  const [fields, lossFn, options = {}] = (typeof rest[0] === "function" ? [{}, ...rest] : rest) as [
    RowFields,
    StepLossFn<RowFields>,
    StepOptions | undefined,
  ];
  const model = modelOf(m, "update.step");
  if (!opt || typeof (opt as AdamW).accumulateLoss !== "function")
    fail(
      "invalid_input",
      `update.step: opt must be a model.AdamW (got ${describe(opt)}). Create it with new ` +
        `model.AdamW(policy.namedVariables(), {lr}).`,
      {},
      step,
    );
  if (typeof lossFn !== "function")
    fail(
      "invalid_input",
      `update.step: lossFn must be a function of the logprob tensors (got ${describe(lossFn)}).`,
      {},
      step,
    );
  const B = (batch?.ids as ArrayLike<unknown>)?.length ?? (batch?.ids as tf.Tensor)?.shape?.[0];
  if (!(B > 0))
    fail(
      "invalid_input",
      `update.step: batch.ids must be a non-empty [B, T] matrix (got ${describe(batch?.ids)}).`,
      {},
      step,
    );
  checkRowFields(fields, B, "update.step", step);
  for (const k of Object.keys(fields))
    if (["logp", "mask", "entropy", "hidden", "logits", "rows"].includes(k))
      fail(
        "invalid_input",
        `update.step: field "${k}" would hide the closure's own ${k}. Rename it (e.g. oldLogp, refLogits).`,
        { path: ["fields", k] },
        step,
      );
  const mb = options.microBatch ?? B;
  checkPositiveInt({ where: "update.step", from: step }, "options.microBatch", mb, undefined, [
    "options",
    "microBatch",
  ]);
  const weightBy = options.weightBy ?? "tokens";
  const metricSums: Record<string, number> = {};
  let totalWeight = 0;
  const run = (rows: number[]) => () => {
    const all = rows.length === B;
    const sub = all ? batch : sliceBatch(batch, rows);
    const lt = logprobTensors(model, sub, {
      temperature: options.temperature,
      entropy: options.entropy,
      hidden: options.hidden,
      logits: options.logits,
    });
    const out = lossFn({ ...lt, ...sliceRows(fields, rows, { all }), rows });
    const loss = out instanceof tf.Tensor ? out : out?.loss;
    if (!(loss instanceof tf.Tensor) || loss.rank !== 0)
      fail(
        "invalid_input",
        `update.step: the loss closure returned ${describe(out)} (expected a scalar tensor or {loss, metrics}).`,
        {},
        step,
      );
    const w = weightBy === "tokens" ? maskCount(batch.responseMask, rows) : seqCount(batch.responseMask, rows);
    totalWeight += w;
    for (const [k, v] of Object.entries(out instanceof tf.Tensor ? {} : (out.metrics ?? {})))
      metricSums[k] = (metricSums[k] ?? 0) + v * w;
    return loss as tf.Scalar;
  };
  let res;
  if (mb >= B) res = opt.minimize(run(Array.from({ length: B }, (_, i) => i)));
  else {
    for (let s = 0; s < B; s += mb) {
      const rows = Array.from({ length: Math.min(mb, B - s) }, (_, i) => s + i);
      const w = weightBy === "tokens" ? maskCount(batch.responseMask, rows) : seqCount(batch.responseMask, rows);
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
