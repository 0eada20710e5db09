// SAPO (Soft Adaptive Policy Optimization, arXiv 2511.20347) as verl's loss_mode=sapo: PPO's hard clip is replaced by a
// smooth gate of the ratio, f(ρ) = σ(τ·(ρ − 1))·4/τ, whose slope 4σ(1 − σ)·ρ is 1 at ρ = 1 and decays smoothly as the
// token leaves the trust region; negative advantages get a slightly larger τ (a faster decay).
import * as tf from "@tensorflow/tfjs";
import { policyLosses, type PolicyLossFn } from "../registries.js";
import { hostData } from "../tensors.js";
import { numOption } from "./options.js";

/**
 * SAPO per token: ℓ_t = −f(ρ_t, τ_t)·A_t with f(ρ, τ) = σ(τ(ρ − 1))·4/τ, τ_t = τ+ if A_t > 0 else τ−, and
 * ρ = exp(clamp(log π − log π_old, ±20)). ∂ℓ/∂log π = −A·4σ(1 − σ)·ρ. Defaults: tauPos 1.0, tauNeg 1.05 (the paper's
 * and verl's actor config tau_pos / tau_neg); aggregation "seq-mean-token-mean" (verl forces it; here another `agg`
 * may be passed). No clip: options.clip is ignored.
 * @example update.policyLoss("sapo", {logp, oldLogp, adv, mask}, {tauPos: 1, tauNeg: 1.05})
 */
export const sapo: PolicyLossFn = Object.assign(
  ({ logp, oldLogp, adv, mask }: Parameters<PolicyLossFn>[0], options: Parameters<PolicyLossFn>[1]) => {
    const tauPos = numOption(options, "tauPos", 1.0, { above: 0 });
    const tauNeg = numOption(options, "tauNeg", 1.05, { above: 0 });
    const ratio = tf.clipByValue(logp.sub(oldLogp), -20, 20).exp();
    const a = hostData(adv);
    const tau = tf.tensor2d(
      a.map((x) => (x > 0 ? tauPos : tauNeg)),
      logp.shape,
    );
    const sig = tf.sigmoid(tau.mul(ratio.sub(1)));
    const gate = sig.mul(tf.div(4, tau));
    const r = hostData(ratio),
      s = hostData(sig),
      d = hostData(logp.sub(oldLogp)),
      m = hostData(mask);
    const grad = new Float32Array(r.length);
    let n = 0,
      gsum = 0;
    for (let i = 0; i < r.length; i++) {
      grad[i] = d[i] < -20 || d[i] > 20 ? 0 : -a[i] * 4 * s[i] * (1 - s[i]) * r[i];
      if (m[i] > 0) {
        n++;
        gsum += 4 * s[i] * (1 - s[i]) * r[i];
      }
    }
    // The soft gate never binds: no token is flagged; the mean slope says how much of the plain PG step survives.
    const metrics = { "update/clipFrac": 0, "update/sapoSlopeMean": n ? gsum / n : 0 };
    return {
      loss: gate.mul(adv).neg() as tf.Tensor2D,
      metrics,
      tokens: { ratio: r, clipped: new Float32Array(r.length), grad },
    };
  },
  { defaultAgg: "seq-mean-token-mean" },
);

policyLosses.add("sapo", sapo, {
  paper: "arXiv:2511.20347",
  summary: "soft gate σ(τ(ρ − 1))·4/τ instead of the clip; τ+ = 1.0, τ− = 1.05",
});
