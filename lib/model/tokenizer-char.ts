// Character-level tokenizer for procedural tasks: one id per Unicode code point of a fixed alphabet, special tokens
// (<pad>, <bos>, <eos>, <think>, ...) matched greedily (longest first) before characters, and optional UTF-8 byte
// fallback (<0x41>-style tokens, as Llama's tokenizer) so any text round-trips.
// It serializes to a standard HuggingFace tokenizer.json (BPE with an empty merge list, ByteFallback + Fuse decoder),
// so transformers' PreTrainedTokenizerFast loads it unchanged.
import { describe, fail } from "../core/errors.js";
import {
  checkIdInVocab,
  checkText,
  type DecodeOptions,
  type EncodeOptions,
  type Tokenizer,
} from "./tokenizer-types.js";

/** Options of CharTokenizer. */
export interface CharTokenizerOptions {
  /** Padding token text, or null for none. Defaults to "<pad>". */
  pad?: string | null;
  /** Beginning-of-sequence token text, or null for none. Defaults to "<bos>". */
  bos?: string | null;
  /** End-of-sequence token text, or null for none. Defaults to "<eos>". */
  eos?: string | null;
  /**
   * Token for characters outside the alphabet, or null to make them an error (unless byteFallback). Defaults to null.
   */
  unk?: string | null;
  /** More special tokens, e.g. ["<think>", "</think>"]; they get ids right after pad/bos/eos/unk. Defaults to []. */
  specials?: string[];
  /**
   * Add 256 byte tokens <0x00>..<0xFF>: characters outside the alphabet are encoded as their UTF-8 bytes. Defaults to
   * false.
   */
  byteFallback?: boolean;
  /** encode() prepends BOS when addSpecialTokens is not false. Defaults to false. */
  addBos?: boolean;
  /** encode() appends EOS when addSpecialTokens is not false. Defaults to false. */
  addEos?: boolean;
  /** Jinja chat template saved with the tokenizer (tokenizer_config.json "chat_template"). Defaults to null. */
  chatTemplate?: string | null;
}

/** Defaults of CharTokenizer. */
export const defaults: Required<CharTokenizerOptions> = {
  pad: "<pad>",
  bos: "<bos>",
  eos: "<eos>",
  unk: null,
  specials: [],
  byteFallback: false,
  addBos: false,
  addEos: false,
  chatTemplate: null,
};

const byteToken = (b: number) => `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`;

/**
 * Character (code point) tokenizer with greedy special tokens; ids are specials first, then the alphabet, then bytes.
 * @example
 * const tok = CharTokenizer.fromAlphabet("0123456789+=", {specials: ["<think>", "</think>"]});
 * tok.encode("1+1=")
 */
export class CharTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly padTokenId?: number;
  readonly bosTokenId?: number;
  readonly eosTokenId?: number;
  readonly unkTokenId?: number;
  /** Alphabet characters in id order. */
  readonly alphabet: string[];
  readonly options: Required<CharTokenizerOptions>;
  /** Every token text, indexed by id. */
  readonly tokens: string[];
  private readonly ids = new Map<string, number>();
  private readonly specialIds = new Set<number>();
  /** Special tokens by first character, longest first, for greedy matching. */
  private readonly specialsByFirst = new Map<string, string[]>();
  private readonly byteBase: number;

  constructor(alphabet: string | Iterable<string>, options: CharTokenizerOptions = {}) {
    const o = { ...defaults, ...options };
    this.options = o;
    const specials = [o.pad, o.bos, o.eos, o.unk, ...o.specials].filter(
      (s): s is string => s !== null && s !== undefined,
    );
    for (const s of specials)
      if (typeof s !== "string" || s.length === 0)
        fail(
          "invalid_option",
          `model.CharTokenizer: special tokens must be non-empty strings (got ${describe(s)}). ` +
            "Remove it or give it text.",
          { got: s },
          CharTokenizer,
        );
    const chars = typeof alphabet === "string" ? Array.from(alphabet) : Array.from(alphabet);
    const seen = new Set<string>();
    const uniqueChars: string[] = [];
    for (const c of chars) {
      if (typeof c !== "string" || Array.from(c).length !== 1)
        fail(
          "invalid_option",
          `model.CharTokenizer: alphabet entries must be single characters (got ${describe(c)}). ` +
            "Make multi-character tokens specials.",
          { got: c },
          CharTokenizer,
        );
      if (!seen.has(c)) uniqueChars.push(c);
      seen.add(c);
    }
    this.alphabet = uniqueChars;
    this.tokens = [...specials, ...uniqueChars];
    this.byteBase = this.tokens.length;
    if (o.byteFallback) for (let b = 0; b < 256; b++) this.tokens.push(byteToken(b));
    this.tokens.forEach((t, i) => {
      if (this.ids.has(t))
        fail(
          "invalid_option",
          `model.CharTokenizer: token ${JSON.stringify(t)} appears twice (ids ${this.ids.get(t)} and ${i}). ` +
            "Remove the duplicate from the specials or the alphabet.",
          { got: t },
          CharTokenizer,
        );
      this.ids.set(t, i);
    });
    specials.forEach((s, i) => this.specialIds.add(i));
    for (const s of [...specials].sort((a, b) => b.length - a.length)) {
      const first = s[0];
      this.specialsByFirst.set(first, [...(this.specialsByFirst.get(first) ?? []), s]);
    }
    this.vocabSize = this.tokens.length;
    const idOf = (s: string | null) => (s === null ? undefined : this.ids.get(s));
    this.padTokenId = idOf(o.pad);
    this.bosTokenId = idOf(o.bos);
    this.eosTokenId = idOf(o.eos);
    this.unkTokenId = idOf(o.unk);
    if (o.addBos && this.bosTokenId === undefined)
      fail(
        "invalid_option",
        `model.CharTokenizer: addBos is true but bos is null. Set bos or drop addBos.`,
        {},
        CharTokenizer,
      );
    if (o.addEos && this.eosTokenId === undefined)
      fail(
        "invalid_option",
        `model.CharTokenizer: addEos is true but eos is null. Set eos or drop addEos.`,
        {},
        CharTokenizer,
      );
  }

  /**
   * Tokenizer over the given characters (order kept; duplicates dropped).
   * @example CharTokenizer.fromAlphabet("abc ").encode("ab c") // [3, 4, 6, 5]
   */
  static fromAlphabet(alphabet: string | Iterable<string>, options: CharTokenizerOptions = {}): CharTokenizer {
    return new CharTokenizer(alphabet, options);
  }

  /**
   * Tokenizer over every character of a corpus (sorted by code point); special tokens in the text are not split into
   * characters.
   * @example CharTokenizer.fromCorpus(["12+3=15", "<think>ok</think>"], {specials: ["<think>", "</think>"]})
   */
  static fromCorpus(texts: string | Iterable<string>, options: CharTokenizerOptions = {}): CharTokenizer {
    const probe = new CharTokenizer("", { ...options, byteFallback: false, unk: null, addBos: false, addEos: false });
    const chars = new Set<string>();
    for (const text of typeof texts === "string" ? [texts] : texts)
      probe.scan(text, (piece, special) => special || chars.add(piece));
    return new CharTokenizer(
      [...chars].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!),
      options,
    );
  }

  /** Walk `text` as special tokens (greedy, longest first) and single code points. */
  private scan(text: string, visit: (piece: string, special: boolean, at: number) => void): void {
    let i = 0;
    while (i < text.length) {
      const cands = this.specialsByFirst.get(text[i]);
      const hit = cands?.find((s) => text.startsWith(s, i));
      if (hit) {
        visit(hit, true, i);
        i += hit.length;
        continue;
      }
      const ch = String.fromCodePoint(text.codePointAt(i)!);
      visit(ch, false, i);
      i += ch.length;
    }
  }

  /**
   * Ids of `text`; BOS/EOS are added when addBos/addEos and opts.addSpecialTokens is not false.
   * @example tok.encode("2+2=")
   */
  encode(text: string, opts: EncodeOptions = {}): number[] {
    checkText("model.CharTokenizer.encode", text);
    const out: number[] = [];
    const add = opts.addSpecialTokens !== false;
    if (add && this.options.addBos) out.push(this.bosTokenId!);
    this.scan(text, (piece, _special, at) => {
      const id = this.ids.get(piece);
      if (id !== undefined) return void out.push(id);
      if (this.options.byteFallback) {
        for (const b of new TextEncoder().encode(piece)) out.push(this.byteBase + b);
        return;
      }
      if (this.unkTokenId !== undefined) return void out.push(this.unkTokenId);
      const code = piece.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
      fail(
        "invalid_input",
        `model.CharTokenizer.encode: character ${JSON.stringify(piece)} (U+${code}) at index ${at} ` +
          `is not in the alphabet (got ${describe(text)}). ` +
          'Add it to the alphabet, or build the tokenizer with {byteFallback: true} or {unk: "<unk>"}.',
        { got: piece, path: ["text", at] },
      );
    });
    if (add && this.options.addEos) out.push(this.eosTokenId!);
    return out;
  }

  /**
   * Text of `ids`; consecutive byte tokens are decoded together as UTF-8 (invalid bytes become U+FFFD).
   * @example tok.decode(tok.encode("2+2=")) // "2+2="
   */
  decode(ids: ArrayLike<number>, opts: DecodeOptions = {}): string {
    let text = "";
    let bytes: number[] = [];
    const flush = () => {
      if (bytes.length) text += new TextDecoder().decode(new Uint8Array(bytes));
      bytes = [];
    };
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      checkIdInVocab("model.CharTokenizer.decode", id, i, this.vocabSize);
      if (this.options.byteFallback && id >= this.byteBase) {
        bytes.push(id - this.byteBase);
        continue;
      }
      flush();
      if (opts.skipSpecialTokens && this.specialIds.has(id)) continue;
      text += this.tokens[id];
    }
    flush();
    return text;
  }

  /**
   * Printable text of one token ("<eos>", "a", "<0xE2>").
   * @example tok.tokenToString(tok.eosTokenId!) // "<eos>"
   */
  tokenToString(id: number): string {
    const t = this.tokens[id];
    if (t === undefined)
      fail(
        "invalid_input",
        `model.CharTokenizer.tokenToString: id ${id} is outside the vocabulary (expected 0..${this.vocabSize - 1}).`,
        { got: id },
      );
    return t;
  }

  /** The chat template saved with this tokenizer (template text or a built-in name such as "plain"), or null. */
  get chatTemplate(): string | null {
    return this.options.chatTemplate;
  }

  /** Id of a token text (special token or single character), or undefined. */
  tokenToId(token: string): number | undefined {
    return this.ids.get(token);
  }

  /** True for pad/bos/eos/unk and the extra specials. */
  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }
}
