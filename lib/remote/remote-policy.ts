// A Policy served over the OpenAI-compatible HTTP API (vLLM, SGLang, llama.cpp, `cellrl serve`): rollout.sample, the
// eval
// generator and the distillation mixer use it exactly like a LocalPolicy. One request per prompt (n samples each),
// at most `concurrency` in flight; prompts go as token ids so the recorded prompt ids are the ones the server saw.
// No result is lost: generateSettled / scoreSettled return every finished item with the failures, and generate /
// score throw a RemoteBatchError that carries them (err.partial). Options are camelCase; samplingBody() is the one
// place they become vLLM's snake_case request fields.
import { describe, fail } from "../core/errors.js";
import { checkIntAtLeast } from "../core/checks.js";
import { globalRng, Rng } from "../core/random.js";
import { warn } from "../core/warn.js";
import { realTokenRows } from "../model/batch.js";
import { encodeChat, type ChatMessage } from "../model/chat-template.js";
import { emptyGenerateResult, type GenerateResult } from "../model/generate.js";
import type { LogprobsBatch, LogprobsResult } from "../model/logprobs.js";
import { checkSampling, rejectSnakeCase } from "../model/sampling.js";
import { tokenizerFromFiles, type TokenizerFiles } from "../model/tokenizer-io.js";
import type { Tokenizer } from "../model/tokenizer-types.js";
import type { Policy, SampleOptions, ScoreOptions } from "../rollout/policy.js";
import { RemoteClient, type ClientOptions } from "./client.js";
import { inputLabel, RemoteBatchError, RemoteRequestError, type RequestFailure } from "./errors.js";
import { choiceIds, parseResponse, type ParsedChoice } from "./parse.js";
import { mapSettled } from "./pool.js";
import { RemoteScorer, type ScoringMode } from "./scoring.js";

/** Options of RemotePolicy: the client's, plus these. */
export interface RemotePolicyOptions extends ClientOptions {
  /** The served model's tokenizer (model.loadTokenizer(dir)); RemotePolicy.connect fetches it from cellrl serve. */
  tokenizer: Tokenizer;
  /** Shown in tables and metrics. Defaults to "remote:<model>". */
  name?: string;
  /** Send prompts as token "ids" (exact) or "text" (the server tokenizes). Defaults to "ids". */
  promptFormat?: "ids" | "text";
  /** How score() gets logprobs: "auto", "prompt_logprobs" (vLLM) or "echo". Defaults to "auto". */
  scoring?: ScoringMode;
  /** Sequences per scoring request (sent as a list of prompts). Defaults to 8; use 1 for servers that take one. */
  scoreBatchSize?: number;
  /**
   * Send vLLM's extra fields (top_k, min_p, stop_token_ids, return_token_ids, ...); turn off for strict servers.
   * Defaults to true.
   */
  extensions?: boolean;
  /** More body fields for every request (e.g. {repetition_penalty: 1.05}). Defaults to {}. */
  requestDefaults?: Record<string, unknown>;
  /** Ask for server-sent events (stream: true) and fold the chunks; the same rows as without. Defaults to false. */
  stream?: boolean;
}

/** Outcome of generateSettled: the finished prompts' rows (group = prompt index) and the failed prompts. */
export interface GenerateSettled {
  /** Rows of the prompts that finished, prompt-major; `group` holds the original prompt index. */
  result: GenerateResult;
  /** Indices of the prompts that finished. */
  done: number[];
  failures: RequestFailure[];
}

/** Outcome of scoreSettled: every row; rows whose request failed have an all-zero mask. */
export interface ScoreSettled {
  result: LogprobsResult;
  /** Indices of the rows that were scored. */
  done: number[];
  failures: RequestFailure[];
}

/**
 * Defaults of RemotePolicy (besides the client's remote.clientDefaults).
 * @example remote.remotePolicyDefaults.promptFormat // "ids"
 */
export const remotePolicyDefaults = {
  promptFormat: "ids" as const,
  scoring: "auto" as ScoringMode,
  extensions: true,
  n: 1,
  maxNewTokens: 64,
};

interface Row {
  promptTokenIds: number[];
  ids: number[];
  text: string;
  logprobs: number[];
  finishReason: "stop" | "length";
  stopReason: string | number | null;
}

/**
 * A Policy over an OpenAI-compatible server; pass it anywhere a rollout.Policy goes.
 * @example
 * const policy = new remote.RemotePolicy("http://127.0.0.1:8000", {tokenizer: model.loadTokenizer(dir)})
 * await rollout.sample(policy, records, {n: 8})
 */
export class RemotePolicy implements Policy {
  readonly name: string;
  readonly tokenizer: Tokenizer;
  readonly client: RemoteClient;
  readonly scorer: RemoteScorer;
  private readonly o: Required<Pick<RemotePolicyOptions, "promptFormat" | "extensions" | "requestDefaults" | "stream">>;
  private idOfToken: Map<string, number> | null = null;
  /**
   * `logprobs` sent with completions: 0 (only the sampled token: no extra work for the server), 1 after a server
   * ignored 0.
   */
  private sampledLogprobs = 0;

  constructor(url: string, options: RemotePolicyOptions) {
    const tok = options?.tokenizer;
    if (!tok || typeof tok.encode !== "function" || typeof tok.decode !== "function")
      fail(
        "invalid_option",
        `remote.RemotePolicy: options.tokenizer must be the served model's tokenizer (got ${describe(tok)}). ` +
          `Load it with model.loadTokenizer(dir), or use await remote.RemotePolicy.connect(url) with cellrl serve.`,
        { path: ["options", "tokenizer"] },
        RemotePolicy,
      );
    const promptFormat = options.promptFormat ?? remotePolicyDefaults.promptFormat;
    if (promptFormat !== "ids" && promptFormat !== "text")
      fail(
        "invalid_option",
        `remote.RemotePolicy: options.promptFormat must be "ids" or "text" (got ${describe(promptFormat)}).`,
        { path: ["options", "promptFormat"] },
        RemotePolicy,
      );
    this.client = new RemoteClient(url, options);
    this.tokenizer = tok;
    this.o = {
      promptFormat,
      extensions: options.extensions ?? true,
      requestDefaults: options.requestDefaults ?? {},
      stream: options.stream === true,
    };
    this.scorer = new RemoteScorer(this.client, {
      mode: options.scoring,
      extensions: this.o.extensions,
      scoreBatchSize: options.scoreBatchSize,
      tokenToId: (s) => this.tokenId(s),
    });
    this.name = options.name ?? `remote:${options.model ?? this.client.baseUrl}`;
  }

  /**
   * Connect to a server: resolve the model name and, when no tokenizer is given, fetch it from `cellrl serve`.
   * @example const policy = await remote.RemotePolicy.connect("http://127.0.0.1:8000")
   */
  static async connect(url: string, options: Partial<RemotePolicyOptions> = {}): Promise<RemotePolicy> {
    let tokenizer = options.tokenizer;
    const probe = new RemoteClient(url, options);
    try {
      const model = await probe.ensureModel("remote.RemotePolicy.connect");
      if (!tokenizer) {
        let files: TokenizerFiles;
        try {
          files = (await probe.request("GET", "/cellrl/tokenizer", undefined, "remote.RemotePolicy.connect", {
            root: true,
          })) as TokenizerFiles;
        } catch (e) {
          if (e instanceof RemoteRequestError && e.status === 404)
            fail(
              "invalid_option",
              `remote.RemotePolicy.connect: ${probe.rootUrl} does not send its tokenizer (only cellrl serve ` +
                `does; got HTTP 404). Pass options.tokenizer: model.loadTokenizer(<the served model's directory>).`,
              { path: ["options", "tokenizer"] },
              RemotePolicy.connect,
            );
          throw e;
        }
        tokenizer = tokenizerFromFiles(files);
      }
      return new RemotePolicy(url, { ...options, model, tokenizer, name: options.name ?? `remote:${model}` });
    } finally {
      probe.close();
    }
  }

  /**
   * Token text → id, for echo alternatives given by text (built once from the tokenizer; ambiguous texts map to
   * nothing).
   */
  private tokenId(text: string): number | undefined {
    if (!this.idOfToken) {
      this.idOfToken = new Map();
      const seen = new Set<string>();
      for (let id = 0; id < Math.min(this.tokenizer.vocabSize, 400000); id++) {
        const s = this.tokenizer.decode([id]);
        if (this.idOfToken.has(s)) seen.add(s);
        else this.idOfToken.set(s, id);
      }
      for (const s of seen) this.idOfToken.delete(s);
    }
    return this.idOfToken.get(text);
  }

  /** The request body fields of the sampling options: camelCase options in, vLLM / OpenAI snake_case fields out. */
  private samplingBody(o: SampleOptions, where: string): Record<string, unknown> {
    const sp = checkSampling(o, where);
    const stops = o.stop === undefined ? [] : typeof o.stop === "string" ? [o.stop] : o.stop;
    const body: Record<string, unknown> = {
      ...this.o.requestDefaults,
      max_tokens: o.maxNewTokens,
      temperature: sp.temperature,
      top_p: sp.topP,
    };
    if (stops.length) body.stop = stops;
    const ext: Record<string, unknown> = {};
    if (sp.topK > 0) ext.top_k = sp.topK;
    if (sp.minP > 0) ext.min_p = sp.minP;
    if (o.stopTokenIds?.length) ext.stop_token_ids = o.stopTokenIds;
    if (o.ignoreEos) ext.ignore_eos = true;
    if (o.includeStopStrInOutput) ext.include_stop_str_in_output = true;
    if (!this.o.extensions && Object.keys(ext).length)
      fail(
        "invalid_option",
        `${where}: ${Object.keys(ext).join(", ")} need vLLM's extensions but options.extensions is false ` +
          `(got ${describe(ext)}). Drop them or turn extensions on.`,
        { got: ext },
      );
    if (this.o.extensions)
      Object.assign(body, ext, { return_token_ids: true, return_tokens_as_token_ids: true, skip_special_tokens: true });
    return body;
  }

  /** One parsed choice as a row; ids come from the server, else (with a warning) from re-encoding the text. */
  private rowOf(choice: ParsedChoice, promptTokenIds: number[], where: string, url: string): Row {
    let ids = choiceIds(choice);
    const entries = choice.tokens;
    let logprobs = entries ? entries.map((e) => e.logprob ?? 0) : null;
    if (!ids) {
      warn(
        "remote/retokenized",
        `${where}: ${url} returned no token ids; the response text was re-encoded with the local tokenizer, ` +
          `so ids (and logprobs) may differ from what the server sampled. Use vLLM >= 0.10.2 or cellrl serve ` +
          `(they return token ids).`,
      );
      ids = this.tokenizer.encode(choice.text, { addSpecialTokens: false });
    }
    for (const id of ids)
      if (!Number.isInteger(id) || id < 0 || id >= 2 ** 31)
        fail("remote", `${where}: ${url} returned token id ${id} (expected a non-negative integer).`, { got: id });
    if (!logprobs || logprobs.length !== ids.length) {
      warn(
        "remote/noLogprobs",
        `${where}: ${url} returned ${logprobs ? logprobs.length : "no"} token logprobs for ${ids.length} ` +
          `tokens; the rows' logprobs are set to 0. Use a server that honours logprobs (vLLM, SGLang, cellrl serve).`,
      );
      logprobs = new Array(ids.length).fill(0);
    }
    const finishReason = choice.finishReason === "length" ? "length" : "stop";
    const stopReason = choice.stopReason ?? (finishReason === "stop" && ids.length ? ids[ids.length - 1] : null);
    return {
      promptTokenIds: choice.promptTokenIds ?? promptTokenIds,
      ids,
      text: choice.text,
      logprobs,
      finishReason,
      stopReason,
    };
  }

  /** n samples of one prompt (topping up when a server returns fewer choices than asked, as llama.cpp does). */
  private async sampleOne(
    endpoint: "/completions" | "/chat/completions",
    input: Record<string, unknown>,
    promptTokenIds: number[],
    n: number,
    seed: number,
    base: Record<string, unknown>,
    where: string,
  ): Promise<Row[]> {
    const url = this.client.urlOf(endpoint);
    const rows: Row[] = [];
    for (let round = 0; rows.length < n; round++) {
      const want = n - rows.length;
      const body: Record<string, unknown> = { ...base, ...input, n: want, seed: seed + rows.length };
      if (endpoint === "/completions") body.logprobs = this.sampledLogprobs;
      const stream = this.o.stream;
      if (stream) Object.assign(body, { stream: true, stream_options: { include_usage: true } });
      let res = parseResponse(await this.client.request("POST", endpoint, body, where, { stream }), { where, url });
      if (endpoint === "/completions" && this.sampledLogprobs === 0 && res.choices.some((c) => c.tokens === null)) {
        // logprobs: 0 (the sampled token only, as vLLM reads it) means "none" to some servers: ask for 1 from now on
        this.sampledLogprobs = 1;
        res = parseResponse(await this.client.request("POST", endpoint, { ...body, logprobs: 1 }, where, { stream }), {
          where,
          url,
        });
      }
      if (res.choices.length === 0 || round > n)
        fail(
          "remote",
          `${where}: ${url} returned no choices (got ${res.choices.length} after ${round + 1} requests; ` +
            `expected ${n}). Check the server's log.`,
          { got: res.choices.length, expected: n },
        );
      for (const c of res.choices.slice(0, want)) rows.push(this.rowOf(c, promptTokenIds, where, url));
    }
    return rows;
  }

  /**
   * Per-prompt seeds: from options.seed (a private stream), options.rng, or the global stream (replays under seed()).
   */
  private seeds(count: number, o: SampleOptions): number[] {
    const rng = o.rng ?? (o.seed !== undefined ? new Rng(o.seed) : globalRng());
    return Array.from({ length: count }, () => rng.nextU32() >>> 1);
  }

  private assemble(outcomes: { ok: boolean; value?: Row[]; error?: Error }[], inputs: unknown[]): GenerateSettled {
    const result = emptyGenerateResult();
    const done: number[] = [];
    const failures: RequestFailure[] = [];
    outcomes.forEach((o, g) => {
      if (!o.ok) return void failures.push({ index: g, input: inputLabel(inputs[g]), error: o.error! });
      done.push(g);
      o.value!.forEach((r, s) => {
        result.group.push(g);
        result.sample.push(s);
        result.promptTokenIds.push(r.promptTokenIds);
        result.ids.push(r.ids);
        result.text!.push(r.text);
        // the server reports one logprob per token (vLLM V1 default: raw, temperature 1; logprobs_mode
        // "processed_logprobs" gives the sampled distribution's); both fields carry it, and rollout.sample puts it in
        // ro.logprobs, the sampler's μ that update.rolloutCorrection compares with the trainer's recomputation
        result.logprobs.push(r.logprobs);
        result.rawLogprobs.push(r.logprobs.slice());
        result.finishReason.push(r.finishReason);
        result.stopReason.push(r.stopReason);
        result.lengths.push(r.ids.length);
      });
    });
    return { result, done, failures };
  }

  /**
   * Sample n continuations per prompt, keeping every finished prompt when others fail.
   * @example const {result, failures} = await policy.generateSettled(prompts, {n: 4, maxNewTokens: 32})
   */
  async generateSettled(prompts: string[] | number[][], options: SampleOptions = {}): Promise<GenerateSettled> {
    const where = "remote.RemotePolicy.generate";
    if (!Array.isArray(prompts) || prompts.length === 0)
      fail(
        "invalid_input",
        `${where}: prompts must be a non-empty array of strings or token-id arrays ` +
          `(got ${describe(prompts)}). Wrap one prompt as [prompt].`,
        { got: describe(prompts) },
        this.generateSettled,
      );
    rejectSnakeCase(options, where, this.generateSettled);
    const o = {
      n: remotePolicyDefaults.n,
      maxNewTokens: remotePolicyDefaults.maxNewTokens,
      ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
    } as SampleOptions & { n: number; maxNewTokens: number };
    const at = { where, from: this.generateSettled };
    checkIntAtLeast(at, "n", o.n, 1);
    checkIntAtLeast(at, "maxNewTokens", o.maxNewTokens, 1);
    const promptTokenIds = prompts.map((p, i) => {
      if (typeof p === "string") return this.tokenizer.encode(p);
      if (!Array.isArray(p) || p.length === 0 || p.some((t) => !Number.isInteger(t) || t < 0))
        fail(
          "invalid_input",
          `${where}: prompts[${i}] must be a string or a non-empty array of token ids (got ${describe(p)}).`,
          { path: ["prompts", i] },
          this.generateSettled,
        );
      return Array.from(p as number[]);
    });
    const base = this.samplingBody(o, where);
    const seeds = this.seeds(prompts.length, o);
    const model = await this.client.ensureModel(where);
    const outcomes = await mapSettled(
      prompts as unknown[],
      this.client.options.concurrency,
      (p, i) => {
        const prompt = this.o.promptFormat === "ids" || typeof p !== "string" ? promptTokenIds[i] : p;
        return this.sampleOne("/completions", { model, prompt }, promptTokenIds[i], o.n, seeds[i], base, where);
      },
      this.client.options.signal,
    );
    return this.assemble(outcomes, prompts);
  }

  /**
   * Sample n continuations per prompt (rows prompt-major); throws a RemoteBatchError carrying the finished rows on
   * failure.
   * @example const out = await policy.generate(["1+1="], {n: 4, temperature: 1, maxNewTokens: 8}); out.text
   */
  async generate(prompts: string[] | number[][], options: SampleOptions = {}): Promise<GenerateResult> {
    const s = await this.generateSettled(prompts, options);
    if (s.failures.length)
      throw new RemoteBatchError(
        "remote.RemotePolicy.generate",
        "prompt",
        prompts.length,
        s.failures,
        s,
        this.generate,
      );
    return s.result;
  }

  /**
   * Chat completions with the server's chat template (/v1/chat/completions); rows as generate's, failures kept.
   * @example const {result} = await policy.chatSettled([[{role: "user", content: "2+2?"}]], {n: 2, maxNewTokens: 32})
   */
  async chatSettled(
    conversations: ChatMessage[][],
    options: SampleOptions & { chatTemplateKwargs?: Record<string, unknown> } = {},
  ): Promise<GenerateSettled> {
    const where = "remote.RemotePolicy.chat";
    if (
      !Array.isArray(conversations) ||
      conversations.length === 0 ||
      conversations.some(
        (c) =>
          !Array.isArray(c) ||
          c.length === 0 ||
          c.some((m) => !m || typeof m.role !== "string" || typeof m.content !== "string"),
      )
    )
      fail(
        "invalid_input",
        `${where}: conversations must be a non-empty array of chats [{role, content}, ...] ` +
          `(got ${describe(conversations)}). Wrap one chat as [messages].`,
        {},
        this.chatSettled,
      );
    const { chatTemplateKwargs, ...rest } = options;
    rejectSnakeCase(rest, where, this.chatSettled);
    const o = {
      n: 1,
      maxNewTokens: remotePolicyDefaults.maxNewTokens,
      ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
    } as SampleOptions & { n: number; maxNewTokens: number };
    const base: Record<string, unknown> = { ...this.samplingBody(o, where), logprobs: true, top_logprobs: 0 };
    if (chatTemplateKwargs) base.chat_template_kwargs = chatTemplateKwargs;
    const seeds = this.seeds(conversations.length, o);
    const model = await this.client.ensureModel(where);
    // prompt ids when the server does not return them: the local tokenizer's template, if it has one
    const localIds = (msgs: ChatMessage[]): number[] => {
      try {
        return encodeChat(this.tokenizer, msgs, { addGenerationPrompt: true });
      } catch {
        return [];
      }
    };
    const outcomes = await mapSettled(
      conversations,
      this.client.options.concurrency,
      (msgs, i) =>
        this.sampleOne("/chat/completions", { model, messages: msgs }, localIds(msgs), o.n, seeds[i], base, where),
      this.client.options.signal,
    );
    return this.assemble(
      outcomes,
      conversations.map((c) => c[c.length - 1].content),
    );
  }

  /**
   * Chat completions (server-side chat template); throws a RemoteBatchError carrying the finished rows on failure.
   * @example
   * const out = await policy.chat([[{role: "user", content: "What is 2+2?"}]], {maxNewTokens: 64})
   * out.text[0]
   */
  async chat(
    conversations: ChatMessage[][],
    options: SampleOptions & { chatTemplateKwargs?: Record<string, unknown> } = {},
  ): Promise<GenerateResult> {
    const s = await this.chatSettled(conversations, options);
    if (s.failures.length)
      throw new RemoteBatchError(
        "remote.RemotePolicy.chat",
        "conversation",
        conversations.length,
        s.failures,
        s,
        this.chat,
      );
    return s.result;
  }

  /**
   * Per-token logprobs of given sequences, tokens-aligned [B, T] like model.logprobs; failed rows are kept out.
   * @example const {result, failures} = await policy.scoreSettled(ro, {topK: 5})
   */
  async scoreSettled(batch: LogprobsBatch, options: ScoreOptions = {}): Promise<ScoreSettled> {
    const where = "remote.RemotePolicy.score";
    if (!batch || typeof batch !== "object")
      fail(
        "invalid_input",
        `${where}: batch must be {ids, attentionMask?, responseMask?} (got ${describe(batch)}). A Rollout can ` +
          `be passed as is.`,
        {},
        this.scoreSettled,
      );
    const { temperature = 1, topK = 0 } = options;
    if (temperature !== 1)
      fail(
        "invalid_option",
        `${where}: options.temperature must be 1 for a remote policy (got ${describe(temperature)}). ` +
          `OpenAI-compatible servers return logprobs of the untempered distribution (vLLM's default logprobs ` +
          `mode); score at temperature 1, or score locally with model.logprobs.`,
        { path: ["temperature"], got: temperature, expected: 1 },
        this.scoreSettled,
      );
    if (!Number.isInteger(topK) || topK < 0)
      fail(
        "invalid_option",
        `${where}: options.topK must be a non-negative integer (got ${describe(topK)}).`,
        { path: ["topK"] },
        this.scoreSettled,
      );
    if (options.entropy === true)
      warn(
        "remote/entropy",
        `${where}: servers return top-k logprobs only, so remote scores carry no full-vocabulary entropy; ` +
          `options.entropy is ignored. Use model.logprobs locally for entropy.`,
      );
    const { B, T, cols, seqs, responseMask: rm } = realTokenRows(batch, where, 2 ** 31, this.scoreSettled);
    const todo = seqs.map((s, b) => ({ s, b })).filter(({ s }) => s.length >= 2);
    const settled = await this.scorer.scoreMany(
      todo.map((x) => x.s),
      topK,
      where,
    );
    const result: LogprobsResult = { logp: [], mask: [] };
    if (topK) result.topK = { ids: [], logp: [] };
    for (let b = 0; b < B; b++) {
      result.logp.push(new Array(T).fill(0));
      result.mask.push(new Array(T).fill(0));
      if (result.topK) {
        result.topK.ids.push(Array.from({ length: T }, () => []));
        result.topK.logp.push(Array.from({ length: T }, () => []));
      }
    }
    const done: number[] = [];
    const failures: RequestFailure[] = settled.failures.map((f) => ({ ...f, index: todo[f.index].b }));
    settled.values.forEach((v, k) => {
      if (!v) return;
      const b = todo[k].b;
      done.push(b);
      cols[b].forEach((t, j) => {
        if (j === 0) return;
        const on = rm ? rm[b * T + t] === 1 : true;
        if (!on) return;
        result.logp[b][t] = v.logprobs[j]!;
        result.mask[b][t] = 1;
        if (result.topK && v.top?.[j]) {
          result.topK.ids[b][t] = v.top[j]!.ids;
          result.topK.logp[b][t] = v.top[j]!.logprobs;
        }
      });
    });
    // rows with fewer than 2 real tokens have nothing to score: done, all masked
    seqs.forEach((s, b) => s.length < 2 && done.push(b));
    done.sort((a, b) => a - b);
    return { result, done, failures };
  }

  /**
   * Per-token logprobs of given sequences (e.g. a Rollout), tokens-aligned [B, T]; throws a RemoteBatchError on
   * failures.
   * @example const {logp, mask} = await policy.score(ro)
   */
  async score(batch: LogprobsBatch, options: ScoreOptions = {}): Promise<LogprobsResult> {
    const s = await this.scoreSettled(batch, options);
    if (s.failures.length)
      throw new RemoteBatchError("remote.RemotePolicy.score", "row", s.result.logp.length, s.failures, s, this.score);
    return s.result;
  }

  /** Close idle connections. */
  close(): void {
    this.client.close();
  }
}
