// Public API of lib/reward: the registry and dispatcher, then each grader (each registers itself when imported).
export type { RewardFn, SyncRewardFn, RewardResult, RewardRecord, RewardMessage, RewardBatch, BatchScores } from "./types.js";
export { rewards, register, routeDataSource, routeOf, routes, rewardFor, type RegisterOptions } from "./registry.js";
export { score, scoreSync, scoreResponse, scoreResponseSync, defaults as scoreDefaults, type ScoreOptions } from "./score.js";
export { composite, type CompositePart } from "./composite.js";
export { knownSources, knownPatterns } from "./data-sources.js";

// math
export { gradeMath, goldText, defaults as gradeMathDefaults, type GradeMathOptions, type GradeMathResult } from "./math/grade.js";
export { extractAnswer, boxedAnswers, defaults as extractDefaults, type ExtractOptions, type ExtractRule, type Extraction } from "./math/extract.js";
export { normalizeAnswer, type NormalizedAnswer } from "./math/normalize.js";
export { mathReward, gsm8kReward, defaults as mathRewardDefaults, type MathRewardOptions } from "./math/reward.js";

// multiple choice
export { extractChoice, multipleChoiceReward, gpqaReward, defaults as choiceDefaults, type ChoiceOptions, type ChoiceExtraction } from "./multiple-choice.js";

// format and length shaping
export { r1FormatReward, tagCountReward, lastTag, defaults as r1FormatDefaults, type R1FormatOptions } from "./format.js";
export { softOverlong, overlongReward, cosineLength, groupLengthReward, defaults as overlongDefaults, type OverlongOptions, type CosineLengthOptions } from "./length.js";

// procedural tasks (lib/tasks) as rewards
export { taskReward } from "./tasks.js";

// code execution in a sandbox (lib/reward/code*.ts, sandbox*.ts; registers "code")
export * from "./code-exports.js";
