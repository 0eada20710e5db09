// Public API of lib/reward: the registry and dispatcher, then each grader (each registers itself when imported).
// Graders reached by name only (gsm8k, gpqa, tag-count, ...) are in the `rewards` registry; extraction, code-test and
// sandbox helpers are internal.
export type {
  RewardFn,
  SyncRewardFn,
  RewardResult,
  RewardRecord,
  RewardMessage,
  RewardBatch,
  BatchScores,
} from "./types.js";
export { rewards, register, routeDataSource, routes, type RegisterOptions } from "./registry.js";
export {
  score,
  scoreSync,
  scoreResponse,
  scoreResponseSync,
  defaults as scoreDefaults,
  type ScoreOptions,
} from "./score.js";
export { composite, type CompositePart } from "./composite.js";
export { knownSources } from "./data-sources.js";

// math
export { gradeMath, type GradeMathOptions, type GradeMathResult } from "./math/grade.js";
export { extractAnswer, type ExtractOptions, type Extraction } from "./math/extract.js";
export { mathReward, type MathRewardOptions } from "./math/reward.js";

// multiple choice
export { extractChoice, type ChoiceOptions } from "./multiple-choice.js";

// format and length shaping
export { r1FormatReward, type R1FormatOptions } from "./format.js";
export { cosineLength, softOverlong, type OverlongOptions, type CosineLengthOptions } from "./length.js";

// procedural tasks (lib/tasks) as rewards
import "./tasks.js"; // registers "task"

// code execution in a sandbox (lib/reward/code*.ts, sandbox*.ts; code.ts registers "code")
export { codeReward, defaults as codeDefaults, type CodeRewardOptions } from "./code.js";
export { sandboxStatus, defaults as sandboxDefaults, type SandboxOptions, type SandboxStatus } from "./sandbox.js";
export { runPython, type RunPythonOptions, type PythonRun } from "./sandbox-python.js";
