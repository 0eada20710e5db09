// The loss lab: every loss variant evaluated on one frozen rollout batch. For each variant: the loss value, the
// per-token weight (∂loss/∂log π of each token: what it contributes to the gradient), the parameter gradient norm,
// and the change in log π of every sampled token that one optimizer step would cause (taken on a clone, so the
// policy itself never changes).
import * as aq from "arquero";
import * as tf from "@tensorflow/tfjs";
import { describe, fail } from "../core/errors.js";
import type { LlamaModel } from "../model/llama.js";
import { logprobs, logprobTensors, type LogprobsBatch } from "../model/logprobs.js";
import { AdamW, type AdamWOptions } from "../model/optim.js";
import { policyLoss, type PolicyLossOptions, type PolicyLossTokens } from "./policy-loss.js";
import type { PolicyLossFn } from "./registries.js";
import { modelOf, step, type StepTensors, type TrainableModel } from "./step.js";

type ColumnTable = ReturnType<typeof aq.table>;

/** The per-row data the losses read. */
type LabFields = {
  /** log π_old [B, T] (tokens-aligned), e.g. the rollout's or model.logprobs(...).logp. */
  oldLogp?: number[][];
  /** Advantage per sequence [B] (or per token [B, T]). */
  adv?: ArrayLike<number> | number[][];
  /** log π_ref [B, T], for KL variants. */
  refLogp?: number[][];
};

/** The frozen batch: sequences plus the per-row data the losses read. */
export interface LabBatch extends LogprobsBatch, LabFields {}

/** What a custom variant receives: the logprob tensors and the batch's per-row data, cut to the closure's rows. */
export interface LabTensors extends StepTensors, LabFields {}

/** A variant: a registered policy loss with options, or a closure over the logprob tensors. */
export type LossVariant =
  | { loss: string | PolicyLossFn; options?: PolicyLossOptions }
  | ((t: LabTensors) => tf.Scalar | { loss: tf.Scalar; metrics?: Record<string, number> });

/** What the lab reports for one variant. */
export interface LabVariantResult {
  name: string;
  loss: number;
  gradNorm: number;
  /** ∂loss/∂log π(y_t) per token [B, T] (0 off the mask): negative means the update pushes that token up. */
  tokenWeights: number[][];
  /** 1 where the variant's clip binds [B, T], as the policy-loss variant reports it (registered variants only). */
  clipped?: number[][];
  /** log π_after − log π_before per token [B, T] after one optimizer step (0 off the mask). */
  logpChange: number[][];
  /** Mean |logpChange| over the mask, and its mean on positive- and negative-advantage sequences. */
  meanAbsChange: number;
  meanChangePosAdv: number;
  meanChangeNegAdv: number;
  metrics: Record<string, number>;
}

/** Options of compareLosses. */
export interface LossLabOptions {
  /**
   * Options of the AdamW used for the one trial step (lr, clipGradNorm, ...). Defaults to {lr: 1e-3, weightDecay: 0}.
   */
  optimizer?: AdamWOptions;
  /** Temperature for logprobs (the sampling temperature). Defaults to 1. */
  temperature?: number;
}

type LabClosure = (t: LabTensors) => tf.Scalar | { loss: tf.Scalar; metrics?: Record<string, number> };

/** The batch's per-row fields, which update.step cuts to each micro-batch for the closure. */
function fieldsOf(b: LabBatch): LabFields {
  return { oldLogp: b.oldLogp, adv: b.adv, refLogp: b.refLogp };
}

function closureOf(v: LossVariant, b: LabBatch, name: string): LabClosure {
  if (typeof v === "function") return v;
  if (!v || (typeof v.loss !== "string" && typeof v.loss !== "function"))
    fail(
      "invalid_input",
      `update.compareLosses: variant "${name}" must be {loss: name, options} or a function of the logprob ` +
        `tensors (got ${describe(v)}).`,
      { path: ["variants", name] },
      compareLosses,
    );
  if (!b.adv)
    fail(
      "invalid_input",
      `update.compareLosses: batch.adv is missing; policy-loss variants need one advantage per sequence.`,
      { path: ["batch", "adv"] },
      compareLosses,
    );
  if (v.options?.kl && !v.options.kl.refLogp && !b.refLogp)
    fail(
      "invalid_input",
      `update.compareLosses: variant "${name}" asks for a KL term but batch.refLogp is missing.`,
      {},
      compareLosses,
    );
  return ({ logp, mask, entropy, oldLogp, adv, refLogp }) => {
    const o = { ...v.options };
    if (o.entropy && entropy) o.entropy = { ...o.entropy, values: entropy };
    // the entropy also selects the forking tokens of options.topEntropyQuantile (80/20)
    return policyLoss(v.loss, { logp, mask, oldLogp, adv: adv!, refLogp, entropy }, o);
  };
}

/**
 * Evaluate loss variants on one frozen batch: value, per-token weights, gradient norm, and the logprob change one
 * optimizer step would cause. The policy is not modified.
 * @example
 * const lab = update.compareLosses(policy, {...ro, oldLogp: old.logp, adv: A}, {
 *   grpo: {loss: "ppo-clip"},
 *   cispo: {loss: "cispo"},
 *   drGrpo: {loss: "ppo-clip", options: {agg: "seq-mean-token-sum-norm"}},
 * });
 * lab.table
 */
export function compareLosses(
  m: TrainableModel,
  batch: LabBatch,
  variants: Record<string, LossVariant>,
  options: LossLabOptions = {},
): { variants: LabVariantResult[]; table: ColumnTable } {
  const model: LlamaModel = modelOf(m, "update.compareLosses");
  if (!variants || typeof variants !== "object" || Object.keys(variants).length === 0)
    fail(
      "invalid_input",
      `update.compareLosses: variants must be a non-empty record {name: variant} (got ${describe(variants)}).`,
      {},
      compareLosses,
    );
  const temperature = options.temperature ?? 1;
  const before = logprobs(model, batch, { temperature, entropy: false });
  const needEntropy = Object.values(variants).some(
    (v) =>
      typeof v !== "function" &&
      (!!v.options?.entropy || (v.options?.topEntropyQuantile !== undefined && v.options.topEntropyQuantile !== 1)),
  );
  const B = before.logp.length;
  const advRow = (i: number) => {
    const a = batch.adv as ArrayLike<number> | number[][] | undefined;
    if (!a) return 0;
    const x = a[i] as number | number[];
    return typeof x === "number" ? x : x.reduce((s, v) => s + v, 0);
  };
  const results: LabVariantResult[] = [];
  const fields = fieldsOf(batch);
  for (const [name, v] of Object.entries(variants)) {
    const f = closureOf(v, batch, name);
    const rows = Array.from({ length: B }, (_, i) => i);
    // 1. per-token weights: ∂loss/∂log π with log π as the input (parameters fixed)
    let lossValue = NaN;
    let metrics: Record<string, number> = {};
    let tokens: PolicyLossTokens | undefined;
    const weights = tf.tidy(() => {
      const lt = logprobTensors(model, batch, { temperature, entropy: needEntropy });
      const g = tf.grad((lp: tf.Tensor) => {
        const out = f({ ...lt, ...fields, logp: lp as tf.Tensor2D, rows });
        const loss = out instanceof tf.Tensor ? out : out.loss;
        lossValue = loss.dataSync()[0];
        if (!(out instanceof tf.Tensor)) {
          metrics = out.metrics ?? {};
          tokens = (out as { tokens?: PolicyLossTokens }).tokens;
        }
        return loss;
      })(lt.logp);
      return tf.mul(g, lt.mask).arraySync() as number[][];
    });
    // 2. one optimizer step on a clone, then the logprob change on the same completions
    const clone = model.clone({ trainable: true });
    const opt = new AdamW(clone.namedVariables(), { lr: 1e-3, weightDecay: 0, ...options.optimizer });
    let stepMetrics: Record<string, number>;
    try {
      stepMetrics = step(clone, opt, batch, fields, f, { temperature, entropy: needEntropy });
    } finally {
      opt.dispose();
    }
    const after = logprobs(clone, batch, { temperature, entropy: false });
    clone.dispose();
    const change = after.logp.map((r, b) => r.map((x, t) => (before.mask[b][t] ? x - before.logp[b][t] : 0)));
    let abs = 0,
      n = 0,
      pos = 0,
      np = 0,
      neg = 0,
      nn = 0;
    change.forEach((r, b) =>
      r.forEach((d, t) => {
        if (!before.mask[b][t]) return;
        abs += Math.abs(d);
        n++;
        if (advRow(b) > 0) {
          pos += d;
          np++;
        } else if (advRow(b) < 0) {
          neg += d;
          nn++;
        }
      }),
    );
    // a closure may return another loss's tokens (distill.opdLoss: {adv, ratio}); only clip flags are read here
    const flags = (tokens as { clipped?: Float32Array } | undefined)?.clipped;
    const clipped = flags
      ? weights.map((r, b) => Array.from(flags.subarray(b * r.length, (b + 1) * r.length)))
      : undefined;
    results.push({
      name,
      loss: lossValue,
      gradNorm: stepMetrics["update/gradNorm"],
      tokenWeights: weights,
      clipped,
      logpChange: change,
      meanAbsChange: n ? abs / n : 0,
      meanChangePosAdv: np ? pos / np : 0,
      meanChangeNegAdv: nn ? neg / nn : 0,
      metrics: { ...metrics, ...stepMetrics },
    });
  }
  const table = aq.table({
    variant: results.map((r) => r.name),
    loss: results.map((r) => r.loss),
    gradNorm: results.map((r) => r.gradNorm),
    meanAbsLogpChange: results.map((r) => r.meanAbsChange),
    logpChangePosAdv: results.map((r) => r.meanChangePosAdv),
    logpChangeNegAdv: results.map((r) => r.meanChangeNegAdv),
    clipFrac: results.map((r) => r.metrics["update/clipFrac"] ?? NaN),
  });
  return { variants: results, table };
}
