// The registries of lib/update (verl's register-by-name pattern). Variants register themselves in their own files;
// a notebook adds its own with e.g. `update.advantages.add("mine", fn)`.
import type * as tf from "@tensorflow/tfjs";
import { registry } from "../core/registry.js";

/** What an advantage estimator receives: one outcome reward per completion and its group (prompt) index. */
export interface AdvantageInputs {
  /** Outcome reward per completion, [B]. */
  rewards: Float32Array;
  /** Group index per completion (0..nGroups-1), [B]. Completions of one prompt share an index. */
  groups: Int32Array;
  /** Response length per completion, [B]; estimators that whiten over tokens weight by it. Optional. */
  lengths?: Float32Array;
  /** Response mask, flat [B·T] row-major (T = `width`); token-level estimators read it. Optional. */
  mask?: Float32Array;
  /** Per-token rewards, flat [B·T] row-major (T = `width`); token-level estimators read it. Optional. */
  tokenRewards?: Float32Array;
  /** T, the row width of `mask` / `tokenRewards`. */
  width?: number;
  /** A baseline reward per completion [B] (ReMax: the greedy response's reward). Optional. */
  baselines?: Float32Array;
  /**
   * Named reward components, [B] each (multi-reward estimators marked `multiReward`, e.g. "gdpo", read them; `rewards`
   * is then their weighted sum). Optional.
   */
  components?: Record<string, Float32Array>;
  /** Weight per component (by name; 1 when missing), with `components`. Optional. */
  weights?: Record<string, number>;
}
/**
 * An advantage estimator: rewards and groups in, one advantage per completion [B] out. An estimator marked
 * `tokenLevel: true` may return one per token instead, flat [B·T] row-major (update.policyLoss accepts either).
 */
export type AdvantageFn = ((inputs: AdvantageInputs, options?: any) => Float32Array) & {
  tokenLevel?: boolean;
  /** Takes the named reward components itself (update.advantage passes them unsummed): "gdpo". */
  multiReward?: boolean;
};

/** Per-token inputs a policy-loss variant receives, all [B, T]; `adv` already broadcast over tokens. */
export interface PolicyLossVariantInputs {
  logp: tf.Tensor2D;
  oldLogp: tf.Tensor2D;
  adv: tf.Tensor2D;
  mask: tf.Tensor2D;
}
/** The options a variant receives after normalisation (clip bounds split into low/high). */
export interface PolicyLossVariantOptions {
  clipLow: number;
  clipHigh: number;
  clipC: number | null;
  [k: string]: unknown;
}
/**
 * A variant's host-side per-token diagnostics, flat [B·T] row-major (the wrapper masks them): the ratio it uses
 * (default π/π_old), 1 where a clip binds, and ∂ℓ_t/∂log π_t of its per-token loss. viz.lossWeights draws these, and
 * a test checks `grad` against autograd for every registered variant.
 */
export interface PolicyLossVariantTokens {
  ratio?: Float32Array;
  clipped: Float32Array;
  grad: Float32Array;
}
/** A variant's result: the per-token loss [B, T] (before masking and aggregation), optional metrics and diagnostics. */
export interface PolicyLossVariantResult {
  loss: tf.Tensor2D;
  metrics?: Record<string, number>;
  tokens?: PolicyLossVariantTokens;
}
/** A policy-loss variant ("ppo-clip", "gspo", "cispo", ...). It may carry a preferred aggregation mode. */
export type PolicyLossFn = ((
  inputs: PolicyLossVariantInputs,
  options: PolicyLossVariantOptions,
) => PolicyLossVariantResult) & {
  defaultAgg?: string;
};

/** What a KL estimator receives: the sampled tokens' logprobs [B, T], and for full-vocabulary estimators the logits. */
export interface KlEstimatorInputs {
  /** log π(y_t) of the sampled tokens [B, T]. */
  logp: tf.Tensor;
  /** log π_ref(y_t) of the same tokens [B, T]. */
  refLogp: tf.Tensor;
  /** log π_old(y_t) [B, T] (no gradient): estimators marked `needsOld` ("k3-unbiased") reweight by π/π_old. */
  oldLogp?: tf.Tensor;
  /** The policy's full next-token logits or log-probs [B, T, V], tokens-aligned (only for estimators with `full`). */
  logits?: tf.Tensor;
  /**
   * The reference's full next-token logits or log-probs [B, T, V], tokens-aligned (only for estimators with `full`).
   */
  refLogits?: tf.Tensor;
}
/**
 * A per-token KL estimator of KL(π‖π_ref), → [B, T]. Sampled-token estimators read logp / refLogp; an estimator
 * marked `full: true` ("exact") reads the full distributions `logits` / `refLogits` instead.
 */
export type KlEstimatorFn = ((inputs: KlEstimatorInputs) => tf.Tensor) & { full?: boolean; needsOld?: boolean };

/** Options every aggregation mode understands (global denominators for mini-batches). */
export interface AggOptions {
  /** Token count to divide by (token-mean); defaults to Σ mask. Pass the global count when micro-batching. */
  tokens?: number;
  /** Sequence count to divide by (seq-mean-*); defaults to the rows with ≥ 1 unmasked token (verl). */
  seqs?: number;
  /** The constant C of seq-mean-token-sum-norm; defaults to T (mask.shape[1]). */
  scaleFactor?: number;
}
/** Loss aggregation: per-token values [B, T] and mask [B, T] to a scalar. */
export type AggFn = (inputs: { values: tf.Tensor2D; mask: tf.Tensor2D }, options: AggOptions) => tf.Scalar;

/**
 * Advantage estimators by name ("grpo", "dr-grpo", "lite-ppo", "maxrl", "gdpo", "rloo", "reinforce-pp",
 * "reinforce-pp-baseline", "reinforce-pp-token", "remax").
 */
export const advantages = registry<AdvantageFn>("advantage estimator");
/**
 * Policy-loss variants by name ("ppo-clip", "gspo", "gspo-token", "gspo-seq", "luspo", "cispo", "pg", "dppo-tv",
 * "dppo-kl", "sapo", "gmpo", "clip-cov", "kl-cov", "dro").
 */
export const policyLosses = registry<PolicyLossFn>("policy loss");
/**
 * KL estimators by name ("k1", "abs", "k2", "k3", "k3+", "k3-unbiased", and "exact": the full-vocabulary KL).
 */
export const klEstimators = registry<KlEstimatorFn>("kl estimator");
/**
 * Loss aggregation modes by name ("token-mean", "seq-mean-token-sum", "seq-mean-token-mean",
 * "seq-mean-token-sum-norm").
 */
export const lossAggs = registry<AggFn>("loss aggregation");
