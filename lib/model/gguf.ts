// GGUF export of a cellrl LlamaModel (fp32), so llama.cpp (and node-llama-cpp, Ollama, LM Studio) can run it.
// Follows llama.cpp's convert_hf_to_gguf.py for LlamaForCausalLM / Qwen2ForCausalLM:
// - tensor names token_embd, blk.N.attn_{norm,q,k,v,output}, blk.N.ffn_{norm,gate,up,down}, output_norm, output
//   (output is left out when the head is tied: llama.cpp then reuses token_embd);
// - architecture "llama": q/k weights (and biases) are permuted from HF's rotate-half RoPE layout (pairs i and
//   i + d/2) to llama.cpp's interleaved one (pairs 2i and 2i + 1); "qwen2" runs NEOX-style RoPE, so no permutation;
// - llama3 rope_scaling is written as the rope_freqs tensor (one divisor per frequency), linear as rope.scaling.*;
// - the vocabulary as a GPT-2 style (byte-level BPE) vocab: byte-level HF tokenizers go through as they are; char
//   tokenizers (cellrl's CharTokenizer and BPE files without merges) have each token's text mapped to byte-level
//   form, so llama.cpp tokenizes and decodes their text the same way; special tokens are CONTROL tokens.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, fail } from "../core/errors.js";
import { warn } from "../core/warn.js";
import { writeFileAtomic } from "../core/atomic.js";
import { eosIds, type LlamaConfig } from "./config.js";
import { writeGguf, type GgufTensorSource, type GgufValue } from "./gguf-format.js";
import { LlamaModel } from "./llama.js";
import { ropeInvFreq } from "./positions.js";
import { CharTokenizer } from "./tokenizer-char.js";
import { HfTokenizer } from "./tokenizer-hf.js";
import type { Tokenizer } from "./tokenizer-types.js";

/** llama.cpp token types (gguf-py TokenType). */
const TOKEN_TYPE = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;

/** Options of saveGguf. */
export interface SaveGgufOptions {
  /**
   * The model's tokenizer, written as the GGUF vocabulary (CharTokenizer or HfTokenizer). null writes placeholder
   * tokens "[id]" (llama.cpp then works on token ids only). Defaults to null.
   */
  tokenizer?: Tokenizer | null;
  /** general.name. Defaults to the file name without extension. */
  name?: string;
  /** Replace an existing file. Defaults to true. */
  overwrite?: boolean;
}

/**
 * Defaults of saveGguf.
 * @example defaults.overwrite // true
 */
export const defaults = { tokenizer: null as Tokenizer | null, overwrite: true };

/** What saveGguf wrote. */
export interface SavedGguf {
  file: string;
  bytes: number;
  /** "llama" or "qwen2". */
  architecture: string;
  tensors: number;
  /** Entries of the GGUF vocabulary (= vocab_size). */
  vocabSize: number;
}

// ---------------------------------------------------------------------------------------------------------------
// Byte-level text (GPT-2's bytes_to_unicode): printable bytes stand for themselves, the rest map to U+0100 and up.

let byteChars: string[] | null = null;

/**
 * A string's UTF-8 bytes as GPT-2 byte-level characters (" " → "Ġ", "\n" → "Ċ", "a" → "a").
 * @example byteLevel(" a") // "Ġa"
 */
export function byteLevel(s: string): string {
  if (!byteChars) {
    byteChars = new Array(256);
    let n = 0;
    for (let b = 0; b < 256; b++) {
      const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      byteChars[b] = String.fromCodePoint(printable ? b : 256 + n++);
    }
  }
  let out = "";
  for (const b of Buffer.from(s, "utf8")) out += byteChars[b];
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Vocabulary

/** The GGUF tokenizer fields of a model. */
export interface GgufVocab {
  /** tokenizer.ggml.pre: "default", "qwen2" or "llama-bpe". */
  pre: string;
  tokens: string[];
  types: number[];
  merges: string[];
  bos: number | null;
  eos: number | null;
  pad: number | null;
  unk: number | null;
  addBos: boolean;
  chatTemplate: string | null;
}

const BYTE_TOKEN = /^<0x[0-9A-F]{2}>$/;

/** The pre-tokenizer name llama.cpp knows for a HF tokenizer.json's split regex (text tokenization only). */
function preOf(json: Record<string, unknown>): string {
  const s = JSON.stringify(json.pre_tokenizer ?? null);
  if (s.includes("\\\\p{N}{1,3}")) return "llama-bpe";
  if (s.includes("(?i:'s|'t|'re|'ve|'m|'ll|'d)") && s.includes("\\\\p{N}|")) return "qwen2";
  return "default";
}

/**
 * The GGUF vocabulary of a tokenizer, padded with "[PADn]" (unused) tokens to the model's vocab_size.
 * @example ggufVocab(tok, cfg).tokens[3] // "Ġ" for a char tokenizer whose id 3 is " "
 */
export function ggufVocab(tok: Tokenizer | null, cfg: LlamaConfig): GgufVocab {
  const V = cfg.vocab_size;
  const tokens: string[] = [];
  const types: number[] = [];
  let merges: string[] = [];
  let pre = "default";
  let addBos = false;
  let chatTemplate: string | null = null;
  const where = "model.saveGguf";
  if (tok && tok.vocabSize > V)
    fail(
      "shape_mismatch",
      `${where}: the tokenizer has ${tok.vocabSize} ids but the model's vocab_size is ${V}. ` +
        "Pass the model's own tokenizer.",
      { got: tok.vocabSize, expected: V },
    );
  if (tok === null) {
    for (let i = 0; i < V; i++) (tokens.push(`[${i}]`), types.push(TOKEN_TYPE.NORMAL));
  } else if (tok instanceof CharTokenizer) {
    const byteBase = tok.tokens.length - (tok.options.byteFallback ? 256 : 0);
    tok.tokens.forEach((t, id) => {
      if (tok.isSpecial(id)) (tokens.push(t), types.push(TOKEN_TYPE.CONTROL));
      else if (id >= byteBase) (tokens.push(t), types.push(TOKEN_TYPE.BYTE));
      else (tokens.push(byteLevel(t)), types.push(TOKEN_TYPE.NORMAL));
    });
    addBos = tok.options.addBos;
    chatTemplate = tok.chatTemplate;
  } else if (tok instanceof HfTokenizer) {
    const json = tok.tokenizerJson;
    const model = (json.model ?? {}) as { type?: string; merges?: unknown[]; byte_fallback?: boolean };
    const byteLevelBpe = JSON.stringify([json.pre_tokenizer ?? null, json.decoder ?? null]).includes('"ByteLevel"');
    const rawMerges = Array.isArray(model.merges) ? model.merges : [];
    if (model.type !== "BPE" || (!byteLevelBpe && rawMerges.length > 0))
      fail(
        "invalid_input",
        `${where}: cannot write this tokenizer as a llama.cpp vocabulary (got model type ${describe(model.type)}` +
          `${byteLevelBpe ? "" : ", not byte-level"} with ${rawMerges.length} merges; expected a byte-level BPE ` +
          "(Qwen2, Llama 3, GPT-2) or a char-level vocabulary). Pass {tokenizer: null} to write placeholder tokens " +
          "and use llama.cpp on token ids.",
        { got: model.type },
      );
    const added = new Map<number, boolean>();
    for (const a of (json.added_tokens ?? []) as { id: number; special?: boolean }[]) added.set(a.id, !!a.special);
    for (let id = 0; id < tok.vocabSize; id++) {
      let t: string;
      try {
        t = tok.tokenToString(id);
      } catch {
        (tokens.push(`[PAD${id}]`), types.push(TOKEN_TYPE.UNUSED));
        continue;
      }
      if (tok.isSpecial(id)) (tokens.push(t), types.push(TOKEN_TYPE.CONTROL));
      else if (added.has(id)) (tokens.push(t), types.push(TOKEN_TYPE.USER_DEFINED));
      else if (byteLevelBpe) (tokens.push(t), types.push(TOKEN_TYPE.NORMAL));
      else if (model.byte_fallback && BYTE_TOKEN.test(t)) (tokens.push(t), types.push(TOKEN_TYPE.BYTE));
      else (tokens.push(byteLevel(t)), types.push(TOKEN_TYPE.NORMAL));
    }
    merges = rawMerges.map((m) => (Array.isArray(m) ? m.join(" ") : String(m)));
    if (byteLevelBpe) pre = preOf(json);
    addBos = tok.bosTokenId !== undefined && tok.encode("", { addSpecialTokens: true })[0] === tok.bosTokenId;
    chatTemplate = tok.chatTemplate;
  } else
    fail(
      "invalid_input",
      `${where}: options.tokenizer must be a CharTokenizer or an HfTokenizer (got ${describe(tok)}). Pass ` +
        "{tokenizer: null} to write placeholder tokens.",
      { got: describe(tok) },
    );
  for (let id = tokens.length; id < V; id++) (tokens.push(`[PAD${id}]`), types.push(TOKEN_TYPE.UNUSED));
  // llama.cpp asserts every token text is unique and non-empty
  const seen = new Set<string>();
  let dups = 0;
  tokens.forEach((t, id) => {
    if (t === "" || seen.has(t)) {
      tokens[id] = `[DUP${id}]`;
      types[id] = TOKEN_TYPE.UNUSED;
      dups++;
    }
    seen.add(tokens[id]);
  });
  if (dups)
    warn(
      "model/ggufDuplicateTokens",
      `${where}: ${dups} token text(s) occur twice in the vocabulary; the later ids are written as unused ` +
        `"[DUPid]" tokens (llama.cpp needs unique texts). Evaluation by token id is unaffected.`,
    );
  const idOr = (a: number | undefined, b: number | null) => (a !== undefined ? a : b);
  const eos = eosIds(cfg);
  return {
    pre,
    tokens,
    types,
    merges,
    bos: idOr(tok?.bosTokenId, cfg.bos_token_id),
    eos: idOr(tok?.eosTokenId, eos.length ? eos[0] : null),
    pad: idOr(tok?.padTokenId, cfg.pad_token_id),
    unk: tok instanceof CharTokenizer ? (tok.unkTokenId ?? null) : null,
    addBos,
    chatTemplate: chatTemplate && /{{|{%/.test(chatTemplate) ? chatTemplate : null,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Tensors

/**
 * HF rotate-half rows to llama.cpp's interleaved RoPE rows, per head: new row h*hd + 2i + j holds old row
 * h*hd + j*hd/2 + i (convert_hf_to_gguf's permute: reshape(heads, 2, hd/2, in).swapaxes(1, 2)).
 * @example permuteRope(Float32Array.from([0, 1, 2, 3]), 1, 1) // [0, 2, 1, 3]
 */
export function permuteRope(w: Float32Array, heads: number, cols: number): Float32Array {
  const rows = w.length / cols;
  const hd = rows / heads;
  const half = hd / 2;
  const out = new Float32Array(w.length);
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < half; i++)
      for (let j = 0; j < 2; j++) {
        const from = (h * hd + j * half + i) * cols;
        out.set(w.subarray(from, from + cols), (h * hd + 2 * i + j) * cols);
      }
  return out;
}

/**
 * GGUF name of an HF parameter name, or null when it has none.
 * @example ggufName("model.layers.0.self_attn.q_proj.weight") // "blk.0.attn_q.weight"
 */
export function ggufName(hf: string): string | null {
  if (hf === "model.embed_tokens.weight") return "token_embd.weight";
  if (hf === "model.norm.weight") return "output_norm.weight";
  if (hf === "lm_head.weight") return "output.weight";
  const m = /^model\.layers\.(\d+)\.(.+)\.(weight|bias)$/.exec(hf);
  if (!m) return null;
  const map: Record<string, string> = {
    input_layernorm: "attn_norm",
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    post_attention_layernorm: "ffn_norm",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
  };
  return map[m[2]] ? `blk.${m[1]}.${map[m[2]]}.${m[3]}` : null;
}

/** The tensors of a model in GGUF names and layout (values read from the model when written). */
export function ggufTensors(m: LlamaModel): GgufTensorSource[] {
  const c = m.config;
  const llamaRope = c.model_type === "llama";
  const out: GgufTensorSource[] = [];
  for (const s of m.parameterSpecs()) {
    const name = ggufName(s.name);
    if (!name) fail("invalid_input", `model.saveGguf: no GGUF name for parameter ${s.name}. This is a bug.`);
    const heads = /self_attn\.q_proj/.test(s.name)
      ? c.num_attention_heads
      : /self_attn\.k_proj/.test(s.name)
        ? c.num_key_value_heads
        : 0;
    const dims = [...s.hfShape].reverse();
    out.push({
      name,
      dims,
      data: () => {
        const t = m.stateTensor(s.name);
        try {
          const v = t.dataSync() as Float32Array;
          const cols = s.hfShape.length === 2 ? s.hfShape[1] : 1;
          return llamaRope && heads ? permuteRope(v, heads, cols) : Float32Array.from(v);
        } finally {
          t.dispose();
        }
      },
    });
  }
  if (c.model_type === "qwen2" && !c.attention_bias) {
    // llama.cpp's qwen2 graph requires q/k/v biases: write zeros
    for (let l = 0; l < c.num_hidden_layers; l++)
      for (const [n, size] of [
        ["q", c.num_attention_heads * c.head_dim],
        ["k", c.num_key_value_heads * c.head_dim],
        ["v", c.num_key_value_heads * c.head_dim],
      ] as const)
        out.push({ name: `blk.${l}.attn_${n}.bias`, dims: [size], data: () => new Float32Array(size) });
  }
  const sc = c.rope_scaling;
  const type = sc ? (sc.rope_type ?? sc.type ?? "default") : "default";
  if (type === "llama3") {
    // llama.cpp divides each frequency by rope_freqs[i]: the ratio of the unscaled to the scaled inverse frequency
    const base = ropeInvFreq({ ...c, rope_scaling: null });
    const scaled = ropeInvFreq(c);
    out.push({ name: "rope_freqs.weight", dims: [base.length], data: () => base.map((b, i) => b / scaled[i]) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Metadata

/** The GGUF metadata (architecture hyperparameters, vocabulary) of a model. */
export function ggufMetadata(cfg: LlamaConfig, vocab: GgufVocab, name: string): Record<string, GgufValue> {
  const a = cfg.model_type; // "llama" | "qwen2": also llama.cpp's architecture names
  const u32 = (value: number): GgufValue => ({ type: "u32", value });
  const md: Record<string, GgufValue> = {
    "general.architecture": { type: "str", value: a },
    "general.type": { type: "str", value: "model" },
    "general.name": { type: "str", value: name },
    "general.file_type": u32(0), // ALL_F32
    "general.quantization_version": u32(2),
    "general.alignment": u32(32),
    [`${a}.vocab_size`]: u32(cfg.vocab_size),
    [`${a}.context_length`]: u32(cfg.max_position_embeddings),
    [`${a}.embedding_length`]: u32(cfg.hidden_size),
    [`${a}.block_count`]: u32(cfg.num_hidden_layers),
    [`${a}.feed_forward_length`]: u32(cfg.intermediate_size),
    [`${a}.attention.head_count`]: u32(cfg.num_attention_heads),
    [`${a}.attention.head_count_kv`]: u32(cfg.num_key_value_heads),
    [`${a}.attention.key_length`]: u32(cfg.head_dim),
    [`${a}.attention.value_length`]: u32(cfg.head_dim),
    [`${a}.attention.layer_norm_rms_epsilon`]: { type: "f32", value: cfg.rms_norm_eps },
    [`${a}.rope.dimension_count`]: u32(cfg.head_dim),
    [`${a}.rope.freq_base`]: { type: "f32", value: cfg.rope_theta },
  };
  const sc = cfg.rope_scaling;
  const type = sc ? (sc.rope_type ?? sc.type ?? "default") : "default";
  if (type === "linear") {
    md[`${a}.rope.scaling.type`] = { type: "str", value: "linear" };
    md[`${a}.rope.scaling.factor`] = { type: "f32", value: sc!.factor! };
  }
  md["tokenizer.ggml.model"] = { type: "str", value: "gpt2" };
  md["tokenizer.ggml.pre"] = { type: "str", value: vocab.pre };
  md["tokenizer.ggml.tokens"] = { type: "arr_str", value: vocab.tokens };
  md["tokenizer.ggml.token_type"] = { type: "arr_i32", value: vocab.types };
  md["tokenizer.ggml.merges"] = { type: "arr_str", value: vocab.merges };
  if (vocab.bos !== null) md["tokenizer.ggml.bos_token_id"] = u32(vocab.bos);
  if (vocab.eos !== null) md["tokenizer.ggml.eos_token_id"] = u32(vocab.eos);
  if (vocab.pad !== null) md["tokenizer.ggml.padding_token_id"] = u32(vocab.pad);
  if (vocab.unk !== null) md["tokenizer.ggml.unknown_token_id"] = u32(vocab.unk);
  md["tokenizer.ggml.add_bos_token"] = { type: "bool", value: vocab.addBos };
  md["tokenizer.ggml.add_eos_token"] = { type: "bool", value: false };
  if (vocab.chatTemplate) md["tokenizer.chat_template"] = { type: "str", value: vocab.chatTemplate };
  return md;
}

/**
 * Write a model as an fp32 GGUF file for llama.cpp (architecture "llama" or "qwen2", with its tokenizer as the
 * vocabulary), atomically. Logprobs under llama.cpp match model.logprobs to ~1e-5 (test/model/gguf.test.ts).
 * @example model.saveGguf("sort5.gguf", m, {tokenizer: tok}) // then: new remote.LlamaCppPolicy("sort5.gguf")
 */
export function saveGguf(file: string, m: LlamaModel, options: SaveGgufOptions = {}): SavedGguf {
  const { tokenizer = defaults.tokenizer, overwrite = defaults.overwrite } = options;
  if (!(m instanceof LlamaModel))
    fail("invalid_input", `model.saveGguf: model must be a LlamaModel (got ${describe(m)}).`, { got: m }, saveGguf);
  if (typeof file !== "string" || file === "")
    fail("invalid_input", `model.saveGguf: file must be a path (got ${describe(file)}).`, { got: file }, saveGguf);
  if (fs.existsSync(file) && (fs.statSync(file).isDirectory() || !overwrite))
    fail(
      "io",
      `model.saveGguf: ${file} already exists${fs.statSync(file).isDirectory() ? " and is a directory" : ""}. ` +
        "Pick another path or pass {overwrite: true}.",
      { path: [file] },
      saveGguf,
    );
  const cfg = m.config;
  const sc = cfg.rope_scaling;
  const type = sc ? (sc.rope_type ?? sc.type ?? "default") : "default";
  if (type === "llama3" && cfg.model_type !== "llama")
    fail("invalid_input", `model.saveGguf: llama3 rope_scaling is only written for model_type "llama".`, {}, saveGguf);
  const vocab = ggufVocab(tokenizer, cfg);
  const name = options.name ?? path.basename(file).replace(/\.gguf$/i, "");
  const metadata = ggufMetadata(cfg, vocab, name);
  const tensors = ggufTensors(m);
  let bytes = 0;
  writeFileAtomic(file, (fd) => {
    bytes = writeGguf(fd, metadata, tensors);
  });
  return { file, bytes, architecture: cfg.model_type, tensors: tensors.length, vocabSize: vocab.tokens.length };
}
