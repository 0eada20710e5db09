// Public API of lib/distill: teacher sources, divergences, the distillation loss, on-policy mixing, GKD and OPD steps.
// The single divergences (forwardKl, reverseKl, jsd) are reached through the `divergences` registry.
export {
  localTeacher,
  type TeacherSource,
  type TeacherBatch,
  type TeacherOutput,
  type FullTeacherOutput,
  type TopkTeacherOutput,
  type TeacherScoreOptions,
  type LocalTeacherOptions,
} from "./teacher.js";
export { divergences, type DivergenceFn } from "./divergence.js";
export { distillLoss, distillDefaults, type DistillLossInputs, type DistillLossOptions } from "./distill-loss.js";
export { onPolicyRows, mixedRollout, type OnPolicyOptions, type MixedRolloutOptions } from "./mix.js";
export { gkdStep, gkdStepDefaults, type GkdStepInputs, type GkdStepOptions } from "./gkd-step.js";
export { gkdTrainer, type GkdTrainerOptions } from "./gkd-trainer.js";
export { studentTeacherDivergence } from "./evaluate.js";
export { seqKdStep } from "./seq-kd.js";
export { opdLoss, type OpdLossInputs, type OpdLossOptions, type OpdMode } from "./opd.js";
export { opdStep, type OpdStepInputs, type OpdStepOptions } from "./opd-step.js";
