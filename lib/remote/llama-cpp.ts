// llama.cpp in process through node-llama-cpp (an optional dependency, loaded on first use like tfjs-node): one
// shared Llama runtime per process from the prebuilt binary shipped in its npm package (never built from source, never
// downloaded at run time), GGUF models, and a Tokenizer over a GGUF file's own vocabulary. node-llama-cpp's types are
// not part of cellrl's public .d.ts (it is ESM and may be absent), so the few members used are declared here.
import { describe, fail } from "../core/errors.js";
import type { DecodeOptions, EncodeOptions, Tokenizer } from "../model/tokenizer-types.js";
import { checkIdInVocab, checkText } from "../model/tokenizer-types.js";

/** The pinned version (package.json optionalDependencies); newer ones may lack prebuilt packages in a registry. */
export const NODE_LLAMA_CPP_VERSION = "3.21.1";

/** A token and its generate-next options for controlledEvaluate. */
export type LlamaCppInputItem =
  number | [number, { generateNext?: { probabilities?: boolean; options?: { temperature?: number } } }];

/** The node-llama-cpp context sequence members used here. */
export interface LlamaCppSequence {
  readonly contextTokens: number[];
  readonly nextTokenIndex: number;
  controlledEvaluate(
    input: LlamaCppInputItem[],
  ): Promise<Array<undefined | { next: { probabilities?: Map<number, number> } }>>;
  eraseContextTokenRanges(ranges: { start: number; end: number }[]): Promise<void>;
  compareContextTokens(tokens: number[]): { firstDifferentIndex: number };
  dispose(): Promise<void> | void;
}

/** The node-llama-cpp context members used here. */
export interface LlamaCppContext {
  readonly contextSize: number;
  getSequence(): LlamaCppSequence;
  dispose(): Promise<void>;
}

/** The node-llama-cpp model members used here. */
export interface LlamaCppModel {
  readonly trainContextSize: number;
  readonly fileInfo: { metadata?: Record<string, unknown> };
  readonly tokens: { bos: number | null; eos: number | null; eot: number | null; shouldPrependBosToken: boolean };
  tokenize(text: string, specialTokens?: boolean): number[];
  detokenize(tokens: readonly number[], specialTokens?: boolean): string;
  isSpecialToken(token: number): boolean;
  isEogToken(token: number): boolean;
  createContext(options: Record<string, unknown>): Promise<LlamaCppContext>;
  dispose(): Promise<void>;
}

/** The node-llama-cpp Llama runtime members used here. */
export interface LlamaCppRuntime {
  loadModel(options: { modelPath: string; gpuLayers?: number | "auto"; useMmap?: boolean }): Promise<LlamaCppModel>;
  readonly gpu: string | false;
  readonly buildType: string;
}

/** Options of the shared runtime. */
export interface LlamaCppRuntimeOptions {
  /** false (CPU: exact fp32, what the parity test uses) or "auto" (Metal / CUDA / Vulkan when present). */
  gpu?: false | "auto";
}

const runtimes = new Map<string, Promise<LlamaCppRuntime>>();

/**
 * node-llama-cpp's module, or a "not_found" error that says how to install it.
 * @example const nlc = await importNodeLlamaCpp("remote.LlamaCppPolicy")
 */
export async function importNodeLlamaCpp(where: string): Promise<Record<string, unknown>> {
  const name = "node-llama-cpp"; // a variable: typecheck and build must pass without the optional package
  try {
    return (await import(name)) as Record<string, unknown>;
  } catch (e) {
    return fail(
      "not_found",
      `${where}: node-llama-cpp is not installed (it is an optional dependency of cellrl; got ` +
        `${(e as Error).message.split("\n")[0]}). Install it with npm install node-llama-cpp@${NODE_LLAMA_CPP_VERSION}.`,
      { cause: e },
    );
  }
}

/**
 * The process-wide llama.cpp runtime from the prebuilt binary (build: "never", skipDownload): loading never compiles
 * or downloads anything; a platform without a prebuilt binary gets a "backend" error instead.
 * @example const llama = await llamaCppRuntime("remote.LlamaCppPolicy")
 */
export function llamaCppRuntime(where: string, options: LlamaCppRuntimeOptions = {}): Promise<LlamaCppRuntime> {
  const gpu = options.gpu ?? false;
  const key = String(gpu);
  let p = runtimes.get(key);
  if (!p) {
    p = (async () => {
      const nlc = await importNodeLlamaCpp(where);
      const getLlama = nlc.getLlama as (o: Record<string, unknown>) => Promise<LlamaCppRuntime>;
      const levels = nlc.LlamaLogLevel as Record<string, string>;
      try {
        return await getLlama({
          gpu,
          build: "never",
          usePrebuiltBinaries: true,
          skipDownload: true,
          progressLogs: false,
          logLevel: levels.error,
        });
      } catch (e) {
        return fail(
          "backend",
          `${where}: node-llama-cpp found no usable prebuilt llama.cpp binary for ${process.platform}-` +
            `${process.arch} (${(e as Error).message.split("\n")[0]}). cellrl never builds llama.cpp from source; ` +
            `reinstall with npm ci (the platform package @node-llama-cpp/${process.platform}-${process.arch} must be ` +
            `installed).`,
          { cause: e },
        );
      }
    })();
    p.catch(() => runtimes.delete(key));
    runtimes.set(key, p);
  }
  return p;
}

/**
 * A Tokenizer over a GGUF file's own vocabulary (llama.cpp tokenizes and detokenizes), for GGUF files that come
 * without a tokenizer.json.
 * @example const tok = new GgufTokenizer(llamaModel); tok.decode(tok.encode("Hello"))
 */
export class GgufTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bosTokenId?: number;
  readonly eosTokenId?: number;
  readonly padTokenId?: number;
  constructor(private readonly lm: LlamaCppModel) {
    const md = (lm.fileInfo.metadata ?? {}) as { tokenizer?: { ggml?: Record<string, unknown> } };
    const ggml = md.tokenizer?.ggml ?? {};
    const tokens = ggml.tokens as unknown[] | undefined;
    if (!Array.isArray(tokens) || tokens.length === 0)
      fail(
        "invalid_input",
        `remote.GgufTokenizer: the GGUF file has no tokenizer.ggml.tokens (got ${describe(tokens)}). ` +
          "Pass options.tokenizer (e.g. model.loadTokenizer(dir)).",
      );
    this.vocabSize = tokens.length;
    const id = (v: unknown) => (typeof v === "number" && v >= 0 && v < tokens.length ? v : undefined);
    this.bosTokenId = id(lm.tokens.bos);
    this.eosTokenId = id(lm.tokens.eos);
    this.padTokenId = id(ggml.padding_token_id);
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    checkText("remote.GgufTokenizer.encode", text);
    const ids = Array.from(this.lm.tokenize(text, false));
    const bos = opts.addSpecialTokens !== false && this.lm.tokens.shouldPrependBosToken ? this.bosTokenId : undefined;
    return bos !== undefined ? [bos, ...ids] : ids;
  }

  decode(ids: ArrayLike<number>, opts: DecodeOptions = {}): string {
    const list = Array.from(ids);
    list.forEach((t, i) => checkIdInVocab("remote.GgufTokenizer.decode", t, i, this.vocabSize));
    const keep = opts.skipSpecialTokens ? list.filter((t) => !this.lm.isSpecialToken(t)) : list;
    return this.lm.detokenize(keep, true);
  }

  tokenToString(id: number): string {
    checkIdInVocab("remote.GgufTokenizer.tokenToString", id, 0, this.vocabSize);
    return this.lm.detokenize([id], true);
  }
}
