"use strict";
// Do the first `import ... from "cellrl"` ahead of time, while the user reads the notebook.
// A first cell that imports cellrl pays for two things: loading the package (tfjs, arquero, ...) and type-checking
// its declarations (tfjs's .d.ts files are large). Both are cached for the rest of the session: Node's module cache,
// and the TypeScript watch program's source-file cache. The kernel does both right after it starts, in idle slices,
// and stops as soon as a real execute_request arrives (the cell then does the remaining work itself).
const path = require("node:path");

const PREWARM_CELL = 'import * as cellrlPrewarm from "cellrl";\n';

/**
 * @param {import("./handler.js").CellrlHandler} handler
 * @param {{log?: (line: string) => void, busy?: () => boolean}} [options]
 * @returns {Promise<{required: boolean, typed: boolean, ms: number}>}
 */
function prewarm(handler, options = {}) {
  const log = options.log ?? (() => {});
  const busy = options.busy ?? (() => handler.execCount > 0 || handler.runner.current !== null);
  const t0 = Date.now();
  const result = { required: false, typed: false, ms: 0 };
  const idle = () => new Promise((r) => setImmediate(r));
  return (async () => {
    await idle();
    if (busy()) return result;
    try {
      const req = /** @type {any} */ (globalThis).__tslab__?.require;
      if (req) {
        req("cellrl");
        result.required = true;
      }
    } catch (e) {
      log(
        `prewarm: require("cellrl") failed (${e instanceof Error ? e.message.split("\n")[0] : e}); is the package built? (npm run build)`,
      );
      return result;
    }
    await idle();
    if (busy()) return result;
    try {
      const conv = handler.runner.convs.node;
      const out = conv.convert("", PREWARM_CELL);
      result.typed = !(out.diagnostics && out.diagnostics.length);
    } catch (e) {
      log(`prewarm: type check failed: ${e instanceof Error ? e.message : e}`);
    }
    result.ms = Date.now() - t0;
    log(`prewarm done in ${result.ms} ms (cwd ${path.basename(process.cwd())})`);
    return result;
  })();
}

module.exports = { prewarm, PREWARM_CELL };
