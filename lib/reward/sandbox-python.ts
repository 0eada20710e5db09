// Run any Python snippet in the sandbox from a notebook cell (the same isolation the code reward uses).
import { describe, fail } from "../core/errors.js";
import type { IsolationLevel } from "./sandbox-args.js";
import { runJob, type SandboxOptions } from "./sandbox.js";

/** Options of runPython(). */
export interface RunPythonOptions extends SandboxOptions {
  /** Text fed on stdin. Defaults to "". */
  stdin?: string;
}

/** What a sandboxed Python run printed and how it ended. */
export interface PythonRun {
  stdout: string;
  /** Last 2,000 characters of stderr. */
  stderr: string;
  /** "exit0", "runtime-error", "timeout", "output-limit", or "compile-error". */
  status: string;
  /** "exit 1", "signal SIGKILL", ... when status is "runtime-error". */
  exit?: string;
  ms: number;
  level: IsolationLevel;
}

/**
 * Run a Python program in the sandbox with optional stdin; returns its stdout, stderr and how it ended.
 * @example (await reward.runPython("print(sum(map(int, input().split())))", {stdin: "1 2"})).stdout // "3\n"
 */
export async function runPython(program: string, options: RunPythonOptions = {}): Promise<PythonRun> {
  if (typeof program !== "string")
    fail(
      "invalid_input",
      `reward.runPython: program must be a string of Python source (got ${describe(program)}).`,
      { got: program },
      runPython,
    );
  const stdin = options.stdin ?? "";
  if (typeof stdin !== "string")
    fail(
      "invalid_option",
      `reward.runPython: stdin must be a string (got ${describe(stdin)}).`,
      { path: ["stdin"], got: stdin },
      runPython,
    );
  const out = await runJob(
    { mode: "stdio", program, preamble: "", tests: [{ input: stdin }], stop: true },
    options,
    () => "stop",
    runPython,
  );
  const compile = out.events.find((e) => e.ev === "compile");
  const test = out.events.find((e) => e.ev === "test");
  if (compile && compile.ok === false)
    return { stdout: "", stderr: String(compile.msg), status: "compile-error", ms: out.ms, level: out.level };
  if (!test)
    fail(
      "sandbox",
      `reward.runPython: the sandbox ended without a result (got ${out.exit ?? "no result"}: ` +
        `${out.stderr.trim().slice(-300)}). Check reward.sandboxStatus().`,
      { got: out.stderr },
      runPython,
    );
  const run: PythonRun = {
    stdout: String(test.out),
    stderr: String(test.err),
    status: String(test.s),
    ms: out.ms,
    level: out.level,
  };
  if (test.exit) run.exit = String(test.exit);
  return run;
}
