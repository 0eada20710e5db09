// CISPO (MiniMax-M1, arXiv 2506.13585) as verl's loss_mode=cispo: the importance weight is clipped and detached, and
// the gradient flows through log π, so clipped tokens still learn (PPO would give them zero gradient).
import * as tf from "@tensorflow/tfjs";
import { policyLosses, type PolicyLossFn } from "../registries.js";
import { detach, hostData } from "../tensors.js";
import { clipMetrics } from "./ppo-clip.js";

/**
 * CISPO per token: ℓ = −sg(clip(ρ, 1 − ε_low, 1 + ε_high))·A·log π.
 * @example update.policyLoss("cispo", {logp, oldLogp, adv, mask}, {clip: [0.2, 0.28]})
 */
export const cispo: PolicyLossFn = ({ logp, oldLogp, adv, mask }, { clipLow, clipHigh }) => {
  const ratio = tf.clipByValue(logp.sub(oldLogp), -20, 20).exp();
  const w = detach(tf.clipByValue(ratio, 1 - clipLow, 1 + clipHigh));
  const r = hostData(ratio),
    a = hostData(adv),
    wh = hostData(w);
  const metrics = clipMetrics(r, a, hostData(mask), clipLow, clipHigh);
  // Per token: the weight clip binds where ρ leaves [1 − ε_low, 1 + ε_high]; the gradient still flows: ∂ℓ/∂log π =
  // −w·A.
  const clipped = new Float32Array(r.length),
    grad = new Float32Array(r.length);
  for (let i = 0; i < r.length; i++) {
    clipped[i] = a[i] !== 0 && (r[i] < 1 - clipLow || r[i] > 1 + clipHigh) ? 1 : 0;
    grad[i] = -wh[i] * a[i];
  }
  return { loss: w.mul(adv).mul(logp).neg() as tf.Tensor2D, metrics, tokens: { clipped, grad } };
};

/**
 * Plain policy gradient (REINFORCE / GPG, arXiv 2504.02546): ℓ = −A·log π. No ratio, no clip.
 * @example update.policyLoss("pg", {logp, adv, mask})
 */
export const pg: PolicyLossFn = ({ logp, adv }) => {
  const a = hostData(adv);
  return {
    loss: adv.mul(logp).neg() as tf.Tensor2D,
    tokens: { clipped: new Float32Array(a.length), grad: a.map((x) => -x) },
  };
};

policyLosses.add("cispo", cispo, { paper: "arXiv:2506.13585", summary: "−sg(clip(ρ))·A·log π" });
policyLosses.add("pg", pg, { paper: "arXiv:2504.02546", summary: "−A·log π (REINFORCE, no ratio)" });
