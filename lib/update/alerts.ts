// Plain-word alerts for the pathologies that silently ruin RL runs: zero-variance groups, every response truncated,
// NaN/Inf (naming the step, sample and token), entropy collapse or explosion, KL and ratio spikes. Each alert goes
// through core warn() (repeats are counted, not reprinted) and is returned in the step result.
import { warn } from "../core/warn.js";

/** One alert: a stable key (also the warn() key), the step, and a message that says what to do. */
export interface Alert {
  key: string;
  step: number;
  message: string;
}

/** Thresholds of checkAlerts; pass null to turn one off. */
export interface AlertThresholds {
  /** Warn when at least this fraction of groups has zero reward spread. Defaults to 0.5. */
  zeroStdFrac?: number | null;
  /** Warn when at least this fraction of responses hit maxNewTokens. Defaults to 1 (all of them). */
  truncFrac?: number | null;
  /** Entropy collapse: mean token entropy below this many nats. Defaults to 0.03. */
  entropyMin?: number | null;
  /** Entropy explosion: mean token entropy above this fraction of log(V) (needs `vocabSize`). Defaults to 0.9. */
  entropyMaxFrac?: number | null;
  /** KL spike: approx KL (old vs new) or reference KL above this. Defaults to 0.5. */
  klMax?: number | null;
  /**
   * KL spike relative to history: above this multiple of the mean of the previous steps (and above 0.01).
   * Defaults to 10.
   */
  klJump?: number | null;
  /** Ratio spike: max importance ratio above this. Defaults to 10. */
  ratioMax?: number | null;
}
/** Defaults of checkAlerts' thresholds (print them in a cell). */
export const alertDefaults: Required<AlertThresholds> = {
  zeroStdFrac: 0.5,
  truncFrac: 1,
  entropyMin: 0.03,
  entropyMaxFrac: 0.9,
  klMax: 0.5,
  klJump: 10,
  ratioMax: 10,
};

/** Where a NaN/Inf sits: the first sample and its response token (column − offset), and which quantity. */
export interface NonFinite {
  what: string;
  sample: number;
  token: number;
  value: number;
}

/**
 * The first non-finite value of a [B, T] matrix under a mask (row-major order), or null; `offset` (the rollout's
 * promptLength) turns columns into response-token indices.
 * @example update.findNonFinite("old logprobs", old.logp, ro.responseMask)
 */
export function findNonFinite(
  what: string,
  values: ArrayLike<number>[],
  mask?: ArrayLike<number>[],
  offset = 0,
): NonFinite | null {
  for (let b = 0; b < values.length; b++)
    for (let t = 0; t < values[b].length; t++)
      if ((!mask || mask[b][t] > 0) && !Number.isFinite(values[b][t]))
        return { what, sample: b, token: t - offset, value: values[b][t] };
  return null;
}

/**
 * Check one step's metrics (and optional non-finite findings) against thresholds; warn() and return the alerts.
 * `history` holds previous steps' metrics (for relative spikes); `vocabSize` enables the entropy-explosion check.
 * @example const alerts = update.checkAlerts(step, metrics, {history, vocabSize: 64})
 */
export function checkAlerts(
  step: number,
  m: Record<string, number>,
  context: {
    history?: Record<string, number>[];
    vocabSize?: number;
    nonFinite?: (NonFinite | null)[];
    thresholds?: AlertThresholds;
    groups?: number;
  } = {},
): Alert[] {
  const th = { ...alertDefaults, ...context.thresholds };
  const out: Alert[] = [];
  const add = (key: string, message: string) => {
    out.push({ key, step, message });
    warn(key, message);
  };
  for (const nf of context.nonFinite ?? [])
    if (nf)
      add(
        "alert/nonFinite",
        `step ${step}: ${nf.what} is ${nf.value} at ` +
          `sample ${nf.sample}${nf.token >= 0 ? `, response token ${nf.token}` : ""} (the first one). Lower the ` +
          `learning rate, check the reward for that sample, or clip harder (clipGradNorm).`,
      );
  // Losses and the gradient norm must be finite; other metrics may be NaN legitimately (e.g. a max over an empty mask).
  for (const k of [
    "update/loss",
    "update/gradNorm",
    "update/pgLoss",
    "update/flowLoss",
    "distill/loss",
    "update/sftLoss",
  ])
    if (m[k] !== undefined && !Number.isFinite(m[k]))
      add(
        "alert/nonFiniteMetric",
        `step ${step}: ${k} is ${m[k]}. The update produced NaN/Inf; lower the learning rate or find the ` +
          `sample with update.findNonFinite.`,
      );
  const z = m["reward/zeroStdFrac"];
  if (th.zeroStdFrac !== null && z !== undefined && z >= th.zeroStdFrac) {
    const n = m["reward/groups"];
    const count = n ? `${Math.round(z * n)} of ${n} groups` : `${Math.round(z * 100)}% of groups`;
    add(
      "alert/zeroStdFrac",
      `step ${step}: ${count} gave every completion the same reward, so they carry no GRPO gradient. Make the ` +
        `prompts match the model's level, raise n, or filter such groups (thresholds.zeroStdFrac silences this).`,
    );
  }
  const tr = m["rollout/truncFrac"];
  if (th.truncFrac !== null && tr !== undefined && tr >= th.truncFrac)
    add(
      "alert/truncFrac",
      `step ${step}: ${Math.round(tr * 100)}% of responses hit maxNewTokens, so rewards judge cut-off text. ` +
        `Raise maxNewTokens or reward stopping (thresholds.truncFrac silences this).`,
    );
  const H = m["update/entropy"] ?? m["rollout/entropy"];
  if (H !== undefined && Number.isFinite(H)) {
    if (th.entropyMin !== null && H < th.entropyMin)
      add(
        "alert/entropyCollapse",
        `step ${step}: mean token entropy is ${H.toFixed(4)} nats: the policy has collapsed to ` +
          `near-deterministic outputs and exploration has stopped. Lower the lr, add an entropy bonus, or raise ` +
          `the clip-higher bound.`,
      );
    // Near-uniform entropy is normal for a fresh model; it is an explosion when it climbs back from lower values.
    const prevH = (context.history ?? [])
      .map((h) => h["update/entropy"] ?? h["rollout/entropy"])
      .filter((x) => x !== undefined && Number.isFinite(x));
    if (
      th.entropyMaxFrac !== null &&
      context.vocabSize &&
      H > th.entropyMaxFrac * Math.log(context.vocabSize) &&
      prevH.length > 0 &&
      Math.min(...prevH) < 0.75 * H
    )
      add(
        "alert/entropyExplosion",
        `step ${step}: mean token entropy is ${H.toFixed(3)} nats, near the ` +
          `uniform ${Math.log(context.vocabSize).toFixed(3)}: the policy is producing noise. Lower the lr or the ` +
          `temperature.`,
      );
  }
  for (const key of ["update/approxKl", "update/klLoss"]) {
    const v = m[key];
    if (v === undefined || !Number.isFinite(v)) continue;
    const prev = (context.history ?? []).map((h) => h[key]).filter((x) => x !== undefined && Number.isFinite(x));
    const mean = prev.length ? prev.reduce((a, b) => a + Math.abs(b), 0) / prev.length : NaN;
    if (th.klMax !== null && Math.abs(v) > th.klMax)
      add(
        "alert/klSpike",
        `step ${step}: ${key} is ${v.toFixed(4)} (above ${th.klMax}): the policy moved far in one step. Lower ` +
          `the lr, use fewer epochs per batch, or tighten the clip.`,
      );
    else if (th.klJump !== null && prev.length >= 3 && Math.abs(v) > 0.01 && Math.abs(v) > th.klJump * mean)
      add(
        "alert/klSpike",
        `step ${step}: ${key} jumped to ${v.toFixed(4)}, ${(Math.abs(v) / mean).toFixed(1)}× its running ` +
          `mean ${mean.toFixed(4)}. Lower the lr or inspect this batch in the loss lab.`,
      );
  }
  const r = m["update/ratioMax"];
  if (th.ratioMax !== null && r !== undefined && Number.isFinite(r) && r > th.ratioMax)
    add(
      "alert/ratioSpike",
      `step ${step}: an importance ratio π/π_old reached ${r.toFixed(2)} (above ${th.ratioMax}): old and new ` +
        `policies disagree on some token. Lower the lr or use fewer mini-batches per rollout.`,
    );
  return out;
}
