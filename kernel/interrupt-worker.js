"use strict";
// Interrupt watchdog (worker thread); see interrupt.js for the why.
const { workerData, parentPort } = require("node:worker_threads");
const { spawn } = require("node:child_process");
const inspector = require("node:inspector");

const { state, bash, graceMs } = workerData;
const EXECUTING = 0;
const COMPILING = 1;
const PONG = 2;
const log = (line) => parentPort.postMessage({ log: `interrupt watchdog: ${line}` });

// The helper shares the kernel's process group, so it receives the SIGINT Jupyter sends to the group, and tells us
// on stdout. It exits when its stdin closes (the kernel is gone). bash, because dash's `read` ends on a trapped signal.
const helper = spawn(bash, ["-c", 'trap "echo INT" INT; while :; do read -r _; [ $? -eq 1 ] && exit 0; done'], {
  stdio: ["pipe", "pipe", "ignore"],
});
helper.on("error", (e) => log(`signal helper failed: ${e.message}`));
helper.stdout.setEncoding("utf8");

let seq = 0;
let handling = false;

async function onSigint() {
  if (handling || Atomics.load(state, EXECUTING) === 0) return;
  handling = true;
  try {
    const mine = ++seq;
    // The main thread echoes the ping as soon as it can run JavaScript; then its own SIGINT handler does the job.
    parentPort.postMessage({ ping: mine });
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
      if (Atomics.load(state, PONG) >= mine || Atomics.load(state, EXECUTING) === 0) return;
    }
    // Stuck in synchronous code. Never stop the compiler half-way: wait for it to finish.
    while (Atomics.load(state, COMPILING) === 1 && Atomics.load(state, EXECUTING) === 1)
      await new Promise((r) => setTimeout(r, 25));
    if (Atomics.load(state, PONG) >= mine || Atomics.load(state, EXECUTING) === 0) return;
    const session = new inspector.Session();
    session.connectToMainThread();
    await new Promise((r) => session.post("Runtime.terminateExecution", () => r(undefined)));
    session.disconnect();
    log("stopped a busy cell (synchronous code after an await)");
  } catch (e) {
    log(`could not stop the cell: ${e instanceof Error ? e.message : e}`);
  } finally {
    handling = false;
  }
}

helper.stdout.on("data", (chunk) => {
  if (String(chunk).includes("INT")) onSigint();
});
