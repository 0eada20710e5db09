// One long-lived sandbox (bwrap + the Python runner) that runs jobs one after another. Starting bwrap and Python
// costs ~40 ms of CPU, running a HumanEval solution in a forked child ~3 ms, so warm sandboxes are what make
// scoring fast. The runner cleans up after every job and exits when a job left something it cannot clean.
import { spawn, type ChildProcess } from "node:child_process";

/** How to start a worker. */
export interface WorkerSpec {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  uid?: number;
  gid?: number;
  /** Called once the worker process is gone (removes a temp dir). */
  cleanup?: () => void;
  /** Bytes written to the worker's fd 3 and closed (bwrap reads its seccomp filter there). */
  fd3?: Buffer;
}

/** One JSON event the runner wrote. */
export type RunnerEvent = { ev: string } & Record<string, unknown>;

/** Per-job hooks and limits. */
export interface WorkerJob {
  /** The job as one JSON line. */
  line: string;
  /** Called for every event; in stdio mode its answer to a "test" event is sent back as the verdict. */
  onEvent: (e: RunnerEvent) => "continue" | "stop" | void;
  /** Whether "test" events expect a verdict line back (stdio mode). */
  verdicts: boolean;
  /** Watchdog: ms allowed until the next event, given how many tests are still to come. */
  budgetMs: (remainingTests: number) => number;
  /** Tests the host expects (functional jobs announce theirs in a "units" event). */
  tests: number;
  /** Bytes of runner output after which the worker is killed. */
  resultCap: number;
  /** The runner exits after this job (no reuse). */
  last: boolean;
}

/** What one job gave. */
export interface WorkerResult {
  events: RunnerEvent[];
  /** The watchdog fired: the runner stopped talking and was killed. */
  hung: boolean;
  /** The runner wrote more than resultCap and was killed. */
  overflow: boolean;
  /** Exit of the worker when it died during the job. */
  exit: string | null;
  stderr: string;
  ms: number;
}

const live = new Set<Worker>();
let exitHook = false;

/** A warm sandbox. Not for direct use: sandbox.ts hands jobs to the worker of a pool slot. */
export class Worker {
  readonly key: string;
  private child: ChildProcess;
  private alive = true;
  private buffered = "";
  private stderr = "";
  private exitText: string | null = null;
  private idleTimer: NodeJS.Timeout | undefined;
  private job: {
    spec: WorkerJob;
    events: RunnerEvent[];
    hung: boolean;
    overflow: boolean;
    received: number;
    remaining: number;
    timer?: NodeJS.Timeout;
    start: number;
    resolve: (r: WorkerResult) => void;
  } | null = null;
  private readonly idleMs: number;

  constructor(key: string, spec: WorkerSpec, idleMs: number) {
    this.key = key;
    this.idleMs = idleMs;
    // detached: the worker leads its own process group, so one kill reaches bwrap and everything under it
    // (bwrap's --die-with-parent then takes down the pid namespace).
    this.child = spawn(spec.command, spec.args, {
      stdio: spec.fd3 ? ["pipe", "pipe", "pipe", "pipe"] : ["pipe", "pipe", "pipe"],
      detached: true,
      cwd: spec.cwd,
      env: spec.env,
      uid: spec.uid,
      gid: spec.gid,
    });
    if (spec.fd3) {
      const fd3 = this.child.stdio[3] as import("node:stream").Writable;
      fd3.on("error", () => undefined);
      fd3.end(spec.fd3);
    }
    live.add(this);
    if (!exitHook) {
      exitHook = true;
      process.on("exit", () => {
        for (const w of live) w.kill();
      });
    }
    this.child.stdout!.setEncoding("utf8");
    this.child.stdout!.on("data", (chunk: string) => this.onData(chunk));
    this.child.stderr!.setEncoding("utf8");
    this.child.stderr!.on("data", (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    this.child.stdin!.on("error", () => undefined); // the runner may exit before reading what we wrote
    this.child.on("error", (err) => {
      this.stderr += String(err);
      this.onExit(`spawn failed: ${err.message}`);
    });
    this.child.on("close", (code, sig) => this.onExit(sig ?? `exit ${code}`));
    let cleaned = false;
    this.child.on("close", () => {
      if (!cleaned) {
        cleaned = true;
        spec.cleanup?.();
      }
    });
  }

  /** Whether the worker can take another job. */
  get usable(): boolean {
    return this.alive;
  }

  /** Run one job; resolves when the runner reports "done" or the worker dies. */
  run(spec: WorkerJob): Promise<WorkerResult> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.setRef(true);
    return new Promise<WorkerResult>((resolve) => {
      this.job = {
        spec,
        events: [],
        hung: false,
        overflow: false,
        received: 0,
        remaining: spec.tests,
        start: Date.now(),
        resolve,
      };
      this.arm();
      if (!this.alive) return this.finish();
      this.child.stdin!.write(spec.line);
    });
  }

  /** Kill the worker and every process in its sandbox. */
  kill(): void {
    this.alive = false;
    if (this.child.pid !== undefined) {
      try {
        process.kill(-this.child.pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    this.child.kill("SIGKILL");
  }

  private arm(): void {
    const j = this.job!;
    if (j.timer) clearTimeout(j.timer);
    j.timer = setTimeout(() => {
      j.hung = true;
      this.kill();
    }, j.spec.budgetMs(j.remaining));
  }

  private onData(chunk: string): void {
    const j = this.job;
    if (j) {
      j.received += chunk.length;
      if (j.received > j.spec.resultCap) {
        j.overflow = true;
        this.kill();
        return;
      }
    }
    this.buffered += chunk;
    let k: number;
    while ((k = this.buffered.indexOf("\n")) >= 0) {
      const line = this.buffered.slice(0, k);
      this.buffered = this.buffered.slice(k + 1);
      this.onLine(line);
    }
  }

  private onLine(line: string): void {
    const j = this.job;
    if (!j || !line) return;
    let e: RunnerEvent;
    try {
      e = JSON.parse(line) as RunnerEvent;
    } catch {
      return;
    }
    j.events.push(e);
    if (e.ev === "units" && typeof e.n === "number") j.remaining = e.n;
    if (e.ev === "test") j.remaining = Math.max(0, j.remaining - 1);
    const verdict = j.spec.onEvent(e);
    if (j.spec.verdicts && e.ev === "test" && this.alive) this.child.stdin!.write(verdict === "stop" ? "s\n" : "c\n");
    if (e.ev === "done") {
      // The runner exits by itself after a job it could not clean up after (or a last job).
      if ((Array.isArray(e.recycle) && e.recycle.length > 0) || j.spec.last) this.alive = false;
      this.finish();
    } else this.arm();
  }

  private onExit(how: string): void {
    this.alive = false;
    this.exitText = how;
    live.delete(this);
    if (this.job) this.finish();
  }

  private finish(): void {
    const j = this.job;
    if (!j) return;
    this.job = null;
    if (j.timer) clearTimeout(j.timer);
    const done = j.events.some((e) => e.ev === "done");
    j.resolve({
      events: j.events,
      hung: j.hung,
      overflow: j.overflow,
      exit: done ? null : (this.exitText ?? "killed"),
      stderr: this.stderr,
      ms: Date.now() - j.start,
    });
    if (!this.alive) {
      this.kill();
      return;
    }
    // Idle workers must not keep Node alive, and go away after a while to give the memory back.
    this.setRef(false);
    this.idleTimer = setTimeout(() => this.kill(), this.idleMs);
    this.idleTimer.unref();
  }

  private setRef(on: boolean): void {
    // Streams without a handle (closed) would queue a 'connect' listener on every ref(): skip them.
    const streams = [this.child.stdin, this.child.stdout, this.child.stderr] as unknown as ({
      ref(): void;
      unref(): void;
      destroyed: boolean;
    } | null)[];
    for (const h of streams) if (h && !h.destroyed) (on ? h.ref : h.unref).call(h);
    if (on) this.child.ref();
    else this.child.unref();
  }
}
