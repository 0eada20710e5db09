// Host-side inputs of attention, built from the 0/1 attention mask before any tensor op (masks stay off the
// gradient tape): position ids, the additive causal+padding bias, and RoPE cos/sin rows.
import type { LlamaConfig } from "./config.js";

/**
 * Additive bias for a masked key: large but finite, so a query that sees no key still gets a finite softmax.
 * @example attentionBias(Int32Array.from([0, 1]), 1, 2, 0, 2, 2)[0] === MASKED // true
 */
export const MASKED = -1e9;

/**
 * Position ids as HF computes them for generation: cumsum(mask) - 1 on real tokens (so left padding does not shift
 * positions), 1 on pads (their outputs are never used).
 * @param mask [B, L] 0/1, row-major
 * @returns [B, L]
 * @example positionIds(Int32Array.from([0, 1, 1]), 1, 3) // [1, 0, 1]
 */
export function positionIds(mask: ArrayLike<number>, B: number, L: number): Int32Array {
  const pos = new Int32Array(B * L);
  for (let b = 0; b < B; b++) {
    let n = 0;
    for (let j = 0; j < L; j++) {
      const i = b * L + j;
      if (mask[i]) pos[i] = n++;
      else pos[i] = 1;
    }
  }
  return pos;
}

/**
 * Additive attention bias [B, 1, T, S] for T new queries at absolute columns past..past+T-1 over S key slots:
 * 0 where key j <= query column and mask[b, j] = 1, MASKED elsewhere (future, padding, unwritten cache slots).
 * @param mask [B, L] 0/1 with L = past + T (the mask of everything the cache holds plus the new tokens)
 * @example attentionBias(Int32Array.from([1, 1]), 1, 2, 0, 2, 2) // [0, -1e9, 0, 0]
 */
export function attentionBias(
  mask: ArrayLike<number>,
  B: number,
  L: number,
  past: number,
  T: number,
  S: number,
): Float32Array {
  const bias = new Float32Array(B * T * S).fill(MASKED);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < T; i++) {
      const row = (b * T + i) * S;
      const last = past + i; // a query sees keys up to and including its own column
      for (let j = 0; j <= last; j++) if (mask[b * L + j]) bias[row + j] = 0;
    }
  return bias;
}

/**
 * RoPE inverse frequencies [head_dim/2] computed in float32 steps as HF does (1 / theta^(2i/d)), with "linear" or
 * "llama3" rope_scaling applied.
 * @example ropeInvFreq(model.llamaConfig("tiny"))[0] // 1
 */
export function ropeInvFreq(config: LlamaConfig): Float32Array {
  const f = Math.fround;
  const d = config.head_dim;
  const inv = new Float32Array(d / 2);
  for (let i = 0; i < d / 2; i++) inv[i] = f(1 / f(Math.pow(config.rope_theta, f((2 * i) / d))));
  const sc = config.rope_scaling;
  const type = sc ? (sc.rope_type ?? sc.type ?? "default") : "default";
  if (sc && type === "linear") for (let i = 0; i < inv.length; i++) inv[i] = f(inv[i] / sc.factor!);
  if (sc && type === "llama3") {
    // transformers _compute_llama3_parameters: long wavelengths slowed by `factor`, short kept, smooth in between.
    const factor = sc.factor!;
    const low = sc.low_freq_factor ?? 1;
    const high = sc.high_freq_factor ?? 4;
    const old = sc.original_max_position_embeddings ?? 8192;
    const lowWave = old / low;
    const highWave = old / high;
    for (let i = 0; i < inv.length; i++) {
      const wave = (2 * Math.PI) / inv[i];
      let v = wave > lowWave ? inv[i] / factor : inv[i];
      if (!(wave < highWave) && !(wave > lowWave)) {
        const s = (old / wave - low) / (high - low);
        v = ((1 - s) * v) / factor + s * v;
      }
      inv[i] = f(v);
    }
  }
  return inv;
}

/**
 * Cos and sin rows [N, head_dim] (each half repeated, HF's cat(freqs, freqs)) for positions `pos`, multiplied by
 * `scale` (queries fold the 1/sqrt(head_dim) attention scale in here, which saves one op per layer).
 * @example const { cos, sin } = ropeCosSin(Int32Array.from([0, 1]), ropeInvFreq(cfg), 1)
 */
export function ropeCosSin(
  pos: ArrayLike<number>,
  invFreq: Float32Array,
  scale = 1,
): { cos: Float32Array; sin: Float32Array } {
  const h = invFreq.length;
  const d = 2 * h;
  const cos = new Float32Array(pos.length * d);
  const sin = new Float32Array(pos.length * d);
  for (let n = 0; n < pos.length; n++) {
    const p = pos[n];
    for (let i = 0; i < h; i++) {
      const a = Math.fround(p * invFreq[i]); // HF multiplies in float32
      const c = Math.fround(Math.cos(a)) * scale;
      const s = Math.fround(Math.sin(a)) * scale;
      cos[n * d + i] = c;
      cos[n * d + h + i] = c;
      sin[n * d + i] = s;
      sin[n * d + h + i] = s;
    }
  }
  return { cos, sin };
}

/**
 * The fixed matrix R [d, d] with x @ R = rotate_half(x) = concat(-x[d/2:], x[:d/2]), so RoPE is
 * x * cos + (x @ R) * sin: one matmul instead of a last-axis split and concat (slow on tfjs-wasm).
 * @example rotateHalfMatrix(2) // [0, 1, -1, 0]
 */
export function rotateHalfMatrix(d: number): Float32Array {
  const R = new Float32Array(d * d);
  const h = d / 2;
  for (let j = 0; j < h; j++) R[(j + h) * d + j] = -1; // out[j] = -x[j + h]
  for (let j = h; j < d; j++) R[(j - h) * d + j] = 1; // out[j] = x[j - h]
  return R;
}
