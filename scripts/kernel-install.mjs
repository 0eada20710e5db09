#!/usr/bin/env node
// Register the cellrl Jupyter kernel.
//   node scripts/kernel-install.mjs          -> <repo>/.jupyter/kernels/cellrl/kernel.json (JUPYTER_PATH=$PWD/.jupyter)
//   node scripts/kernel-install.mjs --user   -> also the user's Jupyter (visible to every Jupyter/VS Code)
// Runs from `npm install` ("prepare") and `npm run kernel:install`. It never fails an install: without Jupyter it
// still writes the repo-local kernel.json and prints how to get Jupyter.
import { mkdirSync, writeFileSync, renameSync, existsSync, copyFileSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import os from "node:os";
import path from "node:path";
import { REPO, JUPYTER_DIR, findJupyter, installHint } from "./jupyter-env.mjs";

const NAME = "cellrl";

/** The kernelspec. Absolute paths: Jupyter starts kernels from the notebook's folder, with its own PATH. */
export function kernelSpec() {
  return {
    argv: [process.execPath, path.join(REPO, "kernel", "main.js"), "--config-path", "{connection_file}"],
    display_name: "TypeScript (cellrl)",
    language: "typescript",
    interrupt_mode: "signal",
    env: {},
    metadata: { cellrl: { repo: REPO, node: process.version } },
  };
}

function writeAtomic(file, text) {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** Write the kernelspec folder (kernel.json + logo) into `dir`. */
export function writeSpec(dir) {
  writeAtomic(path.join(dir, "kernel.json"), JSON.stringify(kernelSpec(), null, 2) + "\n");
  const logo = path.join(REPO, "kernel", "logo-64x64.png");
  if (existsSync(logo)) copyFileSync(logo, path.join(dir, "logo-64x64.png"));
  return dir;
}

function userInstall(jupyter) {
  const staging = path.join(os.tmpdir(), `cellrl-kernelspec-${process.pid}`, NAME);
  writeSpec(staging);
  try {
    if (jupyter) {
      // jupyter_client knows the user's data dir on every platform (and JUPYTER_DATA_DIR overrides).
      const r = spawnSync(
        jupyter.python,
        ["-m", "jupyter_client.kernelspecapp", "install", "--user", "--replace", `--name=${NAME}`, staging],
        {
          encoding: "utf8",
        },
      );
      const said = `${r.stderr}\n${r.stdout}`;
      if (r.status === 0) return (said.split("\n").find((l) => l.includes("Installed kernelspec")) ?? said).trim();
      throw new Error(said.trim() || `exit ${r.status}`);
    }
    const base =
      process.env.JUPYTER_DATA_DIR ??
      (process.platform === "darwin"
        ? path.join(os.homedir(), "Library", "Jupyter")
        : path.join(process.env.XDG_DATA_HOME ?? path.join(os.homedir(), ".local", "share"), "jupyter"));
    const dest = writeSpec(path.join(base, "kernels", NAME));
    return `Installed kernelspec ${NAME} in ${dest}`;
  } finally {
    rmSync(path.dirname(staging), { recursive: true, force: true });
  }
}

function main(argv) {
  const user = argv.includes("--user");
  const quiet = argv.includes("--quiet");
  const dir = writeSpec(path.join(JUPYTER_DIR, "kernels", NAME));
  if (!quiet)
    console.log(
      `cellrl kernel registered in ${path.relative(process.cwd(), dir) || dir} (JUPYTER_PATH=${JUPYTER_DIR})`,
    );
  if (!existsSync(path.join(REPO, "node_modules", "tslab", "package.json")))
    console.warn("cellrl: warning: node_modules/tslab is missing; run `npm install` before starting the kernel.");
  const jupyter = findJupyter();
  if (!jupyter)
    console.warn(
      `cellrl: Jupyter was not found (the kernel is registered anyway). Install it with:\n  ${installHint()}`,
    );
  if (user) console.log(userInstall(jupyter));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    // Never break `npm install` over kernel registration.
    console.warn(`cellrl: warning: kernel registration failed: ${e instanceof Error ? e.message : e}`);
  }
}
