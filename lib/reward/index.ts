// Public API of lib/reward: the registry and dispatcher, then each grader (each registers itself when imported).
export type { RewardFn, SyncRewardFn, RewardResult, RewardRecord, RewardMessage } from "./types.js";
export { rewards, register, routeDataSource, routeOf, routes, rewardFor, type RegisterOptions } from "./registry.js";
export { score, scoreSync, defaults as scoreDefaults, type ScoreOptions } from "./score.js";
export { composite, type CompositePart } from "./composite.js";
