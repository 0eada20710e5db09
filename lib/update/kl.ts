// Per-token KL estimators of KL(π_θ ‖ π_ref) from the sampled tokens (Schulman, "Approximating KL divergence", 2020),
// as verl's kl_penalty: x = log π − log π_ref. k3 is clamped as verl does (exponent to [−20, 20], value to [−10, 10]);
// Megatron's k3 is unclamped. "k3+" has k3's value and k2's gradient (verl's straight-through "+" suffix).
import * as tf from "@tensorflow/tfjs";
import { describe, fail } from "../core/errors.js";
import { klEstimators, type KlEstimatorFn } from "./registries.js";
import { asTensor, checkShape, detach, hostData, type TensorInput } from "./tensors.js";

/**
 * k1 = x (unbiased, high variance, can be negative).
 * @example update.klPenalty({logp, refLogp}, {estimator: "k1"})
 */
export const k1: KlEstimatorFn = ({ logp, refLogp }) => logp.sub(refLogp);
/**
 * abs = |x|.
 * @example update.klPenalty({logp, refLogp}, {estimator: "abs"})
 */
export const absKl: KlEstimatorFn = ({ logp, refLogp }) => logp.sub(refLogp).abs();
/**
 * k2 = ½x² (biased, low variance; its gradient is the true KL gradient's first-order term).
 * @example update.klPenalty({logp, refLogp}, {estimator: "k2"})
 */
export const k2: KlEstimatorFn = ({ logp, refLogp }) => logp.sub(refLogp).square().mul(0.5);
/**
 * k3 = e^{−x} + x − 1 ≥ 0 (unbiased, low variance: "low_var_kl"), clamped as verl.
 * @example update.klPenalty({logp, refLogp}, {estimator: "k3"})
 */
export const k3: KlEstimatorFn = ({ logp, refLogp }) => {
  const d = tf.clipByValue(refLogp.sub(logp), -20, 20); // log(π_ref/π)
  return tf.clipByValue(d.exp().sub(d).sub(1), -10, 10);
};
/**
 * k3+ : value of k3, gradient of k2 (straight-through).
 * @example update.klPenalty({logp, refLogp}, {estimator: "k3+"})
 */
export const k3Plus: KlEstimatorFn = (x) => {
  const a = k2(x);
  return a.add(detach(k3(x).sub(a)));
};

klEstimators.add("k1", k1, { summary: "log π − log π_ref" });
klEstimators.add("abs", absKl, { summary: "|log π − log π_ref|" });
klEstimators.add("k2", k2, { summary: "½ (log π − log π_ref)²" });
klEstimators.add("k3", k3, { summary: "π_ref/π − log(π_ref/π) − 1, clamped (low_var_kl)" });
klEstimators.add("k3+", k3Plus, { summary: "k3 value with the k2 gradient (straight-through)" });

/** Options of klPenalty. */
export interface KlPenaltyOptions {
  /** Estimator name or function: "k1" | "abs" | "k2" | "k3" | "k3+". Defaults to "k3". */
  estimator?: string | KlEstimatorFn;
}
/** Defaults of klPenalty (print them in a cell). */
export const klDefaults = { estimator: "k3" as const };

/**
 * Per-token KL estimate between the policy and the reference on the sampled tokens.
 * @param inputs.logp log π(y_t) [B, T]   @param inputs.refLogp log π_ref(y_t) [B, T]
 * @returns [B, T] (unmasked; aggregate it with the response mask)
 * @example const kl = update.klPenalty({logp, refLogp}, {estimator: "k3"})
 */
export function klPenalty(inputs: { logp: TensorInput; refLogp: TensorInput }, options: KlPenaltyOptions = {}): tf.Tensor2D {
  const fn = klEstimators.get(options.estimator ?? klDefaults.estimator);
  return tf.tidy(() => {
    const logp = asTensor(inputs?.logp, 2, "update.klPenalty", "inputs.logp");
    const refLogp = asTensor(inputs?.refLogp, 2, "update.klPenalty", "inputs.refLogp");
    checkShape(refLogp, logp.shape, "update.klPenalty", "inputs.refLogp", "inputs.logp");
    return fn({ logp, refLogp }) as tf.Tensor2D;
  });
}

/**
 * Exact full-vocabulary KL(p ‖ q) per position: Σ_v p_v (log p_v − log q_v). Accepts logits or logprobs (both are
 * log-softmaxed, which leaves logprobs unchanged). Differentiable in both arguments.
 * @param inputs.p the first distribution [..., V] (the policy)   @param inputs.q the second [..., V] (the reference)
 * @returns [...] (the last axis summed)
 * @example const kl = update.exactKl({p: policyLogits, q: refLogits}) // [B, T], ≥ 0
 */
export function exactKl(inputs: { p: tf.Tensor; q: tf.Tensor }): tf.Tensor {
  const { p, q } = inputs ?? ({} as { p: tf.Tensor; q: tf.Tensor });
  if (!(p instanceof tf.Tensor) || !(q instanceof tf.Tensor))
    fail("invalid_input", `update.exactKl: inputs.p and inputs.q must be tensors [..., V] (got ${describe(p)}, ${describe(q)}).`, {}, exactKl);
  if (p.shape.join() !== q.shape.join())
    fail("shape_mismatch", `update.exactKl: inputs.p has shape [${p.shape}] but inputs.q has [${q.shape}]; both must be [..., V].`, { got: q.shape, expected: p.shape }, exactKl);
  return tf.tidy(() => {
    const lp = tf.logSoftmax(p), lq = tf.logSoftmax(q);
    return lp.exp().mul(lp.sub(lq)).sum(-1);
  });
}

/** Options of klReward. */
export interface KlRewardOptions extends KlPenaltyOptions {
  /** β: the penalty per nat of KL (verl kl_ctrl.kl_coef). Defaults to 0.001. */
  coef?: number;
}

/**
 * KL placed in the reward (verl use_kl_in_reward, TRL RLOO): R_i ← R_i − β·Σ_t m_t·kl_t, with kl from the rollout
 * (old) logprobs, so no gradient flows through it. Use it before `advantage`.
 * @returns {rewards: Float32Array [B], kl: mean per-sequence KL (the metric "update/rewardKl")}
 * @example const {rewards} = update.klReward({rewards: r, logp: old, refLogp: ref, mask: ro.mask}, {coef: 0.001})
 */
export function klReward(inputs: { rewards: ArrayLike<number>; logp: TensorInput; refLogp: TensorInput; mask: TensorInput }, options: KlRewardOptions = {}): { rewards: Float32Array; kl: number } {
  const coef = options.coef ?? 0.001;
  if (!Number.isFinite(coef)) fail("invalid_option", `update.klReward: options.coef must be a finite number (got ${coef}).`, { path: ["options", "coef"] }, klReward);
  const seqKl = tf.tidy(() => {
    const kl = klPenalty(inputs, options);
    const mask = asTensor(inputs.mask, 2, "update.klReward", "inputs.mask");
    checkShape(mask, kl.shape, "update.klReward", "inputs.mask", "inputs.logp");
    return hostData(kl.mul(mask).sum(1));
  });
  if (seqKl.length !== inputs.rewards.length)
    fail("shape_mismatch", `update.klReward: inputs.rewards has ${inputs.rewards.length} values but inputs.logp has ${seqKl.length} rows.`, {}, klReward);
  const rewards = new Float32Array(seqKl.length);
  let s = 0;
  for (let i = 0; i < seqKl.length; i++) { rewards[i] = inputs.rewards[i] - coef * seqKl[i]; s += seqKl[i]; }
  return { rewards, kl: s / Math.max(1, seqKl.length) };
}
