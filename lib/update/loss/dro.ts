// DRO as verl's docs/algo/dro.md and Tinker's built-in `dro` loss: a policy gradient on log π with a quadratic penalty
// that holds log π near the sampler's log π_old, −[A·log π − (β/2)·(log π − log π_old)²] per token. No ratio, no clip.
import * as tf from "@tensorflow/tfjs";
import { policyLosses, type PolicyLossFn } from "../registries.js";
import { hostData } from "../tensors.js";
import { numOption } from "./options.js";

/**
 * DRO per token: ℓ_t = −(A_t·log π_t − (β/2)·(log π_t − log π_old,t)²); ∂ℓ/∂log π = −A + β·(log π − log π_old).
 * β = options.droBeta, default 1.0 (Tinker's loss_fn_config `beta`); Tinker sums over tokens, here the aggregation is
 * `agg` (default token-mean).
 * @example update.policyLoss("dro", {logp, oldLogp, adv, mask}, {droBeta: 0.5})
 */
export const dro: PolicyLossFn = ({ logp, oldLogp, adv }, options) => {
  const beta = numOption(options, "droBeta", 1.0, { min: 0 });
  const d = logp.sub(oldLogp);
  const loss = adv
    .mul(logp)
    .sub(d.square().mul(beta / 2))
    .neg();
  const a = hostData(adv),
    dh = hostData(d);
  const grad = a.map((x, i) => -x + beta * dh[i]);
  return { loss: loss as tf.Tensor2D, tokens: { clipped: new Float32Array(a.length), grad } };
};

policyLosses.add("dro", dro, {
  paper: "verl docs/algo/dro.md; Tinker dro",
  summary: "−[A·log π − (β/2)(log π − log π_old)²]",
});
