// Kernel registration: the repo-local kernelspec Jupyter finds through JUPYTER_PATH=<repo>/.jupyter, and --user.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO, jupyterPython, kernelEnv } from "./jupyter.js";

test("the repo kernelspec is listed by Jupyter and starts node kernel/main.js with absolute paths", () => {
  const env = kernelEnv();
  const r = spawnSync(jupyterPython(), ["-m", "jupyter_client.kernelspecapp", "list", "--json"], {
    env,
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
  const specs = JSON.parse(r.stdout).kernelspecs;
  assert.equal(specs.cellrl.resource_dir, path.join(REPO, ".jupyter", "kernels", "cellrl"));
  const spec = specs.cellrl.spec;
  assert.equal(spec.display_name, "TypeScript (cellrl)");
  assert.equal(spec.language, "typescript");
  assert.deepEqual(spec.argv, [
    process.execPath,
    path.join(REPO, "kernel", "main.js"),
    "--config-path",
    "{connection_file}",
  ]);
  assert.ok(spec.argv.slice(0, 2).every((p: string) => path.isAbsolute(p)));
});

test("kernel:install --user writes the kernelspec into the user's Jupyter data dir", () => {
  const data = mkdtempSync(path.join(os.tmpdir(), "cellrl-jdata-"));
  try {
    const r = spawnSync(process.execPath, [path.join(REPO, "scripts", "kernel-install.mjs"), "--user"], {
      env: { ...process.env, JUPYTER_DATA_DIR: data },
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    const spec = JSON.parse(readFileSync(path.join(data, "kernels", "cellrl", "kernel.json"), "utf8"));
    assert.equal(spec.argv[1], path.join(REPO, "kernel", "main.js"));
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});

test("kernel:install never fails when Jupyter is missing (npm install must go on)", () => {
  const r = spawnSync(process.execPath, [path.join(REPO, "scripts", "kernel-install.mjs")], {
    env: { ...process.env, CELLRL_PYTHON: "/nonexistent/python3" },
    encoding: "utf8",
  });
  assert.equal(r.status, 0);
  assert.match(r.stderr, /Jupyter was not found .* Install it with:\n {2}.*jupyter/s);
});
