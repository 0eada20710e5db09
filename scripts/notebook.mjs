#!/usr/bin/env node
// `npm run notebook [-- jupyter args]`: open Jupyter Notebook on notebooks/ with the cellrl kernel.
// Needs Jupyter. If it is missing: as root on Debian/Ubuntu, apt-get installs Debian's packages; otherwise print the
// exact install line and stop. Jupyter runs on the Python its `jupyter` command uses (not necessarily `python3`).
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { REPO, APT_PACKAGES, findJupyter, installHint, isDebianLike, jupyterEnv } from "./jupyter-env.mjs";
import { writeSpec } from "./kernel-install.mjs";

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;

function aptInstall() {
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () =>
    spawnSync("apt-get", ["install", "-y", "--no-install-recommends", ...APT_PACKAGES], { stdio: "inherit", env })
      .status === 0;
  console.log(`cellrl: Jupyter is missing; installing Debian packages: ${APT_PACKAGES.join(" ")}`);
  if (install()) return true;
  // A fresh container has empty package lists: refresh once and retry.
  spawnSync("apt-get", ["update"], { stdio: "inherit", env });
  return install();
}

function ensureJupyter() {
  let j = findJupyter();
  if (j?.modules.notebook) return j;
  if (isRoot && isDebianLike()) {
    if (!aptInstall()) {
      console.error(
        `cellrl: apt-get could not install Jupyter. Try by hand:\n  apt-get update && apt-get install -y ${APT_PACKAGES.join(" ")}`,
      );
      process.exit(1);
    }
    j = findJupyter();
    if (j?.modules.notebook) return j;
  }
  console.error(
    `cellrl: Jupyter Notebook is not installed${j ? ` for ${j.python}` : ""}. Install it with:\n  ${installHint()}\nthen run \`npm run notebook\` again.`,
  );
  process.exit(1);
}

function main(args) {
  const j = ensureJupyter();
  if (!existsSync(path.join(REPO, "dist", "index.js")))
    console.warn('cellrl: warning: dist/ is missing, so `import ... from "cellrl"` will fail; run `npm run build`.');
  const spec = writeSpec(path.join(REPO, ".jupyter", "kernels", "cellrl"));
  const dir = path.join(REPO, "notebooks");
  const argv = [
    "-m",
    "notebook",
    `--notebook-dir=${dir}`,
    ...(isRoot && !args.includes("--allow-root") ? ["--allow-root"] : []),
    ...args,
  ];
  console.log(
    `cellrl: starting Jupyter Notebook on ${dir} (kernel "TypeScript (cellrl)" from ${path.relative(REPO, spec)}, Python ${j.python})`,
  );
  const child = spawn(j.python, argv, { stdio: "inherit", env: jupyterEnv() });
  // Ctrl-C reaches Jupyter directly (same terminal process group), which asks to confirm; only forward SIGTERM.
  process.on("SIGINT", () => {});
  process.on("SIGTERM", () => child.kill("SIGTERM"));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

main(process.argv.slice(2));
