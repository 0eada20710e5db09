// The one tokenizer interface of cellrl. The char/byte tokenizer and the HF tokenizer.json wrapper implement it;
// generate(), rollout() and the viz token views only ever use these members.
import { describe, fail } from "../core/errors.js";

/** Options of Tokenizer.encode. */
export interface EncodeOptions {
  /** Add the tokenizer's special tokens (e.g. BOS) around the text. Defaults to the tokenizer's own default. */
  addSpecialTokens?: boolean;
}

/** Options of Tokenizer.decode. */
export interface DecodeOptions {
  /** Drop special tokens (BOS, EOS, PAD, chat markers) from the text. Defaults to false. */
  skipSpecialTokens?: boolean;
}

/**
 * Text <-> token ids. Minimal on purpose so a char tokenizer, a HF tokenizer.json or a remote server can all provide
 * it.
 * @example const ids = tok.encode("2+2="); tok.decode(ids) // "2+2="
 */
export interface Tokenizer {
  /** Number of ids the model's embedding must cover (ids are 0 .. vocabSize-1). */
  vocabSize: number;
  /** Token ids of `text`. */
  encode(text: string, opts?: EncodeOptions): number[];
  /** Text of `ids`; decode(encode(s)) === s for text without special tokens. */
  decode(ids: ArrayLike<number>, opts?: DecodeOptions): string;
  /** End-of-sequence id: generation stops after sampling it. */
  eosTokenId?: number;
  /** Beginning-of-sequence id, if the model uses one. */
  bosTokenId?: number;
  /** Id used to pad batches (masked out everywhere); falls back to eosTokenId or 0 when absent. */
  padTokenId?: number;
  /** Printable form of one token (for token views), e.g. "Ġthe" or "<|im_end|>". */
  tokenToString?(id: number): string;
}

/**
 * Check that `id` (at position `i` of the ids being decoded) is an integer in [0, vocabSize); `where` is the message
 * prefix, e.g. "model.CharTokenizer.decode".
 */
export function checkIdInVocab(where: string, id: number, i: number, vocabSize: number): void {
  if (!Number.isInteger(id) || id < 0 || id >= vocabSize)
    fail(
      "invalid_input",
      `${where}: id ${id} at position ${i} is outside the vocabulary (expected an integer in 0..${vocabSize - 1}). ` +
        "Check that ids come from this tokenizer.",
      { got: id, path: ["ids", i] },
    );
}

/** Check the text to encode is a string, else `<where>: text must be a string (got ...)`. */
export function checkText(where: string, text: unknown): void {
  if (typeof text !== "string")
    fail("invalid_input", `${where}: text must be a string (got ${describe(text)}).`, { got: text });
}
