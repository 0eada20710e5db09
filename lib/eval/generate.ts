// r1's generation step (verl main_generation): n samples per prompt from any Policy, written next to the record as a
// `responses` list, with what is needed to judge them later: finish reasons (truncation), token lengths, and the
// sampling settings in extra_info.generation.
import { describe, fail } from "../core/errors.js";
import { checkWholeAtLeast } from "../core/checks.js";
import { Rng } from "../core/random.js";
import { progress } from "../kernel/progress.js";
import { rejectSnakeCase } from "../model/sampling.js";
import type { VerlRecord } from "../data/record.js";
import type { Policy, SampleOptions } from "../rollout/policy.js";
import { promptFormat, sample, type RolloutOptions } from "../rollout/rollout.js";
import type { GeneratedInput } from "./ingest.js";
import { defined } from "./items.js";

/**
 * Options of generateRecords: the sampling options (camelCase) plus batching and prompt formatting (as
 * rollout.sample's).
 */
export interface GenerateEvalOptions
  extends Omit<SampleOptions, "rng">, Pick<RolloutOptions, "formatPrompt" | "chatTemplate"> {
  /** Prompts per policy.generate call. Defaults to 8. */
  batchSize?: number;
  /** Show a progress bar. Defaults to false. */
  progress?: boolean;
}

/**
 * Defaults of generateRecords: r1's sampling (n 8, temperature 0.6, top-p 0.95), 256 new tokens, 8 prompts per call.
 * @example evals.generateDefaults.temperature // 0.6
 */
export const generateDefaults = { n: 8, temperature: 0.6, topP: 0.95, maxNewTokens: 256, batchSize: 8, seed: 0 };

/** What extra_info.generation records about how the responses were sampled (written to files: vLLM's names). */
export interface GenerationSettings {
  policy: string;
  n: number;
  temperature: number;
  top_p: number;
  top_k: number;
  min_p: number;
  max_new_tokens: number;
  seed: number;
  stop: string[];
  prompt_format: string;
}

/**
 * Sample n responses per record from a Policy (a local model, or a remote server's Policy) with rollout.sample, and
 * return the records with `responses`, `finish_reasons`, `response_lengths` (tokens) and extra_info.generation.
 * @example
 * const policy = new rollout.LocalPolicy(m, tok)
 * const gen = await evals.generateRecords(policy, evals.prepare("math500", {limit: 20}), {n: 4})
 */
export async function generateRecords(
  policy: Policy,
  records: readonly VerlRecord[],
  options: GenerateEvalOptions = {},
): Promise<GeneratedInput[]> {
  rejectSnakeCase(options, "evals.generateRecords", generateRecords);
  const o = { ...generateDefaults, ...defined(options) };
  if (!policy || typeof policy.generate !== "function")
    fail(
      "invalid_input",
      `evals.generateRecords: policy must implement generate() (got ${describe(policy)}). Wrap a model with ` +
        `new rollout.LocalPolicy(model, tokenizer).`,
      {},
      generateRecords,
    );
  if (!Array.isArray(records) || records.length === 0)
    fail(
      "invalid_input",
      `evals.generateRecords: no records (got ${describe(records)}). Prepare them with evals.prepare(...).`,
      {},
      generateRecords,
    );
  checkWholeAtLeast({ where: "evals.generateRecords", from: generateRecords }, "n", o.n, 1);
  checkWholeAtLeast({ where: "evals.generateRecords", from: generateRecords }, "batchSize", o.batchSize, 1);
  // main_generation asserts the same: greedy decoding gives n copies of one response
  if (o.temperature === 0 && o.n > 1)
    fail(
      "invalid_option",
      `evals.generateRecords: temperature 0 with n = ${o.n} gives ${o.n} identical responses (expected n: 1 ` +
        `for greedy). Use n: 1, or a temperature > 0.`,
      { path: ["n"] },
      generateRecords,
    );
  records.forEach((r, i) => {
    if (!Array.isArray(r?.prompt))
      fail(
        "invalid_input",
        `evals.generateRecords: record ${i} has no chat prompt (got ${describe(r?.prompt)}). Use verl records ` +
          `(data.record()).`,
        { path: ["records", i, "prompt"] },
        generateRecords,
      );
  });
  const { batchSize, progress: showBar, seed, ...sampling } = o;
  const rng = new Rng(seed);
  const settings: GenerationSettings = {
    policy: policy.name,
    n: o.n,
    temperature: o.temperature,
    top_p: o.topP,
    top_k: o.topK ?? 0,
    min_p: o.minP ?? 0,
    max_new_tokens: o.maxNewTokens,
    seed,
    stop: o.stop === undefined ? [] : typeof o.stop === "string" ? [o.stop] : o.stop.slice(),
    prompt_format: promptFormat(policy, o),
  };
  const bar = showBar ? progress(records.length, { label: "generate" }) : null;
  const out: GeneratedInput[] = [];
  for (let start = 0; start < records.length; start += batchSize) {
    const chunk = records.slice(start, start + batchSize);
    const ro = await sample(policy, chunk, { ...sampling, n: o.n, rng });
    chunk.forEach((rec, g) => {
      const rows = ro.group.map((gg, r) => (gg === g ? r : -1)).filter((r) => r >= 0);
      out.push({
        ...(rec as GeneratedInput),
        responses: rows.map((r) => ro.responses[r]),
        finish_reasons: rows.map((r) => ro.finishReason[r]),
        response_lengths: rows.map((r) => ro.responseIds[r].length),
        extra_info: { ...rec.extra_info, generation: settings },
      });
    });
    bar?.tick(chunk.length);
  }
  bar?.done();
  return out;
}
