// Streaming (server-sent events) of `cellrl serve`: /v1/completions and /v1/chat/completions with stream: true, in
// vLLM's chunk format. One chunk per choice per decode step (choices interleaved by index; completions carry `text`
// and legacy logprobs {tokens, token_logprobs, top_logprobs, text_offset}, chat carries `delta` and
// logprobs.content), finish_reason / stop_reason on a choice's last chunk, the usage chunk (choices: []) when
// stream_options.include_usage, then `data: [DONE]`. The decode loop is generate()'s, step by step: the same rows,
// the same per-row Rng forks and draws, so a seeded stream samples exactly what stream: false samples. Between steps
// it awaits ctx.between, which yields to the event loop and throws once the client has gone: the KV cache is freed
// and the server's queue moves on.
import { Rng } from "../core/random.js";
import { eosIds } from "../model/config.js";
import { decodeSteps } from "../model/generate.js";
import { checkSampling } from "../model/sampling.js";
import {
  ApiError,
  bool,
  bytesOf,
  chatRequest,
  completionsRequest,
  nextId,
  tokenText,
  vllmStopReason,
  type Body,
  type Sampling,
  type ServeContext,
} from "./serve-api.js";

/** Where stream chunks go: each becomes one `data: <json>` event. */
export type ChunkSink = (chunk: Record<string, unknown>) => void;

/** One row's token of one decode step. */
interface StepToken {
  /** Row within the batch (prompt * n + sample). */
  row: number;
  id: number;
  /** Raw logprob (temperature 1, no filters), as generate's rawLogprobs. */
  logprob: number;
  /** The k best raw alternatives, best first (k = 0: empty). */
  top: { id: number; logprob: number }[];
  /** Set on the row's last token. */
  finish: "stop" | "length" | null;
  /** What stopped it (generate's stopReason): the stop string, the token id, or null. */
  why: string | number | null;
}

/** Log-softmax of a logits row, as logprobOf computes it, for the k best ids (best first). */
function topOf(row: Float32Array, k: number): { id: number; logprob: number }[] {
  if (k <= 0) return [];
  let m = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > m) m = row[i];
  let s = 0;
  for (let i = 0; i < row.length; i++) s += Math.exp(row[i] - m);
  const ls = Math.log(s);
  const ids: number[] = [];
  for (let i = 0; i < row.length; i++) {
    if (ids.length === k && row[i] <= row[ids[k - 1]]) continue;
    let at = ids.length < k ? ids.length : k - 1;
    while (at > 0 && row[ids[at - 1]] < row[i]) at--;
    ids.splice(at, 0, i);
    if (ids.length > k) ids.pop();
  }
  return ids.map((id) => ({ id, logprob: row[id] - m - ls }));
}

/**
 * generate()'s KV-cache decode loop (model.decodeSteps) for a batch of prompts (n rows each), one step at a time:
 * `onStep` gets every live row's token, then ctx.between is awaited (it throws when the client left; leaving the loop
 * frees the cache either way).
 */
async function streamSteps(
  ctx: ServeContext,
  prompts: number[][],
  maxNew: number,
  s: Sampling,
  k: number,
  rng: Rng,
  onStep: (tokens: StepToken[]) => void,
): Promise<void> {
  const { model, tokenizer } = ctx;
  const sampling = checkSampling({ temperature: s.temperature, topP: s.top_p, topK: s.top_k, minP: s.min_p }, "serve");
  const endIds = new Set<number>(s.stop_token_ids);
  if (!s.ignore_eos) {
    for (const e of eosIds(model.config)) endIds.add(e);
    if (tokenizer.eosTokenId !== undefined) endIds.add(tokenizer.eosTokenId);
  }
  const pad = tokenizer.padTokenId ?? model.config.pad_token_id ?? tokenizer.eosTokenId ?? 0;
  const stops = s.stop;
  let step = 0;
  for (const tokens of decodeSteps({ model, prompts, n: s.n, maxNew, sampling, endIds, stops, tokenizer, pad, rng })) {
    const last = step++ === maxNew - 1;
    onStep(
      tokens.map((t) => ({
        row: t.row,
        id: t.id,
        logprob: t.rawLogprob,
        top: topOf(t.logits, k),
        finish: t.why !== null ? "stop" : last ? "length" : null,
        why: t.why,
      })),
    );
    // no tensor is alive here but the cache: a client that left stops the request before the next forward
    await ctx.between?.();
  }
}

/**
 * The text of a row's ids so far that is safe to send: complete characters only, and not the last maxStop - 1 of
 * them while a stop string could still start there (the final text is cut before a matched stop string).
 */
function settledText(ctx: ServeContext, ids: number[], s: Sampling, maxStop: number): string {
  let t = ctx.tokenizer.decode(ids, { skipSpecialTokens: s.skip_special_tokens });
  if (maxStop > 1) t = t.slice(0, Math.max(0, t.length - (maxStop - 1)));
  while (t.endsWith("\uFFFD")) t = t.slice(0, -1);
  return t;
}

/** A finished row's text, as stream: false answers it (cut before, or after with include_stop_str_in_output, the
 * matched stop string). */
function finalText(ctx: ServeContext, ids: number[], why: string | number | null, s: Sampling): string {
  const t = ctx.tokenizer.decode(ids, { skipSpecialTokens: s.skip_special_tokens });
  if (typeof why !== "string") return t;
  const at = t.indexOf(why);
  return at < 0 ? t : t.slice(0, at + (s.include_stop_str_in_output ? why.length : 0));
}

function streamOptions(b: Body) {
  const so = (b.stream_options ?? {}) as Body;
  return { usage: bool(so, "include_usage", false), continuous: bool(so, "continuous_usage_stats", false) };
}

/** Per-row bookkeeping of a stream: the text sent so far and the token count. */
class RowState {
  sent = "";
  ids: number[] = [];
  first = true;
}

/**
 * Sample a request's prompts in batches of about ctx.batchRows rows (sample()'s batching and Rng), calling `emit`
 * with each step's tokens, the global row index and the text delta to send.
 */
async function streamRows(
  ctx: ServeContext,
  prompts: number[][],
  maxTokens: number,
  s: Sampling,
  k: number,
  emit: (r: number, t: StepToken, delta: string, state: RowState) => void,
): Promise<RowState[]> {
  const rng = s.seed !== null ? new Rng(s.seed) : ctx.rng;
  const per = Math.max(1, Math.floor(ctx.batchRows / s.n));
  const maxStop = s.stop.reduce((a, x) => Math.max(a, x.length), 0);
  const states = Array.from({ length: prompts.length * s.n }, () => new RowState());
  for (let at = 0; at < prompts.length; at += per) {
    await ctx.between?.();
    const base = at * s.n;
    await streamSteps(ctx, prompts.slice(at, at + per), maxTokens, s, k, rng, (tokens) => {
      for (const t of tokens) {
        const st = states[base + t.row];
        st.ids.push(t.id);
        const text = t.finish ? finalText(ctx, st.ids, t.why, s) : settledText(ctx, st.ids, s, maxStop);
        // a tokenizer whose decode is not prefix-stable: hold the text back until the row ends, then send what lies
        // beyond the length already sent (sent text cannot be taken back)
        const delta = text.startsWith(st.sent) || t.finish ? text.slice(st.sent.length) : "";
        emit(base + t.row, t, delta, st);
        st.sent += delta;
        st.first = false;
      }
    });
  }
  return states;
}

/** What this server does not stream (vLLM does): echo and prompt_logprobs; refused before any event. */
function refuseUnstreamable(echo: boolean, promptK: number | null): void {
  for (const [field, on] of [
    ["echo", echo],
    ["prompt_logprobs", promptK !== null],
  ] as const)
    if (on)
      throw new ApiError(
        400,
        `${field} is not supported with stream: true by cellrl serve; send stream: false.`,
        field,
      );
}

const usageOf = (prompt: number, completion: number) => ({
  prompt_tokens: prompt,
  total_tokens: prompt + completion,
  completion_tokens: completion,
});

/**
 * POST /v1/completions with stream: true. Validates now (ApiError before any byte is sent) and returns the run, which
 * sends the chunks (without the final [DONE]) to `sink`.
 * @example const run = streamCompletions(ctx, {prompt: "1+1=", stream: true}); await run((c) => res.write(...))
 */
export function streamCompletions(ctx: ServeContext, body: unknown): (sink: ChunkSink) => Promise<void> {
  const { b, prompts, s, echo, maxTokens, logprobs, promptK, asIds, withIds } = completionsRequest(ctx, body);
  refuseUnstreamable(echo, promptK);
  const opts = streamOptions(b);
  const id = nextId("cmpl");
  const created = Math.floor(Date.now() / 1000);
  const promptTokens = prompts.ids.reduce((a, p) => a + p.length, 0);
  return async (sink) => {
    let completionTokens = 0;
    await streamRows(ctx, prompts.ids, maxTokens, s, logprobs ?? 0, (r, t, delta, st) => {
      completionTokens++;
      let lp: Record<string, unknown> | null = null;
      if (logprobs !== null) {
        const tok = tokenText(ctx, t.id, asIds);
        const alts = logprobs === 0 ? [] : t.top.map((a) => [tokenText(ctx, a.id, asIds), a.logprob] as const);
        if (!t.top.some((a) => a.id === t.id)) alts.push([tok, t.logprob]);
        lp = {
          text_offset: [st.sent.length],
          token_logprobs: [t.logprob],
          tokens: [tok],
          top_logprobs: [Object.fromEntries(alts)],
        };
      }
      const g = Math.floor(r / s.n);
      sink({
        id,
        object: "text_completion",
        created,
        model: ctx.name,
        choices: [
          {
            index: r,
            text: delta,
            logprobs: lp,
            finish_reason: t.finish,
            stop_reason: t.finish ? vllmStopReason(t.why, s) : null,
            ...(withIds ? { token_ids: [t.id], ...(st.first ? { prompt_token_ids: prompts.ids[g] } : {}) } : {}),
          },
        ],
        ...(opts.continuous ? { usage: usageOf(prompts.ids[g].length, st.ids.length) } : {}),
      });
    });
    if (opts.usage)
      sink({
        id,
        object: "text_completion",
        created,
        model: ctx.name,
        choices: [],
        usage: usageOf(promptTokens, completionTokens),
      });
  };
}

/**
 * POST /v1/chat/completions with stream: true: a role chunk per choice, then content deltas; validates now.
 * @example const run = streamChat(ctx, {messages: [{role: "user", content: "hi"}], stream: true})
 */
export function streamChat(ctx: ServeContext, body: unknown): (sink: ChunkSink) => Promise<void> {
  const { b, pIds, s, maxTokens, wantLogprobs, topK, promptK, asIds, withIds } = chatRequest(ctx, body);
  refuseUnstreamable(false, promptK);
  const opts = streamOptions(b);
  const id = nextId("chatcmpl");
  const created = Math.floor(Date.now() / 1000);
  const P = pIds.length;
  const head = { id, object: "chat.completion.chunk", created, model: ctx.name };
  return async (sink) => {
    for (let r = 0; r < s.n; r++)
      sink({
        ...head,
        choices: [{ index: r, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }],
        ...(withIds && r === 0 ? { prompt_token_ids: pIds } : {}),
        ...(opts.continuous ? { usage: usageOf(P, 0) } : {}),
      });
    let completionTokens = 0;
    await streamRows(ctx, [pIds], maxTokens, s, wantLogprobs ? (topK ?? 0) : 0, (r, t, delta, st) => {
      completionTokens++;
      const tok = tokenText(ctx, t.id, asIds);
      const entry = wantLogprobs
        ? {
            token: tok,
            logprob: t.logprob,
            bytes: bytesOf(asIds ? ctx.tokenizer.decode([t.id]) : tok),
            top_logprobs: t.top.map((a) => {
              const at = tokenText(ctx, a.id, asIds);
              return { token: at, logprob: a.logprob, bytes: bytesOf(asIds ? ctx.tokenizer.decode([a.id]) : at) };
            }),
          }
        : null;
      sink({
        ...head,
        choices: [
          {
            index: r,
            delta: { content: delta },
            logprobs: entry ? { content: [entry] } : null,
            finish_reason: t.finish,
            stop_reason: t.finish ? vllmStopReason(t.why, s) : null,
            ...(withIds ? { token_ids: [t.id] } : {}),
          },
        ],
        ...(opts.continuous ? { usage: usageOf(P, st.ids.length) } : {}),
      });
    });
    if (opts.usage) sink({ ...head, choices: [], usage: usageOf(P, completionTokens) });
  };
}
