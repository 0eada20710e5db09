// DPPO (Divergence PPO, arXiv 2602.04879; sail-sg/Stable-RL) as verl's loss_mode=dppo_tv / dppo_kl and prime-rl's
// default loss: instead of clipping the ratio, a token is dropped from the policy gradient when the update has already
// moved its probability too far from the sampler's μ in the direction the advantage pushes (binary total variation
// |π − μ|, or the binary KL of the two Bernoullis {p, 1 − p}). Kept tokens get the truncated, detached IS weight.
import * as tf from "@tensorflow/tfjs";
import { policyLosses, type PolicyLossFn, type PolicyLossVariantOptions } from "../registries.js";
import { detach, hostData } from "../tensors.js";
import { numOption } from "./options.js";

type Divergence = "tv" | "kl";

/** The 1e-8 that verl adds inside the binary KL's second log. */
const BKL_EPS = 1e-8;

function klTauOf(options: PolicyLossVariantOptions): number {
  return numOption(options, "klTau", 0, { min: 0 });
}

/**
 * Whether DPPO keeps token i: for A > 0 the update may not have raised it past the threshold, for A ≤ 0 not lowered.
 * TV: p − μ ≤ δ_high (A > 0), p − μ ≥ −δ_low (A ≤ 0). KL: bkl ≤ δ or the move points the other way.
 */
function keeps(div: Divergence, a: number, lp: number, lq: number, low: number, high: number): boolean {
  const p = Math.exp(lp),
    q = Math.exp(lq);
  if (div === "tv") return a > 0 ? p - q <= high : p - q >= -low;
  const bkl = q * (lq - lp) + (1 - q) * Math.log((1 - q + BKL_EPS) / (1 - p + BKL_EPS));
  return a > 0 ? bkl <= high || p <= q : bkl <= low || p >= q;
}

function dppo(div: Divergence): PolicyLossFn {
  return ({ logp, oldLogp, adv, mask }, options) => {
    const { clipLow, clipHigh, clipC } = options;
    const klTau = klTauOf(options);
    const diff = logp.sub(oldLogp);
    const ratio = tf.clipByValue(diff, -20, 20).exp();
    const w = detach(clipC === null ? ratio : tf.minimum(ratio, clipC));
    const lp = hostData(logp),
      lq = hostData(oldLogp),
      a = hostData(adv),
      m = hostData(mask),
      r = hostData(ratio),
      wh = hostData(w),
      d = hostData(diff);
    const keep = new Float32Array(lp.length);
    for (let i = 0; i < lp.length; i++) keep[i] = keeps(div, a[i], lp[i], lq[i], clipLow, clipHigh) ? 1 : 0;
    const keepT = tf.tensor2d(keep, logp.shape);
    let loss = adv.mul(w).mul(logp).mul(keepT).neg();
    if (klTau !== 0) loss = loss.add(diff.square().mul(klTau));
    // Per token: masked tokens have no policy gradient; kept ones ∂ℓ/∂log π = −A·min(ρ, c); the KL adds 2τ·log(π/μ).
    const clipped = new Float32Array(lp.length),
      grad = new Float32Array(lp.length);
    let n = 0,
      lo = 0,
      hi = 0,
      trunc = 0;
    for (let i = 0; i < lp.length; i++) {
      clipped[i] = keep[i] ? 0 : 1;
      grad[i] = -a[i] * wh[i] * keep[i] + 2 * klTau * d[i];
      if (!(m[i] > 0)) continue;
      n++;
      if (!keep[i] && a[i] > 0) hi++;
      if (!keep[i] && a[i] <= 0) lo++;
      if (keep[i] && clipC !== null && r[i] > clipC) trunc++;
    }
    const k = Math.max(n, 1);
    const metrics: Record<string, number> = {
      "update/clipFrac": (lo + hi) / k,
      "update/clipFracHigh": hi / k,
      "update/clipFracLow": lo / k,
      "update/dppoTruncFrac": trunc / k,
    };
    if (klTau !== 0) metrics["update/dppoKl"] = d.reduce((s, x, i) => s + (m[i] > 0 ? x * x : 0), 0) / k;
    return { loss: loss as tf.Tensor2D, metrics, tokens: { ratio: r, clipped, grad } };
  };
}

/**
 * DPPO-Binary-TV per token (verl `dppo_tv`): keep_t = [p_t − μ_t ≤ δ_high] if A_t > 0, [p_t − μ_t ≥ −δ_low] otherwise
 * (p = π_θ(y_t), μ = the old / sampler probability from `oldLogp`), and
 * ℓ_t = −A_t·sg(min(ρ_t, c))·log π_t·keep_t + τ·(log π_t − log μ_t)².
 * δ = options.clip (verl clip_ratio_low/high, default 0.2, prime-rl dppo_mask_low/high 0.2); c = options.clipC (verl
 * clip_ratio_c: 3 in verl's actor config, 20 when absent from it; null: no truncation); τ = options.klTau, default 0
 * (verl). prime-rl's default loss is klTau: 1e-3 (Kimi-K2.5's log² ratio KL, arXiv 2602.02276) with clipC: null; its
 * loss value is −keep·A·ρ rather than −keep·A·sg(ρ)·log π (same gradient), and it sums over tokens.
 * @example update.policyLoss("dppo-tv", {logp, oldLogp: ro.logprobs, adv, mask}, {clip: 0.2, klTau: 1e-3, clipC: null})
 */
export const dppoTv: PolicyLossFn = dppo("tv");

/**
 * DPPO-Binary-KL per token (verl `dppo_kl`): the binary KL
 * bkl = μ·log(μ/p) + (1 − μ)·log((1 − μ + 1e-8)/(1 − p + 1e-8))
 * of the Bernoullis {p, 1 − p} and {μ, 1 − μ}; keep_t = [bkl ≤ δ_high ∨ p ≤ μ] if A_t > 0, [bkl ≤ δ_low ∨ p ≥ μ]
 * otherwise; the loss as dppo-tv. Defaults as dppo-tv (verl's clip_ratio, 0.2).
 * @example update.policyLoss("dppo-kl", {logp, oldLogp, adv, mask}, {clip: 0.05})
 */
export const dppoKl: PolicyLossFn = dppo("kl");

policyLosses.add("dppo-tv", dppoTv, {
  paper: "arXiv:2602.04879",
  summary: "drop tokens whose |π − μ| moved past δ along A; −A·sg(min(ρ, c))·log π (+ τ·log²(π/μ))",
});
policyLosses.add("dppo-kl", dppoKl, {
  paper: "arXiv:2602.04879",
  summary: "as dppo-tv with the binary KL of {π, 1 − π} vs {μ, 1 − μ} as the divergence",
});
