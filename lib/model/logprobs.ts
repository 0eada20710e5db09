// Per-token log-probabilities of given tokens, exact full-vocabulary entropy and top-k alternatives under a
// response mask: a differentiable tensor path (inside tf.variableGrads / optimizer.minimize) and a no-grad path that
// returns plain arrays (old / reference / teacher logprobs, views). The one home of the logprob math: the
// tokens-aligned logits and full log-distributions (distillation, the exact KL), entropy from logits, and the
// gather-forward / scatter-backward helper every other folder uses.
//
// Alignment (both paths, "tokens" by default): column t of the output scores token ids[b][t] given ids[b][<t], so it
// lines up with ids, attentionMask and responseMask; column 0 has no prediction and is 0. With align: "shifted" the
// output is [B, T-1] and column t scores ids[b][t+1] (HF / verl's logits[:, :-1] vs labels[:, 1:] convention).
import * as tf from "@tensorflow/tfjs";
import { fail } from "../core/errors.js";
import { hostInts, hostMask, type MatrixLike } from "./batch.js";
import type { LlamaModel } from "./llama.js";

const ONEHOT_MAX_VOCAB = 2048;

/** A padded batch of sequences to score. A Rollout has these fields, so it can be passed as is. */
export interface LogprobsBatch {
  /** Token ids [B, T] (prompt and response, padded). */
  ids: MatrixLike;
  /** 1 on real tokens, 0 on padding, [B, T]. Defaults to all ones. */
  attentionMask?: MatrixLike | null;
  /** 1 on the tokens to score (the response), [B, T]. Defaults to every real token that follows a real token. */
  responseMask?: MatrixLike | null;
}

/** Options of logprobs and logprobTensors. */
export interface LogprobsOptions {
  /** Divide logits by this before the softmax (verl does so for old and reference logprobs). Defaults to 1. */
  temperature?: number;
  /**
   * "tokens": [B, T], column t scores ids[t] (0 at t = 0); "shifted": [B, T-1], column t scores ids[t+1].
   * Defaults to "tokens".
   */
  align?: "tokens" | "shifted";
  /**
   * Also compute the exact entropy of the full next-token distribution.
   * Defaults to true (logprobs), false (logprobTensors).
   */
  entropy?: boolean;
  /**
   * Also report the k most likely tokens and their logprobs per scored position (no-grad path only).
   * Defaults to 0 (off).
   */
  topK?: number;
  /**
   * Rows per forward pass in the no-grad path (bounds memory for long sequences or large vocabularies). Defaults to all
   * rows, capped at ~64M logits.
   */
  microBatch?: number;
}

/**
 * Defaults of logprobs (the no-grad path).
 * @example model.logprobsDefaults.align // "tokens"
 */
export const defaults = { temperature: 1, align: "tokens" as const, entropy: true, topK: 0, microBatch: 0 };

/** Plain-array result of logprobs(); rows follow the batch rows, columns follow `align`. */
export interface LogprobsResult {
  /** log p(token) per position, 0 outside the mask. */
  logp: number[][];
  /** Full-vocabulary entropy H = -sum_v p_v log p_v per position, 0 outside the mask. */
  entropy?: number[][];
  /** k best tokens per position ([] outside the mask), best first. */
  topK?: { ids: number[][][]; logp: number[][][] };
  /** The 0/1 mask the values are reported under, same alignment. */
  mask: number[][];
}

/** Differentiable result of logprobTensors(); the caller disposes (or runs it inside a tidy / variableGrads). */
export interface LogprobTensors {
  /** [B, T] or [B, T-1] per `align`, 0 outside the mask. */
  logp: tf.Tensor2D;
  /** The float 0/1 mask, same shape. */
  mask: tf.Tensor2D;
  /** Entropy per position when asked for, 0 outside the mask. */
  entropy?: tf.Tensor2D;
  /** Final-norm hidden states [B, T, D] when asked for (FlowRL's log Z head reads the prompt's mean). */
  hidden?: tf.Tensor3D;
  /**
   * Next-token logits [B, T, V] at the temperature, tokens-aligned (row t predicts ids[t]; row 0 is zeros), when asked
   * for.
   */
  logits?: tf.Tensor3D;
}

interface Prepared {
  ids: Int32Array;
  attn: Int32Array;
  mask: Int32Array; // token-aligned [B, T]: 1 where token t is scored
  B: number;
  T: number;
}

function prepare(model: LlamaModel, batch: LogprobsBatch, fn: string, from: Function): Prepared {
  if (!batch || typeof batch !== "object")
    fail(
      "invalid_input",
      `model.${fn}: batch must be {ids, attentionMask?, responseMask?} (got ${typeof batch}).`,
      {},
      from,
    );
  const ids = hostInts(batch.ids, `model.${fn}: batch.ids`, model.config.vocab_size, from);
  const [B, T] = [ids.rows, ids.cols];
  if (T < 2)
    fail(
      "invalid_input",
      `model.${fn}: sequences must have at least 2 tokens to score one (got T = ${T}). ` +
        `Include the prompt in batch.ids.`,
      { got: T },
      from,
    );
  const attn = hostMask(batch.attentionMask, ids, `model.${fn}: batch.attentionMask`, from);
  const mask = new Int32Array(B * T);
  if (batch.responseMask !== undefined && batch.responseMask !== null) {
    const rm = hostMask(batch.responseMask, ids, `model.${fn}: batch.responseMask`, from);
    for (let b = 0; b < B; b++)
      for (let t = 1; t < T; t++) {
        const i = b * T + t;
        if (rm[i] && !attn[i])
          fail(
            "invalid_input",
            `model.${fn}: batch.responseMask is 1 on a padding token (row ${b}, column ${t}). The response ` +
              `mask must be inside the attention mask.`,
            { path: [b, t] },
            from,
          );
        mask[i] = rm[i];
      }
    for (let b = 0; b < B; b++)
      if (rm[b * T])
        fail(
          "invalid_input",
          `model.${fn}: batch.responseMask is 1 at column 0 of row ${b}; the first token has no prediction to ` +
            `score. Start the response after the prompt.`,
          { path: [b, 0] },
          from,
        );
  } else
    for (let b = 0; b < B; b++) for (let t = 1; t < T; t++) mask[b * T + t] = attn[b * T + t] & attn[b * T + t - 1];
  return { ids: ids.data, attn, mask, B, T };
}

/**
 * log-sum-exp over the last axis (keepDims) with gradient dy * softmax(z); tf.logSumExp's max-gradient is slow on wasm.
 */
const logSumExp = tf.customGrad(((z: tf.Tensor, save: tf.GradSaveFunc) => {
  const m = tf.max(z, -1, true);
  const lse = tf.add(m, tf.log(tf.sum(tf.exp(tf.sub(z, m)), -1, true)));
  save([z, lse]);
  return { value: lse, gradFunc: (dy: tf.Tensor, [zz, l]: tf.Tensor[]) => tf.mul(dy, tf.exp(tf.sub(zz, l))) };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (z: tf.Tensor2D) => tf.Tensor2D;

/**
 * Differentiable x[r, ids[r·K + k]] for x [N, V] → [N, K]. The gradient scatters back (scatterND), so it works on
 * wasm (no gather gradient there) without an [N, K, V] one-hot. Ids within a row must be distinct.
 * @example const lqK = gatherColumns(logq, topkIds, K) // student logprobs at the teacher's top-k tokens
 */
export function gatherColumns(x: tf.Tensor2D, ids: ArrayLike<number>, K: number): tf.Tensor2D {
  const [N, V] = x.shape;
  if (ids.length !== N * K)
    fail("shape_mismatch", `gatherColumns: ids has ${ids.length} entries (expected N·K = ${N}·${K}).`);
  const flat = new Int32Array(N * K);
  for (let i = 0; i < flat.length; i++) flat[i] = Math.floor(i / K) * V + ids[i];
  return tf.tidy(() => {
    const idx = tf.tensor1d(flat, "int32");
    // The index tensor is saved (kept) for the backward pass, which runs after this tidy has ended.
    const f = (z: tf.Tensor, save: (ts: tf.Tensor[]) => void) => {
      save([idx]);
      return {
        value: tf.gather(z.reshape([-1]), idx).reshape([N, K]),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
          tf.scatterND(saved[0].reshape([-1, 1]), dy.reshape([-1]), [N * V]).reshape([N, V]),
      };
    };
    return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0])(x) as tf.Tensor2D;
  });
}

/** H = lse − Σ_v softmax(z)_v·z_v per row of z [N, V], given lse = log Σ exp z [N, 1]; → [N]. */
function entropyOf(z: tf.Tensor2D, lse: tf.Tensor): tf.Tensor1D {
  const probs = tf.exp(tf.sub(z, lse));
  return tf.sub(tf.reshape(lse, [-1]), tf.sum(tf.mul(probs, z), -1)) as tf.Tensor1D;
}

/**
 * Exact entropy −Σ_v p_v log p_v of softmax(logits) over the last axis: [..., V] → [...]. Differentiable; logits or
 * log-probs (both give the same distribution).
 * @example const H = model.entropyFromLogits(model.alignedLogits(m, ro)) // [B, T]
 */
export function entropyFromLogits(logits: tf.Tensor): tf.Tensor {
  if (!(logits instanceof tf.Tensor) || logits.rank < 1)
    fail(
      "invalid_input",
      `model.entropyFromLogits: logits must be a tensor [..., V] ` +
        `(got ${logits instanceof tf.Tensor ? `rank ${logits.rank}` : typeof logits}).`,
      {},
      entropyFromLogits,
    );
  const shape = logits.shape;
  const V = shape[shape.length - 1];
  return tf.tidy(() => {
    const z = tf.reshape(logits, [-1, V]) as tf.Tensor2D;
    return tf.reshape(entropyOf(z, logSumExp(z)), shape.slice(0, -1));
  });
}

/**
 * Per-position logp of the next token, entropy, and the normalised logits, for rows [B*T] of logits (targets shifted).
 */
function scoreRows(logits: tf.Tensor3D, p: Prepared, temperature: number, wantEntropy: boolean) {
  const [B, T, V] = logits.shape;
  // Row (b, t) predicts ids[b][t+1]; the last column has no target (0, masked later).
  const next = new Int32Array(B * T);
  for (let b = 0; b < B; b++) for (let t = 0; t + 1 < T; t++) next[b * T + t] = p.ids[b * T + t + 1];
  let z = tf.reshape(logits, [B * T, V]) as tf.Tensor2D;
  if (temperature !== 1) z = tf.div(z, temperature);
  const lse = logSumExp(z); // [B*T, 1]
  const nextT = tf.tensor1d(next, "int32");
  // z[row, next[row]], [B*T]: a one-hot product for small vocabularies, else the flat-index gather (no [B*T, V]
  // one-hot)
  const picked =
    V <= ONEHOT_MAX_VOCAB
      ? tf.sum(tf.mul(z, tf.cast(tf.oneHot(nextT, V), "float32")), -1)
      : tf.reshape(gatherColumns(z, next, 1), [-1]);
  const lp = tf.reshape(tf.sub(picked, tf.reshape(lse, [-1])), [B, T]); // [B, T], column t scores ids[t+1]
  const ent = wantEntropy ? tf.reshape(entropyOf(z, lse), [B, T]) : null;
  return { lp, ent, z, lse };
}

/**
 * The one alignment shift: a next-token tensor [B, T, ...] (row t predicts ids[t+1]) to "tokens" [0 | x[:, :T-1]]
 * (row t scores ids[t]; row 0 zeros) or "shifted" x[:, :T-1]. Used for logprobs, entropy and full logits alike.
 */
function align<X extends tf.Tensor>(x: X, how: "tokens" | "shifted" = "tokens"): X {
  const [B, T, ...rest] = x.shape;
  const head = tf.slice(x, [0, 0, ...rest.map(() => 0)], [B, T - 1, ...rest]);
  return (how === "shifted" ? head : tf.concat([tf.zeros([B, 1, ...rest]), head], 1)) as X;
}

function alignMask(p: Prepared, how: "tokens" | "shifted"): Float32Array {
  const { B, T } = p;
  if (how === "tokens") return Float32Array.from(p.mask);
  const m = new Float32Array(B * (T - 1));
  for (let b = 0; b < B; b++) for (let t = 0; t + 1 < T; t++) m[b * (T - 1) + t] = p.mask[b * T + t + 1];
  return m;
}

function checkOptions(options: LogprobsOptions, fn: string, from: Function) {
  const { temperature = 1, align: how = "tokens", topK = 0, microBatch = 0 } = options;
  if (!(temperature > 0) || !Number.isFinite(temperature))
    fail(
      "invalid_option",
      `model.${fn}: options.temperature must be a positive number (got ${temperature}). Use 1 for the model's ` +
        `own distribution.`,
      { got: temperature },
      from,
    );
  if (how !== "tokens" && how !== "shifted")
    fail(
      "invalid_option",
      `model.${fn}: options.align must be "tokens" or "shifted" (got ${JSON.stringify(how)}).`,
      { got: how },
      from,
    );
  if (!Number.isInteger(topK) || topK < 0)
    fail(
      "invalid_option",
      `model.${fn}: options.topK must be a non-negative integer (got ${topK}).`,
      { got: topK },
      from,
    );
  if (!Number.isInteger(microBatch) || microBatch < 0)
    fail(
      "invalid_option",
      `model.${fn}: options.microBatch must be a non-negative integer (got ${microBatch}); 0 picks it automatically.`,
      { got: microBatch },
      from,
    );
  return { temperature, how, topK, microBatch };
}

/**
 * Differentiable per-token logprobs log pi(ids[t] | ids[<t]) (and optionally entropy, hidden states and the
 * tokens-aligned logits) for use inside tf.variableGrads / optimizer.minimize. Values outside the mask are 0.
 * @example
 * const { value, grads } = tf.variableGrads(() => {
 *   const { logp, mask } = model.logprobTensors(m, ro);
 *   return tf.neg(tf.div(tf.sum(logp), tf.sum(mask)));
 * })
 */
export function logprobTensors(
  model: LlamaModel,
  batch: LogprobsBatch,
  options: LogprobsOptions & { hidden?: boolean; logits?: boolean } = {},
): LogprobTensors {
  const { temperature, how, topK } = checkOptions(options, "logprobTensors", logprobTensors);
  if (topK > 0)
    fail(
      "invalid_option",
      `model.logprobTensors: topK is only available in the no-grad path (got ${topK}). Use model.logprobs(m, ` +
        `batch, {topK}).`,
      { got: topK },
      logprobTensors,
    );
  if (options.logits && how !== "tokens")
    fail(
      "invalid_option",
      `model.logprobTensors: logits: true returns tokens-aligned logits, so align must be "tokens" ` +
        `(got ${JSON.stringify(how)}).`,
      { got: how },
      logprobTensors,
    );
  const p = prepare(model, batch, "logprobTensors", logprobTensors);
  const { B, T } = p;
  return tf.tidy(() => {
    const out = model.forward(rowsOf(p), { hidden: options.hidden ?? false });
    const { lp, ent, z } = scoreRows(out.logits, p, temperature, options.entropy ?? false);
    const Tm = how === "tokens" ? T : T - 1;
    const mask = tf.tensor2d(alignMask(p, how), [B, Tm]);
    const res: LogprobTensors = { logp: tf.mul(align(lp, how), mask), mask };
    if (ent) res.entropy = tf.mul<tf.Tensor2D>(align(ent, how), mask);
    if (out.hidden) res.hidden = out.hidden;
    if (options.logits) res.logits = align(tf.reshape(z, [B, T, -1]) as tf.Tensor3D);
    return res as unknown as tf.TensorContainer;
  }) as unknown as LogprobTensors;
}

/**
 * The model's next-token logits at `temperature`, tokens-aligned [B, T, V]: row t predicts ids[t]; row 0 is zeros.
 * Differentiable (call it under a tape to train through it); the caller disposes the result.
 * @example const z = model.alignedLogits(m, ro, {temperature: 1}) // z[b][t] scores ids[b][t]
 */
export function alignedLogits(
  model: LlamaModel,
  batch: LogprobsBatch,
  options: { temperature?: number } = {},
): tf.Tensor3D {
  const { temperature } = checkOptions(options, "alignedLogits", alignedLogits);
  const p = prepare(model, batch, "alignedLogits", alignedLogits);
  return tf.tidy(() => {
    const { logits: raw } = model.forward(rowsOf(p));
    return align(temperature === 1 ? raw : (tf.div(raw, temperature) as tf.Tensor3D));
  });
}

/**
 * The full next-token log-distribution of every position [B, T, V], tokens-aligned like logprobs (row t is
 * log π(· | ids[<t]) at `temperature`; row 0 is a uniform placeholder, always masked). Plain tensors, no gradient
 * intended (call it outside a tape, e.g. for the frozen reference of the exact KL); the caller disposes it.
 * Memory is B·T·V floats: fine for small vocabularies, heavy for 150k.
 * @example
 * const refFull = model.fullLogprobs(ref, ro, {temperature: 1});
 * update.klPenalty({logits, refLogits: refFull}, {estimator: "exact"})
 */
export function fullLogprobs(
  model: LlamaModel,
  batch: LogprobsBatch,
  options: { temperature?: number } = {},
): tf.Tensor3D {
  // Row 0's logits are zeros, so its log-softmax is the uniform placeholder −log V.
  return tf.tidy(() => tf.logSoftmax(alignedLogits(model, batch, options)) as tf.Tensor3D);
}

/** The prepared ids and attention mask as [B, T] row arrays for model.forward. */
function rowsOf(p: Prepared, from = 0, to = p.B): { ids: Int32Array[]; attentionMask: Int32Array[] } {
  const ids: Int32Array[] = [];
  const attentionMask: Int32Array[] = [];
  for (let b = from; b < to; b++) {
    ids.push(p.ids.subarray(b * p.T, (b + 1) * p.T));
    attentionMask.push(p.attn.subarray(b * p.T, (b + 1) * p.T));
  }
  return { ids, attentionMask };
}

/**
 * Per-token logprobs of the given tokens (no gradient), with exact full-vocabulary entropy and optional top-k, as
 * plain arrays under the response mask. Column t scores ids[t] given ids[<t] (see `align`).
 * @example const old = model.logprobs(policy, ro, { temperature: 1 }); old.logp[0] // per-token logprobs of row 0
 */
export function logprobs(model: LlamaModel, batch: LogprobsBatch, options: LogprobsOptions = {}): LogprobsResult {
  const { temperature, how, topK, microBatch } = checkOptions(options, "logprobs", logprobs);
  const wantEntropy = options.entropy ?? defaults.entropy;
  const p = prepare(model, batch, "logprobs", logprobs);
  const { B, T } = p;
  const V = model.config.vocab_size;
  if (topK > V)
    fail(
      "invalid_option",
      `model.logprobs: options.topK is larger than the vocabulary (got ${topK}; expected <= ${V}).`,
      { got: topK },
      logprobs,
    );
  const mb = microBatch || Math.max(1, Math.min(B, Math.floor((64 << 20) / (T * V))));
  const lpNext = new Float32Array(B * T);
  const entNext = wantEntropy ? new Float32Array(B * T) : null;
  const topIds = topK ? new Int32Array(B * T * topK) : null;
  const topLp = topK ? new Float32Array(B * T * topK) : null;
  for (let b0 = 0; b0 < B; b0 += mb) {
    const b1 = Math.min(B, b0 + mb);
    const sub: Prepared = {
      ...p,
      ids: p.ids.subarray(b0 * T, b1 * T),
      attn: p.attn.subarray(b0 * T, b1 * T),
      mask: p.mask.subarray(b0 * T, b1 * T),
      B: b1 - b0,
    };
    tf.tidy(() => {
      const { logits } = model.forward(rowsOf(sub));
      const { lp, ent, z, lse } = scoreRows(logits, sub, temperature, wantEntropy);
      lpNext.set(lp.dataSync() as Float32Array, b0 * T);
      if (ent && entNext) entNext.set(ent.dataSync() as Float32Array, b0 * T);
      if (topK && topIds && topLp) {
        const { values, indices } = tf.topk(tf.sub(z, lse), topK); // sorted, best first
        topIds.set(indices.dataSync() as Int32Array, b0 * T * topK);
        topLp.set(values.dataSync() as Float32Array, b0 * T * topK);
      }
    });
  }
  // Host-side alignment: output column t reads next-token row src(t).
  const Tm = how === "tokens" ? T : T - 1;
  const src = (t: number) => (how === "tokens" ? t - 1 : t);
  const on = (b: number, t: number) => (how === "tokens" ? p.mask[b * T + t] : p.mask[b * T + t + 1]) === 1;
  const res: LogprobsResult = { logp: [], mask: [] };
  if (entNext) res.entropy = [];
  if (topK) res.topK = { ids: [], logp: [] };
  for (let b = 0; b < B; b++) {
    const lr = new Array<number>(Tm).fill(0);
    const mr = new Array<number>(Tm).fill(0);
    const er = entNext ? new Array<number>(Tm).fill(0) : null;
    const ti: number[][] = [];
    const tl: number[][] = [];
    for (let t = 0; t < Tm; t++) {
      if (!on(b, t)) {
        ti.push([]);
        tl.push([]);
        continue;
      }
      const r = b * T + src(t);
      mr[t] = 1;
      lr[t] = lpNext[r];
      if (er && entNext) er[t] = entNext[r];
      if (topIds && topLp) {
        ti.push(Array.from(topIds.subarray(r * topK, (r + 1) * topK)));
        tl.push(Array.from(topLp.subarray(r * topK, (r + 1) * topK)));
      }
    }
    res.logp.push(lr);
    res.mask.push(mr);
    if (er) res.entropy!.push(er);
    if (res.topK) {
      res.topK.ids.push(ti);
      res.topK.logp.push(tl);
    }
  }
  return res;
}
