// The trainer's log-probability of each sampled token under the rollout's OWN sampling filters: softmax(logits / T)
// then top-k / top-p / min-p renormalised over the kept tokens, exactly what model.generate samples from. With the
// sampler's weights this reproduces ro.logprobs (ratio 1); model.logprobs(m, ro, {temperature}) applies only the
// temperature, so under topP < 1 its π_old/μ is the kept mass Z_t ≤ 1 on every token: the truncation bias this
// removes from the old logprobs (renormalise over the support, as the fix of TRL issue 6789 proposes). No gradient.
import * as tf from "@tensorflow/tfjs";
import { describe, fail } from "../core/errors.js";
import type { LlamaModel } from "../model/llama.js";
import { fullLogprobs } from "../model/logprobs.js";
import { checkSampling, samplingDistribution, type SamplingOptions } from "../model/sampling.js";
import type { Rollout } from "./rollout.js";

/** Options of samplingLogprobs. */
export interface SamplingLogprobsOptions extends SamplingOptions {
  /**
   * Floor of the log-probability of a sampled token that these filters would not keep (the trainer's kept set differs
   * from the sampler's). Defaults to −30 (a finite value: corrections then see a huge ratio, not NaN).
   */
  floor?: number;
  /** Rows per forward pass ([rows, T, V] floats on the host at a time). Defaults to 8. */
  rowsPerPass?: number;
}

/**
 * Defaults of samplingLogprobs (the sampling options default to the rollout's, ro.sampling).
 * @example samplingLogprobsDefaults.floor // -30 (internal: the floor and rows per pass)
 */
export const samplingLogprobsDefaults = { floor: -30, rowsPerPass: 8 };

/**
 * log q_θ(y_t) of every sampled token under `model` with the rollout's sampling filters (ro.sampling: temperature,
 * topK, topP, minP; override with options), tokens-aligned [B, T], 0 off the response. q = the distribution
 * model.generate samples from, renormalised over the kept tokens; log q ≥ log softmax(logits / T) on kept tokens.
 * @example
 * const renorm = rollout.samplingLogprobs(m, ro); // = ro.logprobs when m is the sampler
 * update.rolloutCorrection("none", {oldLogp: renorm, rolloutLogp: ro.logprobs, mask: ro.responseMask})
 */
export function samplingLogprobs(
  model: LlamaModel,
  ro: Pick<Rollout, "ids" | "attentionMask" | "responseMask" | "sampling">,
  options: SamplingLogprobsOptions = {},
): number[][] {
  if (!model || typeof (model as { forward?: unknown }).forward !== "function")
    fail(
      "invalid_input",
      `rollout.samplingLogprobs: model must be a model.LlamaModel (got ${describe(model)}). Pass policy.model.`,
      {},
      samplingLogprobs,
    );
  if (!ro || !Array.isArray(ro.ids) || !Array.isArray(ro.responseMask))
    fail(
      "invalid_input",
      `rollout.samplingLogprobs: expected a Rollout (ids, attentionMask, responseMask, sampling) ` +
        `(got ${describe(ro)}).`,
      {},
      samplingLogprobs,
    );
  const { floor = samplingLogprobsDefaults.floor, rowsPerPass = samplingLogprobsDefaults.rowsPerPass, ...o } = options;
  const s = (ro.sampling ?? {}) as SamplingOptions;
  const sp = checkSampling(
    {
      temperature: o.temperature ?? s.temperature,
      topK: o.topK ?? s.topK,
      topP: o.topP ?? s.topP,
      minP: o.minP ?? s.minP,
    },
    "rollout.samplingLogprobs",
    samplingLogprobs,
  );
  if (sp.temperature === 0)
    fail(
      "invalid_option",
      `rollout.samplingLogprobs: temperature 0 (greedy) has no distribution to score (the sampler's logprobs are ` +
        `0). Score at a positive temperature.`,
      { path: ["options", "temperature"] },
      samplingLogprobs,
    );
  const B = ro.ids.length,
    T = ro.ids[0].length;
  const out = Array.from({ length: B }, () => new Array<number>(T).fill(0));
  for (let b0 = 0; b0 < B; b0 += rowsPerPass) {
    const rows = Array.from({ length: Math.min(rowsPerPass, B - b0) }, (_, i) => b0 + i);
    const full = fullLogprobs(model, {
      ids: rows.map((b) => ro.ids[b]),
      attentionMask: rows.map((b) => ro.attentionMask[b]),
      responseMask: rows.map((b) => ro.responseMask[b]),
    }); // [rows, T, V] at temperature 1: log-probs are logits up to a constant
    const data = full.dataSync() as Float32Array;
    const V = full.shape[2];
    tf.dispose(full);
    const buf = new Float64Array(V);
    rows.forEach((b, i) => {
      for (let t = 1; t < T; t++) {
        if (!(ro.responseMask[b][t] > 0)) continue;
        const q = samplingDistribution(data.subarray((i * T + t) * V, (i * T + t + 1) * V), sp, buf);
        const p = q[ro.ids[b][t]];
        out[b][t] = p > 0 ? Math.max(floor, Math.log(p)) : floor;
      }
    });
  }
  return out;
}
