// Public API of lib/update: advantage estimators, policy losses, KL, aggregation, FlowRL, SFT, steps, metrics and
// alerts.
// Single estimators / variants / aggregations (grpo, rloo, ppoClip, k3, tokenMean, ...) are reached by name through the
// registries and update.advantage / policyLoss / aggregate; their files, the metric helpers and row slicing are
// internal.
export { advantages, policyLosses, klEstimators, lossAggs } from "./registries.js";
export type {
  AdvantageFn,
  PolicyLossFn,
  PolicyLossVariantInputs,
  PolicyLossVariantOptions,
  PolicyLossVariantResult,
  PolicyLossVariantTokens,
  KlEstimatorFn,
  KlEstimatorInputs,
  AggFn,
} from "./registries.js";
export { advantage, type AdvantageCallInputs, type AdvantageOptions, type RewardInput } from "./advantage.js";
export { type GrpoOptions } from "./advantage/grpo.js";
export { type ReinforcePpOptions } from "./advantage/reinforce-pp.js";
export { aggregate } from "./aggregate.js";
export {
  klPenalty,
  exactKl,
  klReward,
  type KlPenaltyInputs,
  type KlPenaltyOptions,
  type KlRewardOptions,
} from "./kl.js";
export {
  policyLoss,
  policyLossDefaults,
  type PolicyLossInputs,
  type PolicyLossOptions,
  type PolicyLossResult,
  type PolicyLossTokens,
  type KlLossOptions,
} from "./policy-loss.js";
export { sftLoss, type SftLossOptions } from "./sft.js";
export { flowrlLoss, flowrlDefaults, type FlowrlLossInputs, type FlowrlLossOptions } from "./flowrl/flowrl-loss.js";
export { createLogZHead, type LogZHead, type LogZHeadOptions } from "./flowrl/logz-head.js";
export { detach, type TensorInput } from "./tensors.js";
export { type RowFields, type RowSliceable } from "./rows.js";
export {
  step,
  type StepOptions,
  type StepTensors,
  type StepLossFn,
  type StepMetrics,
  type TrainableModel,
} from "./step.js";
export { sftStep } from "./sft-step.js";
export { checkAlerts, type Alert, type AlertThresholds } from "./alerts.js";
export { openRunLog, readRunLog, type RunLog, type RunLogOptions, type LoadedRun } from "./run-log.js";
export { type RewardSource } from "./rollout-reward.js";
export {
  grpoStep,
  grpoStepDefaults,
  type GrpoStepInputs,
  type GrpoStepOptions,
  type StepResult,
  type TrainablePolicy,
} from "./grpo-step.js";
export { parallelTrainer, type ParallelPolicyTrainerOptions, type ParallelLossSettings } from "./parallel.js";
export { flowrlStep, flowrlParams, type FlowrlStepInputs, type FlowrlStepOptions } from "./flowrl/flowrl-step.js";
export { flowrlTrainer, type FlowrlTrainerOptions } from "./flowrl/flowrl-trainer.js";
export { train, type TrainOptions, type TrainResult, type TrainEvent, type StepOutput } from "./train.js";
export {
  compareLosses,
  type LabBatch,
  type LabTensors,
  type LossVariant,
  type LabVariantResult,
  type LossLabOptions,
} from "./loss-lab.js";
export { snapshot, restore, replay, type StepSnapshot, type ReplayResult } from "./replay.js";
export { verlMetricNames, toVerlMetrics, fromVerlMetrics } from "./verl-metrics.js";
export {
  rolloutCorrection,
  rolloutCorrections,
  rolloutCorrectionDefaults,
  type RolloutCorrectionFn,
  type RolloutCorrectionInputs,
  type RolloutCorrectionOptions,
  type RolloutCorrectionResult,
  type RolloutCorrectionTokens,
  type RejectOption,
} from "./rollout-correction.js";
