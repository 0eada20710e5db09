// The request handlers of `cellrl serve`: /v1/completions and /v1/chat/completions bodies in, vLLM-shaped JSON
// out (choices prompt-major, logprobs in the legacy or chat shape, prompt_logprobs with a null first entry, the
// return_token_ids / return_tokens_as_token_ids extensions). Bad requests become ApiError(400) with vLLM's wording
// where there is one. Logprobs are raw (temperature 1, no filters), as vLLM V1 reports them by default.
import { CellrlError, describe } from "../core/errors.js";
import { Rng } from "../core/random.js";
import { applyChatTemplate, type ChatMessage } from "../model/chat-template.js";
import { generate, type GenerateResult } from "../model/generate.js";
import type { LlamaModel } from "../model/llama.js";
import { checkSampling, snakeCaseNames } from "../model/sampling.js";
import type { Tokenizer } from "../model/tokenizer-types.js";
import { scorePositions, type PositionScore } from "./serve-score.js";

/** What the handlers serve with. */
export interface ServeContext {
  model: LlamaModel;
  tokenizer: Tokenizer;
  /** The model name clients send (GET /v1/models lists it). */
  name: string;
  /** Sampling stream for requests without a seed. */
  rng: Rng;
  /** Largest logprobs / top_logprobs / prompt_logprobs accepted (vLLM --max-logprobs). */
  maxLogprobs: number;
  /** Largest n accepted. */
  maxN: number;
  /** Largest prompts x n of one request. */
  maxSequences: number;
  /** Largest max_tokens (and the default of chat requests without one). */
  maxTokens: number;
  /** Rows generated (or scored) per batch; between batches `between` runs. */
  batchRows: number;
  /** Awaited between batches: yields to the event loop and throws when the client went away. */
  between?: () => Promise<void>;
  /** Chat template (text or a built-in name) overriding the tokenizer's. */
  chatTemplate?: string | null;
}

/**
 * An HTTP error answer: status, message and the offending parameter, written as OpenAI's {error: {...}}.
 * @example throw new remote.ApiError(400, "n must be >= 1", "n")
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly type = status === 404 ? "NotFoundError" : status >= 500 ? "InternalServerError" : "BadRequestError",
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** A request body (JSON object). */
export type Body = Record<string, unknown>;
let counter = 0;
/** A fresh response id ("cmpl-...", "chatcmpl-..."). */
export const nextId = (prefix: string) => `${prefix}-${(++counter).toString(16).padStart(12, "0")}`;

function int(b: Body, key: string, def: number | null, min: number, max = Number.MAX_SAFE_INTEGER): number | null {
  const v = b[key];
  if (v === undefined || v === null) return def;
  // vLLM's wording, so clients (and cellrl's own) recognise it and suggest --max-logprobs
  if (/logprobs$/.test(key) && Number.isInteger(v) && (v as number) > max)
    throw new ApiError(
      400,
      `Requested ${key.replace(/_/g, " ")} of ${v}, which is greater than max allowed: ${max}.`,
      key,
    );
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)
    throw new ApiError(
      400,
      `${key} must be an integer in [${min}, ${max === Number.MAX_SAFE_INTEGER ? "inf" : max}] (got ${describe(v)}).`,
      key,
    );
  return v;
}

export function bool(b: Body, key: string, def: boolean): boolean {
  const v = b[key];
  if (v === undefined || v === null) return def;
  if (typeof v !== "boolean") throw new ApiError(400, `${key} must be true or false (got ${describe(v)}).`, key);
  return v;
}

function num(b: Body, key: string): number | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v))
    throw new ApiError(400, `${key} must be a number (got ${describe(v)}).`, key);
  return v;
}

function checkModel(ctx: ServeContext, b: Body): void {
  if (b.model !== undefined && b.model !== null && b.model !== ctx.name)
    throw new ApiError(
      404,
      `The model \`${String(b.model)}\` does not exist. This server serves \`${ctx.name}\` (GET /v1/models).`,
      "model",
    );
  const stream = bool(b, "stream", false);
  const so = b.stream_options;
  if (so !== undefined && so !== null) {
    // vLLM's rule and wording
    if (!stream) throw new ApiError(400, "Stream options can only be defined when `stream=True`.", "stream_options");
    if (typeof so !== "object" || Array.isArray(so))
      throw new ApiError(
        400,
        `stream_options must be {include_usage?, continuous_usage_stats?} (got ${describe(so)}).`,
        "stream_options",
      );
    bool(so as Body, "include_usage", false);
    bool(so as Body, "continuous_usage_stats", false);
  }
  if (b.best_of !== undefined && b.best_of !== null && b.best_of !== b.n && b.best_of !== 1)
    throw new ApiError(400, "best_of is not supported by cellrl serve.", "best_of");
}

/** Token ids of the `prompt` field (string, list of strings, ids, list of id lists). */
function promptsOf(ctx: ServeContext, b: Body): { ids: number[][]; texts: (string | null)[] } {
  const p = b.prompt;
  const V = ctx.model.config.vocab_size;
  const isIds = (x: unknown): x is number[] => Array.isArray(x) && x.length > 0 && x.every((t) => Number.isInteger(t));
  let list: (string | number[])[];
  if (typeof p === "string") list = [p];
  else if (isIds(p)) list = [p];
  else if (Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === "string" || isIds(x)))
    list = p as (string | number[])[];
  else
    throw new ApiError(
      400,
      `prompt must be a string, a list of strings, a list of token ids or a list of such lists (got ${describe(p)}).`,
      "prompt",
    );
  const ids = list.map((x, i) => {
    let t: number[];
    try {
      t =
        typeof x === "string" ? ctx.tokenizer.encode(x, { addSpecialTokens: bool(b, "add_special_tokens", true) }) : x;
    } catch (e) {
      throw new ApiError(400, `prompt ${i} cannot be tokenized: ${(e as Error).message}`, "prompt");
    }
    if (t.length === 0) throw new ApiError(400, `prompt ${i} is empty (got no tokens).`, "prompt");
    for (const id of t)
      if (!(id >= 0 && id < V))
        throw new ApiError(400, `Token id ${id} in prompt ${i} is out of vocabulary (expected 0..${V - 1}).`, "prompt");
    return t;
  });
  return { ids, texts: list.map((x) => (typeof x === "string" ? x : null)) };
}

/** Sampling options shared by both endpoints (vLLM names), validated. */
export function samplingOf(ctx: ServeContext, b: Body) {
  const stopRaw = b.stop;
  const stop = stopRaw === undefined || stopRaw === null ? [] : typeof stopRaw === "string" ? [stopRaw] : stopRaw;
  if (!Array.isArray(stop) || stop.some((s) => typeof s !== "string" || s === ""))
    throw new ApiError(400, `stop must be a string or a list of non-empty strings (got ${describe(stopRaw)}).`, "stop");
  const stopIds = b.stop_token_ids ?? [];
  const V = ctx.model.config.vocab_size;
  if (!Array.isArray(stopIds) || stopIds.some((t) => !Number.isInteger(t) || t < 0 || t >= V))
    throw new ApiError(
      400,
      `stop_token_ids must be token ids in [0, ${V}) (got ${describe(stopIds)}).`,
      "stop_token_ids",
    );
  const topK = int(b, "top_k", 0, -1);
  const o = {
    temperature: num(b, "temperature") ?? 1,
    top_p: num(b, "top_p") ?? 1,
    top_k: topK === -1 ? 0 : (topK as number),
    min_p: num(b, "min_p") ?? 0,
  };
  try {
    checkSampling({ temperature: o.temperature, topP: o.top_p, topK: o.top_k, minP: o.min_p }, "cellrl serve");
  } catch (e) {
    // the API speaks vLLM's names: report the request field, not cellrl's camelCase option
    const field = e instanceof CellrlError ? String(e.path[0] ?? "") : "";
    const snake = Object.keys(snakeCaseNames).find((k) => snakeCaseNames[k] === field) ?? field;
    throw new ApiError(
      400,
      field ? (e as Error).message.replace(new RegExp(`\\b${field}\\b`, "g"), snake) : (e as Error).message,
      snake || null,
    );
  }
  for (const k of ["presence_penalty", "frequency_penalty"])
    if ((num(b, k) ?? 0) !== 0)
      throw new ApiError(400, `${k} is not supported by cellrl serve (got ${b[k]}); send 0.`, k);
  if ((num(b, "repetition_penalty") ?? 1) !== 1)
    throw new ApiError(
      400,
      `repetition_penalty is not supported by cellrl serve (got ${b.repetition_penalty}); send 1.`,
      "repetition_penalty",
    );
  return {
    ...o,
    n: int(b, "n", 1, 1, ctx.maxN) as number,
    seed: int(b, "seed", null, -(2 ** 53), 2 ** 53),
    stop: stop as string[],
    stop_token_ids: stopIds as number[],
    ignore_eos: bool(b, "ignore_eos", false),
    include_stop_str_in_output: bool(b, "include_stop_str_in_output", false),
    skip_special_tokens: bool(b, "skip_special_tokens", true),
  };
}

/** Text of one row as vLLM returns it: special tokens skipped (by default), cut before a matched stop string. */
function rowText(ctx: ServeContext, out: GenerateResult, r: number, s: ReturnType<typeof samplingOf>): string {
  if (s.skip_special_tokens) return out.text![r];
  let text = ctx.tokenizer.decode(out.ids[r]);
  const hit = out.stopReason[r];
  if (typeof hit === "string") {
    const at = text.indexOf(hit);
    if (at >= 0) text = text.slice(0, s.include_stop_str_in_output ? at + hit.length : at);
  }
  return text;
}

/** The validated sampling fields of a request. */
export type Sampling = ReturnType<typeof samplingOf>;

/** vLLM's stop_reason of what ended a row (generate's stopReason): the stop string or stop_token_ids entry; null
 * for EOS and length. */
export function vllmStopReason(x: string | number | null, s: Sampling): string | number | null {
  if (typeof x === "string") return x;
  if (typeof x === "number" && s.stop_token_ids.includes(x)) return x;
  return null;
}

const stopReasonOf = (out: GenerateResult, r: number, s: Sampling) => vllmStopReason(out.stopReason[r], s);

function contextCheck(ctx: ServeContext, ids: number[][], maxTokens: number): void {
  const L = ctx.model.config.max_position_embeddings;
  for (const p of ids)
    if (p.length + maxTokens > L)
      throw new ApiError(
        400,
        `This model's maximum context length is ${L} tokens. However, you requested ${p.length + maxTokens} ` +
          `tokens (${p.length} in the messages, ${maxTokens} in the completion). Please reduce the length of the ` +
          `messages or completion.`,
        "max_tokens",
      );
}

/** Bounds of one request: prompts x n (--max-sequences) and max_tokens (--max-tokens), checked before any work. */
function limitCheck(ctx: ServeContext, prompts: number, n: number, maxTokens: number): void {
  if (prompts * n > ctx.maxSequences)
    throw new ApiError(
      400,
      `This request asks for ${prompts} prompt(s) x n = ${n} = ${prompts * n} sequences; this server answers at ` +
        `most ${ctx.maxSequences} per request (--max-sequences). Send fewer prompts or a smaller n per request.`,
      "n",
    );
  if (maxTokens > ctx.maxTokens)
    throw new ApiError(
      400,
      `max_tokens must be at most ${ctx.maxTokens} on this server (got ${maxTokens}; --max-tokens). ` +
        `Ask for fewer tokens.`,
      "max_tokens",
    );
}

/**
 * generate() in batches of about ctx.batchRows rows (whole prompts), awaiting ctx.between after each so the server
 * stays responsive and drops requests whose client left. One Rng runs through the batches: a request that fits in
 * one batch samples exactly what generate() samples with the same seed; a larger one is still replayable by seed.
 */
async function sample(
  ctx: ServeContext,
  ids: number[][],
  maxTokens: number,
  s: ReturnType<typeof samplingOf>,
): Promise<GenerateResult> {
  const { n, seed, temperature, top_p, top_k, min_p, stop, stop_token_ids, ignore_eos, include_stop_str_in_output } = s;
  const rng = seed !== null ? new Rng(seed) : ctx.rng;
  const per = Math.max(1, Math.floor(ctx.batchRows / n));
  let all: GenerateResult | null = null;
  for (let at = 0; at < ids.length; at += per) {
    await ctx.between?.();
    const out = generate(ctx.model, ids.slice(at, at + per), {
      tokenizer: ctx.tokenizer,
      n,
      maxNewTokens: maxTokens,
      temperature,
      topP: top_p,
      topK: top_k,
      minP: min_p,
      stop,
      stopTokenIds: stop_token_ids,
      ignoreEos: ignore_eos,
      includeStopStrInOutput: include_stop_str_in_output,
      rng,
    });
    if (!all) all = out;
    else {
      const group = out.group.map((g) => g + at);
      for (const k of Object.keys(out) as (keyof GenerateResult)[])
        (all[k] as unknown[]).push(...((k === "group" ? group : out[k]) as unknown[]));
    }
  }
  await ctx.between?.();
  return all!;
}

/** scorePositions in batches of ctx.batchRows sequences, awaiting ctx.between after each. */
async function scoreAll(ctx: ServeContext, seqs: number[][], k: number): Promise<(PositionScore | null)[][]> {
  const out: (PositionScore | null)[][] = [];
  for (let at = 0; at < seqs.length; at += ctx.batchRows) {
    await ctx.between?.();
    out.push(...scorePositions(ctx.model, seqs.slice(at, at + ctx.batchRows), k));
  }
  return out;
}

/** A token as the API writes it: its text, or "token_id:N" (return_tokens_as_token_ids). */
export const tokenText = (ctx: ServeContext, id: number, asIds: boolean) =>
  asIds ? `token_id:${id}` : ctx.tokenizer.decode([id]);
/** UTF-8 bytes of a token's text (chat logprobs' `bytes`). */
export const bytesOf = (s: string) => Array.from(Buffer.from(s, "utf8"));

/** The k best alternatives of a position plus the position's own token (vLLM adds it when it ranks lower). */
function alternatives(sc: PositionScore, k: number, own: number): { id: number; logprob: number; rank: number }[] {
  const alts = sc.top.slice(0, k).map((a, i) => ({ ...a, rank: i + 1 }));
  if (!alts.some((a) => a.id === own)) alts.push({ id: own, logprob: sc.logprob, rank: sc.rank });
  return alts;
}

function promptLogprobsJson(ctx: ServeContext, seq: number[], scores: (PositionScore | null)[], P: number, k: number) {
  return seq.slice(0, P).map((id, j) => {
    const sc = scores[j];
    if (!sc) return null;
    return Object.fromEntries(
      alternatives(sc, k, id).map((a) => [
        String(a.id),
        { logprob: a.logprob, rank: a.rank, decoded_token: ctx.tokenizer.decode([a.id]) },
      ]),
    );
  });
}

/**
 * The fields of a /v1/completions body, validated against the server's limits (ApiError 400 / 404 otherwise).
 * @example completionsRequest(ctx, {prompt: "1+1=", max_tokens: 4}).maxTokens // 4
 */
export function completionsRequest(ctx: ServeContext, body: unknown) {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new ApiError(400, `The request body must be a JSON object (got ${describe(body)}).`);
  const b = body as Body;
  checkModel(ctx, b);
  const prompts = promptsOf(ctx, b);
  const s = samplingOf(ctx, b);
  const echo = bool(b, "echo", false);
  const maxTokens = int(b, "max_tokens", 16, echo ? 0 : 1) as number;
  const logprobs = int(b, "logprobs", null, 0, ctx.maxLogprobs);
  const promptK = int(b, "prompt_logprobs", null, 0, ctx.maxLogprobs);
  const asIds = bool(b, "return_tokens_as_token_ids", false);
  const withIds = bool(b, "return_token_ids", false);
  limitCheck(ctx, prompts.ids.length, s.n, maxTokens);
  contextCheck(ctx, prompts.ids, maxTokens);
  return { b, prompts, s, echo, maxTokens, logprobs, promptK, asIds, withIds };
}

/**
 * POST /v1/completions: sample (or echo / score) and answer in vLLM's format.
 * @example (await remote.completions(ctx, {prompt: "1+1=", max_tokens: 4, n: 2, seed: 0})).choices.length // 2
 */
export async function completions(ctx: ServeContext, body: unknown): Promise<Record<string, unknown>> {
  const { prompts, s, echo, maxTokens, logprobs, promptK, asIds, withIds } = completionsRequest(ctx, body);
  const out: GenerateResult | null = maxTokens > 0 ? await sample(ctx, prompts.ids, maxTokens, s) : null;
  const K = Math.max(logprobs ?? 0, promptK ?? 0);
  const seqs = prompts.ids.flatMap((p, g) =>
    Array.from({ length: s.n }, (_, k) => [...p, ...(out ? out.ids[g * s.n + k] : [])]),
  );
  // logprobs 0 without echo / prompt_logprobs: the sampler's own raw logprobs suffice (no second forward pass)
  const fromSampler = logprobs === 0 && !echo && promptK === null && out !== null;
  const allScores = (logprobs !== null && !fromSampler) || promptK !== null ? await scoreAll(ctx, seqs, K) : null;
  const choices: Record<string, unknown>[] = [];
  let completionTokens = 0;
  for (let g = 0; g < prompts.ids.length; g++) {
    const pIds = prompts.ids[g];
    const P = pIds.length;
    for (let k = 0; k < s.n; k++) {
      const r = g * s.n + k;
      const rIds = out ? out.ids[r] : [];
      completionTokens += rIds.length;
      const seq = seqs[r];
      const scores = allScores ? allScores[r] : [];
      let text = out ? rowText(ctx, out, r, s) : "";
      if (echo)
        text = (prompts.texts[g] ?? ctx.tokenizer.decode(pIds, { skipSpecialTokens: s.skip_special_tokens })) + text;
      let lp: Record<string, unknown> | null = null;
      if (logprobs !== null) {
        const from = echo ? 0 : P;
        const tokens: string[] = [],
          tokenLogprobs: (number | null)[] = [],
          top: (Record<string, number> | null)[] = [],
          offsets: number[] = [];
        let off = 0;
        for (let j = from; j < seq.length; j++) {
          const t = tokenText(ctx, seq[j], asIds);
          tokens.push(t);
          offsets.push(off);
          off += asIds ? ctx.tokenizer.decode([seq[j]]).length : t.length;
          if (fromSampler) {
            const lp = out!.rawLogprobs[r][j - P];
            tokenLogprobs.push(lp);
            top.push({ [t]: lp });
            continue;
          }
          const sc = scores[j];
          tokenLogprobs.push(sc ? sc.logprob : null);
          top.push(
            sc
              ? Object.fromEntries(
                  alternatives(sc, logprobs, seq[j]).map((a) => [tokenText(ctx, a.id, asIds), a.logprob]),
                )
              : null,
          );
        }
        lp = { text_offset: offsets, token_logprobs: tokenLogprobs, tokens, top_logprobs: top };
      }
      choices.push({
        index: r,
        text,
        logprobs: lp,
        finish_reason: out ? out.finishReason[r] : "length",
        stop_reason: out ? stopReasonOf(out, r, s) : null,
        ...(withIds ? { token_ids: rIds, prompt_token_ids: pIds } : {}),
        prompt_logprobs: promptK !== null ? promptLogprobsJson(ctx, seq, scores, P, promptK) : null,
      });
    }
  }
  const promptTokens = prompts.ids.reduce((a, p) => a + p.length, 0);
  return {
    id: nextId("cmpl"),
    object: "text_completion",
    created: Math.floor(Date.now() / 1000),
    model: ctx.name,
    choices,
    usage: {
      prompt_tokens: promptTokens,
      total_tokens: promptTokens + completionTokens,
      completion_tokens: completionTokens,
    },
    system_fingerprint: null,
  };
}

/** Chat messages with OpenAI content parts ([{type: "text", text}]) flattened to strings. */
function messagesOf(b: Body): ChatMessage[] {
  const m = b.messages;
  if (!Array.isArray(m) || m.length === 0)
    throw new ApiError(400, `messages must be a non-empty list of {role, content} (got ${describe(m)}).`, "messages");
  return m.map((x, i) => {
    if (typeof x !== "object" || x === null || typeof (x as Body).role !== "string")
      throw new ApiError(400, `messages[${i}] must be {role, content} (got ${describe(x)}).`, "messages");
    const { role, content, ...rest } = x as Body;
    let text: string;
    if (typeof content === "string") text = content;
    else if (content === null || content === undefined) text = "";
    else if (
      Array.isArray(content) &&
      content.every((p) => p && (p as Body).type === "text" && typeof (p as Body).text === "string")
    )
      text = content.map((p) => (p as Body).text as string).join("");
    else
      throw new ApiError(
        400,
        `messages[${i}].content must be a string or a list of {type: "text", text} parts (got ${describe(content)}).`,
        "messages",
      );
    return { ...rest, role: role as string, content: text };
  });
}

/**
 * POST /v1/chat/completions: the chat template (the tokenizer's or --chat-template), then completions.
 * @example
 * const res = await remote.chatCompletions(ctx, {messages: [{role: "user", content: "2+2?"}], max_tokens: 8})
 * res.choices[0].message.content
 */
export async function chatCompletions(ctx: ServeContext, body: unknown): Promise<Record<string, unknown>> {
  const { pIds, s, maxTokens, wantLogprobs, topK, promptK, asIds, withIds } = chatRequest(ctx, body);
  const out = await sample(ctx, [pIds], maxTokens, s);
  const P = pIds.length;
  let promptLp: unknown = null;
  const seqs = out.ids.map((rIds) => [...pIds, ...rIds]);
  // logprobs without alternatives or prompt_logprobs: the sampler's own raw logprobs suffice (no second pass)
  const fromSampler = wantLogprobs && !topK && promptK === null;
  const allScores =
    wantLogprobs && !fromSampler
      ? await scoreAll(ctx, seqs, Math.max(topK ?? 0, promptK ?? 0))
      : promptK !== null
        ? await scoreAll(ctx, seqs.slice(0, 1), promptK)
        : null;
  const choices = out.ids.map((rIds, r) => {
    const seq = seqs[r];
    const scores = allScores?.[r] ?? [];
    if (promptK !== null && r === 0) promptLp = promptLogprobsJson(ctx, seq, scores, P, promptK);
    const content = wantLogprobs
      ? rIds.map((id, i) => {
          const tok = tokenText(ctx, id, asIds);
          const bytes = bytesOf(asIds ? ctx.tokenizer.decode([id]) : tok);
          if (fromSampler) return { token: tok, logprob: out.rawLogprobs[r][i], bytes, top_logprobs: [] };
          const sc = scores[P + i]!;
          const alts = sc.top.slice(0, topK ?? 0).map((a) => {
            const t = tokenText(ctx, a.id, asIds);
            return { token: t, logprob: a.logprob, bytes: bytesOf(asIds ? ctx.tokenizer.decode([a.id]) : t) };
          });
          return { token: tok, logprob: sc.logprob, bytes, top_logprobs: alts };
        })
      : null;
    return {
      index: r,
      message: { role: "assistant", content: rowText(ctx, out, r, s), reasoning_content: null, tool_calls: [] },
      logprobs: content ? { content } : null,
      finish_reason: out.finishReason[r],
      stop_reason: stopReasonOf(out, r, s),
      ...(withIds ? { token_ids: rIds } : {}),
    };
  });
  const completionTokens = out.lengths.reduce((a, x) => a + x, 0);
  return {
    id: nextId("chatcmpl"),
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: ctx.name,
    choices,
    usage: { prompt_tokens: P, total_tokens: P + completionTokens, completion_tokens: completionTokens },
    prompt_logprobs: promptLp,
    ...(withIds ? { prompt_token_ids: pIds } : {}),
  };
}

/**
 * The fields of a /v1/chat/completions body (the chat template applied), validated (ApiError 400 / 404 otherwise).
 * @example chatRequest(ctx, {messages: [{role: "user", content: "hi"}]}).pIds.length
 */
export function chatRequest(ctx: ServeContext, body: unknown) {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new ApiError(400, `The request body must be a JSON object (got ${describe(body)}).`);
  const b = body as Body;
  checkModel(ctx, b);
  const messages = messagesOf(b);
  const template = ctx.chatTemplate ?? (ctx.tokenizer as { chatTemplate?: string | null }).chatTemplate ?? null;
  if (!template)
    throw new ApiError(
      400,
      "The model has no chat template. Start cellrl serve with --chat-template NAME|FILE (chatml, qwen2.5, " +
        "plain, or a Jinja file), or save the tokenizer with a chat template; or use /v1/completions.",
      "messages",
    );
  let text: string;
  try {
    text = applyChatTemplate(messages, {
      tokenizer: ctx.tokenizer,
      template,
      addGenerationPrompt: bool(b, "add_generation_prompt", true),
      context:
        typeof b.chat_template_kwargs === "object" && b.chat_template_kwargs !== null
          ? (b.chat_template_kwargs as Record<string, unknown>)
          : {},
    });
  } catch (e) {
    throw new ApiError(400, `The chat template failed on these messages: ${(e as Error).message}`, "messages");
  }
  const {
    ids: [pIds],
  } = promptsOf(ctx, { prompt: text, add_special_tokens: false });
  const s = samplingOf(ctx, b);
  const L = ctx.model.config.max_position_embeddings;
  const maxTokens = (int(b, "max_completion_tokens", null, 1) ??
    int(b, "max_tokens", null, 1) ??
    Math.max(1, Math.min(ctx.maxTokens, L - pIds.length))) as number;
  const wantLogprobs = bool(b, "logprobs", false);
  const topK = int(b, "top_logprobs", null, 0, ctx.maxLogprobs);
  if (topK !== null && topK > 0 && !wantLogprobs)
    throw new ApiError(400, "top_logprobs needs logprobs: true.", "top_logprobs");
  const promptK = int(b, "prompt_logprobs", null, 0, ctx.maxLogprobs);
  const asIds = bool(b, "return_tokens_as_token_ids", false);
  const withIds = bool(b, "return_token_ids", false);
  limitCheck(ctx, 1, s.n, maxTokens);
  contextCheck(ctx, [pIds], maxTokens);
  return { b, pIds, s, maxTokens, wantLogprobs, topK, promptK, asIds, withIds };
}

/**
 * POST /tokenize (vLLM): {prompt} or {messages} → {count, max_model_len, tokens}.
 * @example remote.tokenize(ctx, {prompt: "1+1="}).tokens
 */
export function tokenize(ctx: ServeContext, body: unknown): Record<string, unknown> {
  const b = (typeof body === "object" && body !== null ? body : {}) as Body;
  let ids: number[];
  if (b.messages !== undefined) {
    const template = ctx.chatTemplate ?? (ctx.tokenizer as { chatTemplate?: string | null }).chatTemplate ?? null;
    if (!template)
      throw new ApiError(400, "The model has no chat template (start cellrl serve with --chat-template).", "messages");
    ids = promptsOf(ctx, {
      prompt: applyChatTemplate(messagesOf(b), {
        tokenizer: ctx.tokenizer,
        template,
        addGenerationPrompt: bool(b, "add_generation_prompt", true),
      }),
      add_special_tokens: false,
    }).ids[0];
  } else {
    if (typeof b.prompt !== "string")
      throw new ApiError(400, `prompt must be a string (got ${describe(b.prompt)}).`, "prompt");
    ids = ctx.tokenizer.encode(b.prompt, { addSpecialTokens: bool(b, "add_special_tokens", true) });
  }
  return { count: ids.length, max_model_len: ctx.model.config.max_position_embeddings, tokens: ids };
}

/**
 * POST /detokenize (vLLM): {tokens} → {prompt}.
 * @example remote.detokenize(ctx, {tokens: [5, 6]}).prompt
 */
export function detokenize(ctx: ServeContext, body: unknown): Record<string, unknown> {
  const t = (body as Body | null)?.tokens;
  const V = ctx.model.config.vocab_size;
  if (!Array.isArray(t) || t.some((x) => !Number.isInteger(x) || x < 0 || x >= V))
    throw new ApiError(400, `tokens must be token ids in [0, ${V}) (got ${describe(t)}).`, "tokens");
  return { prompt: ctx.tokenizer.decode(t as number[]) };
}
