// Every check of jupyter_kernel_test (Debian python3-jupyter-kernel-test) against the cellrl kernel.
// The checks themselves are configured in kernel_protocol.py.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { REPO, jupyterPython, kernelEnv } from "./jupyter.js";

const CHECKS = [
  "kernel_info",
  "execute_stdout",
  "execute_stderr",
  "completion",
  "is_complete",
  "error",
  "execute_result",
  "display_data",
  "history",
  "inspect",
  "clear_output",
];

// run_protocol.py runs the unittest suite and reports per-test outcomes as one JSON line.

test("jupyter_kernel_test: every check passes against the cellrl kernel", () => {
  const python = jupyterPython(["jupyter_client", "jupyter_kernel_test"]);
  const r = spawnSync(python, ["run_protocol.py"], {
    cwd: path.join(REPO, "test", "kernel"),
    env: { ...kernelEnv(), PYTHONDONTWRITEBYTECODE: "1" },
    encoding: "utf8",
    timeout: 300_000,
  });
  const line = r.stdout.split("\n").find((l) => l.startsWith("RESULT "));
  assert.ok(line, `the jupyter_kernel_test runner printed no result (status ${r.status}):\n${r.stdout}\n${r.stderr}`);
  const res = JSON.parse(line.slice("RESULT ".length)) as {
    run: number;
    failures: [string, string][];
    skipped: string[];
    log: string;
  };
  assert.deepEqual(
    res.failures.map(([id, tb]) => `${id}\n${tb}`),
    [],
    `jupyter_kernel_test failures:\n${res.log}`,
  );
  // Only test_pager may be skipped (the kernel has no pager payloads); any other skip means a missing sample.
  assert.deepEqual(
    res.skipped.map((id) => id.split(".").pop()),
    ["test_pager"],
  );
  for (const c of CHECKS) assert.match(res.log, new RegExp(`test_${c} \\(`), `check ${c} did not run`);
  assert.equal(res.run, CHECKS.length + 1);
});
