// The "code" reward: extract the program from a response, run it against the record's tests in the sandbox, score
// all-pass (or the pass fraction). Registers itself as "code" when imported; data-sources.ts routes the code
// benchmarks (LiveCodeBench, HumanEval, MBPP, CodeContests, Codeforces, LeetCode, APPS, TACO) to that name.
import { describe, fail } from "../core/errors.js";
import { checkPositiveInt } from "../core/checks.js";
import { extractProgram } from "./code-extract.js";
import { parseCodeTests, type CodeTests } from "./code-tests.js";
import { runTests, type RunTestsOptions, type TestStatus } from "./code-run.js";
import { register } from "./registry.js";
import type { RewardRecord, RewardResult } from "./types.js";

/** Options of codeReward() (also accepted through score(record, response, {rewardOptions})). */
export interface CodeRewardOptions extends RunTestsOptions {
  /** Score = passed / total instead of 1 only when every test passes. Defaults to false. */
  partial?: boolean;
  /** Function name for call-based tests whose ground truth has no fn_name. Defaults to none. */
  fnName?: string;
  /** Run at most this many tests (the first ones), like sandbox_fusion's continuous mode. Defaults to all. */
  maxTests?: number;
}

/** Defaults of codeReward() beyond the sandbox defaults (reward.sandboxDefaults). */
export const defaults = {
  partial: false,
  preamble: "lcb",
  compare: "lines" as const,
  floatTolerance: 0,
};

function withPrompt(program: string, tests: CodeTests): { program: string; prepended: boolean } {
  // HumanEval completions are often only the function body: put the prompt back when the entry point is undefined.
  if (tests.mode !== "functional" || !tests.prompt || !tests.entryPoint) return { program, prepended: false };
  const defines = new RegExp(
    `(^|\\n)\\s*(async\\s+)?def\\s+${tests.entryPoint}\\s*\\(|(^|\\n)\\s*${tests.entryPoint}\\s*=`,
  );
  if (defines.test(program)) return { program, prepended: false };
  return { program: tests.prompt + program, prepended: true };
}

function ruleOf(statuses: TestStatus[], compiled: boolean, loadError: string | undefined): string {
  if (!compiled) return "syntax-error";
  if (loadError) return "load-error";
  if (statuses.every((s) => s === "pass")) return "all-passed";
  const first = statuses.find((s) => s !== "pass");
  return first === "not-run" ? "failed" : first!;
}

/**
 * Score a coding response by running its program against the tests in `groundTruth` inside the sandbox.
 * Score 1 when every test passes (0 otherwise), or the pass fraction with {partial: true}. details: rule, passed,
 * total, timeouts, firstFailure, program, extraction, mode, sandbox level.
 * @example
 * await reward.codeReward("```python\ndef f(x):\n    return x + 1\n```", {test: "assert f(1) == 2"})
 * // {score: 1, ...}
 */
export async function codeReward(
  response: string,
  groundTruth: unknown,
  record?: RewardRecord,
  options: CodeRewardOptions = {},
): Promise<RewardResult> {
  if (typeof response !== "string")
    fail(
      "invalid_input",
      `reward.code: response must be a string (got ${describe(response)}).`,
      { path: ["response"], got: response },
      codeReward,
    );
  if (options.maxTests !== undefined)
    checkPositiveInt({ where: "reward.code", from: codeReward }, "maxTests", options.maxTests);
  const gt = groundTruth === undefined && record ? record.reward_model?.ground_truth : groundTruth;
  if (gt === undefined || gt === null)
    fail(
      "invalid_input",
      `reward.code: no ground truth (got ${describe(gt)}; expected reward_model.ground_truth with the tests).`,
      { path: ["reward_model", "ground_truth"], got: gt },
      codeReward,
    );
  let tests = parseCodeTests(gt, { fnName: options.fnName });
  if (options.maxTests !== undefined && tests.mode !== "functional") {
    const k = options.maxTests;
    tests = { ...tests, inputs: tests.inputs.slice(0, k), outputs: tests.outputs.slice(0, k) } as CodeTests;
  }
  const { program: extracted, rule: extraction } = extractProgram(response);
  const { program, prepended } = withPrompt(extracted, tests);
  const partial = options.partial ?? defaults.partial;
  const base = { mode: tests.mode, extraction, promptPrepended: prepended, program };
  if (!extracted.trim()) return { score: 0, details: { rule: "empty-program", passed: 0, total: 0, ...base } };
  const run = await runTests(program, tests, { stopOnFailure: !partial, ...options });
  const statuses = run.tests.map((t) => t.status);
  const passed = statuses.filter((s) => s === "pass").length;
  const total = statuses.length;
  const failure = run.tests.find((t) => t.status !== "pass");
  const details: Record<string, unknown> = {
    rule: run.sandboxError ? "sandbox-error" : ruleOf(statuses, run.compiled, run.loadError),
    passed,
    total,
    timeouts: statuses.filter((s) => s === "timeout").length,
    firstFailure: failure
      ? `test ${run.tests.indexOf(failure)}: ${failure.status}${failure.message ? ` (${failure.message})` : ""}`
      : null,
    statuses,
    sandbox: run.level,
    ms: run.ms,
    ...base,
  };
  if (run.sandboxError) details.sandboxError = run.sandboxError;
  const allPass = total > 0 && passed === total && !run.sandboxError;
  const score = partial ? (total > 0 && !run.sandboxError ? passed / total : 0) : allPass ? 1 : 0;
  return { score, details };
}

/** The "code" reward as registered (the same function as codeReward). */
export const codeRegistration = register(
  "code",
  codeReward as (r: string, g: unknown, rec?: RewardRecord, o?: Record<string, unknown>) => Promise<RewardResult>,
  {
    paper: "LiveCodeBench (arXiv:2403.07974); HumanEval (arXiv:2107.03374)",
    summary:
      "Runs the response's last ```python block against unit tests or stdin/stdout tests in a bubblewrap " +
      "sandbox; 1 if all pass.",
  },
);
