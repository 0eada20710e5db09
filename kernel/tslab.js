"use strict";
// The parts of tslab this kernel builds on, loaded from the repo's own node_modules.
// cellrl reuses tslab's compiler (converter: per-cell TypeScript type check + emit), its executor (runs cells,
// keeps variables across cells, `import "tslab"` hook) and its ZeroMQ socket setup; it replaces tslab's protocol
// layer (see server.js). The subclassing in server.js depends on tslab's private dist/ layout, so the version is
// pinned here and checked at start: bump TESTED_VERSION only after `npm run test:unit` passes test/kernel.
const path = require("node:path");
const { createRequire } = require("node:module");

const TESTED_VERSION = "1.0.22";

const pkgFile = require.resolve("tslab/package.json");
const dir = path.dirname(pkgFile);
const version = require(pkgFile).version;
const fromTslab = createRequire(pkgFile);

/** Warn (once, on the kernel's own stderr) when tslab is not the version the patches were written for. */
function checkVersion() {
  if (version !== TESTED_VERSION)
    process.stderr.write(`cellrl kernel: tslab ${version} is installed but the kernel was tested with ${TESTED_VERSION}; ` +
      `pin "tslab": "${TESTED_VERSION}" in package.json if cells misbehave.\n`);
}

module.exports = {
  TESTED_VERSION,
  version,
  dir,
  checkVersion,
  /** @returns {typeof import("tslab/dist/jupyter")} */
  jupyter: () => require("tslab/dist/jupyter"),
  /** @returns {typeof import("tslab/dist/converter")} */
  converter: () => require("tslab/dist/converter"),
  /** @returns {typeof import("tslab/dist/executor")} */
  executor: () => require("tslab/dist/executor"),
  /** tslab's bundled TypeScript 5.0.4 (the one that type-checks cells). */
  ts: () => fromTslab("@tslab/typescript-for-tslab"),
};
