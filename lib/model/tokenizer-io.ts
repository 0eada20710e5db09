// Tokenizers on disk, in the transformers layout: tokenizer.json (the tokenizers-library format) and
// tokenizer_config.json (special-token roles, chat template). A CharTokenizer is written as a BPE model with an empty
// merge list, which transformers' PreTrainedTokenizerFast loads as is, and is recognised again when read back.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, fail } from "../core/errors.js";
import { CharTokenizer, type CharTokenizerOptions } from "./tokenizer-char.js";
import { HfTokenizer, tokenContent, type HfTokenizerConfig } from "./tokenizer-hf.js";
import type { Tokenizer } from "./tokenizer-types.js";
import { writeJsonAtomic } from "../core/atomic.js";
import { chatTemplates } from "./chat-template.js";

/** The two JSON files of a tokenizer. */
export interface TokenizerFiles {
  /** Contents of tokenizer.json. */
  tokenizer: Record<string, unknown>;
  /** Contents of tokenizer_config.json. */
  config: HfTokenizerConfig;
}

const BYTE_TOKEN = /^<0x[0-9A-F]{2}>$/;

function charToFiles(tok: CharTokenizer): TokenizerFiles {
  const o = tok.options;
  const vocab: Record<string, number> = {};
  tok.tokens.forEach((t, i) => (vocab[t] = i));
  const added = tok.tokens
    .map((content, id) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    }))
    .filter((t) => tok.isSpecial(t.id));
  const seq = (id: string) => ({ Sequence: { id, type_id: 0 } });
  const sp = (text: string) => ({ SpecialToken: { id: text, type_id: 0 } });
  const single = [...(o.addBos ? [sp(o.bos!)] : []), seq("A"), ...(o.addEos ? [sp(o.eos!)] : [])];
  const specialMap: Record<string, unknown> = {};
  for (const t of [o.addBos ? o.bos : null, o.addEos ? o.eos : null])
    if (t) specialMap[t] = { id: t, ids: [tok.tokenToId(t)], tokens: [t] };
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: null,
    post_processor:
      o.addBos || o.addEos
        ? {
            type: "TemplateProcessing",
            single,
            pair: [...single, ...single.map((x) => ("Sequence" in x ? { Sequence: { id: "B", type_id: 1 } } : x))],
            special_tokens: specialMap,
          }
        : null,
    decoder: o.byteFallback
      ? { type: "Sequence", decoders: [{ type: "ByteFallback" }, { type: "Fuse" }] }
      : { type: "Fuse" },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: o.unk,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: o.byteFallback,
      vocab,
      merges: [],
    },
  };
  const config: HfTokenizerConfig = {
    tokenizer_class: "PreTrainedTokenizerFast",
    bos_token: o.bos,
    eos_token: o.eos,
    pad_token: o.pad,
    unk_token: o.unk,
    additional_special_tokens: o.specials,
    clean_up_tokenization_spaces: false,
    // A built-in template name is written out as its text: transformers only understands Jinja here.
    ...(o.chatTemplate ? { chat_template: chatTemplates[o.chatTemplate] ?? o.chatTemplate } : {}),
  };
  return { tokenizer, config };
}

/** Rebuild a CharTokenizer from files it wrote; null when the files are some other tokenizer. */
function charFromFiles({ tokenizer, config }: TokenizerFiles): CharTokenizer | null {
  const m = tokenizer.model as
    | {
        type?: string;
        merges?: unknown[];
        vocab?: Record<string, number>;
        unk_token?: string | null;
        byte_fallback?: boolean;
      }
    | undefined;
  if (
    !m ||
    m.type !== "BPE" ||
    !Array.isArray(m.merges) ||
    m.merges.length ||
    tokenizer.normalizer ||
    tokenizer.pre_tokenizer ||
    !m.vocab
  )
    return null;
  const tokens: string[] = [];
  for (const [t, id] of Object.entries(m.vocab)) tokens[id] = t;
  const specialSet = new Set(
    ((tokenizer.added_tokens ?? []) as { content: string; special?: boolean }[])
      .filter((t) => t.special)
      .map((t) => t.content),
  );
  const byteFallback = m.byte_fallback === true;
  const alphabet = tokens.filter((t) => t !== undefined && !specialSet.has(t) && !(byteFallback && BYTE_TOKEN.test(t)));
  if (alphabet.some((c) => Array.from(c).length !== 1)) return null;
  const pp = tokenizer.post_processor as { type?: string; single?: { SpecialToken?: { id: string } }[] } | null;
  const first = pp?.type === "TemplateProcessing" ? pp.single?.[0]?.SpecialToken?.id : undefined;
  const last = pp?.type === "TemplateProcessing" ? pp.single?.[pp.single.length - 1]?.SpecialToken?.id : undefined;
  const roles = {
    pad: tokenContent(config.pad_token),
    bos: tokenContent(config.bos_token),
    eos: tokenContent(config.eos_token),
    unk: m.unk_token ?? null,
  };
  const named = new Set(Object.values(roles).filter(Boolean));
  const options: CharTokenizerOptions = {
    ...roles,
    specials: tokens.filter((t) => specialSet.has(t) && !named.has(t)),
    byteFallback,
    addBos: first !== undefined && first === roles.bos,
    addEos: last !== undefined && last === roles.eos,
    chatTemplate: typeof config.chat_template === "string" ? config.chat_template : null,
  };
  try {
    const tok = new CharTokenizer(alphabet, options);
    // Only a layout our constructor reproduces id for id counts as a char tokenizer.
    return tok.tokens.length === tokens.length && tok.tokens.every((t, i) => t === tokens[i]) ? tok : null;
  } catch {
    return null;
  }
}

/**
 * The tokenizer.json + tokenizer_config.json contents of a CharTokenizer or HfTokenizer.
 * @example const {tokenizer, config} = tokenizerFiles(tok)
 */
export function tokenizerFiles(tok: Tokenizer): TokenizerFiles {
  if (tok instanceof CharTokenizer) return charToFiles(tok);
  if (tok instanceof HfTokenizer) return { tokenizer: tok.tokenizerJson, config: tok.config };
  return fail(
    "invalid_input",
    `model.saveTokenizer: cannot serialize this tokenizer (got ${describe(tok)}; ` +
      "expected a CharTokenizer or an HfTokenizer). Save it yourself or pass tokenizer: null.",
    { got: tok },
    tokenizerFiles,
  );
}

/**
 * A tokenizer from the two JSON files: a CharTokenizer when they describe one, else an HfTokenizer.
 * @example tokenizerFromFiles({tokenizer: json, config: {eos_token: "<|im_end|>"}})
 */
export function tokenizerFromFiles(files: TokenizerFiles): CharTokenizer | HfTokenizer {
  return charFromFiles(files) ?? new HfTokenizer(files.tokenizer, files.config);
}

/**
 * Write tokenizer.json and tokenizer_config.json into `dir` (each file atomically).
 * @example saveTokenizer("ckpt", tok)
 */
export function saveTokenizer(dir: string, tok: Tokenizer): void {
  const files = tokenizerFiles(tok);
  fs.mkdirSync(dir, { recursive: true });
  writeJsonAtomic(path.join(dir, "tokenizer.json"), files.tokenizer);
  writeJsonAtomic(path.join(dir, "tokenizer_config.json"), files.config);
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    return fail(
      "io",
      `model.loadTokenizer: ${file} is not valid JSON (${(e as Error).message}). Re-save the tokenizer.`,
      { path: [file], cause: e },
    );
  }
}

/**
 * Load the tokenizer of a checkpoint directory (tokenizer.json + optional tokenizer_config.json).
 * @example const tok = loadTokenizer("models/Qwen2.5-0.5B-Instruct")
 */
export function loadTokenizer(dir: string): CharTokenizer | HfTokenizer {
  const tj = path.join(dir, "tokenizer.json");
  if (!fs.existsSync(tj)) {
    const legacy = ["tokenizer.model", "vocab.json", "merges.txt"].filter((f) => fs.existsSync(path.join(dir, f)));
    fail(
      "not_found",
      `model.loadTokenizer: ${tj} does not exist` +
        (legacy.length ? ` (found ${legacy.join(", ")}: a slow-tokenizer format cellrl does not read)` : "") +
        `. Save the tokenizer with transformers' tokenizer.save_pretrained(dir), which writes tokenizer.json.`,
      { path: [tj] },
      loadTokenizer,
    );
  }
  const cf = path.join(dir, "tokenizer_config.json");
  const config = (fs.existsSync(cf) ? readJson(cf) : {}) as HfTokenizerConfig;
  return tokenizerFromFiles({ tokenizer: readJson(tj), config });
}
