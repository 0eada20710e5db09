// Running a folder of stdlib unittest files from node:test (python.test.ts, verl-reward-python.test.ts).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export const ROOT = path.join(__dirname, "..", "..");
export const PYTHON = "/usr/bin/python3";
/** node:test's skip option: false, or why the Python checks cannot run here. */
export const skipWithoutPython = fs.existsSync(PYTHON)
  ? false
  : `no ${PYTHON}: install python3 to check the Python files`;

/** Run the test_*.py files of one folder (relative to the repo); fails with unittest's report; returns how many ran. */
export function runUnittest(folder: string): number {
  const r = spawnSync(
    PYTHON,
    ["-B", "-m", "unittest", "discover", "-s", folder, "-t", folder, "-p", "test_*.py", "-v"],
    {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 300_000,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8" },
    },
  );
  assert.equal(r.status, 0, `unittest in ${folder} failed:\n${r.stderr}`);
  const ran = /^Ran (\d+) tests? in /m.exec(r.stderr);
  assert.ok(ran, `unittest in ${folder} printed no summary:\n${r.stderr}`);
  assert.match(r.stderr, /^OK\b/m);
  return Number(ran[1]);
}
