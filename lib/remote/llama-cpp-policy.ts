// A rollout.Policy and a distillation TeacherSource over llama.cpp in process (node-llama-cpp), for any GGUF file: a
// model exported with model.saveGguf, or a real one a user downloaded (Qwen2.5-0.5B-Instruct-GGUF). llama.cpp returns
// the full next-token distribution at every evaluated position (greedy sampler chain: softmax of the raw logits, in
// float32), and sampling happens on the host with cellrl's own sampler (temperature, top-k, top-p, min-p) from a
// per-row Rng forked exactly as model.generate forks it, so a GGUF export of a cellrl model samples the same tokens as
// the LocalPolicy under the same seed, with both the sampled-distribution and the raw logprobs. The KV cache is F32 by
// default (llama.cpp's default F16 cache moves logprobs by ~1e-3; F32 matches cellrl to ~1e-5).
import * as fs from "node:fs";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { describe, fail } from "../core/errors.js";
import { checkIntAtLeast } from "../core/checks.js";
import { globalRng, Rng } from "../core/random.js";
import type {
  TeacherBatch,
  TeacherOutput,
  TeacherScoreOptions,
  TeacherSource,
  TopkTeacherOutput,
} from "../distill/teacher.js";
import { realTokenRows } from "../model/batch.js";
import { emptyGenerateResult, type GenerateResult } from "../model/generate.js";
import type { LogprobsBatch, LogprobsResult } from "../model/logprobs.js";
import { checkSampling, rejectSnakeCase, sampleIndex, samplingDistribution } from "../model/sampling.js";
import { loadTokenizer } from "../model/tokenizer-io.js";
import type { Tokenizer } from "../model/tokenizer-types.js";
import type { Policy, SampleOptions, ScoreOptions } from "../rollout/policy.js";
import {
  GgufTokenizer,
  llamaCppRuntime,
  type LlamaCppContext,
  type LlamaCppInputItem,
  type LlamaCppModel,
  type LlamaCppSequence,
} from "./llama-cpp.js";

/** Options of LlamaCppPolicy.load. */
export interface LlamaCppPolicyOptions {
  /**
   * The tokenizer the model's ids refer to. Defaults to the tokenizer.json next to the GGUF file when there is one
   * (model.loadTokenizer(dir)), else the GGUF file's own vocabulary (llama.cpp tokenizes).
   */
  tokenizer?: Tokenizer;
  /** Shown in tables and metrics. Defaults to "llama.cpp:<file name>". */
  name?: string;
  /** Tokens per sequence (prompt + response). Defaults to the model's context length, at most 4096. */
  contextSize?: number;
  /** Sequences evaluated in parallel (one llama.cpp batch); each holds its own KV cache. Defaults to 1. */
  parallel?: number;
  /** KV cache precision: "F32" (matches cellrl's logprobs) or "F16" (llama.cpp's default, half the memory). */
  kvCache?: "F32" | "F16";
  /** false: CPU; "auto": Metal / CUDA / Vulkan when present (faster on a laptop, not bit-exact). Defaults to false. */
  gpu?: false | "auto";
  /**
   * CPU threads. Defaults to 1 for files under 64 MB (llama.cpp's threads spin while they wait: for a tiny model that
   * costs more than the math, ~500x on a busy machine), else node-llama-cpp's choice (all cores).
   */
  threads?: number;
}

/**
 * Defaults of LlamaCppPolicy.load.
 * @example llamaCppDefaults.kvCache // "F32"
 */
export const llamaCppDefaults = {
  parallel: 1,
  kvCache: "F32" as "F32" | "F16",
  gpu: false as false | "auto",
  maxContext: 4096,
  n: 1,
  maxNewTokens: 64,
};

/** Files below this size run on one thread by default. */
const SMALL_FILE = 64 * 2 ** 20;

/** One sequence of the context with the prompt whose next-token distribution it last computed. */
interface Slot {
  seq: LlamaCppSequence;
  key: string | null;
  dist: Float64Array | null;
}

/** log p over the vocabulary from llama.cpp's probability map (float32 softmax of the raw logits). */
function logDist(map: Map<number, number> | undefined, V: number): Float64Array {
  const out = new Float64Array(V).fill(-Infinity);
  if (!map) return out;
  for (const [t, p] of map) if (t < V) out[t] = Math.log(p);
  return out;
}

/** log softmax(z / T) of a log-distribution, in place into a new array. */
function temper(lp: Float64Array, T: number): Float64Array {
  if (T === 1) return lp;
  let m = -Infinity;
  for (let i = 0; i < lp.length; i++) if (lp[i] / T > m) m = lp[i] / T;
  let s = 0;
  for (let i = 0; i < lp.length; i++) s += Math.exp(lp[i] / T - m);
  const lse = m + Math.log(s);
  return lp.map((x) => x / T - lse);
}

/** Ids of the k largest entries, best first (lowest id on ties). */
function topIds(lp: Float64Array, k: number): number[] {
  const ids: number[] = [];
  for (let i = 0; i < lp.length; i++) {
    if (ids.length === k && !(lp[i] > lp[ids[k - 1]])) continue;
    let j = ids.length === k ? k - 1 : ids.length;
    if (ids.length < k) ids.push(i);
    while (j > 0 && lp[ids[j - 1]] < lp[i]) {
      ids[j] = ids[j - 1];
      j--;
    }
    ids[j] = i;
  }
  return ids;
}

/**
 * A rollout.Policy over a GGUF model run by llama.cpp in this process; pass it anywhere a Policy goes.
 * @example
 * const policy = await remote.LlamaCppPolicy.load("sort5.gguf")
 * const out = await policy.generate(["sort 46972="], {n: 4, seed: 1})
 */
export class LlamaCppPolicy implements Policy {
  readonly name: string;
  readonly tokenizer: Tokenizer;
  /** The GGUF file. */
  readonly file: string;
  /** Vocabulary size of the model (rows of its output layer). */
  readonly vocabSize: number;
  /** Tokens per sequence. */
  readonly contextSize: number;
  private readonly slots: Slot[];
  private readonly waiting: ((s: Slot) => void)[] = [];
  private readonly free: Slot[];
  private disposed = false;

  private constructor(
    private readonly lm: LlamaCppModel,
    private readonly ctx: LlamaCppContext,
    file: string,
    tokenizer: Tokenizer,
    vocabSize: number,
    contextSize: number,
    parallel: number,
    name: string,
  ) {
    this.file = file;
    this.tokenizer = tokenizer;
    this.vocabSize = vocabSize;
    this.contextSize = contextSize;
    this.name = name;
    this.slots = Array.from({ length: parallel }, () => ({ seq: ctx.getSequence(), key: null, dist: null }));
    this.free = [...this.slots];
  }

  /**
   * Load a GGUF file into llama.cpp (from node-llama-cpp's prebuilt binary; nothing is built or downloaded).
   * @example const policy = await remote.LlamaCppPolicy.load("qwen2.5-0.5b-instruct-q8_0.gguf", {parallel: 4})
   */
  static async load(file: string, options: LlamaCppPolicyOptions = {}): Promise<LlamaCppPolicy> {
    const where = "remote.LlamaCppPolicy.load";
    if (typeof file !== "string" || !fs.existsSync(file) || !fs.statSync(file).isFile())
      fail(
        "not_found",
        `${where}: ${describe(file)} is not a GGUF file (looked in ${process.cwd()}). Write one with ` +
          "model.saveGguf(file, m, {tokenizer}) or download one (e.g. Qwen/Qwen2.5-0.5B-Instruct-GGUF).",
        { got: file },
        LlamaCppPolicy.load,
      );
    const at = { where, from: LlamaCppPolicy.load };
    const parallel = options.parallel ?? llamaCppDefaults.parallel;
    checkIntAtLeast(at, "options.parallel", parallel, 1);
    const kv = options.kvCache ?? llamaCppDefaults.kvCache;
    if (kv !== "F32" && kv !== "F16")
      fail("invalid_option", `${where}: options.kvCache must be "F32" or "F16" (got ${describe(kv)}).`, {
        path: ["kvCache"],
      });
    if (options.threads !== undefined) checkIntAtLeast(at, "options.threads", options.threads, 1);
    const llama = await llamaCppRuntime(where, { gpu: options.gpu ?? llamaCppDefaults.gpu });
    let lm: LlamaCppModel;
    try {
      lm = await llama.loadModel({ modelPath: path.resolve(file), gpuLayers: options.gpu ? "auto" : 0 });
    } catch (e) {
      return fail(
        "invalid_input",
        `${where}: llama.cpp cannot load ${file} (${(e as Error).message.split("\n")[0]}). Check that it is a ` +
          "GGUF model file of an architecture llama.cpp supports.",
        { cause: e },
      );
    }
    const md = (lm.fileInfo.metadata ?? {}) as { tokenizer?: { ggml?: { tokens?: unknown[] } } };
    const V = md.tokenizer?.ggml?.tokens?.length ?? 0;
    const contextSize = options.contextSize ?? Math.min(lm.trainContextSize || 2048, llamaCppDefaults.maxContext);
    checkIntAtLeast(at, "options.contextSize", contextSize, 2);
    let tokenizer = options.tokenizer;
    if (!tokenizer) {
      const dir = path.dirname(path.resolve(file));
      tokenizer = fs.existsSync(path.join(dir, "tokenizer.json")) ? loadTokenizer(dir) : new GgufTokenizer(lm);
    }
    if (!V || tokenizer.vocabSize > V)
      fail(
        "shape_mismatch",
        `${where}: the tokenizer has ${tokenizer.vocabSize} ids but ${file} has ${V} tokens. Pass the model's own ` +
          "tokenizer (or none, to use the GGUF vocabulary).",
        { got: tokenizer.vocabSize, expected: V },
      );
    const ctx = await lm.createContext({
      contextSize,
      sequences: parallel,
      flashAttention: false,
      experimentalKvCacheKeyType: kv,
      experimentalKvCacheValueType: kv,
      threads: options.threads ?? (fs.statSync(file).size < SMALL_FILE ? 1 : undefined),
    });
    return new LlamaCppPolicy(
      lm,
      ctx,
      file,
      tokenizer,
      V,
      contextSize,
      parallel,
      options.name ?? `llama.cpp:${path.basename(file)}`,
    );
  }

  private acquire(): Promise<Slot> {
    const s = this.free.pop();
    return s ? Promise.resolve(s) : new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(s: Slot): void {
    const next = this.waiting.shift();
    if (next) next(s);
    else this.free.push(s);
  }

  private check(where: string): void {
    if (this.disposed) fail("invalid_input", `${where}: this policy was disposed. Load it again.`);
  }

  /** Evaluate tokens on a slot from `start`, returning the log-distributions at the flagged indices. */
  private async evalFrom(
    slot: Slot,
    tokens: number[],
    start: number,
    want: (i: number) => boolean,
  ): Promise<Map<number, Float64Array>> {
    const seq = slot.seq;
    if (seq.nextTokenIndex > start) await seq.eraseContextTokenRanges([{ start, end: seq.nextTokenIndex }]);
    const items: LlamaCppInputItem[] = [];
    for (let i = start; i < tokens.length; i++)
      items.push(want(i) ? [tokens[i], { generateNext: { probabilities: true } }] : tokens[i]);
    const out = new Map<number, Float64Array>();
    if (!items.length) return out;
    const res = await seq.controlledEvaluate(items);
    for (let i = start; i < tokens.length; i++)
      if (want(i)) out.set(i, logDist(res[i - start]?.next.probabilities, this.vocabSize));
    return out;
  }

  /** The next-token log-distribution after a prompt, reusing the slot's KV cache and its last prompt. */
  private async promptDist(slot: Slot, prompt: number[]): Promise<Float64Array> {
    const key = prompt.join(",");
    if (slot.key === key && slot.dist && slot.seq.compareContextTokens(prompt).firstDifferentIndex >= prompt.length) {
      if (slot.seq.nextTokenIndex > prompt.length)
        await slot.seq.eraseContextTokenRanges([{ start: prompt.length, end: slot.seq.nextTokenIndex }]);
      return slot.dist;
    }
    slot.key = null;
    const same = slot.seq.compareContextTokens(prompt).firstDifferentIndex;
    const last = prompt.length - 1;
    const d = (await this.evalFrom(slot, prompt, Math.min(same, last), (i) => i === last)).get(last)!;
    slot.key = key;
    slot.dist = d;
    return d;
  }

  /**
   * Sample n continuations per prompt (rows prompt-major) with cellrl's sampler on llama.cpp's distributions.
   * @example const out = await policy.generate(["sort 46972="], {n: 4, temperature: 1, maxNewTokens: 8, seed: 1})
   */
  async generate(prompts: string[] | number[][], options: SampleOptions = {}): Promise<GenerateResult> {
    const where = "remote.LlamaCppPolicy.generate";
    this.check(where);
    const sp = checkSampling(options, where, this.generate);
    rejectSnakeCase(options, where, this.generate);
    const o = {
      n: llamaCppDefaults.n,
      maxNewTokens: llamaCppDefaults.maxNewTokens,
      stopTokenIds: [] as number[],
      ignoreEos: false,
      includeStopStrInOutput: false,
      ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
    } as SampleOptions & { n: number; maxNewTokens: number; stopTokenIds: number[] };
    const at = { where, from: this.generate };
    checkIntAtLeast(at, "n", o.n, 1);
    checkIntAtLeast(at, "maxNewTokens", o.maxNewTokens, 1);
    const V = this.vocabSize;
    if (!Array.isArray(prompts) || prompts.length === 0)
      fail(
        "invalid_input",
        `${where}: prompts must be a non-empty array of strings or token-id arrays (got ${describe(prompts)}). ` +
          "Wrap one prompt as [prompt].",
        {},
        this.generate,
      );
    const stops = o.stop === undefined ? [] : typeof o.stop === "string" ? [o.stop] : o.stop;
    if (!Array.isArray(stops) || stops.some((s) => typeof s !== "string" || s.length === 0))
      fail("invalid_option", `${where}: stop must be non-empty strings (got ${describe(o.stop)}).`, { path: ["stop"] });
    if (!Array.isArray(o.stopTokenIds) || o.stopTokenIds.some((t) => !Number.isInteger(t) || t < 0 || t >= V))
      fail(
        "invalid_option",
        `${where}: stopTokenIds must be ids in [0, ${V}) (got ${describe(o.stopTokenIds)}).`,
        { path: ["stopTokenIds"] },
        this.generate,
      );
    const promptIds = prompts.map((p, i) => {
      const ids = typeof p === "string" ? this.tokenizer.encode(p) : Array.from(p as ArrayLike<number>);
      if (ids.length === 0 || ids.some((t) => !Number.isInteger(t) || t < 0 || t >= V))
        fail(
          "invalid_input",
          `${where}: prompts[${i}] must encode to token ids in [0, ${V}) (got ${describe(p)}).`,
          { path: ["prompts", i] },
          this.generate,
        );
      if (ids.length + o.maxNewTokens > this.contextSize)
        fail(
          "invalid_option",
          `${where}: prompts[${i}] has ${ids.length} tokens, + maxNewTokens ${o.maxNewTokens} exceeds the context ` +
            `(${this.contextSize} tokens). Lower maxNewTokens, or load with a larger options.contextSize.`,
          { path: ["maxNewTokens"] },
          this.generate,
        );
      return ids;
    });
    // EOS as model.generate has it (the tokenizer's and the file's); with the GGUF's own vocabulary also every token
    // llama.cpp counts as end of generation (<|im_end|> and <|endoftext|> for Qwen2.5-Instruct, as HF's
    // generation_config lists both)
    const endIds = new Set<number>(o.stopTokenIds);
    if (!o.ignoreEos) {
      if (this.tokenizer.eosTokenId !== undefined) endIds.add(this.tokenizer.eosTokenId);
      if (this.lm.tokens.eos !== null) endIds.add(this.lm.tokens.eos);
    }
    const eog = !o.ignoreEos && this.tokenizer instanceof GgufTokenizer;
    const isEnd = (t: number) => endIds.has(t) || (eog && this.lm.isEogToken(t));
    const n = o.n;
    const R = prompts.length * n;
    // the same per-row streams as model.generate: a GGUF export samples what the LocalPolicy samples
    const rng = o.rng ?? (o.seed !== undefined ? new Rng(o.seed) : globalRng());
    const rowRng = Array.from({ length: R }, (_, r) => rng.fork(`generate/row${r}`));
    const maxStop = stops.reduce((a, s) => Math.max(a, s.length), 0);
    interface Row {
      ids: number[];
      lp: number[];
      raw: number[];
      finish: "stop" | "length";
      why: string | number | null;
    }
    const rows: Row[] = new Array(R);
    const runRow = async (r: number, slot: Slot) => {
      const prompt = promptIds[Math.floor(r / n)];
      const out: Row = { ids: [], lp: [], raw: [], finish: "length", why: null };
      let dist = await this.promptDist(slot, prompt);
      const buf = new Float64Array(V);
      for (let step = 0; step < o.maxNewTokens; step++) {
        const q = samplingDistribution(dist, sp, buf);
        const tok = sampleIndex(q, rowRng[r].uniform());
        out.ids.push(tok);
        out.lp.push(sp.temperature === 0 ? 0 : Math.log(q[tok]));
        out.raw.push(dist[tok]);
        let why: string | number | null = isEnd(tok) ? tok : null;
        if (why === null && maxStop > 0) {
          const tail = this.tokenizer.decode(out.ids.slice(-(2 * maxStop + 8)), { skipSpecialTokens: true });
          why = stops.find((s) => tail.includes(s)) ?? null;
        }
        if (why !== null) {
          out.finish = "stop";
          out.why = why;
          break;
        }
        if (step === o.maxNewTokens - 1) break;
        const res = await slot.seq.controlledEvaluate([[tok, { generateNext: { probabilities: true } }]]);
        dist = logDist(res[0]?.next.probabilities, V);
      }
      rows[r] = out;
    };
    let next = 0;
    await Promise.all(
      this.slots.map(async () => {
        for (;;) {
          const r = next++;
          if (r >= R) return;
          const slot = await this.acquire();
          try {
            await runRow(r, slot);
          } finally {
            this.release(slot);
          }
        }
      }),
    );
    const res = emptyGenerateResult();
    rows.forEach((row, r) => {
      res.group.push(Math.floor(r / n));
      res.sample.push(r % n);
      res.promptTokenIds.push(promptIds[Math.floor(r / n)].slice());
      res.ids.push(row.ids);
      res.logprobs.push(row.lp);
      res.rawLogprobs.push(row.raw);
      res.finishReason.push(row.finish);
      res.stopReason.push(row.why);
      res.lengths.push(row.ids.length);
      const text = this.tokenizer.decode(row.ids, { skipSpecialTokens: true });
      const why = row.why;
      const cut = typeof why === "string" ? text.indexOf(why) : -1;
      res.text!.push(cut < 0 ? text : text.slice(0, cut + (o.includeStopStrInOutput ? (why as string).length : 0)));
    });
    return res;
  }

  /**
   * The next-token log-distribution at every position of each row's real tokens: out[b][j] predicts the (j+1)-th
   * real token of row b (as many entries as real tokens minus one); `want(b, j)` limits which are returned.
   */
  async distributions(
    rows: number[][],
    want: (b: number, j: number) => boolean = () => true,
  ): Promise<Map<number, Float64Array>[]> {
    const where = "remote.LlamaCppPolicy.distributions";
    this.check(where);
    const out: Map<number, Float64Array>[] = rows.map(() => new Map());
    let next = 0;
    await Promise.all(
      this.slots.map(async () => {
        for (;;) {
          const b = next++;
          if (b >= rows.length) return;
          const s = rows[b];
          if (s.length > this.contextSize)
            fail(
              "invalid_input",
              `${where}: row ${b} has ${s.length} tokens, more than the context (${this.contextSize}). Load with a ` +
                "larger options.contextSize.",
              { path: [b] },
            );
          if (s.length < 2) continue;
          const slot = await this.acquire();
          try {
            let first = s.length - 1;
            for (let j = 0; j < s.length - 1; j++)
              if (want(b, j)) {
                first = j;
                break;
              }
            const same = slot.seq.compareContextTokens(s).firstDifferentIndex;
            slot.key = null;
            out[b] = await this.evalFrom(slot, s, Math.min(same, first), (j) => j < s.length - 1 && want(b, j));
          } finally {
            this.release(slot);
          }
        }
      }),
    );
    return out;
  }

  /** Real-token columns of each row and the row tokens, from a batch, with RemotePolicy's mask checks. */
  private rowsOf(batch: LogprobsBatch | TeacherBatch, where: string, from: Function) {
    if (!batch || typeof batch !== "object")
      fail(
        "invalid_input",
        `${where}: batch must be {ids, attentionMask?, responseMask?} (got ${describe(batch)}). A Rollout can be ` +
          "passed as is.",
        {},
        from,
      );
    const { B, T, cols, seqs, responseMask: rm } = realTokenRows(batch, where, this.vocabSize, from);
    // position j of a row's real tokens is scored when its column is in the response mask (all but the first
    // real token without one)
    const scored = (b: number, j: number) => j >= 1 && (rm ? rm[b * T + cols[b][j]] === 1 : true);
    return { B, T, cols, seqs, scored };
  }

  /**
   * Per-token logprobs of given sequences, tokens-aligned [B, T] like model.logprobs, with exact full-vocabulary
   * entropy and top-k (llama.cpp returns the whole distribution).
   * @example const {logp, mask} = await policy.score(ro, {topK: 5})
   */
  async score(batch: LogprobsBatch, options: ScoreOptions = {}): Promise<LogprobsResult> {
    const where = "remote.LlamaCppPolicy.score";
    this.check(where);
    const { temperature = 1, topK = 0, entropy = true } = options;
    if (!(temperature > 0) || !Number.isFinite(temperature))
      fail("invalid_option", `${where}: options.temperature must be > 0 (got ${describe(temperature)}).`, {
        path: ["temperature"],
      });
    if (!Number.isInteger(topK) || topK < 0 || topK > this.vocabSize)
      fail(
        "invalid_option",
        `${where}: options.topK must be an integer in [0, ${this.vocabSize}] (got ${describe(topK)}).`,
        { path: ["topK"] },
        this.score,
      );
    const { B, T, cols, seqs, scored } = this.rowsOf(batch, where, this.score);
    const dists = await this.distributions(seqs, (b, j) => scored(b, j + 1));
    const res: LogprobsResult = { logp: [], mask: [] };
    if (entropy) res.entropy = [];
    if (topK) res.topK = { ids: [], logp: [] };
    for (let b = 0; b < B; b++) {
      const lp = new Array(T).fill(0);
      const mask = new Array(T).fill(0);
      const ent = new Array(T).fill(0);
      const ti: number[][] = Array.from({ length: T }, () => []);
      const tl: number[][] = Array.from({ length: T }, () => []);
      for (let j = 1; j < cols[b].length; j++) {
        if (!scored(b, j)) continue;
        const t = cols[b][j];
        const d = temper(dists[b].get(j - 1)!, temperature);
        lp[t] = d[seqs[b][j]];
        mask[t] = 1;
        if (entropy) {
          let h = 0;
          for (let v = 0; v < d.length; v++) if (d[v] > -Infinity) h -= Math.exp(d[v]) * d[v];
          ent[t] = h;
        }
        if (topK) {
          ti[t] = topIds(d, topK);
          tl[t] = ti[t].map((v) => d[v]);
        }
      }
      res.logp.push(lp);
      res.mask.push(mask);
      if (res.entropy) res.entropy.push(ent);
      if (res.topK) (res.topK.ids.push(ti), res.topK.logp.push(tl));
    }
    return res;
  }

  /** Teacher distributions (tokens-aligned) for distillation; see teacher(). */
  async teacherScore(batch: TeacherBatch, K: number): Promise<TeacherOutput> {
    const where = "remote.LlamaCppPolicy.teacher.score";
    this.check(where);
    const { B, T, cols, seqs } = this.rowsOf(batch, where, this.teacherScore);
    const dists = await this.distributions(seqs);
    const V = this.vocabSize;
    if (K === 0) {
      // full [B, T, V]: row t holds the distribution predicting token t; unused rows are uniform
      const full = new Float32Array(B * T * V).fill(-Math.log(V));
      for (let b = 0; b < B; b++)
        for (let j = 1; j < cols[b].length; j++) full.set(dists[b].get(j - 1)!, (b * T + cols[b][j]) * V);
      return { kind: "full", logprobs: tf.tensor3d(full, [B, T, V]) };
    }
    const out: TopkTeacherOutput = {
      kind: "topk",
      ids: new Int32Array(B * T * K),
      logprobs: new Float32Array(B * T * K).fill(-1e4),
      B,
      T,
      K,
    };
    for (let b = 0; b < B; b++)
      for (let j = 1; j < cols[b].length; j++) {
        const d = dists[b].get(j - 1)!;
        const at = (b * T + cols[b][j]) * K;
        topIds(d, K).forEach((v, i) => {
          out.ids[at + i] = v;
          out.logprobs[at + i] = d[v];
        });
      }
    return out;
  }

  /**
   * A distillation TeacherSource over this model: top-k (or full with topK 0) log-probs per position, tokens-aligned
   * like distill.localTeacher; teacher and student must share the tokenizer.
   * @example const teacher = (await remote.LlamaCppPolicy.load("teacher.gguf")).teacher({topK: 16})
   */
  teacher(options: LlamaCppTeacherOptions = {}): TeacherSource {
    return llamaCppTeacher(this, options);
  }

  /** Free the context and the model (the shared llama.cpp runtime stays loaded). */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.ctx.dispose();
    await this.lm.dispose();
  }

  /** A one-line description (the notebook shows it). */
  toString(): string {
    return `LlamaCppPolicy(${this.name}: vocab ${this.vocabSize}, context ${this.contextSize}, ${this.slots.length} sequence(s))`;
  }
}

/** Options of llamaCppTeacher. */
export interface LlamaCppTeacherOptions {
  /** Top-k per position when the caller does not ask; 0 returns full [B, T, V] distributions. Defaults to 20. */
  topK?: number;
  /** Shown in metrics. Defaults to the policy's name. */
  name?: string;
}

/**
 * A distillation TeacherSource over a GGUF model in llama.cpp (top-k, or full distributions with topK 0), rows
 * tokens-aligned like distill.localTeacher; teacher and student must share the tokenizer.
 * @example
 * const teacher = llamaCppTeacher(await remote.LlamaCppPolicy.load("teacher.gguf"), {topK: 16})
 * await distill.gkdStep({policy, opt, teacher, prompts})
 */
export function llamaCppTeacher(policy: LlamaCppPolicy, options: LlamaCppTeacherOptions = {}): TeacherSource {
  if (!(policy instanceof LlamaCppPolicy))
    fail(
      "invalid_input",
      `remote.LlamaCppPolicy.teacher: policy must be a remote.LlamaCppPolicy (got ${describe(policy)}). Load it with ` +
        "await remote.LlamaCppPolicy.load(file).",
      {},
      llamaCppTeacher,
    );
  const fixedK = options.topK ?? 20;
  if (!Number.isInteger(fixedK) || fixedK < 0 || fixedK > policy.vocabSize)
    fail(
      "invalid_option",
      `remote.LlamaCppPolicy.teacher: options.topK must be an integer in [0, ${policy.vocabSize}] (got ` +
        `${describe(fixedK)}).`,
      { path: ["topK"] },
      llamaCppTeacher,
    );
  return {
    name: options.name ?? policy.name,
    vocabSize: policy.vocabSize,
    score: (batch: TeacherBatch, opts: TeacherScoreOptions = {}) =>
      policy.teacherScore(batch, Math.min(opts.topK || fixedK, policy.vocabSize)),
  };
}
