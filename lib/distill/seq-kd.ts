// Sequence-level KD (Kim & Rush 2016; TRL seq_kd): SFT of the student on the teacher's own samples. The GKD paper's
// baseline; with λ = 0 and dataset = teacher outputs, GKD's forward-KL variant is its token-level counterpart.
import { sample, type Rollout, type RolloutOptions, type SampleInput } from "../rollout/rollout.js";
import type { Policy } from "../rollout/policy.js";
import type { AdamW } from "../model/optim.js";
import { sftStep } from "../update/sft-step.js";
import type { TrainableModel } from "../update/step.js";

/**
 * One SeqKD step: the teacher samples one response per prompt, the student takes an SFT step on them. Prompts are
 * what rollout.sample takes: verl records (chat template applied), texts or token ids.
 * @example
 * const inputs = {policy: student, opt, teacher: teacherPolicy, prompts: records};
 * const {metrics} = await distill.seqKdStep(inputs, {sampling: {temperature: 0}})
 */
export async function seqKdStep(
  inputs: { policy: TrainableModel; opt: AdamW; teacher: Policy; prompts: SampleInput },
  options: { sampling?: Omit<RolloutOptions, "n" | "columns" | "promptIds">; microBatch?: number } = {},
): Promise<{ metrics: Record<string, number>; rollout: Rollout }> {
  const ro = await sample(inputs.teacher, inputs.prompts, { ...options.sampling, n: 1 });
  const metrics = sftStep({ policy: inputs.policy, opt: inputs.opt, batch: ro }, { microBatch: options.microBatch });
  return { metrics: { ...ro.metrics, ...metrics }, rollout: ro };
}
