// Sequence-level KD (Kim & Rush 2016; TRL seq_kd): SFT of the student on the teacher's own samples. The GKD paper's
// baseline; with λ = 0 and dataset = teacher outputs, GKD's forward-KL variant is its token-level counterpart.
import { sample, type Rollout } from "../rollout/rollout.js";
import type { Policy, SampleOptions } from "../rollout/policy.js";
import type { AdamW } from "../model/optim.js";
import { sftStep } from "../update/sft-step.js";
import type { TrainableModel } from "../update/step.js";

/**
 * One SeqKD step: the teacher samples one response per prompt, the student takes an SFT step on them.
 * @example const {metrics} = await distill.seqKdStep({policy: student, opt, teacher: teacherPolicy, prompts}, {sampling: {temperature: 0}})
 */
export async function seqKdStep(
  inputs: { policy: TrainableModel; opt: AdamW; teacher: Policy; prompts: string[] },
  options: { sampling?: Omit<SampleOptions, "n">; microBatch?: number } = {},
): Promise<{ metrics: Record<string, number>; rollout: Rollout }> {
  const ro = await sample(inputs.teacher, inputs.prompts, { ...options.sampling, n: 1 });
  const metrics = sftStep({ policy: inputs.policy, opt: inputs.opt, batch: ro }, { microBatch: options.microBatch });
  return { metrics: { ...ro.metrics, ...metrics }, rollout: ro };
}
