// GSPO (Zheng et al., arXiv 2507.18071) as verl's loss_mode=gspo: a sequence-level ratio
// s_i = exp(mean_t m·(log π − log π_old)) applied to every token through a straight-through
// s_i,t = sg(s_i)·π/sg(π), log-ratio capped at 10, then PPO's clip. verl forces seq-mean-token-mean; here that is the
// default aggregation and another `agg` may be chosen. The paper's clip range is 3e-4 / 4e-4 (pass clip: [3e-4, 4e-4]).
// verl's gspo IS the paper's GSPO-token form (it allows a per-token A_i,t); it is registered as "gspo" and
// "gspo-token". "gspo-seq" is the paper's sequence form (gradient through the mean log-ratio, one A per sequence): with
// one A per sequence both give the same value and gradient. LUSPO (arXiv 2602.05261) is the token form × |y_i|.
import * as tf from "@tensorflow/tfjs";
import { policyLosses, type PolicyLossFn } from "../registries.js";
import { detach, hostData, maskedMean } from "../tensors.js";
import { clipMetrics } from "./ppo-clip.js";

/**
 * GSPO per token: ℓ = max(−A·s, −A·clip(s, 1 − ε_low, 1 + ε_high)) with the sequence ratio s broadcast over tokens.
 * @example update.policyLoss("gspo", {logp, oldLogp, adv, mask}, {clip: [3e-4, 4e-4]})
 */
export const gspo: PolicyLossFn = Object.assign(
  (inputs: Parameters<PolicyLossFn>[0], options: Parameters<PolicyLossFn>[1]) => gspoToken(inputs, options),
  { defaultAgg: "seq-mean-token-mean" },
);

function gspoToken(
  { logp, oldLogp, adv, mask }: Parameters<PolicyLossFn>[0],
  { clipLow, clipHigh }: Parameters<PolicyLossFn>[1],
): ReturnType<PolicyLossFn> {
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
}

/**
 * GSPO, the paper's sequence form: L_i = max(−Ā_i·s_i, −Ā_i·clip(s_i, 1 − ε_low, 1 + ε_high)) with
 * s_i = exp(min(mean_t (log π − log π_old), 10)) differentiated through the mean (no straight-through) and Ā_i the
 * masked mean of A over the row (one advantage per sequence, as the paper). Returned as L_i on every token of row i;
 * the default "seq-mean-token-mean" makes it the mean of L_i. Equal to "gspo" (value and gradient) when A is one
 * value per sequence; with per-token A only "gspo" / "gspo-token" use it.
 * @example update.policyLoss("gspo-seq", {logp, oldLogp, adv: A, mask}, {clip: [3e-4, 4e-4]})
 */
export const gspoSeq: PolicyLossFn = Object.assign(
  ({ logp, oldLogp, adv, mask }: Parameters<PolicyLossFn>[0], { clipLow, clipHigh }: Parameters<PolicyLossFn>[1]) => {
    const T = logp.shape[1];
    const len = tf.maximum(mask.sum(1, true), 1); // [B, 1]
    const seqLog = logp.sub(oldLogp).mul(mask).sum(1, true).div(len); // [B, 1], on the tape
    const s = tf.minimum(seqLog, 10).exp();
    const advSeq = adv.mul(mask).sum(1, true).div(len);
    const L = tf.maximum(advSeq.neg().mul(s), advSeq.neg().mul(tf.clipByValue(s, 1 - clipLow, 1 + clipHigh)));
    const sh = hostData(s),
      ab = hostData(advSeq),
      lg = hostData(seqLog),
      m = hostData(mask);
    const n = logp.shape[0] * T;
    const ratio = new Float32Array(n),
      clipped = new Float32Array(n),
      grad = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const b = Math.floor(i / T);
      const binds = (ab[b] > 0 && sh[b] > 1 + clipHigh) || (ab[b] < 0 && sh[b] < 1 - clipLow);
      ratio[i] = sh[b];
      clipped[i] = binds ? 1 : 0;
      // ∂(Σ_t ℓ_t)/∂log π_t = |y_i|·∂L_i/∂log π_t = −Ā_i·s_i where neither the clip nor the cap binds
      grad[i] = binds || lg[b] > 10 ? 0 : -ab[b] * sh[b];
    }
    const metrics = clipMetrics(ratio, hostData(adv), m, clipLow, clipHigh);
    metrics["update/seqRatioMean"] = sh.reduce((t, x) => t + x, 0) / logp.shape[0];
    return { loss: L.mul(tf.onesLike(logp)) as tf.Tensor2D, metrics, tokens: { ratio, clipped, grad } };
  },
  { defaultAgg: "seq-mean-token-mean" },
);

/**
 * LUSPO (Length-Unbiased Sequence Policy Optimization, arXiv 2602.05261): the GSPO(-token) per-token loss × |y_i|, so
 * that under GSPO's seq-mean-token-mean a long sequence is not down-weighted by its own length (the result equals
 * GSPO aggregated with seq-mean-token-sum). Clip as gspo (the paper's 3e-4 / 4e-4: pass clip: [3e-4, 4e-4]).
 * @example update.policyLoss("luspo", {logp, oldLogp, adv, mask}, {clip: [3e-4, 4e-4]})
 */
export const luspo: PolicyLossFn = Object.assign(
  (inputs: Parameters<PolicyLossFn>[0], options: Parameters<PolicyLossFn>[1]) => {
    const out = gspoToken(inputs, options);
    const len = inputs.mask.sum(1, true);
    const T = inputs.logp.shape[1],
      lh = hostData(len);
    const grad = out.tokens!.grad.map((g, i) => g * lh[Math.floor(i / T)]);
    return { ...out, loss: out.loss.mul(len) as tf.Tensor2D, tokens: { ...out.tokens!, grad } };
  },
  { defaultAgg: "seq-mean-token-mean" },
);

policyLosses.add("gspo", gspo, {
  paper: "arXiv:2507.18071",
  summary: "sequence-level ratio (length-normalised), clipped; verl's form = GSPO-token",
});
policyLosses.add("gspo-token", gspo, {
  paper: "arXiv:2507.18071",
  summary: "the same function as gspo: s_i,t = sg(s_i)·π/sg(π), per-token A allowed",
});
policyLosses.add("gspo-seq", gspoSeq, {
  paper: "arXiv:2507.18071",
  summary: "GSPO's sequence form: gradient through the mean log-ratio, one A per sequence",
});
policyLosses.add("luspo", luspo, {
  paper: "arXiv:2602.05261",
  summary: "GSPO-token loss × |y_i| (no length bias under seq-mean-token-mean)",
});
