// Public API of lib/rollout: the Policy interface, a local policy, sample() batches, DAPO dynamic sampling.
// Policy.score options are exported as PolicyScoreOptions: reward.ScoreOptions are the options of reward.score.
export { type Policy, type SampleOptions, type ScoreOptions as PolicyScoreOptions, LocalPolicy } from "./policy.js";
export {
  sample,
  fromGenerate,
  row,
  responseValues,
  defaults,
  type Rollout,
  type RolloutRow,
  type RolloutOptions,
  type SampleInput,
} from "./rollout.js";
export {
  dynamicSample,
  maskTruncated,
  type DynamicSampleOptions,
  type DynamicSampleResult,
  type DynamicRewardFn,
} from "./dynamic-sampling.js";
export { samplingLogprobs, type SamplingLogprobsOptions } from "./sampling-logprobs.js";
