// ReMax (Li et al., arXiv 2310.10505) as verl's compute_remax_outcome_advantage: the baseline is the reward of the
// greedy response to the same prompt, b_i. Per token: G_t = Σ_{s≥t} m_s·r_s (reverse cumulative sum of the masked
// rewards), A_t = G_t − b_i·m_t. With the outcome reward only (no tokenRewards) every unmasked token before the last
// has G_t = R_i, so the advantage is one per completion, A_i = R_i − b_i.
import { fail } from "../../core/errors.js";
import { advantages, type AdvantageFn, type AdvantageInputs } from "../registries.js";

/**
 * ReMax advantage: R_i − b_i per completion; with inputs.tokenRewards and inputs.mask, per token
 * G_t − b_i·m_t (G the reverse cumulative sum of m·r) as verl, flat [B·T].
 * @example update.advantage("remax", {rewards: r, groups: ro.group, baselines: greedyRewards})
 */
export const remax: AdvantageFn = Object.assign(
  ({ rewards, baselines, tokenRewards, mask, width }: AdvantageInputs): Float32Array => {
    if (!baselines)
      fail(
        "invalid_input",
        `update.advantage: "remax" needs inputs.baselines, the reward of the greedy response to each completion's ` +
          `prompt [B] (got none). Sample once with temperature 0 per prompt, score it, and pass one value per ` +
          `completion.`,
        { path: ["inputs", "baselines"] },
      );
    const B = rewards.length;
    if (!tokenRewards) return rewards.map((r, i) => r - baselines[i]);
    const T = width!;
    const m = mask ?? new Float32Array(B * T).fill(1);
    const out = new Float32Array(B * T);
    for (let b = 0; b < B; b++) {
      let g = 0;
      for (let t = T - 1; t >= 0; t--) {
        g += tokenRewards[b * T + t] * m[b * T + t];
        out[b * T + t] = g - baselines[b] * m[b * T + t];
      }
    }
    return out;
  },
  { tokenLevel: true },
);

advantages.add("remax", remax, {
  paper: "arXiv:2310.10505",
  summary: "R − reward of the greedy response (verl remax)",
});
