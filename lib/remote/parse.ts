// Read completion and chat-completion bodies as vLLM, SGLang, llama.cpp and `cellrl serve` write them:
// - completions logprobs, legacy shape: {tokens, token_logprobs, top_logprobs: [{token: lp}], text_offset}
// - chat logprobs (and llama.cpp's completions): {content: [{token, logprob, bytes, top_logprobs: [{token, logprob}],
// id?}]}
// - vLLM extensions: token_ids / prompt_token_ids (return_token_ids), "token_id:N" token strings
//   (return_tokens_as_token_ids), prompt_logprobs: [null, {"<id>": {logprob, rank, decoded_token}}, ...].
// Everything is checked: a malformed body is an error naming the field, never a NaN.
import { describe, fail } from "../core/errors.js";

/** One alternative token at a position. */
export interface TokenAlt {
  /** Token id when the server gave one ("token_id:N" strings, llama.cpp `id`, prompt_logprobs keys), else null. */
  id: number | null;
  token: string;
  logprob: number;
  /** 1-based rank in the distribution (prompt_logprobs), or null. */
  rank: number | null;
}

/** One token of a logprobs list. */
export interface TokenEntry {
  id: number | null;
  token: string;
  /** null where the server gives none (the first token of an echoed prompt). */
  logprob: number | null;
  /** Top alternatives, best first, or null when not asked for. */
  top: TokenAlt[] | null;
}

/** One position of vLLM's prompt_logprobs (null for the first token, which has no prediction). */
export type PromptPosition = TokenAlt[] | null;

/** One choice, whatever the endpoint. */
export interface ParsedChoice {
  index: number;
  /** Completion text, or the assistant message content. */
  text: string;
  /** Per-token logprobs of the returned text (echoed prompt first when echo), or null. */
  tokens: TokenEntry[] | null;
  /** Generated token ids (vLLM return_token_ids), or null. */
  tokenIds: number[] | null;
  finishReason: string | null;
  stopReason: string | number | null;
  /** Prompt token ids (vLLM return_token_ids), or null. */
  promptTokenIds: number[] | null;
  /** vLLM prompt_logprobs, or null. */
  promptLogprobs: PromptPosition[] | null;
}

/** A parsed completion or chat-completion body. */
export interface ParsedResponse {
  model: string | null;
  choices: ParsedChoice[];
  usage: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number } | null;
}

type Where = { where: string; url: string };

function bad(ctx: Where, field: string, got: unknown, expected: string): never {
  return fail(
    "remote",
    `${ctx.where}: ${ctx.url} answered with a malformed ${field} (got ${describe(got)}; ` +
      `expected ${expected}). Check that the server is OpenAI-compatible (vLLM, SGLang, llama.cpp, cellrl serve).`,
    { path: [field], got: describe(got) },
  );
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

/**
 * The id in a vLLM "token_id:N" token string, or null.
 * @example remote.tokenIdOf("token_id:1234") // 1234
 */
export function tokenIdOf(token: unknown): number | null {
  if (typeof token !== "string") return null;
  const m = /^token_id:(\d+)$/.exec(token);
  return m ? Number(m[1]) : null;
}

function num(x: unknown, ctx: Where, field: string): number {
  if (typeof x !== "number" || Number.isNaN(x)) bad(ctx, field, x, "a number");
  return x as number;
}

function ids(x: unknown, ctx: Where, field: string): number[] | null {
  if (x === undefined || x === null) return null;
  if (!Array.isArray(x) || x.some((v) => !Number.isInteger(v) || v < 0)) bad(ctx, field, x, "a list of token ids");
  return x as number[];
}

/** Legacy completions logprobs → entries. */
function legacyEntries(lp: Record<string, unknown>, ctx: Where, field: string): TokenEntry[] {
  const { tokens, token_logprobs: tl, top_logprobs: top } = lp;
  if (!Array.isArray(tokens) || tokens.some((t) => typeof t !== "string"))
    bad(ctx, `${field}.tokens`, tokens, "a list of token strings");
  const toks = tokens as string[];
  if (!Array.isArray(tl) || tl.length !== toks.length)
    bad(ctx, `${field}.token_logprobs`, tl, `${toks.length} numbers (one per token)`);
  if (top !== undefined && top !== null && (!Array.isArray(top) || top.length !== toks.length))
    bad(ctx, `${field}.top_logprobs`, top, `${toks.length} entries (one per token)`);
  return toks.map((token, i) => {
    const v = (tl as unknown[])[i];
    const logprob = v === null ? null : num(v, ctx, `${field}.token_logprobs[${i}]`);
    const t = Array.isArray(top) ? top[i] : undefined;
    let alts: TokenAlt[] | null = null;
    if (isObj(t)) {
      alts = Object.entries(t).map(([tok, l]) => ({
        id: tokenIdOf(tok),
        token: tok,
        logprob: num(l, ctx, `${field}.top_logprobs[${i}]`),
        rank: null,
      }));
      alts.sort((a, b) => b.logprob - a.logprob);
    } else if (t !== undefined && t !== null)
      bad(ctx, `${field}.top_logprobs[${i}]`, t, "an object {token: logprob} or null");
    return { id: tokenIdOf(token), token, logprob, top: alts };
  });
}

/** Chat-style logprobs ({content: [...]}) → entries. */
function contentEntries(content: unknown, ctx: Where, field: string): TokenEntry[] {
  if (!Array.isArray(content)) bad(ctx, `${field}.content`, content, "a list of {token, logprob, top_logprobs}");
  return (content as unknown[]).map((e, i) => {
    if (!isObj(e) || typeof e.token !== "string")
      bad(ctx, `${field}.content[${i}]`, e, "{token, logprob, top_logprobs}");
    const el = e as Record<string, unknown>;
    const id = Number.isInteger(el.id) ? (el.id as number) : tokenIdOf(el.token);
    const logprob = el.logprob === null ? null : num(el.logprob, ctx, `${field}.content[${i}].logprob`);
    let alts: TokenAlt[] | null = null;
    if (Array.isArray(el.top_logprobs))
      alts = el.top_logprobs.map((a, k) => {
        if (!isObj(a) || typeof a.token !== "string")
          bad(ctx, `${field}.content[${i}].top_logprobs[${k}]`, a, "{token, logprob}");
        return {
          id: Number.isInteger(a.id) ? (a.id as number) : tokenIdOf(a.token),
          token: a.token as string,
          logprob: num(a.logprob, ctx, `${field}.content[${i}].top_logprobs[${k}].logprob`),
          rank: null,
        };
      });
    return { id, token: el.token as string, logprob, top: alts };
  });
}

/**
 * Token entries of a logprobs object in either shape (legacy completions or chat content), or null.
 * @example remote.parseLogprobs({tokens: ["a"], token_logprobs: [-0.5], top_logprobs: null}, ctx)
 */
export function parseLogprobs(lp: unknown, ctx: Where, field = "logprobs"): TokenEntry[] | null {
  if (lp === undefined || lp === null) return null;
  if (!isObj(lp)) bad(ctx, field, lp, "an object or null");
  const o = lp as Record<string, unknown>;
  if ("content" in o) return o.content === null ? [] : contentEntries(o.content, ctx, field);
  return legacyEntries(o, ctx, field);
}

/**
 * vLLM prompt_logprobs: per prompt position, the alternatives {id, logprob, rank} (null at position 0), or null.
 * @example remote.parsePromptLogprobs([null, {"5": {logprob: -1.2, rank: 2, decoded_token: "a"}}], ctx)[1][0].id // 5
 */
export function parsePromptLogprobs(list: unknown, ctx: Where, field = "prompt_logprobs"): PromptPosition[] | null {
  if (list === undefined || list === null) return null;
  if (!Array.isArray(list))
    bad(ctx, field, list, "a list (null first, then one {id: {logprob, rank}} per prompt token)");
  return (list as unknown[]).map((pos, j) => {
    if (pos === null) return null;
    if (!isObj(pos)) bad(ctx, `${field}[${j}]`, pos, "an object {token id: {logprob, rank, decoded_token}} or null");
    const alts = Object.entries(pos as Record<string, unknown>).map(([key, v]) => {
      const id = /^\d+$/.test(key) ? Number(key) : tokenIdOf(key);
      if (id === null) bad(ctx, `${field}[${j}] key`, key, "a token id");
      // vLLM writes {logprob, rank, decoded_token}; tolerate a bare number
      const lp = isObj(v) ? v.logprob : v;
      const rank = isObj(v) && Number.isInteger(v.rank) ? (v.rank as number) : null;
      const token = isObj(v) && typeof v.decoded_token === "string" ? v.decoded_token : String(key);
      return { id, token, logprob: num(lp, ctx, `${field}[${j}]["${key}"].logprob`), rank };
    });
    alts.sort((a, b) => (a.rank !== null && b.rank !== null ? a.rank - b.rank : b.logprob - a.logprob));
    return alts;
  });
}

/**
 * Parse a /v1/completions or /v1/chat/completions body into choices (checked; errors name the field).
 * @example const r = remote.parseResponse(json, {where: "remote.RemotePolicy.generate", url}); r.choices[0].text
 */
export function parseResponse(json: unknown, ctx: Where): ParsedResponse {
  if (!isObj(json)) bad(ctx, "response", json, "a JSON object with choices");
  const j = json as Record<string, unknown>;
  if (!Array.isArray(j.choices)) bad(ctx, "response.choices", j.choices, "a list of choices");
  // chat completions carry prompt logprobs / ids once at the top level; completions per choice
  const topPromptLp = parsePromptLogprobs(j.prompt_logprobs, ctx);
  const topPromptIds = ids(j.prompt_token_ids, ctx, "prompt_token_ids");
  const choices = (j.choices as unknown[]).map((c, i): ParsedChoice => {
    if (!isObj(c)) bad(ctx, `choices[${i}]`, c, "an object");
    const ch = c as Record<string, unknown>;
    let text: unknown = ch.text;
    if (text === undefined && isObj(ch.message)) text = ch.message.content ?? "";
    if (typeof text !== "string")
      bad(ctx, `choices[${i}].text`, text, "a string (completions) or message.content (chat)");
    const index = Number.isInteger(ch.index) ? (ch.index as number) : i;
    const sr = ch.stop_reason;
    return {
      index,
      text: text as string,
      tokens: parseLogprobs(ch.logprobs, ctx, `choices[${i}].logprobs`),
      tokenIds: ids(ch.token_ids, ctx, `choices[${i}].token_ids`),
      finishReason: typeof ch.finish_reason === "string" ? ch.finish_reason : null,
      stopReason: typeof sr === "string" || typeof sr === "number" ? sr : null,
      promptTokenIds: ids(ch.prompt_token_ids, ctx, `choices[${i}].prompt_token_ids`) ?? topPromptIds,
      promptLogprobs: parsePromptLogprobs(ch.prompt_logprobs, ctx, `choices[${i}].prompt_logprobs`) ?? topPromptLp,
    };
  });
  choices.sort((a, b) => a.index - b.index);
  return {
    model: typeof j.model === "string" ? j.model : null,
    choices,
    usage: isObj(j.usage) ? (j.usage as ParsedResponse["usage"]) : null,
  };
}

/**
 * The generated token ids of a choice: token_ids, else the ids in its logprobs tokens, else null (unknown).
 * @example remote.choiceIds(choice) // [17, 4, 2]
 */
export function choiceIds(choice: ParsedChoice): number[] | null {
  if (choice.tokenIds) return choice.tokenIds;
  if (choice.tokens && choice.tokens.every((t) => t.id !== null)) return choice.tokens.map((t) => t.id!);
  return null;
}
