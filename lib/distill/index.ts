// Public API of lib/distill: teacher sources, divergences, the distillation loss, on-policy mixing and GKD steps.
export { localTeacher, checkTeacherOutput, type TeacherSource, type TeacherBatch, type TeacherOutput, type FullTeacherOutput, type TopkTeacherOutput, type TeacherScoreOptions, type LocalTeacherOptions } from "./teacher.js";
export { divergences, forwardKl, reverseKl, jsd, type DivergenceFn } from "./divergence.js";
export { distillLoss, distillDefaults, type DistillLossInputs, type DistillLossOptions } from "./distill-loss.js";
