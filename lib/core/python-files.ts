// The Python cellrl runs or writes (the sandbox runner, the verl reward file) lives in real .py files in a python/
// folder next to the TS that uses them, so Python tools (py_compile, unittest) read it. `npm run build` copies them to
// the same place under dist/ (scripts/build-python.mjs), as it copies the wasm kernels.
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { fail } from "./errors.js";

const cache = new Map<string, string>();

/**
 * The text of `python/<file>` next to the calling module: `dir` is the caller's __dirname, lib/<folder> under tsx or
 * dist/<folder> when compiled (falling back to lib/<folder> from a dist/ that was built without copying).
 * @example pythonSource(__dirname, "sandbox_runner.py").startsWith('"""') // true
 */
export function pythonSource(dir: string, file: string): string {
  const key = path.join(dir, file);
  let text = cache.get(key);
  if (text === undefined) {
    const candidates = [path.join(dir, "python", file)];
    const parts = dir.split(path.sep);
    const dist = parts.lastIndexOf("dist");
    if (dist >= 0)
      candidates.push(path.join(parts.slice(0, dist).join(path.sep), "lib", ...parts.slice(dist + 1), "python", file));
    const found = candidates.find((p) => existsSync(p));
    if (!found)
      fail(
        "not_found",
        `core.pythonSource: ${file} not found (looked in ${candidates.join(", ")}). ` +
          "Run `npm run build` (it copies lib/**/python/*.py into dist/).",
        { got: candidates },
      );
    text = readFileSync(found, "utf8");
    cache.set(key, text);
  }
  return text;
}
