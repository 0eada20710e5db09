// GSPO (Zheng et al., arXiv 2507.18071) as verl's loss_mode=gspo: a sequence-level ratio
// s_i = exp(mean_t m·(log π − log π_old)) applied to every token through a straight-through
// s_i,t = sg(s_i)·π/sg(π), log-ratio capped at 10, then PPO's clip. verl forces seq-mean-token-mean; here that is the
// default aggregation and another `agg` may be chosen. The paper's clip range is 3e-4 / 4e-4 (pass clip: [3e-4, 4e-4]).
import * as tf from "@tensorflow/tfjs";
import { policyLosses, type PolicyLossFn } from "../registries.js";
import { detach, hostData, maskedMean } from "../tensors.js";
import { clipMetrics } from "./ppo-clip.js";

/**
 * GSPO per token: ℓ = max(−A·s, −A·clip(s, 1 − ε_low, 1 + ε_high)) with the sequence ratio s broadcast over tokens.
 * @example update.policyLoss("gspo", {logp, oldLogp, adv, mask}, {clip: [3e-4, 4e-4]})
 */
export const gspo: PolicyLossFn = Object.assign(
  ({ logp, oldLogp, adv, mask }: Parameters<PolicyLossFn>[0], { clipLow, clipHigh }: Parameters<PolicyLossFn>[1]) => {
    const len = tf.maximum(mask.sum(1, true), 1); // [B, 1]
    const seqLogRatio = detach(logp.sub(oldLogp).mul(mask).sum(1, true).div(len)); // [B, 1]
    const logRatio = tf.minimum(logp.sub(detach(logp)).add(seqLogRatio), 10);
    const ratio = logRatio.exp();
    const l1 = adv.neg().mul(ratio);
    const l2 = adv.neg().mul(tf.clipByValue(ratio, 1 - clipLow, 1 + clipHigh));
    const r = hostData(ratio),
      a = hostData(adv),
      seq = hostData(seqLogRatio);
    const metrics = clipMetrics(r, a, hostData(mask), clipLow, clipHigh);
    metrics["update/seqRatioMean"] = hostData(seqLogRatio.exp()).reduce((s, x) => s + x, 0) / logp.shape[0];
    // verl's gspo reports ppo_kl from the unclamped log-ratio (vanilla and cispo clamp it to ±20 first)
    metrics["update/approxKl"] = -maskedMean(hostData(logp.sub(oldLogp)), hostData(mask));
    // Per token: the clip binds as PPO's (no dual-clip); ∂ℓ/∂log π = −A·s, 0 where the log-ratio cap (10) binds.
    const T = logp.shape[1],
      clipped = new Float32Array(r.length),
      grad = new Float32Array(r.length);
    for (let i = 0; i < r.length; i++) {
      const binds = (a[i] > 0 && r[i] > 1 + clipHigh) || (a[i] < 0 && r[i] < 1 - clipLow);
      clipped[i] = binds ? 1 : 0;
      grad[i] = binds || seq[Math.floor(i / T)] > 10 ? 0 : -a[i] * r[i];
    }
    return { loss: tf.maximum(l1, l2) as tf.Tensor2D, metrics, tokens: { ratio: r, clipped, grad } };
  },
  { defaultAgg: "seq-mean-token-mean" },
);

policyLosses.add("gspo", gspo, {
  paper: "arXiv:2507.18071",
  summary: "sequence-level ratio (length-normalised), clipped",
});
