// Public API of lib/update: advantage estimators, policy losses, KL, aggregation, FlowRL, SFT, steps, metrics and alerts.
export { advantages, policyLosses, klEstimators, lossAggs } from "./registries.js";
export type { AdvantageFn, AdvantageInputs, PolicyLossFn, PolicyLossVariantInputs, PolicyLossVariantOptions, PolicyLossVariantResult, KlEstimatorFn, AggFn, AggOptions } from "./registries.js";
export { advantage, groupIndex, advantageDefaults, type AdvantageCallInputs, type AdvantageOptions, type RewardInput } from "./advantage.js";
export { grpo, drGrpo, grpoDefaults, type GrpoOptions } from "./advantage/grpo.js";
export { rloo } from "./advantage/rloo.js";
export { reinforcePp, reinforcePpBaseline, reinforcePpDefaults, type ReinforcePpOptions } from "./advantage/reinforce-pp.js";
export { aggregate, tokenMean, seqMeanTokenSum, seqMeanTokenMean, seqMeanTokenSumNorm } from "./aggregate.js";
export { klPenalty, exactKl, klReward, k1, k2, k3, k3Plus, absKl, klDefaults, type KlPenaltyOptions, type KlRewardOptions } from "./kl.js";
export { policyLoss, policyLossDefaults, type PolicyLossInputs, type PolicyLossOptions, type PolicyLossResult, type KlLossOptions } from "./policy-loss.js";
export { ppoClip, clipMetrics } from "./loss/ppo-clip.js";
export { gspo } from "./loss/gspo.js";
export { cispo, pg } from "./loss/cispo.js";
export { sftLoss, type SftLossOptions } from "./sft.js";
export { flowrlLoss, flowrlDefaults, type FlowrlLossInputs, type FlowrlLossOptions } from "./flowrl/flowrl-loss.js";
export { createLogZHead, poolPrompt, logZHeadDefaults, type LogZHead, type LogZHeadOptions } from "./flowrl/logz-head.js";
export { detach, asTensor, perToken, type TensorInput } from "./tensors.js";
