// Running one program against its tests in the sandbox and turning the runner's events into per-test verdicts.
// Expected stdout and return values never enter the sandbox: they are compared here, on the host.
import { fail } from "../core/errors.js";
import { pythonSource } from "../core/python-files.js";
import {
  decodePyValue,
  outputsMatch,
  showPyValue,
  stringifyExact,
  valuesEqual,
  type CompareOptions,
} from "./code-compare.js";
import type { CodeTests } from "./code-tests.js";
import {
  defaults as sandboxDefaults,
  runJob,
  type RunnerEvent,
  type RunnerJob,
  type SandboxOptions,
} from "./sandbox.js";
import type { IsolationLevel } from "./sandbox-args.js";

/**
 * LiveCodeBench's import preamble (lcb_runner testing_util.import_string), run before every program: the text of
 * python/lcb_preamble.py.
 */
export function lcbPreamble(): string {
  return pythonSource(__dirname, "lcb_preamble.py");
}

/** Verdict of one test. */
export type TestStatus =
  "pass" | "wrong-answer" | "runtime-error" | "timeout" | "output-limit" | "exited-early" | "not-run";

/** One test's outcome. */
export interface TestVerdict {
  status: TestStatus;
  /** Why it failed (assert line, exception, first differing line), truncated. */
  message?: string;
  ms?: number;
}

/** Options of runTests(). */
export interface RunTestsOptions extends SandboxOptions, CompareOptions {
  /** Code run before the program: "lcb" (LiveCodeBench's imports), "none", or Python source. Defaults to "lcb". */
  preamble?: string;
  /** Stop at the first failing test (LiveCodeBench does). Defaults to true. */
  stopOnFailure?: boolean;
}

/** What running a program against its tests gave. */
export interface TestRun {
  /** The program did not compile or raised while loading (load errors fail every test). */
  loadError?: string;
  compiled: boolean;
  tests: TestVerdict[];
  level: IsolationLevel;
  /** The runner died or stopped answering: no verdict could be trusted. */
  sandboxError?: string;
  ms: number;
}

function preambleSource(p: string | undefined): string {
  if (p === undefined || p === "lcb") return lcbPreamble();
  if (p === "none") return "";
  return p;
}

const outputBytes = (o: SandboxOptions): number => o.outputBytes ?? sandboxDefaults.outputBytes;

const clipMsg = (s: unknown, n = 500): string => {
  const t = typeof s === "string" ? s : stringifyExact(s);
  return t.length > n ? t.slice(0, n) + "..." : t;
};

/**
 * Run `program` against normalised `tests` in the sandbox; one verdict per test (tests after a stop are "not-run").
 * @example const run = await runTests("print(int(input())*2)", {mode: "stdio", inputs: ["2"], outputs: ["4"]})
 */
export async function runTests(program: string, tests: CodeTests, options: RunTestsOptions = {}): Promise<TestRun> {
  const stop = options.stopOnFailure ?? true;
  const preamble = preambleSource(options.preamble);
  const job: RunnerJob = { mode: tests.mode, program, preamble, stop };
  let onEvent: (e: RunnerEvent) => "continue" | "stop" | void = () => undefined;
  const verdicts = new Map<number, TestVerdict>();
  let n = 0;
  if (tests.mode === "stdio") {
    n = tests.inputs.length;
    // Only inputs go in; every test has the same output cap (outputBytes), nothing derived from the expected output.
    job.tests = tests.inputs.map((input) => ({ input }));
    onEvent = (e) => {
      if (e.ev !== "test") return;
      const i = e.i as number;
      const ms = e.ms as number;
      let v: TestVerdict;
      if (e.s === "exit0") {
        const m = outputsMatch(String(e.out), tests.outputs[i], options);
        delete e.out; // compared: do not keep up to outputBytes per test until the job ends
        v = m.ok ? { status: "pass", ms } : { status: "wrong-answer", message: m.reason, ms };
      } else if (e.s === "timeout")
        v = { status: "timeout", message: `no exit within ${options.timeoutMs ?? "the"} ms`, ms };
      else if (e.s === "output-limit")
        v = { status: "output-limit", message: `stdout longer than outputBytes (${outputBytes(options)} bytes)`, ms };
      else if (e.s === "memory-limit")
        v = { status: "runtime-error", message: `the program's processes together used more than memoryMb`, ms };
      else v = { status: "runtime-error", message: clipMsg(`${e.exit}: ${lastLines(String(e.err ?? ""))}`), ms };
      verdicts.set(i, v);
      return v.status !== "pass" && stop ? "stop" : "continue";
    };
  } else if (tests.mode === "call") {
    n = tests.inputs.length;
    // Only the arguments go in; return values come back as plain data (ints exact) and are compared here.
    job.tests = tests.inputs.map((input) => ({ input }));
    job.fn = tests.fnName;
    const apps = tests.inputs.some((x) => Array.isArray(x));
    onEvent = (e) => {
      if (e.ev !== "test") return;
      const i = e.i as number;
      if (e.s === "ret") {
        let got: unknown;
        try {
          got = decodePyValue(e.ret);
        } catch {
          got = undefined;
        }
        delete e.ret; // decoded: the raw value is not kept until the job ends
        const want = tests.outputs[i];
        // APPS stores call outputs wrapped in a list; PRIME's harness also accepts the first element.
        const ok =
          valuesEqual(got, want) || (apps && Array.isArray(want) && want.length === 1 && valuesEqual(got, want[0]));
        verdicts.set(
          i,
          ok
            ? { status: "pass" }
            : {
                status: "wrong-answer",
                message: clipMsg(`returned ${clipMsg(showPyValue(got), 200)}, expected ${clipMsg(want, 200)}`),
              },
        );
      } else verdicts.set(i, eventVerdict(e));
    };
  } else {
    job.testSource = tests.test;
    job.entry = tests.entryPoint ?? null;
    onEvent = (e) => {
      if (e.ev === "units") n = e.n as number;
      if (e.ev === "test") verdicts.set(e.i as number, e.s === "ok" ? { status: "pass" } : eventVerdict(e));
    };
  }
  const out = await runJob(job, options, onEvent, runTests);
  const compile = out.events.find((e) => e.ev === "compile");
  const load = out.events.find((e) => e.ev === "load");
  const badTests = out.events.find((e) => e.ev === "bad-tests");
  const done = out.events.find((e) => e.ev === "done");
  if (badTests)
    fail(
      "invalid_input",
      `reward.code: the ground-truth test code cannot be used: ${badTests.msg}. Fix the record's test field ` +
        `(it must hold assert statements, or define check(candidate) and give entry_point).`,
      { path: ["ground_truth", "test"], got: badTests.msg },
      runTests,
    );
  const run: TestRun = { compiled: compile?.ok === true, tests: [], level: out.level, ms: out.ms };
  if (compile && compile.ok === false) run.loadError = String(compile.msg);
  else if (load && load.ok === false) run.loadError = String(load.msg);
  if (!done && !run.loadError) {
    run.sandboxError = out.hung
      ? "the runner stopped responding and was killed"
      : out.overflow
        ? "the runner wrote too much output and was killed"
        : `the runner ended without a result (${out.exit ?? "no result"}): ${lastLines(out.stderr)}`;
  }
  const broken = out.events.find((e) => e.ev === "sandbox-error");
  if (broken && !run.loadError) run.sandboxError = String(broken.msg);
  for (let i = 0; i < n; i++) {
    const v = verdicts.get(i);
    if (v) run.tests.push(v);
    else if (run.loadError) run.tests.push({ status: "runtime-error", message: clipMsg(run.loadError) });
    else run.tests.push({ status: "not-run" });
  }
  if (n === 0 && run.loadError) run.tests.push({ status: "runtime-error", message: clipMsg(run.loadError) });
  return run;
}

function eventVerdict(e: RunnerEvent): TestVerdict {
  const s = String(e.s);
  // A failed assert is a wrong answer; any other exception while testing is a runtime error.
  const status: TestStatus =
    s === "timeout"
      ? "timeout"
      : s === "output-limit"
        ? "output-limit"
        : s === "not-run"
          ? "not-run"
          : s === "exited-early"
            ? "exited-early"
            : s === "wrong" || (s === "fail" && String(e.msg ?? "").startsWith("AssertionError"))
              ? "wrong-answer"
              : "runtime-error";
  const v: TestVerdict = { status };
  if (e.msg) v.message = clipMsg(e.msg);
  return v;
}

function lastLines(s: string, k = 3): string {
  return s.trim().split("\n").slice(-k).join(" | ");
}
