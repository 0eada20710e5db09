"use strict";
// `import ... from "cellrl"` in a notebook outside this repo.
// Jupyter starts the kernel in the notebook's folder and tslab resolves modules (types and runtime) from there, so a
// notebook in ~/somewhere would not find cellrl. When the notebook's folder cannot resolve `cellrl` itself, the
// kernel makes `<cwd>/node_modules/cellrl/...` point at this repo, for TypeScript (through tslab's ts.sys, the same
// trick tslab uses for `import "tslab"`) and for require. A project with its own cellrl install keeps using it.
const path = require("node:path");
const fs = require("node:fs");

const REPO = path.resolve(__dirname, "..");

/** True when `cwd` resolves the package `cellrl` by normal Node lookup (node_modules in it or a parent). */
function resolvesCellrl(cwd) {
  try {
    require.resolve("cellrl/package.json", { paths: [cwd] });
    return true;
  } catch {
    return false;
  }
}

/**
 * Make `cellrl` importable from `cwd` if it is not already; returns whether forwarding was installed.
 * @param {string} cwd the kernel's working directory (the notebook's folder)
 * @param {any} ts tslab's TypeScript module
 */
function forwardCellrl(cwd, ts) {
  if (resolvesCellrl(cwd) || !fs.existsSync(path.join(REPO, "package.json"))) return false;
  const fake = path.join(cwd, "node_modules", "cellrl").replace(/\\/g, "/");
  const fwd = (p) => {
    if (typeof p !== "string") return p;
    const n = p.replace(/\\/g, "/");
    if (n !== fake && !n.startsWith(fake + "/")) return p;
    const rest = n.slice(fake.length + 1);
    // cellrl's own dependencies (node_modules/cellrl/node_modules/x) live in the repo's node_modules.
    return rest ? path.join(REPO, rest) : REPO;
  };
  const sys = ts.sys;
  for (const name of [
    "fileExists",
    "readFile",
    "directoryExists",
    "getDirectories",
    "realpath",
    "getModifiedTime",
    "readDirectory",
  ]) {
    const orig = sys[name];
    if (typeof orig !== "function") continue;
    sys[name] = function (p, ...rest) {
      return orig.call(this, fwd(p), ...rest);
    };
  }
  // tslab's converter already fakes the existence of `<cwd>/node_modules` (for `import "tslab"`).
  return true;
}

/**
 * Wrap a cell's `require` so `cellrl` (and `cellrl/...`) load from this repo when `cwd` cannot resolve them.
 * @param {(id: string) => unknown} req
 */
function wrapRequire(req) {
  return new Proxy(req, {
    apply(target, thisArg, args) {
      const id = args[0];
      if (args.length === 1 && typeof id === "string" && (id === "cellrl" || id.startsWith("cellrl/"))) {
        try {
          return Reflect.apply(target, thisArg, args);
        } catch (e) {
          if (/** @type {any} */ (e).code !== "MODULE_NOT_FOUND") throw e;
          return require(id === "cellrl" ? REPO : path.join(REPO, id.slice("cellrl/".length)));
        }
      }
      return Reflect.apply(target, thisArg, args);
    },
  });
}

module.exports = { REPO, resolvesCellrl, forwardCellrl, wrapRequire };
