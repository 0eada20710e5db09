// GMPO (Geometric-Mean Policy Optimization, arXiv 2507.20673) as verl's loss_mode=geo_mean: one ratio per sequence,
// the geometric mean of the token ratios, each clipped in log space on the side the advantage pushes. An outlier
// token moves the geometric mean far less than it moves GRPO's arithmetic mean.
import * as tf from "@tensorflow/tfjs";
import { policyLosses, type PolicyLossFn } from "../registries.js";
import { hostData } from "../tensors.js";

/**
 * GMPO per sequence: L_i = −Ā_i·exp((1/|y_i|)·Σ_t c_t), c_t = sgn(A_t)·min(sgn(A_t)·x_t, sgn(A_t)·clamp(x_t, −ε_low,
 * ε_high)), x_t = log π_t − log π_old,t (unclamped), Ā_i = the masked mean of A over the row (verl supports
 * sequence-level A only). Returned per token as L_i/|y_i| on every token of row i, so the default aggregation
 * "seq-mean-token-sum" is the mean of L_i over rows with a token; verl's torch.mean also counts empty rows (pass
 * `seqs: B` for that). ε = options.clip in log space: verl's clip_ratio (default 0.2); the paper uses (e^−0.4, e^0.4),
 * i.e. clip: 0.4. tokens.grad is ∂L_i/∂log π_t = −Ā_i·s_i/|y_i| on tokens whose c_t is not clipped.
 * @example update.policyLoss("gmpo", {logp, oldLogp, adv, mask}, {clip: 0.4})
 */
export const gmpo: PolicyLossFn = Object.assign(
  ({ logp, oldLogp, adv, mask }: Parameters<PolicyLossFn>[0], { clipLow, clipHigh }: Parameters<PolicyLossFn>[1]) => {
    const [B, T] = logp.shape;
    const x = logp.sub(oldLogp);
    const xh = hostData(x),
      a = hostData(adv),
      m = hostData(mask);
    // c_t = x_t where it is free, a constant where the clip binds (or A_t = 0: c_t = 0)
    const free = new Float32Array(xh.length),
      fixed = new Float32Array(xh.length);
    for (let i = 0; i < xh.length; i++) {
      const s = Math.sign(a[i]);
      const binds = s === 0 || (s > 0 && xh[i] > clipHigh) || (s < 0 && xh[i] < -clipLow);
      free[i] = binds ? 0 : 1;
      fixed[i] = s === 0 ? 0 : s > 0 ? clipHigh : -clipLow;
      if (!binds) fixed[i] = 0;
    }
    const c = x.mul(tf.tensor2d(free, [B, T])).add(tf.tensor2d(fixed, [B, T]));
    const len = mask.sum(1, true); // [B, 1]
    const den = len.add(1e-8);
    const seqRatio = c.mul(mask).sum(1, true).div(den).exp(); // [B, 1]
    const advSeq = adv.mul(mask).sum(1, true).div(den); // [B, 1]
    const L = advSeq.mul(seqRatio).neg(); // [B, 1]
    const loss = L.div(tf.maximum(len, 1)).mul(tf.onesLike(logp));
    const s = hostData(seqRatio),
      ab = hostData(advSeq),
      lh = hostData(len);
    const ratio = new Float32Array(xh.length),
      clipped = new Float32Array(xh.length),
      grad = new Float32Array(xh.length);
    let n = 0,
      hi = 0,
      lo = 0;
    for (let i = 0; i < xh.length; i++) {
      const b = Math.floor(i / T);
      ratio[i] = s[b];
      // verl's clipfrac flags the clamp itself (x outside [−ε_low, ε_high]), split by the sign of A
      const outside = xh[i] < -clipLow || xh[i] > clipHigh;
      clipped[i] = a[i] !== 0 && !free[i] ? 1 : 0;
      grad[i] = free[i] ? (-ab[b] * s[b]) / (lh[b] + 1e-8) : 0;
      if (!(m[i] > 0)) continue;
      n++;
      if (outside && a[i] > 0) hi++;
      if (outside && a[i] < 0) lo++;
    }
    const k = Math.max(n, 1);
    const metrics = {
      "update/clipFracHigh": hi / k,
      "update/clipFracLow": lo / k,
      "update/clipFrac": (hi + lo) / k,
      "update/seqRatioMean": s.reduce((t, v) => t + v, 0) / B,
    };
    return { loss: loss as tf.Tensor2D, metrics, tokens: { ratio, clipped, grad } };
  },
  { defaultAgg: "seq-mean-token-sum" },
);

policyLosses.add("gmpo", gmpo, {
  paper: "arXiv:2507.20673",
  summary: "geometric mean of the token ratios per sequence, clipped in log space by sign(A)",
});
