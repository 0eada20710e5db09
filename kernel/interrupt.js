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
//    (Jupyter signals the whole group), pings the main thread, and if it does not answer within `graceMs` while a
//    cell is running (and not compiling), stops the running JavaScript with the inspector's
//    Runtime.terminateExecution. The stopped continuation is dropped; the kernel, its variables and its sockets
//    stay. Case 2 then reports the cell as interrupted.
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
  process.on("SIGINT", () => server.interrupt("SIGINT"));
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
  // state[0]: a cell is executing; state[1]: the compiler is running; state[2]: last ping answered by main.
  const state = new Int32Array(new SharedArrayBuffer(12));
  server.executingListeners.push((on) => Atomics.store(state, 0, on ? 1 : 0));
  server.handler.runner.compilingListeners.push((on) => Atomics.store(state, 1, on ? 1 : 0));
  const worker = new Worker(path.join(__dirname, "interrupt-worker.js"), {
    workerData: { state, bash, graceMs },
    stdout: false,
    stderr: false,
  });
  worker.on("message", (m) => {
    if (m && m.ping) Atomics.store(state, 2, m.ping);
    else if (m && m.log) log(m.log);
  });
  worker.on("error", (e) => log(`interrupt watchdog failed: ${e instanceof Error ? e.message : e}`));
  worker.unref();
  return worker;
}

module.exports = { installInterrupts, defaults };
