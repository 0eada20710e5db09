// r1's generation step (verl main_generation): n samples per prompt from any Policy, written next to the record as a
// `responses` list, with what is needed to judge them later: finish reasons (truncation), token lengths, and the
// sampling settings in extra_info.generation.
import { describe, fail } from "../core/errors.js";
import { Rng } from "../core/random.js";
import { progress } from "../kernel/progress.js";
import { applyChatTemplate } from "../model/chat-template.js";
import type { VerlRecord } from "../data/record.js";
import type { Policy, SampleOptions } from "../rollout/policy.js";
import type { GeneratedInput } from "./ingest.js";
import { defined } from "./items.js";

/** Options of generate: the sampling options (vLLM names) plus batching and prompt formatting. */
export interface GenerateEvalOptions extends Omit<SampleOptions, "rng"> {
  /** Prompts per policy.generate call. Defaults to 8. */
  batchSize?: number;
  /**
   * Turn a record's chat prompt into the policy's input text. Defaults to the tokenizer's chat template with the
   * generation prompt (as main_generation does), or, without one, the messages' contents joined by a blank line.
   */
  formatPrompt?: (record: VerlRecord) => string;
  /** A chat template name ("qwen2.5", "chatml", "plain") or Jinja text to use instead of the tokenizer's. */
  chatTemplate?: string;
  /** Show a progress bar. Defaults to false. */
  progress?: boolean;
}

/**
 * Defaults of generate: r1's sampling (n 8, temperature 0.6, top-p 0.95), 256 new tokens, 8 prompts per call.
 * @example evals.generateDefaults.temperature // 0.6
 */
export const generateDefaults = { n: 8, temperature: 0.6, top_p: 0.95, max_new_tokens: 256, batchSize: 8, seed: 0 };

/** What extra_info.generation records about how the responses were sampled. */
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

function formatter(policy: Policy, o: GenerateEvalOptions): { fn: (r: VerlRecord) => string; name: string } {
  if (o.formatPrompt) return { fn: o.formatPrompt, name: o.formatPrompt.name || "custom" };
  const own = (policy.tokenizer as { chatTemplate?: string | null }).chatTemplate;
  const template = o.chatTemplate ?? own ?? null;
  if (template) return { fn: (r) => applyChatTemplate(r.prompt as { role: string; content: string }[], { template, tokenizer: policy.tokenizer, addGenerationPrompt: true }), name: o.chatTemplate ? `chat template ${o.chatTemplate.includes("{") ? "(custom)" : o.chatTemplate}` : "tokenizer chat template" };
  return { fn: (r) => r.prompt.map((m) => m.content).join("\n\n"), name: "contents joined" };
}

/**
 * Sample n responses per record from a Policy (a local model, or a remote server's Policy) and return the records
 * with `responses`, `finish_reasons`, `response_lengths` (tokens) and extra_info.generation (the settings).
 * @example const gen = await evals.generate(new rollout.LocalPolicy(m, tok), evals.prepare("math500", {limit: 20}), {n: 4})
 */
export async function generate(policy: Policy, records: readonly VerlRecord[], options: GenerateEvalOptions = {}): Promise<GeneratedInput[]> {
  const o = { ...generateDefaults, ...defined(options) };
  if (!policy || typeof policy.generate !== "function")
    fail("invalid_input", `evals.generate: policy must implement generate() (got ${describe(policy)}). Wrap a model with new rollout.LocalPolicy(model, tokenizer).`, {}, generate);
  if (!Array.isArray(records) || records.length === 0)
    fail("invalid_input", `evals.generate: no records (got ${describe(records)}). Prepare them with evals.prepare(...).`, {}, generate);
  if (!Number.isInteger(o.n) || o.n < 1) fail("invalid_option", `evals.generate: n must be a whole number >= 1 (got ${describe(o.n)}).`, { path: ["n"] }, generate);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) fail("invalid_option", `evals.generate: batchSize must be a whole number >= 1 (got ${describe(o.batchSize)}).`, { path: ["batchSize"] }, generate);
  // main_generation asserts the same: greedy decoding gives n copies of one response
  if (o.temperature === 0 && o.n > 1) fail("invalid_option", `evals.generate: temperature 0 with n = ${o.n} gives ${o.n} identical responses (expected n: 1 for greedy). Use n: 1, or a temperature > 0.`, { path: ["n"] }, generate);
  const fmt = formatter(policy, o);
  const prompts = records.map((r, i) => {
    if (!Array.isArray(r?.prompt)) fail("invalid_input", `evals.generate: record ${i} has no chat prompt (got ${describe(r?.prompt)}). Use verl records (data.record()).`, { path: ["records", i, "prompt"] }, generate);
    return fmt.fn(r);
  });
  const { batchSize, formatPrompt: _f, chatTemplate: _c, progress: showBar, seed, ...sampling } = o;
  const rng = new Rng(seed);
  const settings: GenerationSettings = {
    policy: policy.name,
    n: o.n,
    temperature: o.temperature,
    top_p: o.top_p,
    top_k: o.top_k ?? 0,
    min_p: o.min_p ?? 0,
    max_new_tokens: o.max_new_tokens,
    seed,
    stop: o.stop === undefined ? [] : typeof o.stop === "string" ? [o.stop] : o.stop.slice(),
    prompt_format: fmt.name,
  };
  const bar = showBar ? progress(records.length, { label: "generate" }) : null;
  const out: GeneratedInput[] = [];
  for (let start = 0; start < records.length; start += batchSize) {
    const chunk = prompts.slice(start, start + batchSize);
    const res = await policy.generate(chunk, { ...sampling, n: o.n, rng });
    const texts = res.text ?? res.ids.map((ids) => policy.tokenizer.decode(ids, { skipSpecialTokens: true }));
    chunk.forEach((_, g) => {
      const rows = res.group.map((gg, r) => (gg === g ? r : -1)).filter((r) => r >= 0);
      const rec = records[start + g];
      out.push({
        ...(rec as GeneratedInput),
        responses: rows.map((r) => texts[r]),
        finish_reasons: rows.map((r) => res.finishReason[r]),
        response_lengths: rows.map((r) => res.lengths[r]),
        extra_info: { ...rec.extra_info, generation: settings },
      });
    });
    bar?.tick(chunk.length);
  }
  bar?.done();
  return out;
}
