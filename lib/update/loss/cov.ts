// Clip-Cov and KL-Cov (Cui et al., "The Entropy Mechanism of RL for Reasoning LMs", arXiv 2505.22617) as verl's
// loss_mode=clip_cov / kl_cov: entropy collapses because the update is driven by tokens whose log-prob and advantage
// co-vary strongly. Both score every token by Cov_t = (A_t − mean A)·(log π_t − mean log π) over the batch's response
// tokens and restrain only a tiny fraction: Clip-Cov takes the gradient away from a random slice of tokens inside a
// covariance band, KL-Cov adds a KL penalty |log π − log π_old| on the top-k% by covariance.
import * as tf from "@tensorflow/tfjs";
import { describe, fail } from "../../core/errors.js";
import { globalRng, Rng } from "../../core/random.js";
import { policyLosses, type PolicyLossFn, type PolicyLossVariantOptions } from "../registries.js";
import { hostData } from "../tensors.js";
import { numOption } from "./options.js";

/** Covariance of A and log π per token over the mask (verl: masked means with +1e-8 in the denominators). */
function covariance(a: Float32Array, lp: Float32Array, m: Float32Array, eps: number): Float64Array {
  let n = 0,
    sa = 0,
    sl = 0;
  for (let i = 0; i < a.length; i++)
    if (m[i] > 0) {
      n++;
      sa += a[i];
      sl += lp[i];
    }
  const ma = sa / (n + eps),
    ml = sl / (n + eps);
  return Float64Array.from(a, (x, i) => (x - ma) * (lp[i] - ml));
}

function rngOf(options: PolicyLossVariantOptions): Rng {
  const { rng, seed } = options as { rng?: unknown; seed?: unknown };
  if (rng !== undefined) {
    if (!(rng instanceof Rng))
      fail(
        "invalid_option",
        `update.policyLoss: options.rng must be a core Rng (got ${describe(rng)}). Pass new Rng(seed) or options.seed.`,
        { path: ["options", "rng"] },
      );
    return rng;
  }
  if (seed !== undefined) return new Rng(numOption(options, "seed", 0));
  return globalRng();
}

/**
 * Clip-Cov per token (verl `clip_cov`): PPO's clipped surrogate max(−A·ρ, −A·clip(ρ, 1 − ε_low, 1 + ε_high)) (ρ
 * unclamped, no dual-clip) times corr_t, where corr_t = 0 (no loss, no gradient) on max(1, ⌊r·N⌋) tokens drawn at
 * random among the response tokens the PPO clip does not bind with lb < Cov_t < ub, and 1 elsewhere (N = response
 * tokens in the batch). Defaults as verl: clipCovRatio r = 2e-4, clipCovLb 1, clipCovUb 5. The draw uses options.rng
 * (a core Rng), else a fresh Rng(options.seed), else the global stream that `seed(n)` resets.
 * @example update.policyLoss("clip-cov", {logp, oldLogp, adv, mask}, {clipCovRatio: 0.02, seed: 0})
 */
export const clipCov: PolicyLossFn = ({ logp, oldLogp, adv, mask }, options) => {
  const { clipLow, clipHigh } = options;
  const ratioFrac = numOption(options, "clipCovRatio", 2e-4, { above: 0, max: 1 });
  const lb = numOption(options, "clipCovLb", 1.0);
  const ub = numOption(options, "clipCovUb", 5.0);
  const rng = rngOf(options);
  const ratio = logp.sub(oldLogp).exp();
  const l1 = adv.neg().mul(ratio);
  const l2 = adv.neg().mul(tf.clipByValue(ratio, 1 - clipLow, 1 + clipHigh));
  const a = hostData(adv),
    m = hostData(mask),
    r = hostData(ratio),
    h1 = hostData(l1),
    h2 = hostData(l2);
  const cov = covariance(a, hostData(logp), m, 1e-8);
  let N = 0;
  const band: number[] = [];
  for (let i = 0; i < a.length; i++) {
    if (!(m[i] > 0)) continue;
    N++;
    if (!(h2[i] > h1[i]) && cov[i] > lb && cov[i] < ub) band.push(i);
  }
  const k = Math.min(Math.max(Math.floor(ratioFrac * N), 1), band.length);
  const corr = new Float32Array(a.length).fill(1);
  for (const i of rng.shuffle(band).slice(0, k)) corr[i] = 0;
  const loss = tf.maximum(l1, l2).mul(tf.tensor2d(corr, logp.shape));
  const clipped = new Float32Array(a.length),
    grad = new Float32Array(a.length);
  let nClip = 0;
  for (let i = 0; i < a.length; i++) {
    const binds = h2[i] > h1[i];
    clipped[i] = binds || !corr[i] ? 1 : 0;
    grad[i] = binds || !corr[i] ? 0 : -a[i] * r[i];
    if (m[i] > 0 && !corr[i]) nClip++;
  }
  const metrics = { "update/clipFrac": nClip / Math.max(N, 1), "update/covBandTokens": band.length };
  return { loss: loss as tf.Tensor2D, metrics, tokens: { ratio: r, clipped, grad } };
};

/**
 * KL-Cov per token (verl `kl_cov`): ℓ_t = −A_t·ρ_t, plus κ·|log π_t − log π_old,t| on the max(1, ⌊r·N⌋) response
 * tokens with the largest Cov_t (ρ unclamped, no clip). Defaults as verl: klCovRatio r = 2e-4, klCovCoef κ = 1
 * (verl ppo_kl_coef). Ties in Cov go to the earlier token.
 * @example update.policyLoss("kl-cov", {logp, oldLogp, adv, mask}, {klCovRatio: 0.02})
 */
export const klCov: PolicyLossFn = ({ logp, oldLogp, adv, mask }, options) => {
  const ratioFrac = numOption(options, "klCovRatio", 2e-4, { above: 0, max: 1 });
  const coef = numOption(options, "klCovCoef", 1.0, { min: 0 });
  const x = logp.sub(oldLogp);
  const ratio = x.exp();
  const a = hostData(adv),
    m = hostData(mask),
    r = hostData(ratio),
    xh = hostData(x);
  // verl centres over the valid tokens with plain means (no 1e-8)
  const cov = covariance(a, hostData(logp), m, 0);
  const valid: number[] = [];
  for (let i = 0; i < a.length; i++) if (m[i] > 0) valid.push(i);
  const sel = new Float32Array(a.length);
  if (valid.length) {
    const k = Math.max(1, Math.floor(valid.length * ratioFrac));
    const order = valid.slice().sort((i, j) => cov[j] - cov[i] || i - j);
    for (const i of order.slice(0, k)) sel[i] = 1;
  }
  // |x| as x·sg(sign x) on the selected tokens: torch's abs has gradient 0 at x = 0 (tf.abs: −1)
  const signSel = tf.tensor2d(
    sel.map((v, i) => v * Math.sign(xh[i])),
    logp.shape,
  );
  const loss = adv.neg().mul(ratio).add(x.mul(signSel).mul(coef));
  const grad = new Float32Array(a.length);
  let nSel = 0;
  for (let i = 0; i < a.length; i++) {
    grad[i] = -a[i] * r[i] + coef * sel[i] * Math.sign(xh[i]);
    if (m[i] > 0 && sel[i]) nSel++;
  }
  const metrics = { "update/klCovFrac": nSel / Math.max(valid.length, 1) };
  return { loss: loss as tf.Tensor2D, metrics, tokens: { ratio: r, clipped: sel, grad } };
};

policyLosses.add("clip-cov", clipCov, {
  paper: "arXiv:2505.22617",
  summary: "PPO clip + no gradient on a random slice of high-covariance tokens (Cov in (lb, ub))",
});
policyLosses.add("kl-cov", klCov, {
  paper: "arXiv:2505.22617",
  summary: "−A·ρ + κ·|log π − log π_old| on the top-k% tokens by Cov(A, log π)",
});
