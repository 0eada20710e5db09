// HuggingFace tokenizer.json (BPE of Qwen2 / Llama / SmolLM, WordPiece, Unigram) through @huggingface/tokenizers,
// wrapped to cellrl's Tokenizer interface. tokenizer_config.json supplies the special-token roles (bos/eos/pad) and
// the chat template, as in transformers.
import { Tokenizer as HfJsTokenizer } from "@huggingface/tokenizers";
import { describe, fail } from "../core/errors.js";
import {
  checkIdInVocab,
  checkText,
  type DecodeOptions,
  type EncodeOptions,
  type Tokenizer,
} from "./tokenizer-types.js";

/** The parts of tokenizer_config.json cellrl reads (other keys are kept and saved back unchanged). */
export interface HfTokenizerConfig {
  bos_token?: string | { content: string } | null;
  eos_token?: string | { content: string } | null;
  pad_token?: string | { content: string } | null;
  unk_token?: string | { content: string } | null;
  chat_template?: string | { name: string; template: string }[] | null;
  clean_up_tokenization_spaces?: boolean;
  add_bos_token?: boolean;
  [key: string]: unknown;
}

/** Token text of a tokenizer_config special-token field (a string or an AddedToken object). */
export function tokenContent(t: HfTokenizerConfig["bos_token"]): string | null {
  if (t === null || t === undefined) return null;
  return typeof t === "string" ? t : (t.content ?? null);
}

/**
 * A tokenizer.json tokenizer behind cellrl's Tokenizer interface (ids, text, special-token ids, token strings).
 * @example const tok = new HfTokenizer(JSON.parse(fs.readFileSync("tokenizer.json", "utf8")), config); tok.encode("hi")
 */
export class HfTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosTokenId?: number;
  readonly eosTokenId?: number;
  readonly padTokenId?: number;
  /** The default chat template (tokenizer_config.json "chat_template"), or null. */
  readonly chatTemplate: string | null;
  /** The parsed tokenizer.json, saved back verbatim with a checkpoint. */
  readonly tokenizerJson: Record<string, unknown>;
  readonly config: HfTokenizerConfig;
  private readonly tok: HfJsTokenizer;
  private readonly specialIds: Set<number>;

  constructor(tokenizerJson: Record<string, unknown>, config: HfTokenizerConfig = {}) {
    if (!tokenizerJson || typeof tokenizerJson !== "object" || typeof tokenizerJson.model !== "object")
      fail(
        "invalid_input",
        `model.HfTokenizer: tokenizerJson must be a parsed tokenizer.json with a "model" object ` +
          `(got ${describe(tokenizerJson)}). Pass JSON.parse(text of tokenizer.json).`,
        { got: tokenizerJson },
        HfTokenizer,
      );
    // @huggingface/tokenizers requires these keys to exist (null is fine); older files omit some of them.
    const full: Record<string, unknown> = {
      normalizer: null,
      pre_tokenizer: null,
      post_processor: null,
      decoder: null,
      added_tokens: [],
      ...tokenizerJson,
    };
    // Decoding must be the exact inverse of encoding for RL (the reward sees decoded text), so spaces are only
    // "cleaned up" when the config asks for it explicitly.
    const cfg: HfTokenizerConfig = {
      ...config,
      clean_up_tokenization_spaces: config.clean_up_tokenization_spaces ?? false,
    };
    let tok: HfJsTokenizer;
    try {
      tok = new HfJsTokenizer(full, cfg);
    } catch (e) {
      fail(
        "invalid_input",
        `model.HfTokenizer: @huggingface/tokenizers cannot build this tokenizer.json (${(e as Error).message}). ` +
          `Check the file or its "model.type".`,
        { cause: e },
        HfTokenizer,
      );
    }
    this.tok = tok;
    this.tokenizerJson = tokenizerJson;
    this.config = config;
    const vocab = this.tok.get_vocab(true);
    let max = -1;
    for (const id of vocab.values()) if (id > max) max = id;
    this.vocabSize = max + 1;
    const idOf = (field: keyof HfTokenizerConfig) => {
      const text = tokenContent(config[field] as HfTokenizerConfig["bos_token"]);
      if (text === null) return undefined;
      const id = this.tok.token_to_id(text);
      if (id === undefined)
        fail(
          "invalid_input",
          `model.HfTokenizer: tokenizer_config.json ${String(field)} is ${JSON.stringify(text)}, ` +
            "which is not in the vocabulary. Fix the config or the token.",
          { path: [String(field)], got: text },
          HfTokenizer,
        );
      return id;
    };
    this.bosTokenId = idOf("bos_token");
    this.eosTokenId = idOf("eos_token");
    this.padTokenId = idOf("pad_token");
    this.specialIds = new Set([...this.tok.get_added_tokens_decoder()].filter(([, t]) => t.special).map(([id]) => id));
    const ct = config.chat_template;
    this.chatTemplate =
      typeof ct === "string"
        ? ct
        : Array.isArray(ct)
          ? (ct.find((t) => t.name === "default")?.template ?? ct[0]?.template ?? null)
          : null;
  }

  /**
   * Token ids of `text` (the tokenizer's post-processor adds BOS etc. unless addSpecialTokens is false).
   * @example tok.encode("Hello world") // [9707, 1879] for Qwen2.5
   */
  encode(text: string, opts: EncodeOptions = {}): number[] {
    checkText("model.HfTokenizer.encode", text);
    return this.tok.encode(text, { add_special_tokens: opts.addSpecialTokens !== false }).ids;
  }

  /**
   * Text of `ids` (byte-level BPE pieces are merged back into UTF-8).
   * @example tok.decode([9707, 1879]) // "Hello world"
   */
  decode(ids: ArrayLike<number>, opts: DecodeOptions = {}): string {
    const list = Array.from(ids);
    if (list.length === 0) return "";
    list.forEach((id, i) => checkIdInVocab("model.HfTokenizer.decode", id, i, this.vocabSize));
    return this.tok.decode(list, { skip_special_tokens: opts.skipSpecialTokens ?? false });
  }

  /**
   * The vocabulary string of one id ("Ġthe", "<|im_end|>").
   * @example tok.tokenToString(tok.eosTokenId!)
   */
  tokenToString(id: number): string {
    const t = this.tok.id_to_token(id);
    if (t === undefined)
      fail(
        "invalid_input",
        `model.HfTokenizer.tokenToString: id ${id} is not in the vocabulary (expected 0..${this.vocabSize - 1}).`,
        { got: id },
      );
    return t;
  }

  /** Id of a vocabulary string, or undefined. */
  tokenToId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }

  /** True for added tokens marked special (BOS/EOS/PAD, <|im_start|>, ...). */
  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }
}
