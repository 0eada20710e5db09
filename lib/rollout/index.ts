// Public API of lib/rollout: the Policy interface, a local policy, and rollout() batches.
export { type Policy, type SampleOptions, type ScoreOptions, LocalPolicy } from "./policy.js";
// `rollout.sample(...)` is the same function as `rollout.rollout(...)`; it reads better through the namespace.
export { rollout, rollout as sample, fromGenerate, row, responseValues, defaults, type Rollout, type RolloutRow, type RolloutOptions } from "./rollout.js";
