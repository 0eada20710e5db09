/**
 * Llama / Qwen2 decoder-only transformer in tfjs, one file top to bottom (as nanoGPT's model.py).
 *
 * Same math as HF LlamaForCausalLM / Qwen2ForCausalLM: token embedding, pre-norm RMSNorm blocks with RoPE
 * grouped-query attention and a SwiGLU MLP, final RMSNorm, tied or untied LM head, optional q/k/v bias (Qwen2).
 * Departures, all for speed on tfjs-wasm (see docs/model.md and reference/tfjs-performance.md):
 * 1. Linear weights are stored [in, out] so x @ W needs no transpose; stateDict() converts to HF's [out, in].
 * 2. Activations stay 2-D [B*T, D]; only attention is rank 4, with all heads in one batched matmul.
 * 3. GQA without repeating keys: queries are grouped as [B, KV, G*T, hd] against keys [B, KV, S, hd].
 * 4. RoPE is x*cos + (x@R)*sin with a fixed rotate-half matrix R; 1/sqrt(hd) is folded into the query cos/sin.
 * 5. Embedding is oneHot(ids) @ E up to 2048 ids (gather has no gradient on wasm), and gather with a scatterND
 *    gradient above that (oneHot rows would be too large).
 * 6. RMSNorm has a hand-written gradient (tf.customGrad), which keeps fewer intermediates alive.
 * 7. Masks, positions and RoPE tables are built on the host from the 0/1 attention mask, never on the tape.
 */
import * as tf from "@tensorflow/tfjs";
import { fail } from "../core/errors.js";
import { firstOf } from "../core/checks.js";
import { globalRng, Rng } from "../core/random.js";
import { hostInts, hostMask, type MatrixLike } from "./batch.js";
import { llamaConfig, type LlamaConfig, type LlamaConfigInput } from "./config.js";
import { KVCache } from "./kv-cache.js";
import { gatherRows, headsFirst, linear, makeRmsNorm, rope, rowsFirst, swiglu } from "./layers.js";
import { attentionBias, positionIds, ropeCosSin, ropeInvFreq, rotateHalfMatrix } from "./positions.js";

const ONEHOT_MAX_VOCAB = 2048;

// ---------------------------------------------------------------------------------------------------------------
// Parameters, named as in HF safetensors

/** One parameter: HF name, shape as stored here, shape in HF layout, and how it is initialised. */
export interface ParamSpec {
  name: string;
  shape: number[];
  hfShape: number[];
  /** Stored as the transpose of HF's [out, in] (linear weights). */
  transposed: boolean;
  init: "normal" | "ones" | "zeros";
}

/**
 * Every parameter of a config, in HF state-dict order.
 * @example paramSpecs(llamaConfig("tiny"))[0] // {name: "model.embed_tokens.weight", shape: [64, 128], ...}
 */
export function paramSpecs(c: LlamaConfig): ParamSpec[] {
  const [D, V, I] = [c.hidden_size, c.vocab_size, c.intermediate_size];
  const [Q, K] = [c.num_attention_heads * c.head_dim, c.num_key_value_heads * c.head_dim];
  const lin = (name: string, inp: number, out: number): ParamSpec => ({
    name: `${name}.weight`,
    shape: [inp, out],
    hfShape: [out, inp],
    transposed: true,
    init: "normal",
  });
  const vec = (name: string, n: number, init: "ones" | "zeros"): ParamSpec => ({
    name,
    shape: [n],
    hfShape: [n],
    transposed: false,
    init,
  });
  const ps: ParamSpec[] = [
    { name: "model.embed_tokens.weight", shape: [V, D], hfShape: [V, D], transposed: false, init: "normal" },
  ];
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `model.layers.${l}.`;
    for (const [n, out] of [
      ["q", Q],
      ["k", K],
      ["v", K],
    ] as const) {
      ps.push(lin(`${p}self_attn.${n}_proj`, D, out));
      if (c.attention_bias) ps.push(vec(`${p}self_attn.${n}_proj.bias`, out, "zeros"));
    }
    ps.push(lin(`${p}self_attn.o_proj`, Q, D));
    if (c.attention_bias && c.model_type === "llama") ps.push(vec(`${p}self_attn.o_proj.bias`, D, "zeros"));
    ps.push(lin(`${p}mlp.gate_proj`, D, I), lin(`${p}mlp.up_proj`, D, I), lin(`${p}mlp.down_proj`, I, D));
    ps.push(vec(`${p}input_layernorm.weight`, D, "ones"), vec(`${p}post_attention_layernorm.weight`, D, "ones"));
  }
  ps.push(vec("model.norm.weight", D, "ones"));
  if (!c.tie_word_embeddings) ps.push(lin("lm_head", D, V));
  return ps;
}

/** N(0, std^2) samples from an Rng (Box-Muller, both outputs used). */
function normals(rng: Rng, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    let u = 0;
    while (u === 0) u = rng.uniform();
    const r = Math.sqrt(-2 * Math.log(u)) * std;
    const a = 2 * Math.PI * rng.uniform();
    out[i] = r * Math.cos(a);
    if (i + 1 < n) out[i + 1] = r * Math.sin(a);
  }
  return out;
}

interface LayerVars {
  q: tf.Variable;
  k: tf.Variable;
  v: tf.Variable;
  o: tf.Variable;
  qb: tf.Variable | null;
  kb: tf.Variable | null;
  vb: tf.Variable | null;
  ob: tf.Variable | null;
  gate: tf.Variable;
  up: tf.Variable;
  down: tf.Variable;
  ln1: tf.Variable;
  ln2: tf.Variable;
}

/** Options of the LlamaModel constructor. */
export interface LlamaModelOptions {
  /** Random stream for the initial weights. Defaults to globalRng(), so seed(n) fixes the init. */
  rng?: Rng;
  /**
   * "normal" is HF's init (weights N(0, initializer_range^2), zero biases, unit norms); "zeros" skips the random draw
   * (before loadStateDict). Defaults to "normal".
   */
  init?: "normal" | "zeros";
  /** Whether the variables are trainable. Defaults to true. */
  trainable?: boolean;
}

/** Inputs of LlamaModel.forward. */
export interface ForwardInputs {
  /** Token ids [B, T] (int). */
  ids: MatrixLike;
  /** 1 on real tokens, 0 on padding, [B, T] (or [B, cache.length + T] with a cache). Defaults to all ones. */
  attentionMask?: MatrixLike | null;
}

/** Options of LlamaModel.forward. */
export interface ForwardOptions {
  /** KV cache to read past keys from and write the new ones to (advanced by T). Defaults to none. */
  cache?: KVCache;
  /** "all" positions or only the "last" column (enough to sample the next token). Defaults to "all". */
  logits?: "all" | "last";
  /** Also return the final-norm hidden states [B, T, D]. Defaults to false. */
  hidden?: boolean;
}

/** Output of LlamaModel.forward; the caller owns (disposes) the tensors. */
export interface ForwardOutput {
  /** [B, T, V] (or [B, 1, V] with logits: "last"). */
  logits: tf.Tensor3D;
  /** Final-norm hidden states [B, T, D] when asked for. */
  hidden?: tf.Tensor3D;
}

let modelCount = 0;

// ---------------------------------------------------------------------------------------------------------------
// The model

/**
 * A Llama / Qwen2 decoder whose weights are tf.Variables named by their HF tensor names.
 * @example seed(0); const m = new model.LlamaModel("tiny"); const { logits } = m.forward({ ids: [[1, 2, 3]] })
 */
export class LlamaModel {
  readonly config: LlamaConfig;
  private readonly vars = new Map<string, tf.Variable>();
  private readonly specs: ParamSpec[];
  private readonly layers: LayerVars[] = [];
  private readonly rms: (x: tf.Tensor2D, w: tf.Tensor1D) => tf.Tensor2D;
  private readonly invFreq: Float32Array;
  private readonly R: tf.Tensor2D;
  private disposed = false;

  constructor(config: LlamaConfig | LlamaConfigInput | string, options: LlamaModelOptions = {}) {
    const c = (this.config = llamaConfig(config as LlamaConfigInput | string));
    const { rng = globalRng(), init = "normal", trainable = true } = options;
    const prefix = `llama${modelCount++}/`; // tfjs variable names are global: keep each model's unique
    this.specs = paramSpecs(c);
    for (const s of this.specs) {
      const size = s.shape.reduce((a, b) => a * b, 1);
      const value =
        s.init === "ones"
          ? tf.ones(s.shape)
          : s.init === "zeros" || init === "zeros"
            ? tf.zeros(s.shape)
            : tf.tensor(normals(rng, size, c.initializer_range), s.shape);
      this.vars.set(s.name, tf.variable(value, trainable, prefix + s.name));
      value.dispose();
    }
    const get = (n: string) => this.vars.get(n) ?? null;
    for (let l = 0; l < c.num_hidden_layers; l++) {
      const p = `model.layers.${l}.`;
      const a = `${p}self_attn.`;
      this.layers.push({
        q: get(`${a}q_proj.weight`)!,
        k: get(`${a}k_proj.weight`)!,
        v: get(`${a}v_proj.weight`)!,
        o: get(`${a}o_proj.weight`)!,
        qb: get(`${a}q_proj.bias`),
        kb: get(`${a}k_proj.bias`),
        vb: get(`${a}v_proj.bias`),
        ob: get(`${a}o_proj.bias`),
        gate: get(`${p}mlp.gate_proj.weight`)!,
        up: get(`${p}mlp.up_proj.weight`)!,
        down: get(`${p}mlp.down_proj.weight`)!,
        ln1: get(`${p}input_layernorm.weight`)!,
        ln2: get(`${p}post_attention_layernorm.weight`)!,
      });
    }
    this.rms = makeRmsNorm(c.rms_norm_eps);
    this.invFreq = ropeInvFreq(c);
    this.R = tf.keep(tf.tensor2d(rotateHalfMatrix(c.head_dim), [c.head_dim, c.head_dim]));
  }

  /**
   * Logits (and optionally final hidden states) for a padded batch. Works with left or right padding: positions
   * come from the attention mask. With `cache`, `ids` are the new tokens and the mask covers cache + new tokens.
   * @example const { logits } = m.forward({ ids: [[0, 5, 6]], attentionMask: [[0, 1, 1]] }) // [1, 3, V]
   */
  forward(inputs: ForwardInputs, options: ForwardOptions = {}): ForwardOutput {
    this.checkAlive("forward");
    const c = this.config;
    const { cache, logits = "all", hidden = false } = options;
    const ids = hostInts(inputs.ids, "model.forward: inputs.ids", c.vocab_size, this.forward);
    const [B, T] = [ids.rows, ids.cols];
    const past = cache ? cache.length : 0;
    const L = past + T; // mask columns: cached + new
    let mask: Int32Array;
    if (cache) {
      if (cache.batch !== B)
        fail(
          "shape_mismatch",
          `model.forward: the cache holds ${cache.batch} rows but inputs.ids has ${B}. ` +
            `Create the cache with model.createCache(${B}, maxLength).`,
          { got: B, expected: cache.batch },
          this.forward,
        );
      mask = hostMask(
        inputs.attentionMask,
        { rows: B, cols: L },
        `model.forward: inputs.attentionMask (with a cache: [B, cache.length + T])`,
        this.forward,
      );
    } else mask = hostMask(inputs.attentionMask, ids, "model.forward: inputs.attentionMask", this.forward);
    const S = cache ? cache.maxLength : T; // key slots attention runs over
    const allPos = positionIds(mask, B, L);
    const pos = new Int32Array(B * T);
    for (let b = 0; b < B; b++) pos.set(allPos.subarray(b * L + past, b * L + L), b * T);
    let maxPos = 0;
    for (let i = 0; i < pos.length; i++)
      if (mask[Math.floor(i / T) * L + past + (i % T)] && pos[i] > maxPos) maxPos = pos[i];
    if (maxPos >= c.max_position_embeddings)
      fail(
        "invalid_input",
        `model.forward: a sequence reaches position ${maxPos} (expected < max_position_embeddings = ` +
          `${c.max_position_embeddings}). Shorten the input or raise max_position_embeddings in the config.`,
        { got: maxPos },
        this.forward,
      );

    const out = tf.tidy((): tf.TensorContainer => {
      const hd = c.head_dim;
      const cs = ropeCosSin(pos, this.invFreq, 1);
      const scale = 1 / Math.sqrt(hd); // the attention scale, folded into the query's tables
      const csq = { cos: cs.cos.map((x) => x * scale), sin: cs.sin.map((x) => x * scale) };
      const t3 = (a: Float32Array) => tf.tensor3d(a, [B * T, 1, hd]);
      const rp = { cosK: t3(cs.cos), sinK: t3(cs.sin), cosQ: t3(csq.cos), sinQ: t3(csq.sin) };
      const bias = tf.tensor4d(attentionBias(mask, B, L, past, T, S), [B, 1, T, S]);
      const idsT = tf.tensor1d(ids.data, "int32");
      return this.run(
        idsT,
        B,
        T,
        S,
        rp,
        bias,
        cache ?? null,
        logits === "last",
        hidden,
      ) as unknown as tf.TensorContainer;
    }) as unknown as ForwardOutput;
    if (cache) cache.advance(T);
    return out;
  }

  /** The transformer proper, on prepared tensors (called inside forward's tidy). */
  private run(
    ids: tf.Tensor1D,
    B: number,
    T: number,
    S: number,
    rp: { cosQ: tf.Tensor3D; sinQ: tf.Tensor3D; cosK: tf.Tensor3D; sinK: tf.Tensor3D },
    bias: tf.Tensor4D,
    cache: KVCache | null,
    lastOnly: boolean,
    wantHidden: boolean,
  ): ForwardOutput {
    const c = this.config;
    const [D, V, H, KV, hd] = [c.hidden_size, c.vocab_size, c.num_attention_heads, c.num_key_value_heads, c.head_dim];
    const G = H / KV; // query heads per key/value head
    const E = this.vars.get("model.embed_tokens.weight") as tf.Tensor2D;

    let x: tf.Tensor2D =
      V <= ONEHOT_MAX_VOCAB ? tf.matMul(tf.cast(tf.oneHot(ids, V), "float32"), E) : gatherRows(E, ids); // [B*T, D]
    for (let l = 0; l < this.layers.length; l++) {
      const p = this.layers[l];
      // --- attention ---
      const h = this.rms(x, p.ln1 as tf.Tensor1D); // [B*T, D]
      const q = rope(
        tf.reshape(linear(h, p.q as tf.Tensor2D, p.qb as tf.Tensor1D | null), [B * T, H, hd]),
        rp.cosQ,
        rp.sinQ,
        this.R,
      );
      const k = rope(
        tf.reshape(linear(h, p.k as tf.Tensor2D, p.kb as tf.Tensor1D | null), [B * T, KV, hd]),
        rp.cosK,
        rp.sinK,
        this.R,
      );
      const v = linear(h, p.v as tf.Tensor2D, p.vb as tf.Tensor1D | null); // [B*T, KV*hd]
      let k4 = headsFirst(k, B, T, KV, hd); // [B, KV, T, hd]
      let v4 = headsFirst(v, B, T, KV, hd); // [B, KV, T, hd]
      if (cache) ({ k: k4, v: v4 } = cache.write(l, k4, v4)); // [B, KV, S, hd]
      const qg = tf.reshape(headsFirst(q, B, T, H, hd), [B, KV, G * T, hd]); // heads h = kv*G + g
      const scores = tf.add(tf.reshape(tf.matMul(qg, k4, false, true), [B, H, T, S]), bias); // [B, H, T, S]
      const att = tf.reshape(tf.softmax(scores), [B, KV, G * T, S]);
      const y = rowsFirst(tf.matMul(att, v4), B, T, H, hd); // [B*T, H*hd]
      x = tf.add(x, linear(y, p.o as tf.Tensor2D, p.ob as tf.Tensor1D | null));
      // --- SwiGLU MLP ---
      const h2 = this.rms(x, p.ln2 as tf.Tensor1D);
      const g = tf.matMul<tf.Tensor2D>(h2, p.gate as tf.Tensor2D); // [B*T, I]
      const u = tf.matMul<tf.Tensor2D>(h2, p.up as tf.Tensor2D);
      x = tf.add(x, tf.matMul(swiglu(g, u), p.down as tf.Tensor2D));
    }
    const hN = this.rms(x, this.vars.get("model.norm.weight") as tf.Tensor1D); // [B*T, D]
    const hl =
      lastOnly && T > 1 ? tf.reshape(tf.slice(tf.reshape(hN, [B, T, D]), [0, T - 1, 0], [B, 1, D]), [B, D]) : hN;
    const logits2 = c.tie_word_embeddings
      ? tf.matMul(hl, E, false, true)
      : tf.matMul(hl, this.vars.get("lm_head.weight") as tf.Tensor2D);
    const out: ForwardOutput = { logits: tf.reshape(logits2, [B, lastOnly ? 1 : T, V]) };
    if (wantHidden) out.hidden = tf.reshape(hN, [B, T, D]);
    return out;
  }

  /**
   * A key/value cache for incremental decoding of B rows up to maxLength tokens (prompt + new).
   * @example const cache = m.createCache(4, 64)
   */
  createCache(B: number, maxLength: number, options: { inPlace?: boolean } = {}): KVCache {
    this.checkAlive("createCache");
    return new KVCache(this.config, B, maxLength, options);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Parameters by HF name

  /** Variables by HF tensor name (linear weights are stored [in, out], the transpose of HF's layout). */
  namedVariables(): Map<string, tf.Variable> {
    this.checkAlive("namedVariables");
    return new Map(this.vars);
  }

  /** The variables with trainable = true (i.e. not frozen). */
  trainableVariables(): tf.Variable[] {
    return [...this.vars.values()].filter((v) => v.trainable);
  }

  /** Parameter count (a tied head is counted once). */
  numParameters(options: { trainableOnly?: boolean } = {}): number {
    let n = 0;
    for (const v of this.vars.values()) if (!options.trainableOnly || v.trainable) n += v.size;
    return n;
  }

  /** Parameter specs (HF name, stored shape, HF shape) in state-dict order. */
  parameterSpecs(): ParamSpec[] {
    return this.specs.map((s) => ({ ...s, shape: [...s.shape], hfShape: [...s.hfShape] }));
  }

  /**
   * Stop training the parameters whose HF name matches a pattern ("*" matches anything, RegExp allowed).
   * @example m.freeze(["model.embed_tokens.*", /layers\.[01]\./])
   */
  freeze(patterns: string | RegExp | (string | RegExp)[]): this {
    return this.setTrainable(patterns, false, "freeze");
  }

  /** Make matching parameters trainable again; "*" unfreezes all. */
  unfreeze(patterns: string | RegExp | (string | RegExp)[] = "*"): this {
    return this.setTrainable(patterns, true, "unfreeze");
  }

  private setTrainable(patterns: string | RegExp | (string | RegExp)[], on: boolean, fn: string): this {
    const list = Array.isArray(patterns) ? patterns : [patterns];
    const res = list.map((p) =>
      p instanceof RegExp ? p : new RegExp("^" + p.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*") + "$"),
    );
    for (let i = 0; i < list.length; i++)
      if (![...this.vars.keys()].some((n) => res[i].test(n)))
        fail(
          "not_found",
          `model.${fn}: pattern ${String(list[i])} matches no parameter ` +
            `(names look like "model.layers.0.mlp.up_proj.weight"). See model.parameterSpecs() for the names.`,
          { got: String(list[i]) },
          this[fn as "freeze"],
        );
    for (const [n, v] of this.vars) if (res.some((r) => r.test(n))) v.trainable = on;
    return this;
  }

  /**
   * Copies of the weights in HF layout (Linear [out, in]) by HF name; the caller disposes them.
   * A tied model has no lm_head.weight entry (as in HF safetensors).
   * @example const sd = m.stateDict(); sd["model.norm.weight"].shape // [128]; tf.dispose(Object.values(sd))
   */
  stateDict(): Record<string, tf.Tensor> {
    this.checkAlive("stateDict");
    const out: Record<string, tf.Tensor> = {};
    for (const s of this.specs) out[s.name] = this.stateTensor(s.name);
    return out;
  }

  /** One weight in HF layout (a copy the caller disposes), for streaming large models tensor by tensor. */
  stateTensor(name: string): tf.Tensor {
    const s = this.specs.find((x) => x.name === name);
    if (!s)
      fail(
        "not_found",
        `model.stateTensor: no parameter named ${JSON.stringify(name)}. See model.parameterSpecs() for the names.`,
        { got: name },
        this.stateTensor,
      );
    const v = this.vars.get(name)!;
    return s.transposed ? tf.transpose(v) : tf.clone(v);
  }

  /**
   * Load weights given in HF layout by HF name. Every shape is checked (the error names the tensor and both
   * shapes); with strict (default) missing or unexpected names are an error too. A tied model ignores lm_head.weight
   * and any model ignores rotary_emb.inv_freq buffers, as transformers does.
   * @example m.loadStateDict(tensors, { strict: true })
   */
  loadStateDict(
    dict: Record<string, tf.Tensor>,
    options: { strict?: boolean } = {},
  ): { missing: string[]; unexpected: string[] } {
    this.checkAlive("loadStateDict");
    const { strict = true } = options;
    const known = new Map(this.specs.map((s) => [s.name, s]));
    const ignored = (n: string) =>
      n.endsWith("rotary_emb.inv_freq") || (this.config.tie_word_embeddings && n === "lm_head.weight");
    const unexpected = Object.keys(dict).filter((n) => !known.has(n) && !ignored(n));
    const missing = this.specs.map((s) => s.name).filter((n) => !(n in dict));
    for (const [n, t] of Object.entries(dict)) {
      const s = known.get(n);
      if (!s) continue;
      if (!(t instanceof tf.Tensor))
        fail(
          "invalid_input",
          `model.loadStateDict: ${JSON.stringify(n)} is not a tensor (got ${typeof t}). Pass tf.Tensor values.`,
          { path: [n] },
          this.loadStateDict,
        );
      if (t.shape.length !== s.hfShape.length || t.shape.some((d, i) => d !== s.hfShape[i]))
        fail(
          "shape_mismatch",
          `model.loadStateDict: tensor ${JSON.stringify(n)} has shape [${t.shape.join(", ")}] but the model expects ` +
            `[${s.hfShape.join(", ")}]${s.transposed ? " (HF layout [out, in])" : ""}. ` +
            "Check that the config (hidden_size, intermediate_size, heads, vocab_size) matches the checkpoint.",
          { path: [n], got: t.shape, expected: s.hfShape },
          this.loadStateDict,
        );
    }
    if (strict && (missing.length || unexpected.length))
      fail(
        "not_found",
        "model.loadStateDict: the state dict does not match the model " +
          `(missing: ${firstOf(missing, 8, ", ") || "none"}; unexpected: ${firstOf(unexpected, 8, ", ") || "none"}). ` +
          "Check the config, or pass {strict: false} to load a subset.",
        { got: { missing, unexpected } },
        this.loadStateDict,
      );
    for (const [n, t] of Object.entries(dict)) {
      const s = known.get(n);
      if (!s) continue;
      const v = tf.tidy(() => {
        const f = t.dtype === "float32" ? t : tf.cast(t, "float32");
        return s.transposed ? tf.transpose(f) : tf.clone(f);
      });
      this.vars.get(n)!.assign(v);
      v.dispose();
    }
    return { missing, unexpected };
  }

  /**
   * An independent copy with the same weights (e.g. the frozen reference model). Not trainable unless asked.
   * @example const ref = policy.clone()
   */
  clone(options: { trainable?: boolean } = {}): LlamaModel {
    this.checkAlive("clone");
    const m = new LlamaModel(this.config, { init: "zeros", trainable: options.trainable ?? false });
    for (const [n, v] of this.vars) m.vars.get(n)!.assign(v);
    return m;
  }

  /** Free every variable; the model cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    for (const v of this.vars.values()) v.dispose();
    this.R.dispose();
    this.disposed = true;
  }

  /** A one-line description (the notebook shows it). */
  toString(): string {
    const c = this.config;
    return (
      `LlamaModel(${c.model_type}: ${c.num_hidden_layers} layers, hidden ${c.hidden_size}, ` +
      `heads ${c.num_attention_heads}/${c.num_key_value_heads} kv, ` +
      `mlp ${c.intermediate_size}, vocab ${c.vocab_size}, ${c.tie_word_embeddings ? "tied" : "untied"} head, ` +
      `${this.numParameters().toLocaleString("en-US")} parameters)`
    );
  }

  /** Notebook display: the one-line summary. */
  toMimeBundle(): Record<string, string> {
    return { "text/plain": this.toString() };
  }

  private checkAlive(fn: string): void {
    if (this.disposed) fail("invalid_input", `model.${fn}: this model was disposed. Create or load it again.`);
  }
}
