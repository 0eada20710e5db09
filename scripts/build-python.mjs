// Copy the Python files of the library (lib/**/python/*.py: the sandbox runner, the verl reward file) to the same
// place under dist/, where the compiled modules read them at run time (lib/core/python-files.ts). Run by
// `npm run build:python`, which `npm run build` runs; tsc copies only .ts output.
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const lib = join(root, "lib");
const dist = join(root, "dist");

/** Every .py file in a python/ folder under dir (no __pycache__). */
function pythonFiles(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, e.name);
    if (e.isDirectory() && e.name !== "__pycache__") out.push(...pythonFiles(full));
    else if (e.isFile() && e.name.endsWith(".py") && basename(dir) === "python") out.push(full);
  }
  return out;
}

const files = pythonFiles(lib);
for (const file of files) {
  const dest = join(dist, relative(lib, file));
  mkdirSync(dirname(dest), { recursive: true });
  copyFileSync(file, dest);
}
console.log(`build-python: copied ${files.length} files to dist/ (${files.map((f) => relative(lib, f)).join(", ")})`);
