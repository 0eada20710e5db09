// sample(): n completions per prompt (verl records or prompt texts / token ids) from a Policy, laid out as a Rollout
// batch, plain data only: an arquero table for looking at (one row per completion), the records it came from (for
// rewards), and [B, T] token matrices for scoring and updates. Records are rendered with the tokenizer's chat
// template here, once: evals.generate samples through this function too.
// Layout, as verl's: ids[b] = [prompt left-padded to P | response right-padded to R], T = P + R; every [B, T] matrix
// (ids, masks, logprobs) is tokens-aligned, so model.logprobs(m, ro) and update losses line up column for column.
import * as aq from "arquero";
import { describe, fail } from "../core/errors.js";
import type { VerlRecord } from "../data/record.js";
import { chatPrompts } from "../model/chat-template.js";
import type { GenerateResult } from "../model/generate.js";
import { rejectSnakeCase } from "../model/sampling.js";
import type { Policy, SampleOptions } from "./policy.js";

type ColumnTable = ReturnType<typeof aq.table>;

/** What sample() takes: verl records (an array, or an arquero table of them), prompt texts, or prompt token ids. */
export type SampleInput = readonly VerlRecord[] | ColumnTable | string[] | number[][];

/** Options of sample: the sampling options plus table columns and, for records, prompt formatting. */
export interface RolloutOptions extends SampleOptions {
  /** The prompt_id column: one id per prompt (e.g. dataset row ids). Defaults to 0..prompts-1. */
  promptIds?: (string | number)[];
  /** Extra per-prompt columns copied to each of its rows, e.g. {difficulty: [...]}. Defaults to {}. */
  columns?: Record<string, unknown[]>;
  /** Records only: a chat template name ("qwen2.5", "chatml", "plain") or Jinja text instead of the tokenizer's. */
  chatTemplate?: string;
  /** Records only: turn a record into the prompt text yourself. Defaults to the chat template (see chatTemplate). */
  formatPrompt?: (record: VerlRecord) => string;
}

/**
 * Defaults of sample (the sampling defaults are model.generate's).
 * @example rollout.defaults.n // 1
 */
export const defaults = { n: 1, maxNewTokens: 64, temperature: 1 };

/** A batch of B = prompts * n completions. Plain data: arrays and an arquero table, no tensors. */
export interface Rollout {
  /**
   * One row per completion: prompt_id, sample, group, prompt, response, response_length, finish_reason, then (records)
   * data_source, ground_truth, extra_info, then options.columns.
   */
  table: ColumnTable;
  /** Number of completions B. */
  size: number;
  /** Samples per prompt (group size G). */
  n: number;
  /** Group (prompt index in this rollout) of each row, [B]. */
  group: number[];
  /** Prompt texts as sampled from (chat template applied), one per prompt (not per row). */
  prompts: string[];
  /** The verl records sampled from, one per prompt (not per row); null when sampled from prompt texts or ids. */
  records: VerlRecord[] | null;
  /** Response texts per row (stop strings cut, special tokens skipped). */
  responses: string[];
  /** Unpadded prompt token ids per row. */
  promptTokenIds: number[][];
  /** Unpadded response token ids per row (ends with EOS / stop token when finish reason is "stop"). */
  responseIds: number[][];
  /** [B, T] token ids: left-padded prompt then right-padded response. */
  ids: number[][];
  /** [B, T] 1 on real tokens. */
  attentionMask: number[][];
  /** [B, T] 1 on response tokens. */
  responseMask: number[][];
  /**
   * [B, T] the sampler's logprobs μ(y_t), 0 off the response: a LocalPolicy reports log q of the distribution it
   * actually sampled from (softmax(logits / T), then top-k / top-p / min-p, each renormalised over the kept tokens); a
   * RemotePolicy what the server returned (vLLM's default logprobs_mode "raw_logprobs" is temperature 1, no filters;
   * "processed_logprobs" is the sampled distribution). Not the trainer's π_old: model.logprobs(m, ro, {temperature})
   * recomputes with the temperature but no filters (verl and TRL do the same), so under topP < 1 or topK each token's
   * π_old/μ is the kept mass Z_t ≤ 1 even with identical weights (the truncation bias). update.rolloutCorrection
   * takes both and corrects for the gap (verl's rollout_log_probs vs old_log_probs).
   */
  logprobs: number[][];
  /**
   * [B, T] raw logprobs (temperature 1, no filters) from the sampler, 0 off the response (a RemotePolicy: the same
   * numbers as `logprobs`, one logprob per token).
   */
  rawLogprobs: number[][];
  /** "stop" or "length" per row. */
  finishReason: ("stop" | "length")[];
  /** Padded prompt width P (response tokens start at column P). */
  promptLength: number;
  /** Padded response width R (T = P + R). */
  responseLength: number;
  /** The sampling options used, without `rng`, ids and columns (for logging and re-scoring at the same temperature). */
  sampling: RolloutOptions;
  /** rollout/lengthMean, rollout/lengthMax, rollout/truncFrac. */
  metrics: Record<string, number>;
}

/** One completion of a Rollout as a plain record. */
export interface RolloutRow {
  index: number;
  promptId: string | number;
  group: number;
  sample: number;
  prompt: string;
  response: string;
  /** The record of the row's prompt, or null without records. */
  record: VerlRecord | null;
  promptTokenIds: number[];
  responseIds: number[];
  /** Sampling logprob per response token. */
  logprobs: number[];
  finishReason: "stop" | "length";
}

function isTable(x: unknown): x is ColumnTable {
  return (
    !!x &&
    typeof x === "object" &&
    typeof (x as ColumnTable).objects === "function" &&
    typeof (x as ColumnTable).numRows === "function"
  );
}

/** Split sample()'s input into prompts for the policy and the records (or null). */
function promptsOf(
  policy: Policy,
  input: SampleInput,
  o: RolloutOptions,
): { prompts: string[] | number[][]; records: VerlRecord[] | null } {
  const items = isTable(input) ? (input.objects() as VerlRecord[]) : input;
  if (!Array.isArray(items) || items.length === 0)
    fail(
      "invalid_input",
      "rollout.sample: input must be a non-empty array of verl records, prompt strings or token-id arrays, " +
        `or a table of records (got ${describe(input)}). Wrap one prompt as [prompt].`,
      {},
      sample,
    );
  const isRecord = (x: unknown) => !!x && typeof x === "object" && !Array.isArray(x) && "prompt" in (x as object);
  if (!items.some(isRecord)) {
    const key = o.chatTemplate !== undefined ? "chatTemplate" : o.formatPrompt !== undefined ? "formatPrompt" : null;
    if (key)
      fail(
        "invalid_option",
        `rollout.sample: options.${key} applies to verl records, but the input is prompt texts or ids. ` +
          "Pass records (data.record(...)), or render the prompts yourself.",
        { path: [key] },
        sample,
      );
    return { prompts: items as string[] | number[][], records: null };
  }
  const records = items as unknown as VerlRecord[];
  records.forEach((r, i) => {
    if (!isRecord(r) || !Array.isArray(r.prompt))
      fail(
        "invalid_input",
        `rollout.sample: input ${i} is not a verl record with a chat prompt ` +
          `(got ${describe(isRecord(r) ? r.prompt : r)}; ` +
          "expected {prompt: [{role, content}], data_source, reward_model}). " +
          "Do not mix records and prompt strings; build records with data.record(...).",
        { path: ["input", i] },
        sample,
      );
  });
  if (o.formatPrompt) {
    if (typeof o.formatPrompt !== "function")
      fail(
        "invalid_option",
        `rollout.sample: options.formatPrompt must be a function (record) => string (got ${describe(o.formatPrompt)}).`,
        { path: ["formatPrompt"] },
        sample,
      );
    return {
      records,
      prompts: records.map((r, i) => {
        const t = o.formatPrompt!(r);
        if (typeof t !== "string")
          fail(
            "invalid_option",
            `rollout.sample: options.formatPrompt returned ${describe(t)} for record ${i} (expected the prompt text).`,
            { path: ["formatPrompt"] },
            sample,
          );
        return t;
      }),
    };
  }
  return {
    records,
    prompts: chatPrompts(
      records.map((r) => r.prompt),
      { tokenizer: policy.tokenizer, template: o.chatTemplate },
    ).texts,
  };
}

/**
 * How sample() renders records into prompt texts: "tokenizer chat template", "chat template <name>", "contents joined"
 * (no template), or the formatPrompt function's name.
 * @example promptFormat(policy, {}) // "tokenizer chat template" (internal: evals.generateRecords records it)
 */
export function promptFormat(
  policy: Policy,
  options: Pick<RolloutOptions, "chatTemplate" | "formatPrompt"> = {},
): string {
  if (options.formatPrompt) return options.formatPrompt.name || "custom";
  return chatPrompts([], { tokenizer: policy.tokenizer, template: options.chatTemplate }).format;
}

/**
 * Sample `n` completions per prompt and return them as a Rollout batch. Give verl records (rendered with the
 * tokenizer's chat template; their data_source, ground_truth and extra_info become table columns and `ro.records`
 * feeds reward.score(ro)), or prompt texts / token ids.
 * @example
 * const ro = await rollout.sample(policy, records, { n: 4, temperature: 1, maxNewTokens: 16 });
 * const { scores } = reward.scoreSync(ro)
 */
export async function sample(policy: Policy, input: SampleInput, options: RolloutOptions = {}): Promise<Rollout> {
  if (!policy || typeof policy.generate !== "function")
    fail(
      "invalid_input",
      `rollout.sample: policy must implement generate/score (got ${describe(policy)}). ` +
        "Wrap a model with new rollout.LocalPolicy(model, tokenizer).",
      {},
      sample,
    );
  rejectSnakeCase(options, "rollout.sample", sample);
  const { prompts, records } = promptsOf(policy, input, options);
  const { promptIds: idCol, columns = {}, chatTemplate, formatPrompt: _f, ...sampling } = options;
  const opts = { ...defaults, ...Object.fromEntries(Object.entries(sampling).filter(([, v]) => v !== undefined)) };
  if (idCol !== undefined && (!Array.isArray(idCol) || idCol.length !== prompts.length))
    fail(
      "shape_mismatch",
      `rollout.sample: options.promptIds has ${describe(idCol)} entries but there are ${prompts.length} prompts. ` +
        "Give one id per prompt.",
      {},
      sample,
    );
  for (const [k, col] of Object.entries(columns))
    if (!Array.isArray(col) || col.length !== prompts.length)
      fail(
        "shape_mismatch",
        `rollout.sample: options.columns.${k} has ${describe(col)} but there are ${prompts.length} prompts. ` +
          "Give one value per prompt.",
        { path: ["columns", k] },
        sample,
      );
  const out = await policy.generate(prompts, opts);
  const tok = policy.tokenizer;
  const texts = prompts.map((p) => (typeof p === "string" ? p : tok.decode(p)));
  const kept = Object.fromEntries(
    Object.entries({ ...sampling, n: opts.n, ...(chatTemplate !== undefined ? { chatTemplate } : {}) }).filter(
      ([k]) => k !== "rng",
    ),
  );
  return fromGenerate(out, {
    prompts: texts,
    records,
    promptIds: idCol ?? prompts.map((_, i) => i),
    columns,
    n: opts.n,
    pad: tok.padTokenId ?? tok.eosTokenId ?? 0,
    responses: out.text ?? out.ids.map((ids) => tok.decode(ids, { skipSpecialTokens: true })),
    sampling: kept, // plain data: no Rng object
  });
}

/**
 * Lay a GenerateResult out as a Rollout (exported for remote policies and tests).
 * @example
 * const ro = rollout.fromGenerate(out, {
 *   prompts, promptIds: [0], columns: {}, n: 4, pad: 0, responses: out.text!, sampling: {},
 * })
 */
export function fromGenerate(
  out: GenerateResult,
  info: {
    prompts: string[];
    records?: VerlRecord[] | null;
    promptIds: (string | number)[];
    columns: Record<string, unknown[]>;
    n: number;
    pad: number;
    responses: string[];
    sampling: RolloutOptions;
  },
): Rollout {
  const B = out.ids.length;
  const P = Math.max(...out.promptTokenIds.map((p) => p.length));
  const R = Math.max(1, ...out.ids.map((r) => r.length));
  const T = P + R;
  const ids: number[][] = [];
  const attentionMask: number[][] = [];
  const responseMask: number[][] = [];
  const logprobs: number[][] = [];
  const rawLogprobs: number[][] = [];
  for (let b = 0; b < B; b++) {
    const p = out.promptTokenIds[b];
    const r = out.ids[b];
    const row = new Array<number>(T).fill(info.pad);
    const am = new Array<number>(T).fill(0);
    const rm = new Array<number>(T).fill(0);
    const lp = new Array<number>(T).fill(0);
    const raw = new Array<number>(T).fill(0);
    for (let t = 0; t < p.length; t++) {
      row[P - p.length + t] = p[t];
      am[P - p.length + t] = 1;
    }
    for (let t = 0; t < r.length; t++) {
      row[P + t] = r[t];
      am[P + t] = rm[P + t] = 1;
      lp[P + t] = out.logprobs[b][t];
      raw[P + t] = out.rawLogprobs[b][t];
    }
    ids.push(row);
    attentionMask.push(am);
    responseMask.push(rm);
    logprobs.push(lp);
    rawLogprobs.push(raw);
  }
  const cols: Record<string, unknown[]> = {
    prompt_id: out.group.map((g) => info.promptIds[g]),
    sample: out.sample.slice(),
    group: out.group.slice(),
    prompt: out.group.map((g) => info.prompts[g]),
    response: info.responses.slice(),
    response_length: out.lengths.slice(),
    finish_reason: out.finishReason.slice(),
  };
  const recs = info.records ?? null;
  if (recs) {
    cols.data_source = out.group.map((g) => recs[g].data_source);
    cols.ground_truth = out.group.map((g) => recs[g].reward_model?.ground_truth);
    cols.extra_info = out.group.map((g) => recs[g].extra_info ?? null);
  }
  for (const [k, col] of Object.entries(info.columns)) cols[k] = out.group.map((g) => col[g]);
  const lengths = out.lengths;
  return {
    table: aq.table(cols),
    size: B,
    n: info.n,
    group: out.group.slice(),
    prompts: info.prompts,
    records: recs,
    responses: info.responses,
    promptTokenIds: out.promptTokenIds,
    responseIds: out.ids,
    ids,
    attentionMask,
    responseMask,
    logprobs,
    rawLogprobs,
    finishReason: out.finishReason,
    promptLength: P,
    responseLength: R,
    sampling: info.sampling,
    metrics: {
      "rollout/lengthMean": lengths.reduce((a, x) => a + x, 0) / Math.max(1, B),
      "rollout/lengthMax": Math.max(0, ...lengths),
      "rollout/truncFrac": out.finishReason.filter((f) => f === "length").length / Math.max(1, B),
    },
  };
}

/**
 * One completion of a Rollout as a plain record (response-only logprobs).
 * @example rollout.row(ro, 0).response
 */
export function row(ro: Rollout, i: number): RolloutRow {
  if (!Number.isInteger(i) || i < 0 || i >= ro.size)
    fail(
      "invalid_input",
      `rollout.row: index ${i} is out of range (expected an integer in [0, ${ro.size})).`,
      { got: i },
      row,
    );
  const P = ro.promptLength;
  const len = ro.responseIds[i].length;
  const t = ro.table;
  return {
    index: i,
    promptId: t.get("prompt_id", i) as string | number,
    group: ro.group[i],
    sample: t.get("sample", i) as number,
    prompt: ro.prompts[ro.group[i]],
    response: ro.responses[i],
    record: ro.records?.[ro.group[i]] ?? null,
    promptTokenIds: ro.promptTokenIds[i],
    responseIds: ro.responseIds[i],
    logprobs: ro.logprobs[i].slice(P, P + len),
    finishReason: ro.finishReason[i],
  };
}

/**
 * The response part of a tokens-aligned [B, T] matrix (e.g. model.logprobs(m, ro).logp), one array per row.
 * @example rollout.responseValues(ro, model.logprobs(m, ro).entropy!)[0] // entropy per response token of row 0
 */
export function responseValues(ro: Rollout, values: ArrayLike<number>[]): number[][] {
  if (!Array.isArray(values) || values.length !== ro.size)
    fail(
      "shape_mismatch",
      `rollout.responseValues: values has ${describe(values)} rows but the rollout has ${ro.size}. ` +
        "Pass a [B, T] matrix aligned with ro.ids.",
      {},
      responseValues,
    );
  return values.map((v, b) => {
    if (v.length !== ro.ids[b].length)
      fail(
        "shape_mismatch",
        `rollout.responseValues: row ${b} has ${v.length} columns but ro.ids rows have ${ro.ids[b].length} ` +
          "(tokens alignment expected).",
        { path: [b] },
        responseValues,
      );
    return Array.from(v).slice(ro.promptLength, ro.promptLength + ro.responseIds[b].length);
  });
}
