// Batched sampling with a KV cache: n samples per prompt, prompts of different lengths (left padding), temperature /
// top-k / top-p / min-p / greedy, stop strings, stop token ids and EOS, maxNewTokens. One prefill forward over the
// padded prompts, then one single-token forward per new token; the next-token distribution is built and sampled on
// the host (see sampling.ts) from a per-row Rng forked from the caller's, so results replay under seed().
import * as tf from "@tensorflow/tfjs";
import { describe, fail } from "../core/errors.js";
import { globalRng, Rng } from "../core/random.js";
import { eosIds } from "./config.js";
import type { LlamaModel } from "./llama.js";
import { checkSampling, logprobOf, sampleIndex, samplingDistribution, type SamplingOptions } from "./sampling.js";
import type { Tokenizer } from "./tokenizer-types.js";

/** Options of generate (camelCase; vLLM's snake_case names are rejected with the camelCase one to use). */
export interface GenerateOptions extends SamplingOptions {
  /** Most tokens to generate per sample (HF max_new_tokens, vLLM max_tokens). Defaults to 64. */
  maxNewTokens?: number;
  /** Samples per prompt (a group); rows are prompt-major: row = prompt * n + sample. Defaults to 1. */
  n?: number;
  /** Stop strings: generation of a row ends once its decoded text contains one (needs `tokenizer`). Defaults to []. */
  stop?: string | string[];
  /** More token ids that end a row (kept in the output, like EOS). Defaults to []. */
  stopTokenIds?: number[];
  /** Keep generating after EOS (for benchmarks). Defaults to false. */
  ignoreEos?: boolean;
  /** Keep the matched stop string at the end of `text`. Defaults to false (vLLM's default). */
  includeStopStrInOutput?: boolean;
  /** Encodes string prompts, decodes `text`, and gives EOS / PAD ids. Defaults to none (ids in, ids out). */
  tokenizer?: Tokenizer;
  /** Random stream. Defaults to `new Rng(seed)` when `seed` is given, else globalRng(). */
  rng?: Rng;
  /** Seed for a private Rng (same seed, same samples, whatever else used the global stream). */
  seed?: number;
}

/**
 * Defaults of generate's own options (sampling defaults are in sampling.ts).
 * @example model.generateDefaults.maxNewTokens // 64
 */
export const defaults = {
  maxNewTokens: 64,
  n: 1,
  stop: [] as string[],
  stopTokenIds: [] as number[],
  ignoreEos: false,
  includeStopStrInOutput: false,
};

/** Output of generate: one entry per row (prompt * n + sample). */
export interface GenerateResult {
  /** Prompt index of each row (the group id). */
  group: number[];
  /** Sample index of each row within its group. */
  sample: number[];
  /** Prompt token ids per row (unpadded). */
  promptTokenIds: number[][];
  /** Generated token ids per row, including the EOS / stop token that ended it. */
  ids: number[][];
  /** Decoded responses (special tokens skipped, cut before a matched stop string) when a tokenizer was given. */
  text?: string[];
  /** log q(token) under the distribution actually sampled from (after temperature and filters; 0 for greedy). */
  logprobs: number[][];
  /** log p(token) under the model's raw distribution (temperature 1, no filters). */
  rawLogprobs: number[][];
  /** "stop" (EOS, stop id or stop string) or "length" (maxNewTokens reached). */
  finishReason: ("stop" | "length")[];
  /** What stopped the row: the stop string, the token id, or null for "length". */
  stopReason: (string | number | null)[];
  /** Number of generated tokens per row (= ids[i].length). */
  lengths: number[];
}

/** A GenerateResult with no rows, for code that assembles one row by row (remote policies, mixed rollouts). */
export const emptyGenerateResult = (): GenerateResult => ({
  group: [],
  sample: [],
  promptTokenIds: [],
  ids: [],
  text: [],
  logprobs: [],
  rawLogprobs: [],
  finishReason: [],
  stopReason: [],
  lengths: [],
});

/**
 * Sample continuations of prompts (strings need options.tokenizer) with a KV cache.
 * @example const out = model.generate(m, ["1+1="], { tokenizer: tok, n: 4, temperature: 1, maxNewTokens: 8 }); out.text
 */
export function generate(
  model: LlamaModel,
  prompts: string[] | ArrayLike<number>[],
  options: GenerateOptions = {},
): GenerateResult {
  const sp = checkSampling(options, "model.generate", generate);
  const o = {
    ...defaults,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  } as typeof defaults & GenerateOptions;
  const { tokenizer } = options;
  const V = model.config.vocab_size;
  const bad = (field: string, got: unknown, exp: string, fix: string): never =>
    fail(
      "invalid_option",
      `model.generate: ${field} is invalid (got ${describe(got)}; expected ${exp}). ${fix}.`,
      { path: [field], got, expected: exp },
      generate,
    );
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 1)
    bad("maxNewTokens", o.maxNewTokens, "an integer >= 1", "Ask for at least one new token");
  if (!Number.isInteger(o.n) || o.n < 1) bad("n", o.n, "an integer >= 1", "Use n: 1 for one sample per prompt");
  const stops = typeof o.stop === "string" ? [o.stop] : o.stop;
  if (!Array.isArray(stops) || stops.some((s) => typeof s !== "string" || s.length === 0))
    bad("stop", o.stop, "non-empty strings", 'Pass e.g. stop: ["\\n"]');
  if (stops.length && !tokenizer)
    bad("stop", stops, "a tokenizer to decode with", "Pass options.tokenizer, or use stopTokenIds");
  if (!Array.isArray(o.stopTokenIds) || o.stopTokenIds.some((t) => !Number.isInteger(t) || t < 0 || t >= V))
    bad("stopTokenIds", o.stopTokenIds, `ids in [0, ${V})`, "Use ids of the model's vocabulary");
  if (tokenizer && tokenizer.vocabSize > V)
    bad(
      "tokenizer",
      tokenizer.vocabSize,
      `vocabSize <= vocab_size (${V})`,
      "Build the model with vocab_size = tokenizer.vocabSize",
    );
  if (!Array.isArray(prompts) || prompts.length === 0)
    bad("prompts", prompts, "a non-empty array of strings or token-id arrays", "Wrap one prompt as [prompt]");

  // --- prompts -> ids ---
  const promptTokenIds: number[][] = prompts.map((p, i) => {
    let ids: number[];
    if (typeof p === "string") {
      if (!tokenizer)
        bad(
          `prompts[${i}]`,
          p,
          "token ids, or a tokenizer in options",
          "Pass options.tokenizer to encode string prompts",
        );
      ids = tokenizer!.encode(p);
    } else ids = Array.from(p as ArrayLike<number>);
    if (ids.length === 0) bad(`prompts[${i}]`, p, "at least one token", "Start the prompt with BOS or some text");
    for (const t of ids)
      if (!Number.isInteger(t) || t < 0 || t >= V)
        bad(`prompts[${i}]`, t, `token ids in [0, ${V})`, "Check the tokenizer matches the model");
    return ids;
  });
  const endIds = new Set<number>(o.stopTokenIds);
  if (!o.ignoreEos) {
    for (const e of eosIds(model.config)) endIds.add(e);
    if (tokenizer?.eosTokenId !== undefined) endIds.add(tokenizer.eosTokenId);
  }
  const pad = tokenizer?.padTokenId ?? model.config.pad_token_id ?? tokenizer?.eosTokenId ?? 0;

  // --- rows: prompt-major groups, left-padded to P ---
  const n = o.n;
  const R = prompts.length * n;
  const P = Math.max(...promptTokenIds.map((p) => p.length));
  const maxNew = o.maxNewTokens;
  const longest = Math.max(...promptTokenIds.map((p) => p.length)) + maxNew - 1;
  if (longest > model.config.max_position_embeddings)
    bad(
      "maxNewTokens",
      maxNew,
      `prompt + maxNewTokens <= max_position_embeddings (${model.config.max_position_embeddings})`,
      `Lower maxNewTokens or shorten the longest prompt (${P} tokens)`,
    );
  const rng = options.rng ?? (options.seed !== undefined ? new Rng(options.seed) : globalRng());
  const res: GenerateResult = {
    group: [],
    sample: [],
    promptTokenIds: [],
    ids: [],
    logprobs: [],
    rawLogprobs: [],
    finishReason: [],
    stopReason: [],
    lengths: [],
  };
  for (let r = 0; r < R; r++) {
    const g = Math.floor(r / n);
    res.group.push(g);
    res.sample.push(r % n);
    res.promptTokenIds.push(promptTokenIds[g].slice());
    res.ids.push([]);
    res.logprobs.push([]);
    res.rawLogprobs.push([]);
    res.finishReason.push("length");
    res.stopReason.push(null);
  }
  const steps = decodeSteps({
    model,
    prompts: promptTokenIds,
    n,
    maxNew,
    sampling: sp,
    endIds,
    stops,
    tokenizer,
    pad,
    rng,
  });
  for (const tokens of steps)
    for (const t of tokens) {
      res.ids[t.row].push(t.id);
      res.logprobs[t.row].push(t.logprob);
      res.rawLogprobs[t.row].push(t.rawLogprob);
      if (t.why !== null) {
        res.finishReason[t.row] = "stop";
        res.stopReason[t.row] = t.why;
      }
    }
  for (let r = 0; r < R; r++) res.lengths.push(res.ids[r].length);
  if (tokenizer) {
    res.text = res.ids.map((ids, r) => {
      const text = tokenizer.decode(ids, { skipSpecialTokens: true });
      const why = res.stopReason[r];
      if (typeof why !== "string") return text;
      const at = text.indexOf(why);
      return at < 0 ? text : text.slice(0, at + (o.includeStopStrInOutput ? why.length : 0));
    });
  }
  return res;
}

/** What the decode loop needs: prompt token ids, n samples of each, checked sampling settings and where rows end. */
export interface DecodeSetup {
  model: LlamaModel;
  /** Token ids per prompt (non-empty, in the vocabulary). */
  prompts: readonly (readonly number[])[];
  /** Samples per prompt: rows are prompt-major, row r samples prompt floor(r / n). */
  n: number;
  /** Tokens to decode at most. */
  maxNew: number;
  sampling: ReturnType<typeof checkSampling>;
  /** Token ids that end a row (EOS, stop_token_ids). */
  endIds: ReadonlySet<number>;
  /** Stop strings (need `tokenizer`). */
  stops: readonly string[];
  tokenizer?: Tokenizer;
  /** Left padding of prompts and the token finished rows feed. */
  pad: number;
  /** Each row draws from its own fork `generate/row${r}`. */
  rng: Rng;
}

/** One row's token of one decode step. */
export interface DecodedToken {
  row: number;
  id: number;
  /** log q(id) under the distribution sampled from (temperature and filters applied; 0 at temperature 0). */
  logprob: number;
  /** log-softmax of the raw logits at id (temperature 1, no filters). */
  rawLogprob: number;
  /** The row's raw logits at this step [V] (a copy: stays valid). */
  logits: Float32Array;
  /** What ended the row at this token (an end id, or a stop string now in its text), else null. */
  why: string | number | null;
}

/**
 * generate()'s KV-cache decode loop, one step per iteration: the prompts are prefilled once (the n rows of a prompt
 * share its prefill), then every live row gets one token per step; yields the step's tokens. Rows draw from their own
 * Rng forks, one draw per row per step even when finished, so a row's samples do not depend on the others. The cache is
 * freed when the loop ends or the consumer stops early (break / throw), so a caller may await between steps.
 * @example for (const tokens of decodeSteps(setup)) for (const t of tokens) ids[t.row].push(t.id)
 */
export function* decodeSteps(setup: DecodeSetup): Generator<DecodedToken[]> {
  const { model, prompts, n, maxNew, sampling: sp, endIds, stops, tokenizer, pad, rng } = setup;
  const V = model.config.vocab_size;
  const R = prompts.length * n;
  const P = Math.max(...prompts.map((p) => p.length));
  const S = P + maxNew;
  // a row's draws never depend on others
  const rowRng = Array.from({ length: R }, (_, r) => rng.fork(`generate/row${r}`));
  const mask = new Int32Array(R * S);
  const prefill: Int32Array[] = []; // one row per prompt: the n samples of a prompt share its prefill
  const ids: number[][] = [];
  for (let r = 0; r < R; r++) {
    const p = prompts[Math.floor(r / n)];
    mask.fill(1, r * S + P - p.length, r * S + P);
    if (r % n === 0) {
      const row = new Int32Array(P).fill(pad);
      row.set(p, P - p.length);
      prefill.push(row);
    }
    ids.push([]);
  }
  const maskRows = (L: number) => Array.from({ length: R }, (_, r) => mask.subarray(r * S, r * S + L));
  const maxStop = stops.reduce((a, x) => Math.max(a, x.length), 0);
  const done = new Uint8Array(R);
  const buf = new Float64Array(V);
  let live = R;
  const cache = model.createCache(prefill.length, S);
  try {
    const promptMask = Array.from({ length: prefill.length }, (_, g) => mask.subarray(g * n * S, g * n * S + P));
    // logits: [prompts, 1, V]
    let { logits } = model.forward({ ids: prefill, attentionMask: promptMask }, { cache, logits: "last" });
    cache.repeatRows(n);
    for (let step = 0; step < maxNew; step++) {
      const all = logits.dataSync() as Float32Array; // [R, 1, V], or [prompts, 1, V] after the prefill
      const rowOf = (r: number) => (step === 0 ? Math.floor(r / n) : r);
      logits.dispose();
      const next = new Int32Array(R).fill(pad);
      const tokens: DecodedToken[] = [];
      for (let r = 0; r < R; r++) {
        const u = rowRng[r].uniform(); // drawn even for finished rows: one draw per row per step
        if (done[r]) continue;
        const row = all.subarray(rowOf(r) * V, (rowOf(r) + 1) * V);
        const q = samplingDistribution(row, sp, buf);
        const tok = sampleIndex(q, u);
        next[r] = tok;
        ids[r].push(tok);
        let why: string | number | null = endIds.has(tok) ? tok : null;
        if (why === null && maxStop > 0) {
          // The last 2*maxStop+8 tokens decode to at least maxStop characters for any practical tokenizer.
          const tail = tokenizer!.decode(ids[r].slice(-(2 * maxStop + 8)), { skipSpecialTokens: true });
          why = stops.find((x) => tail.includes(x)) ?? null;
        }
        if (why !== null) {
          done[r] = 1;
          live--;
        }
        const logprob = sp.temperature === 0 ? 0 : Math.log(q[tok]);
        tokens.push({ row: r, id: tok, logprob, rawLogprob: logprobOf(row, tok), logits: row, why });
      }
      yield tokens;
      if (live === 0 || step === maxNew - 1) break;
      // slot P+step holds each row's token (finished rows feed PAD, unused)
      for (let r = 0; r < R; r++) mask[r * S + P + step] = 1;
      ({ logits } = model.forward(
        { ids: Array.from(next, (t) => [t]), attentionMask: maskRows(P + step + 1) },
        { cache, logits: "last" },
      ));
    }
  } finally {
    cache.dispose();
  }
}
