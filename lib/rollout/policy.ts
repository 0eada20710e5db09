// The Policy interface: what rollout() and the algorithms need from a model that can sample and score tokens.
// A local LlamaModel implements it here (LocalPolicy); an OpenAI-compatible server implements it in lib/remote.
// Methods are async so a remote policy fits the same shape; the sampling options are vLLM's, spelled in camelCase
// (the remote client writes vLLM's snake_case names into the HTTP request).
import { fail } from "../core/errors.js";
import type { Rng } from "../core/random.js";
import { generate, type GenerateResult } from "../model/generate.js";
import type { LlamaModel } from "../model/llama.js";
import { logprobs, type LogprobsBatch, type LogprobsResult } from "../model/logprobs.js";
import type { SamplingOptions } from "../model/sampling.js";
import type { Tokenizer } from "../model/tokenizer-types.js";

/** Sampling request options (vLLM's options in camelCase: maxNewTokens is max_tokens, topP is top_p, ...). */
export interface SampleOptions extends SamplingOptions {
  /** Samples per prompt. Defaults to 1. */
  n?: number;
  /** Most new tokens per sample. Defaults to 64. */
  maxNewTokens?: number;
  /** Stop strings (cut from the text, kept in the token ids). Defaults to []. */
  stop?: string | string[];
  /** Token ids that end a sample besides EOS. Defaults to []. */
  stopTokenIds?: number[];
  /** Keep generating after EOS. Defaults to false. */
  ignoreEos?: boolean;
  /** Keep a matched stop string in the text. Defaults to false. */
  includeStopStrInOutput?: boolean;
  /** Seed for this request (a private Rng). Defaults to the global stream. */
  seed?: number;
  /** Random stream for this request (local policies only). */
  rng?: Rng;
}

/** Scoring request options. */
export interface ScoreOptions {
  /** Divide logits by this first (use the sampling temperature for old logprobs, as verl does). Defaults to 1. */
  temperature?: number;
  /** Also return the k best tokens per scored position. Defaults to 0. */
  topK?: number;
  /** Also return the full-vocabulary entropy per position. Defaults to true. */
  entropy?: boolean;
}

/**
 * Something that samples continuations and scores given tokens: a local model or a remote server.
 * @example
 * const policy: rollout.Policy = new rollout.LocalPolicy(m, tok);
 * const out = await policy.generate(["1+1="], {n: 4})
 */
export interface Policy {
  /** Shown in tables and metrics. */
  readonly name: string;
  /** The tokenizer the policy's token ids refer to. */
  readonly tokenizer: Tokenizer;
  /** Sample continuations: rows are prompt-major (row = prompt * n + sample). */
  generate(prompts: string[] | number[][], options?: SampleOptions): Promise<GenerateResult>;
  /** Per-token logprobs of given sequences, tokens-aligned [B, T] under the response mask (see model.logprobs). */
  score(batch: LogprobsBatch, options?: ScoreOptions): Promise<LogprobsResult>;
}

/**
 * A Policy over a local LlamaModel and its tokenizer.
 * @example const policy = new rollout.LocalPolicy(m, tok); await rollout.sample(policy, records, { n: 8 })
 */
export class LocalPolicy implements Policy {
  readonly name: string;
  constructor(
    readonly model: LlamaModel,
    readonly tokenizer: Tokenizer,
    options: { name?: string } = {},
  ) {
    if (!model || typeof (model as { forward?: unknown }).forward !== "function")
      fail(
        "invalid_input",
        `rollout.LocalPolicy: model must be a model.LlamaModel (got ${typeof model}).`,
        {},
        LocalPolicy,
      );
    if (!tokenizer || typeof tokenizer.encode !== "function" || typeof tokenizer.decode !== "function")
      fail(
        "invalid_input",
        `rollout.LocalPolicy: tokenizer must implement encode/decode (got ${typeof tokenizer}). ` +
          "Use model.CharTokenizer or a HF tokenizer.",
        {},
        LocalPolicy,
      );
    if (tokenizer.vocabSize > model.config.vocab_size)
      fail(
        "shape_mismatch",
        `rollout.LocalPolicy: the tokenizer has ${tokenizer.vocabSize} ids but the model's vocab_size is ` +
          `${model.config.vocab_size}. Build the model with vocab_size: tokenizer.vocabSize.`,
        { got: tokenizer.vocabSize, expected: model.config.vocab_size },
        LocalPolicy,
      );
    this.name = options.name ?? "local";
  }

  /** Sample with model.generate (synchronous underneath; snake_case option names are rejected there). */
  async generate(prompts: string[] | number[][], options: SampleOptions = {}): Promise<GenerateResult> {
    return generate(this.model, prompts, { ...options, tokenizer: this.tokenizer });
  }

  /** Score with model.logprobs (no gradient). */
  async score(batch: LogprobsBatch, options: ScoreOptions = {}): Promise<LogprobsResult> {
    return logprobs(this.model, batch, options);
  }
}
