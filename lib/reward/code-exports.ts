// Public API of the code reward and its sandbox, re-exported by lib/reward/index.ts (`export * from "./code-exports.js"`).
// Importing this file registers the "code" reward.
export { codeReward, defaults as codeDefaults, type CodeRewardOptions } from "./code.js";
export { sampleTestsFromPrompt } from "./code-samples.js";
export { extractProgram, type ExtractedProgram, type ExtractionRule } from "./code-extract.js";
export { parseCodeTests, unpickleString, type CodeTests, type ParseCodeTestsOptions } from "./code-tests.js";
export { outputsMatch, valuesEqual, canonicalDecimal, type CompareMode, type CompareOptions, type MatchResult } from "./code-compare.js";
export { runTests, LCB_PREAMBLE, type RunTestsOptions, type TestRun, type TestVerdict, type TestStatus } from "./code-run.js";
export { sandboxStatus, resetSandboxStatus, closeSandboxes, defaults as sandboxDefaults, type SandboxOptions, type SandboxChoice, type SandboxStatus } from "./sandbox.js";
export { runPython, type RunPythonOptions, type PythonRun } from "./sandbox-python.js";
export type { IsolationLevel } from "./sandbox-args.js";
