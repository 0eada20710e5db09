// On-policy mixing (GKD's λ): a fraction λ of the batch is the student's own samples, the rest dataset responses
// (ground truth, or teacher outputs for sequence-level KD). Both kinds are laid out as one Rollout.
import { describe, fail } from "../core/errors.js";
import { globalRng, type Rng } from "../core/random.js";
import type { GenerateResult } from "../model/generate.js";
import type { Policy, SampleOptions } from "../rollout/policy.js";
import { fromGenerate, type Rollout } from "../rollout/rollout.js";

/** Options of onPolicyRows. */
export interface OnPolicyOptions {
  /** "sample": exactly round(λ·B) rows chosen at random are on-policy; "batch": the whole batch is on-policy with probability λ (TRL GKDTrainer). Defaults to "sample". */
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
      `distill.onPolicyRows: lambda must be in [0, 1] (got ${describe(lambda)}); it is the fraction of on-policy samples.`,
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

/**
 * One completion per prompt: the student's sample where `onPolicy[i]`, else `responses[i]` (text, EOS appended), as one
 * Rollout with a "source" column ("student" | "dataset"). Dataset rows have logprobs 0 (they were not sampled).
 * @example const ro = await distill.mixedRollout(policy, prompts, {responses: gold, onPolicy: distill.onPolicyRows(B, 0.5, {rng})})
 */
export async function mixedRollout(
  policy: Policy,
  prompts: string[],
  options: {
    responses?: (string | null)[];
    onPolicy: boolean[];
    sampling?: Omit<SampleOptions, "n">;
    columns?: Record<string, unknown[]>;
  },
): Promise<Rollout> {
  const { responses, onPolicy, sampling = {}, columns = {} } = options;
  const F = "distill.mixedRollout";
  if (!Array.isArray(prompts) || prompts.length === 0 || prompts.some((p) => typeof p !== "string"))
    fail(
      "invalid_input",
      `${F}: prompts must be a non-empty array of strings (got ${describe(prompts)}).`,
      {},
      mixedRollout,
    );
  if (!Array.isArray(onPolicy) || onPolicy.length !== prompts.length)
    fail(
      "shape_mismatch",
      `${F}: options.onPolicy has ${describe(onPolicy)} entries but there are ${prompts.length} prompts (expected one flag per prompt).`,
      {},
      mixedRollout,
    );
  const tok = policy.tokenizer;
  const offIdx = onPolicy.flatMap((on, i) => (on ? [] : [i]));
  for (const i of offIdx)
    if (typeof responses?.[i] !== "string")
      fail(
        "invalid_input",
        `${F}: prompt ${i} is off-policy but responses[${i}] is ${describe(responses?.[i])}. Pass options.responses (dataset answers), or lambda: 1.`,
        { path: ["responses", i] },
        mixedRollout,
      );
  const onIdx = onPolicy.flatMap((on, i) => (on ? [i] : []));
  const gen: GenerateResult | null = onIdx.length
    ? await policy.generate(
        onIdx.map((i) => prompts[i]),
        { ...sampling, n: 1 },
      )
    : null;
  const out: GenerateResult = {
    group: [],
    sample: [],
    promptTokenIds: [],
    ids: [],
    text: [],
    logprobs: [],
    rawLogprobs: [],
    finishReason: [],
    stopReason: [],
    lengths: [],
  };
  const source: string[] = [];
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
      source.push("student");
      k++;
    } else {
      const ids = tok.encode(responses![i]!, { addSpecialTokens: false });
      if (tok.eosTokenId !== undefined) ids.push(tok.eosTokenId);
      if (ids.length === 0)
        fail(
          "invalid_input",
          `${F}: responses[${i}] is empty and the tokenizer has no EOS; a response needs at least one token.`,
          {},
          mixedRollout,
        );
      out.promptTokenIds.push(tok.encode(prompts[i]));
      out.ids.push(ids);
      out.text!.push(responses![i]!);
      out.logprobs.push(new Array(ids.length).fill(0));
      out.rawLogprobs.push(new Array(ids.length).fill(0));
      out.finishReason.push("stop");
      out.stopReason.push(tok.eosTokenId ?? null);
      out.lengths.push(ids.length);
      source.push("dataset");
    }
  }
  return fromGenerate(out, {
    prompts,
    promptIds: prompts.map((_, i) => i),
    columns: { ...columns, source: prompts.map((_, i) => source[i]) },
    n: 1,
    pad: tok.padTokenId ?? tok.eosTokenId ?? 0,
    responses: out.text!,
    sampling: { ...sampling, n: 1 },
  });
}
