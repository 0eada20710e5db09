// What `cellrl serve` needs beyond generate(): for every position of a sequence, the logprob of its token, the
// token's 1-based rank in the full distribution (vLLM reports it in prompt_logprobs), and the top-k alternatives.
// Raw logprobs (temperature 1, no filters), like vLLM V1's default logprobs mode. One sequence per forward pass.
import * as tf from "@tensorflow/tfjs";
import type { LlamaModel } from "../model/llama.js";

/** Scores of one position (the prediction of token j from tokens < j). */
export interface PositionScore {
  logprob: number;
  /** 1 + the number of vocabulary entries with a strictly higher logprob. */
  rank: number;
  /** The k best tokens, best first. */
  top: { id: number; logprob: number }[];
}

/**
 * Logprob, rank and top-k of each token of `seq` given its prefix; position 0 (no prediction) is null.
 * @example remote.scorePositions(m, [1, 5, 7], 3)[2].logprob // log p(7 | 1, 5)
 */
export function scorePositions(model: LlamaModel, seq: number[], k: number): (PositionScore | null)[] {
  const L = seq.length;
  if (L < 2) return [null];
  const V = model.config.vocab_size;
  const kk = Math.min(k, V);
  const flat = new Int32Array(L - 1);
  for (let r = 0; r + 1 < L; r++) flat[r] = r * V + seq[r + 1];
  const { lp, rank, topIds, topLp } = tf.tidy(() => {
    const { logits } = model.forward({ ids: [seq] });
    const z = tf.slice(tf.reshape(logits, [L, V]), [0, 0], [L - 1, V]);
    const lsm = tf.logSoftmax(z);
    const actual = tf.gather(tf.reshape(lsm, [-1]), tf.tensor1d(flat, "int32"));
    const rk = tf.sum(tf.cast(tf.greater(lsm, tf.reshape(actual, [L - 1, 1])), "int32"), 1);
    const top = kk > 0 ? tf.topk(lsm, kk) : null;
    return {
      lp: actual.dataSync() as Float32Array,
      rank: rk.dataSync() as Int32Array,
      topIds: top ? (top.indices.dataSync() as Int32Array) : new Int32Array(0),
      topLp: top ? (top.values.dataSync() as Float32Array) : new Float32Array(0),
    };
  });
  const out: (PositionScore | null)[] = [null];
  for (let r = 0; r + 1 < L; r++) {
    const top: { id: number; logprob: number }[] = [];
    for (let i = 0; i < kk; i++) top.push({ id: topIds[r * kk + i], logprob: topLp[r * kk + i] });
    out.push({ logprob: lp[r], rank: rank[r] + 1, top });
  }
  return out;
}
