// REINFORCE++ with per-token rewards, a discount γ and masked spans, as verl's
// compute_reinforce_plus_plus_outcome_advantage (adv_estimator=reinforce_plus_plus, arXiv 2501.03262). Going backwards
// over the tokens of each row:
//   G_t = r_t + γ·G_{t+1}·m_{t+1}        (the running return restarts after every masked position: EOS, tool output)
//   A_t = m_t · (G_t − mean_m(G)) / sqrt(var_m(G) + eps)
// mean_m / var_m are over the batch's unmasked tokens (verl masked_whiten: unbiased variance, eps 1e-8). Without
// tokenRewards the outcome reward R_i sits on row i's last unmasked token (verl's reward managers put it there), so
// with γ = 1 and contiguous masks this equals "reinforce-pp" with lengths, broadcast over tokens.
import { fail } from "../../core/errors.js";
import { advantages, type AdvantageFn, type AdvantageInputs } from "../registries.js";

/** Options of "reinforce-pp-token". */
export interface ReinforcePpTokenOptions {
  /** Discount γ over tokens (verl algorithm.gamma). Defaults to 1. */
  gamma?: number;
  /** Added to the variance inside the square root (verl masked_whiten). Defaults to 1e-8. */
  eps?: number;
}
/** Defaults of "reinforce-pp-token" (verl's) (print them in a cell). */
export const reinforcePpTokenDefaults: Required<ReinforcePpTokenOptions> = { gamma: 1, eps: 1e-8 };

/**
 * Per-token rewards: inputs.tokenRewards, or the outcome reward on each row's last unmasked token.
 * @example tokenLevelRewards({rewards, groups, mask, width: 4}) // Float32Array [B·4]
 */
export function tokenLevelRewards({ rewards, mask, tokenRewards, width }: AdvantageInputs): Float32Array {
  if (tokenRewards) return tokenRewards;
  const T = width!,
    out = new Float32Array(rewards.length * T);
  for (let b = 0; b < rewards.length; b++) {
    let last = -1;
    for (let t = 0; t < T; t++) if (mask![b * T + t] > 0) last = t;
    if (last >= 0) out[b * T + last] = rewards[b];
  }
  return out;
}

/**
 * REINFORCE++ per token: discounted returns G_t = r_t + γ·G_{t+1} (restarting after masked positions), whitened over
 * the batch's unmasked tokens, 0 off the mask (verl compute_reinforce_plus_plus_outcome_advantage).
 * @returns one advantage per token, flat [B·T] row-major
 * @example update.advantage("reinforce-pp-token", {rewards: r, groups: ro.group, mask: ro.responseMask}, {gamma: 0.99})
 */
export const reinforcePpToken: AdvantageFn = Object.assign(
  (inputs: AdvantageInputs, options: ReinforcePpTokenOptions = {}): Float32Array => {
    const { gamma, eps } = { ...reinforcePpTokenDefaults, ...options };
    const { mask, width } = inputs;
    if (!mask || !width)
      fail(
        "invalid_input",
        `update.advantage: "reinforce-pp-token" needs inputs.mask, the response mask [B][T] (got none). ` +
          `Pass mask: ro.responseMask.`,
        { path: ["inputs", "mask"] },
      );
    if (!(gamma >= 0 && gamma <= 1))
      fail(
        "invalid_option",
        `update.advantage: options.gamma of "reinforce-pp-token" must be in [0, 1] (got ${gamma}).`,
        { path: ["options", "gamma"] },
      );
    const r = tokenLevelRewards(inputs);
    const B = inputs.rewards.length,
      T = width;
    const G = new Float64Array(B * T);
    for (let b = 0; b < B; b++) {
      let running = 0;
      for (let t = T - 1; t >= 0; t--) {
        running = r[b * T + t] + gamma * running;
        G[b * T + t] = running;
        running *= mask[b * T + t];
      }
    }
    let n = 0,
      s = 0;
    for (let i = 0; i < G.length; i++) {
      n += mask[i];
      s += mask[i] * G[i];
    }
    if (!(n > 1))
      fail(
        "invalid_input",
        `update.advantage: "reinforce-pp-token" whitens over the unmasked tokens, and inputs.mask has ${n} ` +
          `(expected at least 2; verl's masked_whiten divides by n − 1).`,
        { path: ["inputs", "mask"], got: n },
      );
    const mean = s / n;
    let v = 0;
    for (let i = 0; i < G.length; i++) v += mask[i] * (G[i] - mean) ** 2;
    const inv = 1 / Math.sqrt((v / n) * (n / (n - 1)) + eps);
    const out = new Float32Array(B * T);
    for (let i = 0; i < out.length; i++) out[i] = mask[i] * (G[i] - mean) * inv;
    return out;
  },
  { tokenLevel: true },
);

advantages.add("reinforce-pp-token", reinforcePpToken, {
  paper: "arXiv:2501.03262",
  summary:
    "discounted per-token returns (reset after masked tokens), whitened over the batch's tokens " +
    "(verl reinforce_plus_plus)",
});
