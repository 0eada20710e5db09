// FlowRL trajectory-balance loss (Zhu et al., arXiv 2509.15207), exactly as the verl recipe computes it (reference
// §3.3):
//   δ_i = log Z(x_i) + (1/L_i) Σ_t m·log π − β·r̂_i − (1/L_i) Σ_t m·log π_ref,   L = (1/B) Σ_i w'_i·δ_i²
// with r̂ the group-normalised reward (the GRPO advantage), β = 15 and w the detached sequence importance weight
// exp(Σ_t m·(log π − log π_old)). The three published weight variants are switchable (`weight`):
// 1. "raw"  (paper repo): w unclipped.
// 2. "clip" (verl PR #3924): clamp(w, 1 − ε_low, 1 + ε_high) and CISPO-style token masking: tokens with
//    (r̂ > 0 and ρ_t > 1 + ε_high) or (r̂ < 0 and ρ_t < 1 − ε_low) are dropped from every sum and average.
// 3. "cap"  (verl-recipe HEAD, the default): min(w, 10).
// Departure: log w is clamped to [−20, 20] before exp (the guard verl applies to token ratios) so "raw" cannot
// overflow.
import * as tf from "@tensorflow/tfjs";
import { describe, fail } from "../../core/errors.js";
import { checkFinite } from "../../core/checks.js";
import type { Rng } from "../../core/random.js";
import { asTensor, checkShape, detach, hostData, type TensorInput } from "../tensors.js";
import { poolPrompt, type LogZHead } from "./logz-head.js";

/** Inputs of flowrlLoss. */
export interface FlowrlLossInputs {
  /** log π_θ of the sampled tokens [B, T] (under the tape). */
  logp: tf.Tensor;
  /** log π_old [B, T]. Defaults to logp detached (w = 1). */
  oldLogp?: TensorInput;
  /** log π_ref [B, T] from the frozen reference model. */
  refLogp: TensorInput;
  /** Response mask [B, T]. */
  mask: TensorInput;
  /** log Z_φ(x) per sequence [B] from the log Z head (under the tape, so it trains jointly). */
  logZ: tf.Tensor;
  /** r̂: group-normalised reward per sequence [B] (update.advantage("grpo", ...), as the recipe does). */
  reward: ArrayLike<number> | tf.Tensor;
}

/** Options of flowrlLoss. */
export interface FlowrlLossOptions {
  /** β, the reward temperature (hard-coded 15 in every FlowRL implementation). Defaults to 15. */
  beta?: number;
  /** Importance-weight variant: "raw" | "clip" | "cap". Defaults to "cap" (verl-recipe HEAD). */
  weight?: "raw" | "clip" | "cap";
  /** [ε_low, ε_high] of the "clip" variant. Defaults to [0.2, 0.28]. */
  clip?: [number, number];
  /** Upper cap of the "cap" variant. Defaults to 10. */
  cap?: number;
}
/** Defaults of flowrlLoss (the recipe's) (print them in a cell). */
export const flowrlDefaults = {
  beta: 15,
  weight: "cap" as "raw" | "clip" | "cap",
  clip: [0.2, 0.28] as [number, number],
  cap: 10,
};

/**
 * FlowRL loss: importance-weighted squared trajectory-balance residual with length normalisation.
 * @returns {loss: Scalar, metrics: {"update/flowLoss", "update/logZMean", "update/tbResidualMean",
 * "update/isWeightMean", ...}}
 * @example
 * const reward = update.advantage("grpo", {rewards, groups});
 * const {loss} = update.flowrlLoss({logp, oldLogp, refLogp, mask, logZ, reward})
 */
export function flowrlLoss(
  inputs: FlowrlLossInputs,
  options: FlowrlLossOptions = {},
): { loss: tf.Scalar; metrics: Record<string, number> } {
  const { beta, weight, clip, cap } = { ...flowrlDefaults, ...options };
  const F = "update.flowrlLoss";
  checkFinite({ where: F, from: flowrlLoss }, "options.beta", beta, "FlowRL uses 15.", ["options", "beta"]);
  if (!["raw", "clip", "cap"].includes(weight))
    fail(
      "invalid_option",
      `${F}: options.weight is ${describe(weight)} (expected "raw", "clip" or "cap").`,
      { path: ["options", "weight"] },
      flowrlLoss,
    );
  if (!Array.isArray(clip) || !(clip[0] >= 0 && clip[0] < 1 && clip[1] >= 0))
    fail(
      "invalid_option",
      `${F}: options.clip is ${describe(clip)} (expected [ε_low, ε_high], e.g. [0.2, 0.28]).`,
      { path: ["options", "clip"] },
      flowrlLoss,
    );
  if (!(cap > 0))
    fail(
      "invalid_option",
      `${F}: options.cap must be > 0 (got ${describe(cap)}).`,
      { path: ["options", "cap"] },
      flowrlLoss,
    );
  if (!(inputs?.logp instanceof tf.Tensor) || !(inputs?.logZ instanceof tf.Tensor))
    fail(
      "invalid_input",
      `${F}: inputs.logp [B, T] and inputs.logZ [B] must be tensors computed under the tape ` +
        `(got ${describe(inputs?.logp)}, ${describe(inputs?.logZ)}).`,
      {},
      flowrlLoss,
    );
  const metrics: Record<string, number> = {};
  const loss = tf.tidy(() => {
    const logp = asTensor(inputs.logp, 2, F, "inputs.logp") as tf.Tensor2D;
    const [B, T] = logp.shape;
    let mask = asTensor(inputs.mask, 2, F, "inputs.mask") as tf.Tensor2D;
    checkShape(mask, [B, T], F, "inputs.mask", "inputs.logp");
    const refLogp = asTensor(inputs.refLogp, 2, F, "inputs.refLogp");
    checkShape(refLogp, [B, T], F, "inputs.refLogp", "inputs.logp");
    const oldLogp = inputs.oldLogp === undefined ? detach(logp) : asTensor(inputs.oldLogp, 2, F, "inputs.oldLogp");
    checkShape(oldLogp, [B, T], F, "inputs.oldLogp", "inputs.logp");
    const logZ = inputs.logZ.reshape([-1]);
    if (logZ.shape[0] !== B)
      fail(
        "shape_mismatch",
        `${F}: inputs.logZ has ${logZ.shape[0]} values but inputs.logp has ${B} rows (expected [B]).`,
        { path: ["inputs", "logZ"] },
        flowrlLoss,
      );
    const r = inputs.reward instanceof tf.Tensor ? hostData(inputs.reward) : Float32Array.from(inputs.reward ?? []);
    if (r.length !== B)
      fail(
        "shape_mismatch",
        `${F}: inputs.reward has ${r.length} values but inputs.logp has ${B} rows (expected one r̂ per sequence).`,
        { path: ["inputs", "reward"] },
        flowrlLoss,
      );
    const diff = logp.sub(oldLogp);
    if (weight === "clip") {
      // CISPO-style token mask, built from data (ratios and rewards), never inside the tape.
      const d = hostData(diff),
        m = hostData(mask),
        keep = new Float32Array(B * T);
      let dropped = 0,
        total = 0;
      for (let i = 0; i < B; i++)
        for (let t = 0; t < T; t++) {
          const k = i * T + t,
            rho = Math.exp(d[k]);
          const drop = (r[i] > 0 && rho > 1 + clip[1]) || (r[i] < 0 && rho < 1 - clip[0]);
          keep[k] = drop ? 0 : m[k];
          if (m[k] > 0) {
            total++;
            if (drop) dropped++;
          }
        }
      mask = tf.tensor2d(keep, [B, T]);
      metrics["update/isMaskedFrac"] = dropped / Math.max(total, 1);
    }
    const len = tf.maximum(mask.sum(1), 1); // [B]
    const seqLogp = logp.mul(mask).sum(1).div(len); // [B], length-normalised log π
    const seqRef = refLogp.mul(mask).sum(1).div(len);
    const rHat = tf.tensor1d(r);
    const delta = logZ.add(seqLogp).sub(rHat.mul(beta)).sub(seqRef); // [B]
    const logW = tf.clipByValue(detach(diff.mul(mask).sum(1)), -20, 20);
    let w = logW.exp();
    if (weight === "clip") w = tf.clipByValue(w, 1 - clip[0], 1 + clip[1]);
    if (weight === "cap") w = tf.minimum(w, cap);
    const l = w.mul(delta.square()).mean() as tf.Scalar;
    const wd = hostData(w),
      dd = hostData(delta);
    metrics["update/flowLoss"] = l.dataSync()[0];
    metrics["update/logZMean"] = hostData(logZ).reduce((s, x) => s + x, 0) / B;
    metrics["update/tbResidualMean"] = dd.reduce((s, x) => s + x, 0) / B;
    metrics["update/tbResidualAbsMax"] = dd.reduce((s, x) => Math.max(s, Math.abs(x)), 0);
    metrics["update/isWeightMean"] = wd.reduce((s, x) => s + x, 0) / B;
    metrics["update/isWeightMax"] = wd.reduce((s, x) => Math.max(s, x), -Infinity);
    metrics["update/seqLogpMean"] = hostData(seqLogp).reduce((s, x) => s + x, 0) / B;
    metrics["update/loss"] = metrics["update/flowLoss"];
    return l;
  });
  return { loss, metrics };
}

/** What flowrlHeadLoss reads: the step's logprob tensors (with hidden states) and per-row fields of the batch. */
export interface FlowrlHeadLossInputs extends Omit<FlowrlLossInputs, "logZ"> {
  /** Final hidden states [B, S, H] under the tape (update.step's `hidden: true`). */
  hidden?: tf.Tensor;
  /** Prompt positions [B, S] (1 on prompt tokens). */
  promptMask: TensorInput;
}

/**
 * flowrlLoss with log Z from `head` on the pooled prompt states (dropout from `rng` when the head has any): the loss of
 * one (micro-)batch, as flowrlStep runs it in one process and its trainer's workers run it on their rows.
 * @example update.step(policy, opt, batch, fields, (mb) => flowrlHeadLoss(head, mb, opts, rng), {hidden: true})
 */
export function flowrlHeadLoss(
  head: LogZHead,
  inputs: FlowrlHeadLossInputs,
  options: FlowrlLossOptions,
  rng?: Rng,
): { loss: tf.Scalar; metrics: Record<string, number> } {
  const { hidden, promptMask, ...mb } = inputs;
  const logZ = head.apply(poolPrompt({ hidden: hidden!, promptMask }), { training: true, rng });
  return flowrlLoss({ ...mb, logZ }, options);
}
