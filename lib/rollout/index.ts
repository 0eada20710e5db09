// Public API of lib/rollout: the Policy interface, a local policy, and sample() batches.
export { type Policy, type SampleOptions, type ScoreOptions, LocalPolicy } from "./policy.js";
export { sample, fromGenerate, row, responseValues, defaults, type Rollout, type RolloutRow, type RolloutOptions, type SampleInput } from "./rollout.js";
