"use strict";
// Interrupt watchdog (worker thread); see interrupt.js for the why.
const { workerData, parentPort } = require("node:worker_threads");
const { spawn } = require("node:child_process");
const inspector = require("node:inspector");

const { state, base, bash, graceMs } = workerData;
// Must match cell-runner.js PHASE.
const PHASE_IDLE = 0;
const PHASE_SYNC = 1;
const PHASE_ASYNC = 2;
const PHASE = 0;
const COMPILING = 1;
const MAIN_SIGINT_MS = 2;
const PONG = 3;
const MAIN_SIGINTS = 4;
const RUN = 5;
// The helper reports a signal a little after the main thread can see it (more under load): a main-thread SIGINT
// this much earlier than our report is the same signal.
const SLACK_MS = 1000;
// Written from this thread: the main thread, which normally logs, may be the one that is stuck.
const log = workerData.debug
  ? (line) => require("node:fs").writeSync(2, `[cellrl kernel] interrupt watchdog: ${line}\n`)
  : () => {};

// The helper shares the kernel's process group, so it receives the SIGINT Jupyter sends to the group, and tells us
// on stdout. It exits when its stdin closes (the kernel is gone). bash, because dash's `read` ends on a trapped signal.
const helper = spawn(bash, ["-c", 'trap "echo INT" INT; while :; do read -r _; [ $? -eq 1 ] && exit 0; done'], {
  stdio: ["pipe", "pipe", "ignore"],
});
helper.on("error", (e) => log(`signal helper failed: ${e.message}`));
helper.stdout.setEncoding("utf8");

let handling = false;
let pings = 0;
// Main-thread SIGINTs already accounted for: one handled within SLACK_MS of an earlier signal must not count as
// handling a later one (two stops pressed within a second, or a loaded machine).
let attributed = 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** True if the main thread runs JavaScript (answers a ping) within `ms`. */
async function mainResponds(ms) {
  const id = ++pings;
  parentPort.postMessage({ ping: id });
  for (const end = Date.now() + ms; Date.now() < end;) {
    await sleep(10);
    if (Atomics.load(state, PONG) >= id) return true;
  }
  return false;
}

async function onSigint() {
  // Even when no cell runs yet: a cell may start before the main thread's own SIGINT handler gets to run.
  if (handling) return;
  handling = true;
  log(`SIGINT (phase ${Atomics.load(state, PHASE)}, compiling ${Atomics.load(state, COMPILING)})`);
  try {
    const at = Date.now() - base;
    // The main thread's own SIGINT handler does the job whenever it gets to run (cases 1 and 2).
    const answered = () =>
      Atomics.load(state, MAIN_SIGINTS) > attributed && Atomics.load(state, MAIN_SIGINT_MS) >= at - SLACK_MS;
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline) {
      await sleep(25);
      if (answered()) {
        log("the main thread handled it");
        return;
      }
    }
    // The main thread is stuck (or about to start a cell before its handler runs). Act on what it is doing.
    const giveUp = Date.now() + 30_000;
    while (!answered() && Date.now() < giveUp) {
      if (Atomics.load(state, COMPILING) === 1) {
        // Never stop the compiler half-way.
        await sleep(25);
        continue;
      }
      const phase = Atomics.load(state, PHASE);
      const run = Atomics.load(state, RUN);
      if (phase === PHASE_IDLE) {
        // No cell yet: the main thread is busy with something else (e.g. the start-up prewarm) and a cell may start
        // right after it. If the main thread is free and still no cell starts, the signal was handled or is stale.
        if (await mainResponds(100)) {
          await sleep(100);
          if (Atomics.load(state, PHASE) === PHASE_IDLE) {
            log("no cell to stop");
            return;
          }
        }
        continue;
      }
      // A cell runs. If the main thread still answers, it is not stuck: breakOnSigint stopped the synchronous part
      // (its handler then never runs) or the cell is awaiting (the handler runs). Only a stuck thread needs us.
      if (await mainResponds(1000)) {
        log("the main thread is free (the cell was stopped)");
        return;
      }
      // The cell ended, or another one started, while we waited: look again.
      if (
        Atomics.load(state, RUN) !== run ||
        Atomics.load(state, PHASE) !== phase ||
        Atomics.load(state, COMPILING) === 1
      )
        continue;
      if (phase === PHASE_SYNC) {
        // The cell's synchronous part, run with breakOnSigint: re-deliver the signal so Node interrupts it properly
        // (again on the next round if it landed just before breakOnSigint was armed).
        process.kill(process.pid, "SIGINT");
        log("re-sent SIGINT to a busy synchronous cell");
        continue;
      }
      if (phase !== PHASE_ASYNC) return;
      // An asynchronous continuation of the cell: only cell code is on the stack, safe to terminate.
      const session = new inspector.Session();
      session.connectToMainThread();
      await new Promise((r) => session.post("Runtime.terminateExecution", () => r(undefined)));
      session.disconnect();
      log("stopped a busy cell (synchronous code after an await)");
      return;
    }
  } catch (e) {
    log(`could not stop the cell: ${e instanceof Error ? e.message : e}`);
  } finally {
    // The main thread handles this signal too once it is free (after we stopped the cell): count that in as well.
    if (await mainResponds(5000)) await sleep(100);
    attributed = Atomics.load(state, MAIN_SIGINTS);
    handling = false;
  }
}

helper.stdout.on("data", (chunk) => {
  if (String(chunk).includes("INT")) onSigint();
});

// Like ipykernel's parent poller: when the process that launched the kernel dies (a killed notebook server or
// client), the kernel is orphaned and nobody will ever shut it down; exit, even while a cell keeps the main thread
// busy (this thread is the one that still runs). Only a change counts, so a kernel started through a wrapper that had
// already exited keeps running.
const parentAtStart = process.ppid;
setInterval(() => {
  if (process.ppid === parentAtStart) return;
  log(`the kernel's parent process ${parentAtStart} is gone: exiting`);
  process.kill(process.pid, "SIGTERM");
  setTimeout(() => process.kill(process.pid, "SIGKILL"), 3000);
}, 1000);
