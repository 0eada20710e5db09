"use strict";
// Interrupt (Jupyter's "stop" button: SIGINT to the kernel's process group, or interrupt_request on control).
// Three cases, from cheapest to last resort:
// 1. Synchronous cell code (a busy loop right in the cell): Node's vm breakOnSigint (tslab runs cells with it)
//    throws inside the cell; finally blocks run.
// 2. The cell is awaiting (event loop free): the SIGINT handler below rejects the awaited promise, and the cell's
//    own continuations throw at their next `await` (await-guard.js). Library loops can poll
//    __cellrl_kernel__.interrupted().
// 3. Synchronous code running after an `await` (outside breakOnSigint): the main thread is stuck, so no JS handler
//    can run. A watchdog worker thread learns about the SIGINT from a tiny bash helper in the kernel's process group
//    (Jupyter signals the whole group). If the main thread's handler has not run within `graceMs`:
//    - the cell is in an asynchronous continuation (phase ASYNC): stop the running JavaScript with the inspector's
//      Runtime.terminateExecution. Only cell code is on the stack then; the continuation is dropped, the kernel, its
//      variables and sockets stay, and case 2 reports the cell as interrupted;
//    - the compiler runs: wait for it (stopping it half-way would corrupt its state);
//    - the cell's synchronous part runs (phase SYNC; the signal came before breakOnSigint was armed, e.g. during
//      compilation): send SIGINT to the kernel process itself, which breakOnSigint turns into case 1. Terminating
//      here would also unwind the kernel's own frames and the cell would never get a reply.
const path = require("node:path");
const fs = require("node:fs");

const defaults = { graceMs: 500, watchdog: true };

/**
 * @param {import("./server.js").CellrlServer} server
 * @param {{log?: (line: string) => void, graceMs?: number, watchdog?: boolean}} [options]
 */
function installInterrupts(server, options = {}) {
  const log = options.log ?? (() => {});
  const graceMs = options.graceMs ?? Number(process.env.CELLRL_KERNEL_INTERRUPT_GRACE_MS ?? defaults.graceMs);
  const watchdog = (options.watchdog ?? defaults.watchdog) && process.env.CELLRL_KERNEL_WATCHDOG !== "0";
  // state[0]: cell phase (cell-runner.js PHASE); state[1]: the compiler is running; state[2]: when the main thread
  // last handled a SIGINT (ms since `base`), so the watchdog knows the signal it saw was taken care of.
  // state[3]: the last ping from the watchdog the main thread answered (it is free to run JavaScript).
  // state[4]: how many SIGINTs the main thread has handled, so the watchdog can tell a fresh one from the last one.
  // state[5]: the id of the running cell (so the watchdog never acts on a cell that started after it looked).
  const state = new Int32Array(new SharedArrayBuffer(24));
  const base = Date.now();
  process.on("SIGINT", () => {
    Atomics.store(state, 2, Date.now() - base);
    Atomics.add(state, 4, 1);
    log(`SIGINT on the main thread (cell running: ${server.executing}, queued: ${server.received - server.started})`);
    server.interrupt("SIGINT");
  });
  if (!watchdog) return null;
  const bash = ["/bin/bash", "/usr/bin/bash"].find((p) => fs.existsSync(p));
  if (!bash) {
    log("interrupt watchdog off: no bash for the signal helper (busy loops after an await cannot be interrupted)");
    return null;
  }
  let Worker;
  try {
    ({ Worker } = require("node:worker_threads"));
  } catch {
    return null;
  }
  server.handler.runner.phaseListeners.push((phase, run) => {
    Atomics.store(state, 5, run);
    Atomics.store(state, 0, phase);
  });
  server.handler.runner.compilingListeners.push((on) => Atomics.store(state, 1, on ? 1 : 0));
  const worker = new Worker(path.join(__dirname, "interrupt-worker.js"), {
    workerData: { state, base, bash, graceMs, debug: process.env.CELLRL_KERNEL_DEBUG === "1" },
    stdout: false,
    stderr: false,
  });
  worker.on("message", (m) => {
    if (m && typeof m.ping === "number") Atomics.store(state, 3, m.ping);
  });
  worker.on("error", (e) => log(`interrupt watchdog failed: ${e instanceof Error ? e.message : e}`));
  worker.unref();
  return worker;
}

module.exports = { installInterrupts, defaults };
