// Shared helpers of the model tests: backend setup, small configs, and a naive per-position JS Llama forward that
// follows HF's modeling_llama / modeling_qwen2 literally (rotate_half RoPE, repeat_kv, explicit loops) as an oracle.
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { useBackend } from "../../lib/core/backend.js";
import { resetWarnings } from "../../lib/core/warn.js";
import { Rng } from "../../lib/core/random.js";
import { LlamaModel } from "../../lib/model/llama.js";
import type { LlamaConfigInput } from "../../lib/model/config.js";

export async function setup(): Promise<void> {
  const force = (process.env.CELLRL_TEST_BACKEND ?? "wasm") as "wasm" | "cpu";
  if (tf.getBackend() !== force) await useBackend({ force });
  resetWarnings(null);
}

/** 2 layers, 4 query heads over 2 kv heads (GQA), width 32. */
export const micro: LlamaConfigInput = {
  hidden_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  intermediate_size: 48,
  vocab_size: 24,
  max_position_embeddings: 64,
  initializer_range: 0.15,
};

/** A model whose biases and norm weights are random too (zero biases / unit norms would hide mistakes). */
export function randomModel(cfg: LlamaConfigInput, seedValue = 1): LlamaModel {
  const rng = new Rng(seedValue);
  const m = new LlamaModel(cfg, { rng });
  for (const [name, v] of m.namedVariables())
    if (v.rank === 1) {
      const vals = Float32Array.from({ length: v.size }, () =>
        name.endsWith("bias") ? 0.3 * rng.normal() : 1 + 0.2 * rng.normal(),
      );
      const t = tf.tensor(vals, v.shape);
      v.assign(t);
      t.dispose();
    }
  return m;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, "length");
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

type Mat = { data: Float32Array; rows: number; cols: number }; // HF layout [out, in]

/**
 * Naive forward of one unpadded sequence with HF semantics, in float64: logits [T][V].
 * Positions are 0..T-1 (a padded row's real tokens get these positions too in HF).
 */
export function referenceLogits(m: LlamaModel, ids: number[]): number[][] {
  const c = m.config;
  const sd = m.stateDict();
  const W: Record<string, Mat> = {};
  for (const [n, t] of Object.entries(sd))
    W[n] = { data: t.dataSync() as Float32Array, rows: t.shape[0], cols: t.shape[1] ?? 1 };
  tf.dispose(Object.values(sd));
  const D = c.hidden_size,
    H = c.num_attention_heads,
    KV = c.num_key_value_heads,
    hd = c.head_dim;
  const lin = (name: string, x: number[]): number[] => {
    const w = W[name + ".weight"],
      b = W[name + ".bias"];
    const y = new Array(w.rows).fill(0);
    for (let o = 0; o < w.rows; o++) {
      let s = b ? b.data[o] : 0;
      for (let i = 0; i < w.cols; i++) s += w.data[o * w.cols + i] * x[i];
      y[o] = s;
    }
    return y;
  };
  const rms = (x: number[], name: string) => {
    const ms = x.reduce((a, v) => a + v * v, 0) / x.length;
    const r = 1 / Math.sqrt(ms + c.rms_norm_eps);
    return x.map((v, i) => v * r * W[name].data[i]);
  };
  const invFreq = Array.from({ length: hd / 2 }, (_, i) => 1 / Math.pow(c.rope_theta, (2 * i) / hd));
  const ropeVec = (x: number[], pos: number) => {
    // HF: x * cos + rotate_half(x) * sin with cos = cat(cos(f), cos(f)), rotate_half = cat(-x2, x1)
    const out = new Array(hd);
    for (let j = 0; j < hd; j++) {
      const f = invFreq[j % (hd / 2)] * pos;
      const rot = j < hd / 2 ? -x[j + hd / 2] : x[j - hd / 2];
      out[j] = x[j] * Math.cos(f) + rot * Math.sin(f);
    }
    return out;
  };
  const T = ids.length;
  let xs = ids.map((id) => Array.from(W["model.embed_tokens.weight"].data.subarray(id * D, (id + 1) * D)));
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `model.layers.${l}.`;
    const hs = xs.map((x) => rms(x, p + "input_layernorm.weight"));
    const q = hs.map((h, t) => {
      const v = lin(p + "self_attn.q_proj", h);
      return Array.from({ length: H }, (_, a) => ropeVec(v.slice(a * hd, (a + 1) * hd), t));
    });
    const k = hs.map((h, t) => {
      const v = lin(p + "self_attn.k_proj", h);
      return Array.from({ length: KV }, (_, a) => ropeVec(v.slice(a * hd, (a + 1) * hd), t));
    });
    const v = hs.map((h) => {
      const y = lin(p + "self_attn.v_proj", h);
      return Array.from({ length: KV }, (_, a) => y.slice(a * hd, (a + 1) * hd));
    });
    const attnOut = hs.map((_, t) => {
      const y: number[] = [];
      for (let a = 0; a < H; a++) {
        const kvh = Math.floor(a / (H / KV)); // repeat_kv
        const s = Array.from(
          { length: t + 1 },
          (_, j) => q[t][a].reduce((acc, qv, i) => acc + qv * k[j][kvh][i], 0) / Math.sqrt(hd),
        );
        const mx = Math.max(...s);
        const e = s.map((z) => Math.exp(z - mx));
        const z = e.reduce((x1, x2) => x1 + x2, 0);
        for (let i = 0; i < hd; i++) y.push(e.reduce((acc, w, j) => acc + (w / z) * v[j][kvh][i], 0));
      }
      return lin(p + "self_attn.o_proj", y);
    });
    xs = xs.map((x, t) => x.map((xv, i) => xv + attnOut[t][i]));
    xs = xs.map((x) => {
      const h = rms(x, p + "post_attention_layernorm.weight");
      const g = lin(p + "mlp.gate_proj", h),
        u = lin(p + "mlp.up_proj", h);
      const d = lin(
        p + "mlp.down_proj",
        g.map((gv, i) => (gv / (1 + Math.exp(-gv))) * u[i]),
      );
      return x.map((xv, i) => xv + d[i]);
    });
  }
  const head = c.tie_word_embeddings ? "model.embed_tokens" : "lm_head";
  return xs.map((x) => {
    const h = rms(x, "model.norm.weight");
    const w = W[head + ".weight"];
    return Array.from({ length: w.rows }, (_, o) => h.reduce((acc, hv, i) => acc + w.data[o * w.cols + i] * hv, 0));
  });
}
