// PPO clipped surrogate as verl's "vanilla" policy loss: decoupled clip bounds (DAPO clip-higher) and dual-clip for
// negative advantages (Ye et al. 2020, c = clip_ratio_c). The log-ratio is clamped to [−20, 20] before exp, as verl.
import * as tf from "@tensorflow/tfjs";
import { policyLosses, type PolicyLossFn } from "../registries.js";
import { hostData } from "../tensors.js";

/**
 * Clip-fraction metrics shared by the clipped variants, from host copies of ratio, advantage and mask.
 * @example
 * clipMetrics(ratio, adv, mask, 0.2, 0.28)
 * // {"update/clipFracLow": ..., "update/clipFracHigh": ..., "update/clipFrac": ...}
 */
export function clipMetrics(
  ratio: Float32Array,
  adv: Float32Array,
  mask: Float32Array,
  low: number,
  high: number,
): Record<string, number> {
  let n = 0,
    lo = 0,
    hi = 0;
  for (let i = 0; i < ratio.length; i++) {
    if (!(mask[i] > 0)) continue;
    n++;
    if (adv[i] < 0 && ratio[i] < 1 - low) lo++;
    if (adv[i] > 0 && ratio[i] > 1 + high) hi++;
  }
  const d = Math.max(n, 1);
  return { "update/clipFracLow": lo / d, "update/clipFracHigh": hi / d, "update/clipFrac": (lo + hi) / d };
}

/**
 * PPO-clip per token: ℓ = max(−A·ρ, −A·clip(ρ, 1 − ε_low, 1 + ε_high)), and for A < 0 min(ℓ, −A·c) (dual clip).
 * ρ = exp(log π − log π_old). Gradient is 0 on tokens where the clip binds.
 * @example update.policyLoss("ppo-clip", {logp, oldLogp, adv, mask}, {clip: [0.2, 0.28]})
 */
export const ppoClip: PolicyLossFn = ({ logp, oldLogp, adv, mask }, { clipLow, clipHigh, clipC }) => {
  const logRatio = logp.sub(oldLogp);
  const ratio = tf.clipByValue(logRatio, -20, 20).exp();
  const l1 = adv.neg().mul(ratio);
  const l2 = adv.neg().mul(tf.clipByValue(ratio, 1 - clipLow, 1 + clipHigh));
  const clipped = tf.maximum(l1, l2);
  let loss = clipped;
  const r = hostData(ratio),
    a = hostData(adv),
    m = hostData(mask);
  const metrics = clipMetrics(r, a, m, clipLow, clipHigh);
  if (clipC !== null) {
    // The negative-advantage mask comes from data (adv), never from the tape.
    const neg = tf.less(adv, 0).toFloat();
    const dual = tf.minimum(clipped, adv.neg().mul(clipC));
    loss = dual.mul(neg).add(clipped.mul(tf.sub(1, neg)));
    let n = 0,
      d = 0;
    for (let i = 0; i < r.length; i++)
      if (m[i] > 0) {
        n++;
        if (a[i] < 0 && r[i] > clipC) d++;
      }
    metrics["update/dualClipFrac"] = d / Math.max(n, 1);
  }
  return { loss: loss as tf.Tensor2D, metrics, tokens: ppoTokens(r, a, hostData(logRatio), clipLow, clipHigh, clipC) };
};

/**
 * PPO-clip's per-token diagnostics from host data: the clip binds (zero gradient) for A > 0, ρ > 1 + ε_high; A < 0,
 * ρ < 1 − ε_low; and with dual-clip for A < 0, ρ > c. Elsewhere ∂ℓ/∂log π = −A·ρ (0 where the log-ratio clamp binds).
 * @example ppoTokens(ratio, adv, logRatio, 0.2, 0.28, 3).grad
 */
export function ppoTokens(
  r: Float32Array,
  a: Float32Array,
  logRatio: Float32Array,
  low: number,
  high: number,
  clipC: number | null,
): { clipped: Float32Array; grad: Float32Array } {
  const clipped = new Float32Array(r.length),
    grad = new Float32Array(r.length);
  for (let i = 0; i < r.length; i++) {
    const binds =
      (a[i] > 0 && r[i] > 1 + high) || (a[i] < 0 && r[i] < 1 - low) || (clipC !== null && a[i] < 0 && r[i] > clipC);
    clipped[i] = binds ? 1 : 0;
    grad[i] = binds || logRatio[i] < -20 || logRatio[i] > 20 ? 0 : -a[i] * r[i];
  }
  return { clipped, grad };
}

policyLosses.add("ppo-clip", ppoClip, {
  paper: "arXiv:1707.06347, arXiv:2503.14476",
  summary: "clipped surrogate, clip-higher, dual-clip",
});
