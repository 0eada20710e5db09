// Server-sent events of OpenAI-compatible streaming (vLLM, SGLang, llama.cpp, `cellrl serve`): the `data:` payloads
// of an event stream, and the chunks of one streamed completion or chat completion folded back into the body the
// same request answers with stream: false (choices by index; text / delta.content, logprobs and token_ids
// concatenated; the last finish_reason; the usage chunk), so parseResponse reads both alike.
import { describe, fail } from "../core/errors.js";

type Where = { where: string; url: string };
type Obj = Record<string, unknown>;

const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

/**
 * The `data:` payloads of an event stream, in order (multi-line data joined with "\n"; comments and other fields
 * skipped).
 * @example sseData("data: {\"a\":1}\n\ndata: [DONE]\n\n") // ['{"a":1}', "[DONE]"]
 */
export function sseData(text: string): string[] {
  const out: string[] = [];
  for (const block of text.split(/\r\n\r\n|\n\n|\r\r/)) {
    const data: string[] = [];
    for (const line of block.split(/\r\n|\n|\r/)) {
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      if (field !== "data") continue;
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      data.push(value);
    }
    if (data.length) out.push(data.join("\n"));
  }
  return out;
}

/** What a streamed response folds into: the body, or the error event the server sent instead. */
export type CollectedStream =
  { ok: true; body: Obj; chunks: number } | { ok: false; status: number | null; message: string };

function bad(ctx: Where, what: string, got: unknown, expected: string): never {
  return fail(
    "remote",
    `${ctx.where}: ${ctx.url} streamed a malformed ${what} (got ${describe(got)}; expected ${expected}). Check ` +
      `that the server is OpenAI-compatible (vLLM, SGLang, llama.cpp, cellrl serve), or send stream: false.`,
    { path: [what], got: describe(got) },
  );
}

interface Acc {
  index: number;
  text: string;
  chat: boolean;
  legacy: { tokens: unknown[]; token_logprobs: unknown[]; top_logprobs: unknown[]; text_offset: unknown[] } | null;
  content: unknown[] | null;
  tokenIds: number[] | null;
  promptTokenIds: unknown;
  finishReason: unknown;
  stopReason: unknown;
}

/**
 * Fold the event stream of one streamed /v1/completions or /v1/chat/completions request into the body stream: false
 * answers with; an error event gives {ok: false}; a stream without `data: [DONE]` (cut short) is an error.
 * @example const r = collectStream(res.body, {where: "remote.RemotePolicy.generate", url}); if (r.ok) r.body.choices
 */
export function collectStream(text: string, ctx: Where): CollectedStream {
  const data = sseData(text);
  const done = data.indexOf("[DONE]");
  if (done < 0)
    bad(ctx, "event stream", text.slice(-200), "events ending with data: [DONE] (the stream was cut short)");
  const accs = new Map<number, Acc>();
  let head: Obj | null = null;
  let usage: unknown = null;
  let topPromptIds: unknown = undefined;
  let chunks = 0;
  for (const payload of data.slice(0, done)) {
    let j: unknown;
    try {
      j = JSON.parse(payload);
    } catch {
      bad(ctx, "event", payload.slice(0, 200), "a JSON chunk");
    }
    if (!isObj(j)) bad(ctx, "event", j, "a JSON object");
    const chunk = j as Obj;
    if (chunk.error !== undefined) {
      const e = isObj(chunk.error) ? chunk.error : { message: String(chunk.error) };
      const code = Number.isInteger(e.code) ? (e.code as number) : null;
      return { ok: false, status: code, message: typeof e.message === "string" ? e.message : describe(e) };
    }
    chunks++;
    head ??= chunk;
    if (isObj(chunk.usage)) usage = chunk.usage;
    if (chunk.prompt_token_ids !== undefined && chunk.prompt_token_ids !== null) topPromptIds = chunk.prompt_token_ids;
    if (!Array.isArray(chunk.choices)) bad(ctx, "chunk.choices", chunk.choices, "a list");
    for (const c of chunk.choices as unknown[]) {
      if (!isObj(c) || !Number.isInteger(c.index)) bad(ctx, "chunk choice", c, "{index, text | delta, ...}");
      const ch = c as Obj;
      const index = ch.index as number;
      let a = accs.get(index);
      if (!a) {
        a = {
          index,
          text: "",
          chat: isObj(ch.delta),
          legacy: null,
          content: null,
          tokenIds: null,
          promptTokenIds: undefined,
          finishReason: null,
          stopReason: null,
        };
        accs.set(index, a);
      }
      if (isObj(ch.delta)) {
        const piece = ch.delta.content;
        if (piece !== undefined && piece !== null && typeof piece !== "string")
          bad(ctx, `choices[${index}].delta.content`, piece, "a string");
        a.text += piece ?? "";
      } else if (ch.text !== undefined && ch.text !== null) {
        if (typeof ch.text !== "string") bad(ctx, `choices[${index}].text`, ch.text, "a string");
        a.text += ch.text;
      }
      const lp = ch.logprobs;
      if (isObj(lp)) {
        if ("content" in lp) {
          if (lp.content !== null && !Array.isArray(lp.content))
            bad(ctx, `choices[${index}].logprobs.content`, lp.content, "a list");
          (a.content ??= []).push(...((lp.content as unknown[] | null) ?? []));
        } else {
          a.legacy ??= { tokens: [], token_logprobs: [], top_logprobs: [], text_offset: [] };
          for (const k of ["tokens", "token_logprobs", "top_logprobs", "text_offset"] as const) {
            const v = lp[k];
            if (v === undefined || v === null) continue;
            if (!Array.isArray(v)) bad(ctx, `choices[${index}].logprobs.${k}`, v, "a list");
            a.legacy[k].push(...v);
          }
        }
      }
      if (Array.isArray(ch.token_ids)) (a.tokenIds ??= []).push(...(ch.token_ids as number[]));
      if (ch.prompt_token_ids !== undefined && ch.prompt_token_ids !== null && a.promptTokenIds === undefined)
        a.promptTokenIds = ch.prompt_token_ids;
      if (ch.finish_reason !== undefined && ch.finish_reason !== null) a.finishReason = ch.finish_reason;
      if (ch.stop_reason !== undefined && ch.stop_reason !== null) a.stopReason = ch.stop_reason;
    }
  }
  const chat = [...accs.values()].some((a) => a.chat) || head?.object === "chat.completion.chunk";
  const choices = [...accs.values()]
    .sort((x, y) => x.index - y.index)
    .map((a) => {
      const logprobs = a.content ? { content: a.content } : a.legacy;
      const common = {
        index: a.index,
        logprobs: logprobs ?? null,
        finish_reason: a.finishReason,
        stop_reason: a.stopReason,
        ...(a.tokenIds ? { token_ids: a.tokenIds } : {}),
        ...(a.promptTokenIds !== undefined ? { prompt_token_ids: a.promptTokenIds } : {}),
      };
      return chat ? { ...common, message: { role: "assistant", content: a.text } } : { ...common, text: a.text };
    });
  return {
    ok: true,
    chunks,
    body: {
      id: head?.id ?? null,
      object: chat ? "chat.completion" : "text_completion",
      created: head?.created ?? null,
      model: head?.model ?? null,
      choices,
      usage,
      ...(topPromptIds !== undefined ? { prompt_token_ids: topPromptIds } : {}),
    },
  };
}
