// Public API of lib/rollout: the Policy interface, a local policy, and sample() batches.
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
