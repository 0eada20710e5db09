// Log-probabilities of given token sequences from a server: every position's logprob of its token and, optionally,
// the top-k alternatives. Two ways, tried in this order by "auto":
// 1. vLLM's prompt_logprobs extension (/v1/completions with prompt = the ids, max_tokens 1, prompt_logprobs K);
// 2. the legacy echo route (echo: true, logprobs K, max_tokens 1): the echoed prompt tokens carry logprobs.
// A server that ignores prompt_logprobs (returns none) or rejects it switches the scorer to echo for good.
import { describe, fail } from "../core/errors.js";
import { checkIntAtLeast } from "../core/checks.js";
import type { RemoteClient } from "./client.js";
import { inputLabel, RemoteRequestError, type Settled } from "./errors.js";
import { parseResponse, type ParsedChoice } from "./parse.js";
import { mapSettled } from "./pool.js";

// A 4xx that says the field itself is unknown (not that its value is out of range): only then is echo worth trying.
const REFUSED = "unknown|unrecognized|unsupported|not supported|not permitted|unexpected";
const UNSUPPORTED = new RegExp(
  `(${REFUSED}|extra (fields?|inputs?))[^.]{0,60}prompt_logprobs|prompt_logprobs[^.]{0,60}(${REFUSED}|extra)`,
  "i",
);

/** How sequences are scored. */
export type ScoringMode = "auto" | "prompt_logprobs" | "echo";

/** Scores of one sequence of L tokens. */
export interface SeqScore {
  /** log p(token j | tokens < j) for j = 0..L-1; null at j = 0 (no prediction). */
  logprobs: (number | null)[];
  /** The k best tokens per position, best first (null at j = 0), when k > 0; else null. */
  top: ({ ids: number[]; logprobs: number[] } | null)[] | null;
}

/** Options of RemoteScorer. */
export interface ScorerOptions {
  /** "auto" (prompt_logprobs, falling back to echo), "prompt_logprobs" or "echo". Defaults to "auto". */
  mode?: ScoringMode;
  /** Send vLLM's return_tokens_as_token_ids so echoed alternatives carry ids. Defaults to true. */
  extensions?: boolean;
  /** Maps a token string to its id, for echo alternatives without "token_id:N" (a local tokenizer's vocabulary). */
  tokenToId?: (token: string) => number | undefined;
  /** Sequences per request (a list of prompts; the server batches them). Defaults to 8. */
  scoreBatchSize?: number;
}

/**
 * Defaults of RemoteScorer.
 * @example remote.scorerDefaults.scoreBatchSize // 8
 */
export const scorerDefaults = { mode: "auto" as ScoringMode, extensions: true, scoreBatchSize: 8 };

/**
 * Scores token sequences on a server (prompt_logprobs or echo); used by RemotePolicy.score and remoteTeacher.
 * @example const s = new remote.RemoteScorer(client); const {values} = await s.scoreMany([[1, 5, 7]], 4, "remote.myFn")
 */
export class RemoteScorer {
  mode: ScoringMode;
  private readonly extensions: boolean;
  private readonly tokenToId?: (token: string) => number | undefined;
  private readonly batchSize: number;
  constructor(
    readonly client: RemoteClient,
    options: ScorerOptions = {},
  ) {
    const mode = options.mode ?? "auto";
    if (!["auto", "prompt_logprobs", "echo"].includes(mode))
      fail(
        "invalid_option",
        `remote.RemoteScorer: options.scoring must be "auto", "prompt_logprobs" or "echo" (got ${describe(mode)}).`,
        { path: ["scoring"] },
        RemoteScorer,
      );
    this.mode = mode;
    this.extensions = options.extensions ?? true;
    this.tokenToId = options.tokenToId;
    this.batchSize = options.scoreBatchSize ?? scorerDefaults.scoreBatchSize;
    checkIntAtLeast(
      { where: "remote.RemoteScorer", from: RemoteScorer },
      "options.scoreBatchSize",
      this.batchSize,
      1,
      "Use 1 for servers that take one prompt per request.",
      ["scoreBatchSize"],
    );
  }

  /**
   * Score each sequence, `batchSize` per request, requests concurrent up to the client's concurrency; the sequences of
   * finished requests are kept when others fail.
   * @example const {values, failures} = await scorer.scoreMany(seqs, 20, "remote.remoteTeacher")
   */
  async scoreMany(seqs: number[][], k: number, where: string): Promise<Settled<SeqScore>> {
    for (const [i, seq] of seqs.entries())
      if (seq.length < 2)
        fail(
          "invalid_input",
          `${where}: sequence ${i} has ${seq.length} token(s) (expected at least 2: the first has no prediction).`,
          { path: [i], got: seq.length },
        );
    const model = await this.client.ensureModel(where);
    const chunks: number[][] = [];
    for (let i = 0; i < seqs.length; i += this.batchSize)
      chunks.push(Array.from({ length: Math.min(this.batchSize, seqs.length - i) }, (_, j) => i + j));
    const out = await mapSettled(
      chunks,
      this.client.options.concurrency,
      (idx) =>
        this.scoreChunk(
          idx.map((i) => seqs[i]),
          k,
          where,
          model,
        ),
      this.client.options.signal,
    );
    const values: (SeqScore | null)[] = new Array(seqs.length).fill(null);
    const failures: Settled<SeqScore>["failures"] = [];
    out.forEach((o, c) =>
      chunks[c].forEach((i, j) =>
        o.ok ? (values[i] = o.value[j]) : failures.push({ index: i, input: inputLabel(seqs[i]), error: o.error }),
      ),
    );
    return { values, failures };
  }

  /** One request: its choices, checked to be one per sequence. */
  private async ask(chunk: number[][], body: Record<string, unknown>, where: string): Promise<ParsedChoice[]> {
    const url = this.client.urlOf("/completions");
    // one sequence goes as a plain id list (every server takes that); several as a list of lists (vLLM, SGLang,
    // llama.cpp)
    const choices = parseResponse(
      await this.client.request(
        "POST",
        "/completions",
        { ...body, prompt: chunk.length === 1 ? chunk[0] : chunk },
        where,
      ),
      { where, url },
    ).choices;
    if (choices.length !== chunk.length)
      fail(
        "remote",
        `${where}: ${url} returned ${choices.length} choices for ${chunk.length} prompts (expected one per ` +
          `prompt). The server does not take several prompts per request; use options.scoreBatchSize: 1.`,
        { got: choices.length, expected: chunk.length },
      );
    return choices;
  }

  /** Score the sequences of one request. */
  private async scoreChunk(chunk: number[][], k: number, where: string, model: string): Promise<SeqScore[]> {
    const url = this.client.urlOf("/completions");
    if (this.mode !== "echo") {
      // concurrent requests race: another one may switch the mode while this one is in flight
      const allowFallback = this.mode === "auto";
      let choices: ParsedChoice[] | null = null;
      try {
        choices = await this.ask(
          chunk,
          { model, max_tokens: 1, temperature: 1, prompt_logprobs: Math.max(1, k) },
          where,
        );
      } catch (e) {
        // a server that rejects the extension outright (400 naming it) gets the echo route instead, when allowed
        const rejected =
          e instanceof RemoteRequestError &&
          e.status !== null &&
          e.status >= 400 &&
          e.status < 500 &&
          UNSUPPORTED.test(e.message);
        if (!(rejected && allowFallback && this.mode !== "prompt_logprobs")) throw e;
      }
      if (choices && choices.every((c) => c.promptLogprobs)) {
        this.mode = "prompt_logprobs";
        return chunk.map((seq, j) => fromPromptLogprobs(seq, choices![j], k, where, url));
      }
      if (!allowFallback || this.mode === "prompt_logprobs")
        fail(
          "remote",
          `${where}: ${url} returned no prompt_logprobs (got a completion without them; expected vLLM's ` +
            `prompt_logprobs extension). Use options.scoring: "echo" or "auto" for servers without it.`,
          {},
        );
      this.mode = "echo";
    }
    const body: Record<string, unknown> = {
      model,
      echo: true,
      max_tokens: 1,
      temperature: 1,
      logprobs: Math.max(1, k),
    };
    if (this.extensions) body.return_tokens_as_token_ids = true;
    const choices = await this.ask(chunk, body, where);
    return chunk.map((seq, j) => this.fromEcho(seq, choices[j], k, where, url));
  }

  private fromEcho(seq: number[], choice: ParsedChoice, k: number, where: string, url: string): SeqScore {
    const toks = choice.tokens;
    if (!toks || toks.length < seq.length)
      fail(
        "remote",
        `${where}: ${url} echoed ${toks ? toks.length : "no"} tokens with logprobs for a ${seq.length}-token ` +
          `prompt (expected at least ${seq.length}). The server does not support echo with logprobs; use vLLM ` +
          `(prompt_logprobs) or cellrl serve.`,
        { got: toks?.length ?? null, expected: seq.length },
      );
    const logprobs: (number | null)[] = [null];
    const top: ({ ids: number[]; logprobs: number[] } | null)[] | null = k > 0 ? [null] : null;
    for (let j = 1; j < seq.length; j++) {
      const e = toks[j];
      if (e.id !== null && e.id !== seq[j])
        fail(
          "remote",
          `${where}: ${url} echoed token ${e.id} at position ${j} but the prompt has ${seq[j]} (expected the ` +
            `same ids back). The server re-tokenized the prompt; send token ids it accepts as is.`,
          { path: [j], got: e.id, expected: seq[j] },
        );
      if (e.logprob === null)
        fail("remote", `${where}: ${url} gave no logprob for echoed position ${j} (got null; expected a number).`, {
          path: [j],
        });
      logprobs.push(e.logprob);
      if (top) {
        const alts = (e.top ?? [])
          .slice(0, k)
          .map((a) => ({ id: a.id ?? this.tokenToId?.(a.token) ?? null, logprob: a.logprob, token: a.token }));
        const unknown = alts.find((a) => a.id === null);
        if (unknown)
          fail(
            "remote",
            `${where}: ${url} named an alternative token by text only (got ${JSON.stringify(unknown.token)} ` +
              `at position ${j}; expected an id). Use vLLM (return_tokens_as_token_ids / prompt_logprobs) or ` +
              `pass a tokenizer so token texts map to ids.`,
            { path: [j] },
          );
        top.push({ ids: alts.map((a) => a.id!), logprobs: alts.map((a) => a.logprob) });
      }
    }
    return { logprobs, top };
  }
}

/** SeqScore from vLLM prompt_logprobs: position j holds the alternatives for token j given < j, plus token j itself. */
function fromPromptLogprobs(seq: number[], choice: ParsedChoice, k: number, where: string, url: string): SeqScore {
  const p = choice.promptLogprobs!;
  if (p.length !== seq.length)
    fail(
      "remote",
      `${where}: ${url} returned prompt_logprobs for ${p.length} positions but the prompt has ${seq.length} ` +
        `tokens (expected one per token). The server changed the prompt (e.g. added BOS); send ids it accepts as is.`,
      { got: p.length, expected: seq.length },
    );
  const logprobs: (number | null)[] = [null];
  const top: ({ ids: number[]; logprobs: number[] } | null)[] | null = k > 0 ? [null] : null;
  for (let j = 1; j < seq.length; j++) {
    const alts = p[j];
    if (!alts)
      fail(
        "remote",
        `${where}: ${url} returned null prompt_logprobs at position ${j} (expected null only at position 0).`,
        { path: ["prompt_logprobs", j] },
      );
    const own = alts.find((a) => a.id === seq[j]);
    if (!own)
      fail(
        "remote",
        `${where}: ${url} returned prompt_logprobs at position ${j} without the prompt's own token ${seq[j]} ` +
          `(got ids ${alts.map((a) => a.id).join(", ")}). vLLM always includes it; check the server.`,
        { path: ["prompt_logprobs", j] },
      );
    logprobs.push(own.logprob);
    if (top) {
      // the prompt's own token is added after the top k when it ranks lower: keep ranks 1..k only
      const best = alts.filter((a) => a.rank === null || a.rank <= k).slice(0, k);
      top.push({ ids: best.map((a) => a.id!), logprobs: best.map((a) => a.logprob) });
    }
  }
  return { logprobs, top };
}
