// Running the Python runner inside bubblewrap: choosing the isolation level, spawning, the line protocol, the
// watchdog, and killing the whole process tree. What runs is python/sandbox_runner.py (read here at run time and
// passed with `python -c`, so the sandbox needs no view of the package); how it is walled in is in sandbox-args.ts.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, fail } from "../core/errors.js";
import { pythonSource } from "../core/python-files.js";
import { warn } from "../core/warn.js";
import { bwrapArgs, SANDBOX_ENV, type BwrapFeatures, type IsolationLevel } from "./sandbox-args.js";
import { withSlot } from "./sandbox-pool.js";
import { seccompFilter } from "./sandbox-seccomp.js";
import { Worker, type RunnerEvent, type WorkerSpec } from "./sandbox-worker.js";

export type { RunnerEvent } from "./sandbox-worker.js";

/** Which sandbox to use. "auto" picks the strongest level that works here and refuses when there is none. */
export type SandboxChoice = "auto" | IsolationLevel;

/** Resource limits and placement of sandboxed runs. */
export interface SandboxOptions {
  /** "auto" (default), "bwrap", "bwrap-root", or "none" (no isolation: explicit opt-out, prints a warning). */
  sandbox?: SandboxChoice;
  /** Python interpreter. Defaults to "/usr/bin/python3". */
  python?: string;
  /** bubblewrap binary. Defaults to "bwrap" (looked up on PATH). */
  bwrap?: string;
  /** Wall-clock limit per test, ms (LiveCodeBench uses 6 s). Defaults to 6000. */
  timeoutMs?: number;
  /**
   * Memory limit, MiB: the address space of each process (RLIMIT_AS) and the proportional memory of all the job's
   * processes together (checked every 20 ms; see docs/sandbox.md). Defaults to 1024.
   */
  memoryMb?: number;
  /** Processes + threads the program may run at once (RLIMIT_NPROC in its own user namespace). Defaults to 16. */
  processes?: number;
  /** Largest file the program may write, MiB (RLIMIT_FSIZE). Defaults to 16. */
  fileSizeMb?: number;
  /** Size of the private /tmp (and of /dev/shm), MiB. Defaults to 64. */
  tmpSizeMb?: number;
  /** Stdout kept per test before the program is killed, bytes. Defaults to 8 MiB. */
  outputBytes?: number;
  /** Open files per process (RLIMIT_NOFILE). Defaults to 256. */
  openFiles?: number;
  /** Sandboxes running at once across the whole process. Defaults to os.cpus().length. */
  concurrency?: number;
  /** Extra host paths shown read-only at the same place (e.g. a virtualenv). Defaults to []. */
  readOnlyPaths?: string[];
  /** Unprivileged uid the sandbox runs as when cellrl runs as root. Defaults to 65534 (nobody). */
  uid?: number;
  /**
   * Allowance for bwrap + Python start-up before the first test, ms (only a hung runner ever reaches it). Defaults to
   * 10000.
   */
  startupMs?: number;
  /**
   * Keep sandboxes warm and run the next job in the same one after a clean-up (see docs/sandbox.md). Defaults to true.
   */
  reuse?: boolean;
  /** A warm sandbox with no job for this long exits, ms. Defaults to 5000. */
  idleMs?: number;
}

/** Defaults of every sandboxed run; change a field to change it for the session. */
export const defaults: Required<SandboxOptions> = {
  sandbox: "auto",
  python: "/usr/bin/python3",
  bwrap: "bwrap",
  timeoutMs: 6000,
  memoryMb: 1024,
  processes: 16,
  fileSizeMb: 16,
  tmpSizeMb: 64,
  outputBytes: 8 << 20,
  openFiles: 256,
  concurrency: Math.max(1, os.cpus().length),
  readOnlyPaths: [],
  uid: 65534,
  startupMs: 10000,
  reuse: true,
  idleMs: 5000,
};

/** One job for the runner (see python/sandbox_runner.py for the fields it reads). */
export interface RunnerJob {
  mode: "stdio" | "call" | "functional";
  program: string;
  preamble: string;
  /**
   * stdio: `{input}` per test (stdin); call: `{input}` per test (a JSON-lines string or an argument list). Only
   * inputs: expected outputs never enter the sandbox, and every test has the same output cap (outputBytes).
   */
  tests?: { input: unknown }[];
  /** functional: the test code. */
  testSource?: string;
  /** functional: the function the test's check(candidate) receives. */
  entry?: string | null;
  /** call: the function or Solution method name. */
  fn?: string;
  /** Stop at the first failing test. */
  stop: boolean;
}

/** What came back from one sandboxed run. */
export interface RunnerOutcome {
  events: RunnerEvent[];
  level: IsolationLevel;
  /** The host watchdog fired (the runner itself stopped responding). */
  hung: boolean;
  /** The runner wrote more than the result cap. */
  overflow: boolean;
  /** How the worker ended when it died during the job ("exit 1", "SIGKILL"), else null. */
  exit: string | null;
  /** Tail of the runner's stderr (bwrap errors, runner crashes). */
  stderr: string;
  ms: number;
}

function checkOptions(o: Required<SandboxOptions>, from: Function): void {
  const positive: (keyof SandboxOptions)[] = [
    "timeoutMs",
    "memoryMb",
    "processes",
    "fileSizeMb",
    "tmpSizeMb",
    "outputBytes",
    "openFiles",
    "concurrency",
    "startupMs",
    "idleMs",
  ];
  for (const k of positive) {
    const v = o[k];
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0)
      fail(
        "invalid_option",
        `reward.sandbox: ${k} must be a positive number (got ${describe(v)}). Pass e.g. ` +
          `{${k}: ${describe(defaults[k])}}.`,
        { path: [k], got: v },
        from,
      );
  }
  if (!["auto", "bwrap", "bwrap-root", "none"].includes(o.sandbox))
    fail(
      "invalid_option",
      `reward.sandbox: sandbox must be "auto", "bwrap", "bwrap-root" or "none" (got ${describe(o.sandbox)}).`,
      { path: ["sandbox"], got: o.sandbox },
      from,
    );
  if (typeof o.reuse !== "boolean")
    fail(
      "invalid_option",
      `reward.sandbox: reuse must be true or false (got ${describe(o.reuse)}).`,
      { path: ["reuse"], got: o.reuse },
      from,
    );
  if (typeof o.python !== "string" || !path.isAbsolute(o.python))
    fail(
      "invalid_option",
      `reward.sandbox: python must be an absolute path (got ${describe(o.python)}; expected e.g. "/usr/bin/python3").`,
      { path: ["python"], got: o.python },
      from,
    );
  if (!Array.isArray(o.readOnlyPaths) || o.readOnlyPaths.some((p) => typeof p !== "string" || !path.isAbsolute(p)))
    fail(
      "invalid_option",
      `reward.sandbox: readOnlyPaths must be absolute paths (got ${describe(o.readOnlyPaths)}).`,
      { path: ["readOnlyPaths"], got: o.readOnlyPaths },
      from,
    );
}

/** Merge options over defaults and validate them. */
export function sandboxOptions(
  options: SandboxOptions = {},
  from: Function = sandboxOptions,
): Required<SandboxOptions> {
  const merged = { ...defaults } as Required<SandboxOptions>;
  for (const [k, v] of Object.entries(options))
    if (v !== undefined && k in defaults) (merged as unknown as Record<string, unknown>)[k] = v;
  checkOptions(merged, from);
  return merged;
}

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

const featureCache = new Map<string, BwrapFeatures>();

/** Which optional flags this bwrap binary accepts (from its --help). */
function bwrapFeatures(bwrap: string): BwrapFeatures {
  let f = featureCache.get(bwrap);
  if (!f) {
    const help = spawnSync(bwrap, ["--help"], { encoding: "utf8" });
    const text = `${help.stdout ?? ""}${help.stderr ?? ""}`;
    f = { disableUserns: text.includes("--disable-userns"), size: text.includes("--size") };
    featureCache.set(bwrap, f);
  }
  return f;
}

/** Source of the in-sandbox runner (Python 3.8+, standard library only). */
function runnerSource(): string {
  return pythonSource(__dirname, "sandbox_runner.py");
}

function workerSpec(level: IsolationLevel, o: Required<SandboxOptions>, slot: number): WorkerSpec {
  if (level === "none") {
    // No namespaces: a fresh temp dir as cwd/HOME (wiped after each job) is all the separation there is.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-unsandboxed-"));
    return {
      command: o.python,
      args: ["-s", "-B", "-c", runnerSource(), "-1", dir],
      cwd: dir,
      env: { ...SANDBOX_ENV, HOME: dir, TMPDIR: dir },
      cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }
  // "bwrap-root" needs real root to build namespaces; the runner then drops to a uid private to this slot, so that
  // RLIMIT_NPROC (counted per uid outside a user namespace) limits this sandbox alone.
  const dropTo = level === "bwrap-root" ? o.uid - 1000 - slot : -1;
  const filter = seccompFilter();
  const args = bwrapArgs({
    level,
    python: o.python,
    tmpBytes: o.tmpSizeMb << 20,
    readOnlyPaths: o.readOnlyPaths,
    runnerSource: runnerSource(),
    runnerArgs: [String(dropTo), "/tmp", "/dev/shm"],
    features: bwrapFeatures(o.bwrap),
    seccompFd: filter ? 3 : undefined,
  });
  // As root, "bwrap" runs as an unprivileged uid: root ignores RLIMIT_NPROC, and could read whatever a bind exposes.
  const drop = level === "bwrap" && isRoot ? { uid: o.uid, gid: o.uid } : {};
  return {
    command: o.bwrap,
    args,
    cwd: "/",
    env: { PATH: "/usr/local/bin:/usr/bin:/bin" },
    ...drop,
    ...(filter ? { fd3: filter } : {}),
  };
}

function limitsFor(level: IsolationLevel, o: Required<SandboxOptions>): Record<string, number | null> {
  return {
    as: o.memoryMb * 1024 * 1024,
    // RLIMIT_CPU is set per child by the runner from the timeout and the number of tests it runs.
    // Unsandboxed, RLIMIT_NPROC would count every process of the user: leave it off. In a sandbox it counts the
    // runner, the factory, the tester and the candidate too.
    nproc: level === "none" ? null : o.processes + 4,
    // All the job's processes together (proportional set size, watched by the runner every 20 ms while 2 or more run).
    mem: o.memoryMb * 1024 * 1024,
    fsize: o.fileSizeMb * 1024 * 1024,
    nofile: o.openFiles,
  };
}

const workers = new Map<number, Worker>();

/** Run one job on the warm worker of `slot` (starting one if needed). */
function runOnSlot(
  level: IsolationLevel,
  o: Required<SandboxOptions>,
  job: RunnerJob,
  slot: number,
  onEvent: (e: RunnerEvent) => "continue" | "stop" | void,
): Promise<RunnerOutcome> {
  const nTests = job.tests?.length ?? 0;
  const timeoutS = o.timeoutMs / 1000;
  const statusCap = Math.min((nTests + 1) * o.outputBytes, 1 << 30);
  const line =
    JSON.stringify({
      ...job,
      last: !o.reuse,
      timeout: timeoutS,
      outputCap: o.outputBytes,
      statusCap,
      limits: limitsFor(level, o),
    }) + "\n";
  const key = JSON.stringify([level, o.python, o.bwrap, o.tmpSizeMb, o.readOnlyPaths, o.uid]);
  let w = workers.get(slot);
  if (!w || !w.usable || w.key !== key) {
    w?.kill();
    w = new Worker(key, workerSpec(level, o, slot), o.idleMs);
    workers.set(slot, w);
  }
  return w
    .run({
      line,
      onEvent,
      verdicts: job.mode === "stdio",
      tests: nTests,
      last: !o.reuse,
      resultCap: (1 << 20) + 2 * statusCap,
      // The runner enforces per-test deadlines itself; this only catches a runner that stops talking.
      budgetMs: (remaining) => o.startupMs + o.timeoutMs * (remaining + 1),
    })
    .then((r) => ({ ...r, level }));
}

/** Stop every warm sandbox now (they also stop by themselves after `idleMs`). */
export function closeSandboxes(): void {
  for (const w of workers.values()) w.kill();
  workers.clear();
}

/** What `sandboxStatus` found: the isolation level in use (null when none works) and why others were rejected. */
export interface SandboxStatus {
  level: IsolationLevel | null;
  reasons: string[];
}
const probes = new Map<string, Promise<SandboxStatus>>();

async function tryLevel(level: Exclude<IsolationLevel, "none">, o: Required<SandboxOptions>): Promise<string | null> {
  const job: RunnerJob = {
    mode: "stdio",
    program: "print(6 * 7)",
    preamble: "",
    tests: [{ input: "" }],
    stop: true,
  };
  // A throwaway worker (not a pool slot) that runs one job through the real path.
  const w = new Worker("probe", workerSpec(level, o, 0), 1000);
  const out = await w.run({
    line:
      JSON.stringify({
        ...job,
        last: true,
        timeout: 10,
        outputCap: 1000,
        statusCap: 1000,
        limits: limitsFor(level, o),
      }) + "\n",
    onEvent: () => "continue",
    verdicts: true,
    tests: 1,
    last: true,
    resultCap: 1 << 20,
    budgetMs: () => 20000,
  });
  w.kill();
  const test = out.events.find((e) => e.ev === "test");
  const done = out.events.find((e) => e.ev === "done");
  if (test && test.out === "42\n" && done && done.pid1 === true) {
    if (done.uid === 0) return `${level}: the sandbox runs as uid 0, where RLIMIT_NPROC does not apply`;
    if (done.dumpable === true) return `${level}: could not make the runner non-dumpable`;
    return null;
  }
  return `${level}: ${(out.stderr.trim() || out.exit || "no result").split("\n").slice(-2).join(" ")}`;
}

/**
 * The isolation level sandboxed runs will use with these options, probing bubblewrap once (cached). Resolves to
 * `{level, reasons}`; level is null when no sandbox works (reasons says why).
 * @example (await reward.sandboxStatus()).level // "bwrap"
 */
export function sandboxStatus(options: SandboxOptions = {}): Promise<SandboxStatus> {
  const o = sandboxOptions(options, sandboxStatus);
  if (o.sandbox === "none") return Promise.resolve({ level: "none", reasons: [] });
  const key = JSON.stringify([o.sandbox, o.bwrap, o.python, o.uid, o.readOnlyPaths]);
  let p = probes.get(key);
  if (!p) {
    p = (async () => {
      const reasons: string[] = [];
      const found = spawnSync(o.bwrap, ["--version"], { encoding: "utf8" });
      if (found.error || found.status !== 0) {
        reasons.push(
          `bubblewrap not runnable as ${JSON.stringify(o.bwrap)} (${found.error?.message ?? found.stderr.trim()})`,
        );
        return { level: null, reasons };
      }
      const features = bwrapFeatures(o.bwrap);
      if (!seccompFilter())
        reasons.push(`no seccomp filter for ${process.arch}: dangerous system calls are not refused`);
      if (!features.size)
        reasons.push(`${found.stdout.trim()} has no --size: /tmp is not size-limited (only RLIMIT_FSIZE per file)`);
      if (!fs.existsSync(o.python)) {
        reasons.push(`python not found at ${o.python}`);
        return { level: null, reasons };
      }
      const ladder: Exclude<IsolationLevel, "none">[] =
        o.sandbox === "auto"
          ? isRoot
            ? ["bwrap", "bwrap-root"]
            : ["bwrap"]
          : [o.sandbox as Exclude<IsolationLevel, "none">];
      for (const level of ladder) {
        const why = await tryLevel(level, o);
        if (why === null) return { level, reasons };
        reasons.push(why);
      }
      return { level: null, reasons };
    })();
    probes.set(key, p);
  }
  return p;
}

/** Forget cached probe results (after installing bubblewrap or changing sysctls). */
export function resetSandboxStatus(): void {
  probes.clear();
}

/**
 * Run one runner job in the sandbox (waiting for a pool slot). Fails with code "sandbox" when no isolation is
 * available and the caller did not opt out with {sandbox: "none"}.
 * @example
 * const job = {mode: "stdio", program: "print(input())", preamble: "", tests: [{input: "hi"}], stop: true}
 * const out = await runJob(job)
 */
export async function runJob(
  job: RunnerJob,
  options: SandboxOptions = {},
  onEvent: (e: RunnerEvent) => "continue" | "stop" | void = () => undefined,
  from: Function = runJob,
): Promise<RunnerOutcome> {
  const o = sandboxOptions(options, from);
  const status = await sandboxStatus(o);
  if (status.level === null)
    fail(
      "sandbox",
      `reward.code: no sandbox is available to run model-written code (got: ${status.reasons.join("; ")}; expected ` +
        `bubblewrap with user namespaces). Install it (apt install bubblewrap), allow unprivileged user namespaces ` +
        `(sysctl kernel.unprivileged_userns_clone=1, or kernel.apparmor_restrict_unprivileged_userns=0 on ` +
        `Ubuntu), or ` +
        `opt out explicitly with {sandbox: "none"} on a disposable machine.`,
      { got: status.reasons },
      from,
    );
  if (status.level === "none")
    warn(
      "reward/sandbox-none",
      `reward.code: running model-written code WITHOUT a sandbox ({sandbox: "none"}): it can read ` +
        `your files and environment, use the network and kill your processes. Use it only in a disposable ` +
        `machine or container.`,
    );
  return withSlot(o.concurrency, (slot) => runOnSlot(status.level!, o, job, slot, onEvent));
}
