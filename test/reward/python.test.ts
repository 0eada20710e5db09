// The Python in the repo as Python tools see it: every .py file compiles with `python3 -m py_compile`, and the
// sandbox runner's unit tests (test/reward/python/, stdlib unittest) pass against the real
// lib/reward/python/sandbox_runner.py. The verl reward file's unit tests run in test/remote/verl-reward-python.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PYTHON, ROOT, runUnittest, skipWithoutPython as skip } from "./python-unittest.js";

const SKIP_DIRS = new Set([".git", "node_modules", "dist", "build", "__pycache__", ".jupyter"]);

/** Every .py file under dir. */
function pythonFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory() && !SKIP_DIRS.has(e.name)) out.push(...pythonFiles(full));
    else if (e.isFile() && e.name.endsWith(".py")) out.push(full);
  }
  return out;
}

test("py_compile: every .py file in the repo compiles (library, tests, scripts, bench)", { skip }, () => {
  const files = pythonFiles(ROOT);
  for (const f of [
    "lib/reward/python/sandbox_runner.py",
    "lib/remote/python/cellrl_reward.py",
    "test/reward/python/test_sandbox_runner.py",
  ])
    assert.ok(files.includes(path.join(ROOT, f)), `${f} is missing`);
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-pycache-"));
  try {
    // the bytecode goes to a temp dir, not into lib/ (where npm run build would find it)
    const r = spawnSync(PYTHON, ["-m", "py_compile", ...files], {
      encoding: "utf8",
      env: { ...process.env, PYTHONPYCACHEPREFIX: cache },
    });
    assert.equal(r.status, 0, r.stderr);
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
});

test("sandbox_runner.py unit tests (test/reward/python, unittest) pass", { skip }, () => {
  assert.ok(runUnittest("test/reward/python") >= 19);
});

test("npm run build copies every lib/**/python/*.py into dist/ unchanged, and the compiled loader reads them there", () => {
  if (!fs.existsSync(path.join(ROOT, "dist", "index.js"))) return; // dist/ is built by `npm run build` (npm test builds first)
  const lib = pythonFiles(path.join(ROOT, "lib")).filter((f) => path.basename(path.dirname(f)) === "python");
  assert.ok(lib.length >= 2, `python files in lib/: ${lib}`);
  for (const f of lib) {
    const copy = path.join(ROOT, "dist", path.relative(path.join(ROOT, "lib"), f));
    assert.ok(fs.existsSync(copy), `${copy} is missing: npm run build:python did not copy it`);
    assert.equal(
      fs.readFileSync(copy, "utf8"),
      fs.readFileSync(f, "utf8"),
      `${copy} differs from its source: run npm run build`,
    );
  }
  const { pythonSource } = require(path.join(ROOT, "dist", "core", "python-files.js"));
  const distReward = path.join(ROOT, "dist", "reward");
  assert.equal(
    pythonSource(distReward, "sandbox_runner.py"),
    fs.readFileSync(path.join(ROOT, "lib", "reward", "python", "sandbox_runner.py"), "utf8"),
  );
  assert.throws(
    () => pythonSource(path.join(ROOT, "dist", "reward"), "missing.py"),
    /core\.pythonSource: missing\.py not found \(looked in .*dist\/reward\/python\/missing\.py, .*lib\/reward\/python\/missing\.py\)\. Run `npm run build`/,
  );
});
