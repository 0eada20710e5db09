// Per-token KL estimators of KL(π_θ ‖ π_ref) from the sampled tokens (Schulman, "Approximating KL divergence", 2020),
// as verl's kl_penalty: x = log π − log π_ref. k3 is clamped as verl does (exponent to [−20, 20], value to [−10, 10]);
// Megatron's k3 is unclamped. "k3+" has k3's value and k2's gradient (verl's straight-through "+" suffix).
// "exact" is the full-vocabulary KL Σ_v π(v)(log π(v) − log π_ref(v)) per position, from the two models' logits
// (verl's "full" raises NotImplementedError); it needs the [B, T, V] distributions instead of the sampled logprobs.
import * as tf from "@tensorflow/tfjs";
import { describe, fail } from "../core/errors.js";
import { klEstimators, type KlEstimatorFn, type KlEstimatorInputs } from "./registries.js";
import { asTensor, checkShape, detach, hostData, type TensorInput } from "./tensors.js";

/**
 * k1 = x (unbiased, high variance, can be negative).
 * @example update.klPenalty({logp, refLogp}, {estimator: "k1"})
 */
export const k1: KlEstimatorFn = ({ logp, refLogp }) => logp.sub(refLogp);
/**
 * abs = |x|, with gradient sign(x): 0 at x = 0 as PyTorch and verl (tfjs's Abs gradient is −1 there), hence x·sign(x).
 * @example update.klPenalty({logp, refLogp}, {estimator: "abs"})
 */
export const absKl: KlEstimatorFn = ({ logp, refLogp }) => {
  const x = logp.sub(refLogp);
  return x.mul(tf.sign(x));
};
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

/**
 * The sampled-token estimators on host numbers, x = log π − log π_ref, in float64: the same formulas as the tensor
 * estimators above (a test holds them equal), for views and checks. k3Raw is k3 without verl's clamp (Megatron's).
 * @example klHost.k3(Math.log(2)) // 0.5 + log 2 − 1
 */
export const klHost = {
  k1: (x: number) => x,
  abs: (x: number) => Math.abs(x),
  k2: (x: number) => 0.5 * x * x,
  k3: (x: number) => {
    const d = Math.max(-20, Math.min(20, -x));
    return Math.max(-10, Math.min(10, Math.exp(d) - d - 1));
  },
  k3Raw: (x: number) => Math.exp(-x) + x - 1,
};

klEstimators.add("k1", k1, { summary: "log π − log π_ref" });
klEstimators.add("abs", absKl, { summary: "|log π − log π_ref|" });
klEstimators.add("k2", k2, { summary: "½ (log π − log π_ref)²" });
klEstimators.add("k3", k3, { summary: "π_ref/π − log(π_ref/π) − 1, clamped (low_var_kl)" });
klEstimators.add("k3+", k3Plus, { summary: "k3 value with the k2 gradient (straight-through)" });

/**
 * k3-unbiased = (π/π_old)·k3: DeepSeek-V3.2's unbiased KL estimate (arXiv 2512.02556; TRL use_bias_correction_kl,
 * slime --use-unbiased-kl). The tokens were sampled from π_old, not π, so k3's expectation is reweighted by the
 * importance ratio, exp(clamp(log π − log π_old, ±20)), which carries the gradient as in TRL. Needs inputs.oldLogp.
 * @example update.klPenalty({logp, refLogp, oldLogp}, {estimator: "k3-unbiased"})
 */
export const k3Unbiased: KlEstimatorFn = Object.assign(
  ({ logp, refLogp, oldLogp }: KlEstimatorInputs) => {
    if (!(oldLogp instanceof tf.Tensor))
      fail(
        "invalid_input",
        `update.klPenalty: the "k3-unbiased" KL reweights k3 by π/π_old and needs inputs.oldLogp [B, T] ` +
          `(got ${describe(oldLogp)}). Pass the rollout-time logprobs (policyLoss passes inputs.oldLogp).`,
        { path: ["inputs", "oldLogp"] },
        klPenalty,
      );
    return tf.clipByValue(logp.sub(oldLogp), -20, 20).exp().mul(k3({ logp, refLogp }));
  },
  { needsOld: true },
);
klEstimators.add("k3-unbiased", k3Unbiased, {
  paper: "DeepSeek-V3.2 (arXiv 2512.02556); TRL use_bias_correction_kl",
  summary: "(π/π_old)·k3: the unbiased KL on tokens sampled from π_old",
});

/**
 * exact = Σ_v π(v)(log π(v) − log π_ref(v)) per position, from the full distributions `logits` / `refLogits`
 * [B, T, V] (logits or log-probs, tokens-aligned, at the sampling temperature). ≥ 0, zero variance, and its gradient is
 * the true KL gradient (the sampled estimators' are not, except in expectation).
 * @example update.klPenalty({logits, refLogits}, {estimator: "exact"}) // [B, T]
 */
export const exactKlEstimator: KlEstimatorFn = Object.assign(
  ({ logits, refLogits }: KlEstimatorInputs) => {
    if (!(logits instanceof tf.Tensor) || !(refLogits instanceof tf.Tensor))
      fail(
        "invalid_input",
        `update.klPenalty: the "exact" KL needs the full distributions: inputs.logits (the policy's [B, T, V] ` +
          `logits) and inputs.refLogits (the reference's, e.g. model.fullLogprobs(ref, batch)); ` +
          `got ${describe(logits)}, ${describe(refLogits)}.`,
        { path: ["inputs", "logits"] },
        klPenalty,
      );
    return exactKl({ p: logits, q: refLogits });
  },
  { full: true },
);
klEstimators.add("exact", exactKlEstimator, {
  summary: "Σ_v π (log π − log π_ref), the full-vocabulary KL (needs logits)",
});

/** Options of klPenalty. */
export interface KlPenaltyOptions {
  /** Estimator name or function: "k1" | "abs" | "k2" | "k3" | "k3+" | "k3-unbiased" | "exact". Defaults to "k3". */
  estimator?: string | KlEstimatorFn;
}
/** Defaults of klPenalty (print them in a cell). */
export const klDefaults = { estimator: "k3" as const };

/** Inputs of klPenalty: the sampled tokens' logprobs, or (estimator "exact") the full distributions. */
export interface KlPenaltyInputs {
  /** log π(y_t) [B, T] (sampled-token estimators). */
  logp?: TensorInput;
  /** log π_ref(y_t) [B, T] (sampled-token estimators). */
  refLogp?: TensorInput;
  /** log π_old(y_t) [B, T]: "k3-unbiased" reweights by π/π_old. */
  oldLogp?: TensorInput;
  /** The policy's next-token logits or log-probs [B, T, V], tokens-aligned (estimator "exact"). */
  logits?: tf.Tensor;
  /** The reference's [B, T, V] (estimator "exact"; model.fullLogprobs(ref, batch)). */
  refLogits?: tf.Tensor;
}

/** True when an estimator (name or function) needs the full distributions ("exact"). */
export function isFullKl(estimator: string | KlEstimatorFn | undefined): boolean {
  return !!klEstimators.get(estimator ?? klDefaults.estimator).full;
}

/**
 * Per-token KL estimate between the policy and the reference: on the sampled tokens (k1, abs, k2, k3, k3+), or the
 * exact full-vocabulary KL at every position ("exact", from `logits` and `refLogits` [B, T, V]).
 * @param inputs.logp log π(y_t) [B, T]   @param inputs.refLogp log π_ref(y_t) [B, T]
 * @returns [B, T] (unmasked; aggregate it with the response mask)
 * @example
 * const kl = update.klPenalty({logp, refLogp}, {estimator: "k3"});
 * const ex = update.klPenalty({logits, refLogits}, {estimator: "exact"})
 */
export function klPenalty(inputs: KlPenaltyInputs, options: KlPenaltyOptions = {}): tf.Tensor2D {
  const fn = klEstimators.get(options.estimator ?? klDefaults.estimator);
  return tf.tidy(() => {
    if (fn.full) {
      const { logits, refLogits } = inputs ?? {};
      for (const [k, v] of [
        ["logits", logits],
        ["refLogits", refLogits],
      ] as const)
        if (!(v instanceof tf.Tensor) || v.rank !== 3)
          fail(
            "invalid_input",
            `update.klPenalty: the full-vocabulary estimator needs inputs.${k} as a [B, T, V] tensor ` +
              `(got ${describe(v)}). Pass the policy's logits (update.step(..., {logits: true})) and the ` +
              `reference's model.fullLogprobs(ref, batch).`,
            { path: ["inputs", k] },
            klPenalty,
          );
      const out = fn({ logits, refLogits } as KlEstimatorInputs); // full estimators do not read the sampled logprobs
      checkShape(
        out,
        logits!.shape.slice(0, 2),
        "update.klPenalty",
        "the full-vocabulary estimator's output",
        "inputs.logits [B, T]",
      );
      return out as tf.Tensor2D;
    }
    const logp = asTensor(inputs?.logp, 2, "update.klPenalty", "inputs.logp");
    const refLogp = asTensor(inputs?.refLogp, 2, "update.klPenalty", "inputs.refLogp");
    checkShape(refLogp, logp.shape, "update.klPenalty", "inputs.refLogp", "inputs.logp");
    let oldLogp: tf.Tensor | undefined;
    if (inputs.oldLogp !== undefined && inputs.oldLogp !== null) {
      oldLogp = detach(asTensor(inputs.oldLogp, 2, "update.klPenalty", "inputs.oldLogp"));
      checkShape(oldLogp, logp.shape, "update.klPenalty", "inputs.oldLogp", "inputs.logp");
    }
    return fn({ logp, refLogp, oldLogp }) as tf.Tensor2D;
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
    fail(
      "invalid_input",
      `update.exactKl: inputs.p and inputs.q must be tensors [..., V] (got ${describe(p)}, ${describe(q)}).`,
      {},
      exactKl,
    );
  if (p.shape.join() !== q.shape.join())
    fail(
      "shape_mismatch",
      `update.exactKl: inputs.p has shape [${p.shape}] but inputs.q has [${q.shape}]; both must be [..., V].`,
      { got: q.shape, expected: p.shape },
      exactKl,
    );
  return tf.tidy(() => {
    const lp = tf.logSoftmax(p),
      lq = tf.logSoftmax(q);
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
 * (old) policy, so no gradient flows through it. Use it before `advantage`. With estimator "exact", pass the old
 * policy's and the reference's full distributions as `logits` / `refLogits` [B, T, V] (model.fullLogprobs) instead.
 * @returns {rewards: Float32Array [B], kl: mean per-sequence KL (the metric "update/rewardKl")}
 * @example
 * const {rewards} = update.klReward({rewards: r, logp: old, refLogp: ref, mask: ro.responseMask}, {coef: 0.001})
 */
export function klReward(
  inputs: KlPenaltyInputs & { rewards: ArrayLike<number>; mask: TensorInput },
  options: KlRewardOptions = {},
): { rewards: Float32Array; kl: number } {
  const coef = options.coef ?? 0.001;
  if (!Number.isFinite(coef))
    fail(
      "invalid_option",
      `update.klReward: options.coef must be a finite number (got ${coef}).`,
      { path: ["options", "coef"] },
      klReward,
    );
  const seqKl = tf.tidy(() => {
    // the reward's KL is taken at the rollout policy itself: π/π_old = 1 for "k3-unbiased"
    const kl = klPenalty({ ...inputs, oldLogp: inputs.oldLogp ?? inputs.logp }, options);
    const mask = asTensor(inputs.mask, 2, "update.klReward", "inputs.mask");
    checkShape(
      mask,
      kl.shape,
      "update.klReward",
      "inputs.mask",
      isFullKl(options.estimator) ? "inputs.logits [B, T]" : "inputs.logp",
    );
    return hostData(kl.mul(mask).sum(1));
  });
  if (seqKl.length !== inputs.rewards.length)
    fail(
      "shape_mismatch",
      `update.klReward: inputs.rewards has ${inputs.rewards.length} values but the KL has ${seqKl.length} rows.`,
      {},
      klReward,
    );
  const rewards = new Float32Array(seqKl.length);
  let s = 0;
  for (let i = 0; i < seqKl.length; i++) {
    rewards[i] = inputs.rewards[i] - coef * seqKl[i];
    s += seqKl[i];
  }
  return { rewards, kl: s / Math.max(1, seqKl.length) };
}
