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
    process.stderr.write(
      `cellrl kernel: tslab ${version} is installed but the kernel was tested with ${TESTED_VERSION}; ` +
        `pin "tslab": "${TESTED_VERSION}" in package.json if cells misbehave.\n`,
    );
}

// tslab rewrites a use of an earlier cell's variable `x` to `exports.x`, but it visits a shorthand property `{ x }`
// only as a property name, so `{ x }` in a later cell threw "x is not defined". The fix is in the closure of its
// converter, so the converter module is loaded from its source with the shorthand case added, under its own file
// name in require's cache (tslab's jupyter.js and main.js then get the patched module too).
const SHORTHAND_ANCHOR =
  "            if (!ts.isIdentifier(node)) {\n                return ts.visitEachChild(node, wrapPrevIdentifier, nullTransformationContext);";
const SHORTHAND_CASE = `            if (ts.isShorthandPropertyAssignment(node) && !node.objectAssignmentInitializer) {
                const value = checker.getShorthandAssignmentValueSymbol(node);
                if (value && (value.declarations || []).some((d) => d.getSourceFile() === declsFile))
                    return ts.factory.createPropertyAssignment(node.name.text, ts.factory.createPropertyAccessExpression(ts.factory.createIdentifier("exports"), node.name.text));
            }
`;
let converterModule = null;
function patchedConverter() {
  if (converterModule) return converterModule;
  const file = require.resolve("tslab/dist/converter");
  const cached = require.cache[file];
  if (cached && cached.cellrlPatched) return (converterModule = cached.exports);
  const source = require("node:fs").readFileSync(file, "utf8");
  if (!source.includes(SHORTHAND_ANCHOR)) {
    process.stderr.write("cellrl kernel: tslab's converter changed; `{ x }` of an earlier cell's x stays unpatched.\n");
    return (converterModule = require(file));
  }
  const Module = require("node:module");
  const m = new Module(file, module);
  m.filename = file;
  m.paths = Module._nodeModulePaths(path.dirname(file));
  m.cellrlPatched = true;
  require.cache[file] = m;
  m._compile(source.replace(SHORTHAND_ANCHOR, SHORTHAND_CASE + SHORTHAND_ANCHOR), file);
  m.loaded = true;
  return (converterModule = m.exports);
}

module.exports = {
  TESTED_VERSION,
  version,
  dir,
  checkVersion,
  /** @returns {typeof import("tslab/dist/jupyter")} */
  jupyter: () => require("tslab/dist/jupyter"),
  /** @returns {typeof import("tslab/dist/converter")} */
  converter: () => patchedConverter(),
  /** @returns {typeof import("tslab/dist/executor")} */
  executor: () => require("tslab/dist/executor"),
  /** tslab's bundled TypeScript 5.0.4 (the one that type-checks cells). */
  ts: () => fromTslab("@tslab/typescript-for-tslab"),
};
