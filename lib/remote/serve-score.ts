// What `cellrl serve` needs beyond generate(): for every position of a sequence, the logprob of its token, the
// token's 1-based rank in the full distribution (vLLM reports it in prompt_logprobs), and the top-k alternatives.
// Raw logprobs (temperature 1, no filters), like vLLM V1's default logprobs mode.
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

// Rows per forward: bounded so the [rows, L, V] logits stay near 16M floats.
const MAX_LOGITS = 16 << 20;

/**
 * Logprob, rank and top-k of each token of each sequence given its prefix (position 0 of each is null). Sequences
 * are right-padded into batched forward passes (right padding leaves the real positions' predictions unchanged).
 * @example remote.scorePositions(m, [[1, 5, 7]], 3)[0][2].logprob // log p(7 | 1, 5)
 */
export function scorePositions(model: LlamaModel, seqs: number[][], k: number): (PositionScore | null)[][] {
  const V = model.config.vocab_size;
  const kk = Math.min(k, V);
  const out: (PositionScore | null)[][] = seqs.map(() => [null]);
  const order = seqs.map((s, i) => i).filter((i) => seqs[i].length >= 2);
  for (let at = 0; at < order.length;) {
    const L = Math.max(...order.slice(at).map((i) => seqs[i].length));
    const rows = Math.max(1, Math.min(order.length - at, Math.floor(MAX_LOGITS / (L * V))));
    const batch = order.slice(at, at + rows);
    at += rows;
    const B = batch.length;
    const ids = batch.map((i) => [...seqs[i], ...new Array<number>(L - seqs[i].length).fill(0)]);
    const mask = batch.map((i) => [
      ...new Array<number>(seqs[i].length).fill(1),
      ...new Array<number>(L - seqs[i].length).fill(0),
    ]);
    const flat = new Int32Array(B * (L - 1));
    for (let b = 0; b < B; b++)
      for (let r = 0; r + 1 < L; r++) flat[b * (L - 1) + r] = (b * (L - 1) + r) * V + ids[b][r + 1];
    const { lp, rank, topIds, topLp } = tf.tidy(() => {
      const { logits } = model.forward({ ids, attentionMask: mask });
      const z = tf.reshape(tf.slice(logits, [0, 0, 0], [B, L - 1, V]), [B * (L - 1), V]);
      const lsm = tf.logSoftmax(z);
      const actual = tf.gather(tf.reshape(lsm, [-1]), tf.tensor1d(flat, "int32"));
      const rk = tf.sum(tf.cast(tf.greater(lsm, tf.reshape(actual, [B * (L - 1), 1])), "int32"), 1);
      const top = kk > 0 ? tf.topk(lsm, kk) : null;
      return {
        lp: actual.dataSync() as Float32Array,
        rank: rk.dataSync() as Int32Array,
        topIds: top ? (top.indices.dataSync() as Int32Array) : new Int32Array(0),
        topLp: top ? (top.values.dataSync() as Float32Array) : new Float32Array(0),
      };
    });
    batch.forEach((i, b) => {
      for (let r = 0; r + 1 < seqs[i].length; r++) {
        const row = b * (L - 1) + r;
        const top: { id: number; logprob: number }[] = [];
        for (let j = 0; j < kk; j++) top.push({ id: topIds[row * kk + j], logprob: topLp[row * kk + j] });
        out[i].push({ logprob: lp[row], rank: rank[row] + 1, top });
      }
    });
  }
  return out;
}
