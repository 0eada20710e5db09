// On-policy mixing (GKD's λ): a fraction λ of the batch is the student's own samples, the rest dataset responses
// (ground truth, or teacher outputs for sequence-level KD). Both kinds are laid out as one Rollout by rollout.sample,
// so records are rendered with the chat template and kept (ro.records, data_source / ground_truth columns) as there.
import { describe, fail } from "../core/errors.js";
import { globalRng, type Rng } from "../core/random.js";
import { emptyGenerateResult, type GenerateResult } from "../model/generate.js";
import type { Policy, SampleOptions } from "../rollout/policy.js";
import { sample, type Rollout, type RolloutOptions, type SampleInput } from "../rollout/rollout.js";

/** Options of onPolicyRows. */
export interface OnPolicyOptions {
  /**
   * "sample": exactly round(λ·B) rows chosen at random are on-policy; "batch": the whole batch is on-policy with
   * probability λ (TRL GKDTrainer). Defaults to "sample".
   */
  per?: "sample" | "batch";
  rng?: Rng;
}

/**
 * Which prompts get a student sample (true) or a dataset response (false), for on-policy fraction λ.
 * @example distill.onPolicyRows(8, 0.5, {rng}) // four true, four false
 */
export function onPolicyRows(B: number, lambda: number, options: OnPolicyOptions = {}): boolean[] {
  if (!(lambda >= 0 && lambda <= 1))
    fail(
      "invalid_option",
      `distill.onPolicyRows: lambda must be in [0, 1] (got ${describe(lambda)}); it is the fraction of ` +
        `on-policy samples.`,
      { path: ["lambda"] },
      onPolicyRows,
    );
  const rng = options.rng ?? globalRng();
  if ((options.per ?? "sample") === "batch") {
    const on = lambda >= 1 ? true : lambda <= 0 ? false : rng.uniform() < lambda;
    return new Array<boolean>(B).fill(on);
  }
  const k = Math.round(lambda * B);
  const out = new Array<boolean>(B).fill(false);
  if (k >= B) return out.fill(true);
  for (const i of rng.shuffle(Array.from({ length: B }, (_, i) => i)).slice(0, k)) out[i] = true;
  return out;
}

/** Options of mixedRollout. */
export interface MixedRolloutOptions {
  /** Dataset response per prompt, used where onPolicy is false (null elsewhere). */
  responses?: (string | null)[];
  /** One flag per prompt: true = the student samples it, false = its dataset response is used (onPolicyRows). */
  onPolicy: boolean[];
  /** Sampling options of the student's rows (temperature, maxNewTokens, rng, ...; chatTemplate for records). */
  sampling?: Omit<RolloutOptions, "n" | "columns" | "promptIds">;
  /** Extra per-prompt columns for the rollout table. Defaults to {}. */
  columns?: Record<string, unknown[]>;
}

/** The number of prompts of a sample() input (an array, or a table of records). */
export function inputSize(input: SampleInput): number {
  if (Array.isArray(input)) return input.length;
  const rows = (input as { numRows?: unknown } | null)?.numRows;
  return typeof rows === "function" ? (rows.call(input) as number) : 0;
}

/**
 * One completion per prompt: the student's sample where `onPolicy[i]`, else `responses[i]` (text, EOS appended), as one
 * Rollout with a "source" column ("student" | "dataset"). Prompts are what rollout.sample takes: verl records (chat
 * template applied; ro.records kept), texts or token ids. Dataset rows have logprobs 0 (they were not sampled).
 * @example
 * const onPolicy = distill.onPolicyRows(B, 0.5, {rng});
 * const ro = await distill.mixedRollout(policy, records, {responses: gold, onPolicy})
 */
export async function mixedRollout(
  policy: Policy,
  prompts: SampleInput,
  options: MixedRolloutOptions,
): Promise<Rollout> {
  const { responses, onPolicy, sampling = {}, columns = {} } = options ?? ({} as MixedRolloutOptions);
  const F = "distill.mixedRollout";
  const B = inputSize(prompts);
  if (B === 0)
    fail(
      "invalid_input",
      `${F}: prompts must be a non-empty array of verl records, prompt texts or token-id arrays, or a table of ` +
        `records (got ${describe(prompts)}).`,
      {},
      mixedRollout,
    );
  if (!Array.isArray(onPolicy) || onPolicy.length !== B)
    fail(
      "shape_mismatch",
      `${F}: options.onPolicy has ${describe(onPolicy)} entries but there are ${B} prompts (expected one flag ` +
        `per prompt).`,
      {},
      mixedRollout,
    );
  for (let i = 0; i < B; i++)
    if (!onPolicy[i] && typeof responses?.[i] !== "string")
      fail(
        "invalid_input",
        `${F}: prompt ${i} is off-policy but responses[${i}] is ${describe(responses?.[i])}. Pass ` +
          `options.responses (dataset answers), or lambda: 1.`,
        { path: ["responses", i] },
        mixedRollout,
      );
  // rollout.sample renders the prompts (records: chat template) and lays the batch out; this policy samples the
  // on-policy prompts with the student and answers the others with their dataset responses.
  const mixed: Policy = {
    name: policy.name,
    tokenizer: policy.tokenizer,
    score: (batch, o) => policy.score(batch, o),
    generate: (texts, o) => mixedGenerate(policy, texts, onPolicy, responses, o),
  };
  return sample(mixed, prompts, {
    ...sampling,
    n: 1,
    columns: { ...columns, source: onPolicy.map((on) => (on ? "student" : "dataset")) },
  });
}

/** The student's samples of the on-policy prompts and the dataset responses of the others, in prompt order. */
async function mixedGenerate(
  policy: Policy,
  prompts: string[] | number[][],
  onPolicy: boolean[],
  responses: (string | null)[] | undefined,
  options: SampleOptions = {},
): Promise<GenerateResult> {
  const tok = policy.tokenizer;
  const onIdx = onPolicy.flatMap((on, i) => (on ? [i] : []));
  const gen: GenerateResult | null = onIdx.length
    ? await policy.generate(onIdx.map((i) => prompts[i]) as string[] | number[][], { ...options, n: 1 })
    : null;
  const out = emptyGenerateResult();
  let k = 0;
  for (let i = 0; i < prompts.length; i++) {
    out.group.push(i);
    out.sample.push(0);
    if (onPolicy[i] && gen) {
      out.promptTokenIds.push(gen.promptTokenIds[k]);
      out.ids.push(gen.ids[k]);
      out.text!.push(gen.text?.[k] ?? tok.decode(gen.ids[k], { skipSpecialTokens: true }));
      out.logprobs.push(gen.logprobs[k]);
      out.rawLogprobs.push(gen.rawLogprobs[k]);
      out.finishReason.push(gen.finishReason[k]);
      out.stopReason.push(gen.stopReason[k]);
      out.lengths.push(gen.lengths[k]);
      k++;
    } else {
      const ids = tok.encode(responses![i]!, { addSpecialTokens: false });
      if (tok.eosTokenId !== undefined) ids.push(tok.eosTokenId);
      if (ids.length === 0)
        fail(
          "invalid_input",
          `distill.mixedRollout: responses[${i}] is empty and the tokenizer has no EOS; a response needs at least ` +
            "one token.",
          {},
          mixedRollout,
        );
      const p = prompts[i];
      out.promptTokenIds.push(typeof p === "string" ? tok.encode(p) : Array.from(p));
      out.ids.push(ids);
      out.text!.push(responses![i]!);
      out.logprobs.push(new Array(ids.length).fill(0));
      out.rawLogprobs.push(new Array(ids.length).fill(0));
      out.finishReason.push("stop");
      out.stopReason.push(tok.eosTokenId ?? null);
      out.lengths.push(ids.length);
    }
  }
  return out;
}
