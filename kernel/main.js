#!/usr/bin/env node
"use strict";
// The cellrl Jupyter kernel: `node kernel/main.js --config-path <connection file>` (what kernel.json runs).
// Built on tslab 1.0.22 (compiler, executor, sockets) with the protocol layer replaced; see docs/kernel.md.
const path = require("node:path");

const realStderr = process.stderr.write.bind(process.stderr);
/** Kernel diagnostics go to the kernel's own stderr (the Jupyter server log), never into a cell. */
const log = (line) => realStderr(`[cellrl kernel] ${line}\n`);
/** Routine events (prewarm time, watchdog actions) only with CELLRL_KERNEL_DEBUG=1. */
const debug = process.env.CELLRL_KERNEL_DEBUG === "1" ? log : () => {};

function parseArgs(argv) {
  let configPath = "";
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--config-path" || a === "-f") configPath = argv[++i] ?? "";
    else if (a.startsWith("--config-path=")) configPath = a.slice("--config-path=".length);
    else if (a === "--help" || a === "-h") {
      realStderr("usage: node kernel/main.js --config-path <connection_file.json>\n");
      process.exit(0);
    } else if (!a.startsWith("-") && !configPath) configPath = a;
  }
  if (!configPath) {
    realStderr(
      "cellrl kernel: missing --config-path <connection file> (Jupyter passes it; see .jupyter/kernels/cellrl/kernel.json)\n",
    );
    process.exit(2);
  }
  return { configPath: path.resolve(configPath) };
}

async function main() {
  const { configPath } = parseArgs(process.argv.slice(2));
  const tslab = require("./tslab.js");
  tslab.checkVersion();
  const { CellrlHandler } = require("./handler.js");
  const { CellrlServer } = require("./server.js");
  const { installInterrupts } = require("./interrupt.js");
  const { prewarm } = require("./prewarm.js");

  const handler = new CellrlHandler({ cwd: process.cwd() });
  const server = new CellrlServer(handler, configPath, { log });
  installInterrupts(server, { log: debug });
  process.on("uncaughtException", (err) => {
    // A callback scheduled by a cell threw after the cell finished: show it where output goes, keep the kernel up.
    process.stderr.write(
      `Uncaught exception (from a callback scheduled by an earlier cell): ${err && err.stack ? err.stack : err}\n`,
    );
  });
  process.on("unhandledRejection", (reason) => {
    process.stderr.write(`Unhandled promise rejection: ${reason && reason.stack ? reason.stack : reason}\n`);
  });
  await server.init();
  // Sockets are bound: build the compiler now (blocks ~0.5-1 s; Jupyter's kernel_info waits for it, cells too).
  handler.warm();
  if (process.env.CELLRL_KERNEL_PREWARM !== "0") prewarm(handler, { log: debug, busy: () => server.received > 0 });
}

main().catch((e) => {
  log(`failed to start: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
