#!/usr/bin/env node
// `npm run notebooks [-- filter...]`: execute every notebooks/*.ipynb (sorted) with the cellrl kernel, headless.
// Stops at the first failing notebook (a failing cell: notebook, cell number, error text; over the per-notebook
// budget; or a RESULT {json} line missing or lacking a key test/notebooks/result-keys.json requires), prints each
// notebook's wall time and RESULT line and a closing "N passed, N failed"; executed copies and HTML exports go to
// build/notebooks/ (git-ignored). A filter keeps notebooks whose file name contains it (`npm run notebooks -- 00 grpo`).
// Flags: --timeout=S per cell (600), --budget=S per notebook (300, or $CELLRL_NOTEBOOK_BUDGET), --no-html.
import { readdirSync, existsSync, mkdirSync } from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { REPO, findJupyter, installHint, jupyterEnv } from "./jupyter-env.mjs";
import { writeSpec } from "./kernel-install.mjs";

const NOTEBOOKS = path.join(REPO, "notebooks");
const OUT = path.join(REPO, "build", "notebooks");

function main(argv) {
  const filters = argv.filter((a) => !a.startsWith("--"));
  const timeout = Number((argv.find((a) => a.startsWith("--timeout=")) ?? "--timeout=600").split("=")[1]);
  const budgetText =
    argv.find((a) => a.startsWith("--budget="))?.split("=")[1] ?? process.env.CELLRL_NOTEBOOK_BUDGET ?? "300";
  const budget = Number(budgetText);
  if (!(Number.isInteger(timeout) && timeout > 0) || !(budget > 0)) {
    console.error(
      `run-notebooks: --timeout=S (seconds per cell, got ${timeout}) and --budget=S / CELLRL_NOTEBOOK_BUDGET (seconds per notebook, got ${JSON.stringify(budgetText)}) must be positive numbers.`,
    );
    process.exit(1);
  }
  const all = existsSync(NOTEBOOKS)
    ? readdirSync(NOTEBOOKS)
        .filter((f) => f.endsWith(".ipynb"))
        .sort()
    : [];
  const chosen = filters.length ? all.filter((f) => filters.some((x) => f.includes(x))) : all;
  if (!chosen.length) {
    console.error(
      `run-notebooks: no notebook in notebooks/ matches ${filters.length ? filters.join(", ") : "*.ipynb"} (have: ${all.join(", ") || "none"}).`,
    );
    process.exit(1);
  }
  if (!existsSync(path.join(REPO, "dist", "index.js"))) {
    console.error("run-notebooks: dist/ is missing: notebooks import the built package. Run `npm run build` first.");
    process.exit(1);
  }
  const jupyter = findJupyter();
  if (!jupyter || !jupyter.modules.nbclient || !jupyter.modules.nbformat) {
    console.error(
      `run-notebooks: Jupyter with nbclient is needed to execute notebooks. Install it with:\n  ${installHint()}`,
    );
    process.exit(1);
  }
  // Always run the kernel of this checkout (absolute paths), whatever was registered before.
  writeSpec(path.join(REPO, ".jupyter", "kernels", "cellrl"));
  mkdirSync(OUT, { recursive: true });
  const args = [
    "-u",
    path.join(REPO, "scripts", "run_notebooks.py"),
    "--out",
    OUT,
    "--timeout",
    String(timeout),
    "--budget",
    String(budget),
    "--kernel",
    "cellrl",
    "--result-keys",
    path.join(REPO, "test", "notebooks", "result-keys.json"),
  ];
  if (!jupyter.modules.nbconvert || argv.includes("--no-html")) args.push("--no-html");
  args.push(...chosen.map((f) => path.join(NOTEBOOKS, f)));
  console.log(
    `Executing ${chosen.length} notebook(s) with the cellrl kernel (${jupyter.python}); outputs in ${path.relative(process.cwd(), OUT) || OUT}/`,
  );
  const r = spawnSync(jupyter.python, args, { stdio: "inherit", env: jupyterEnv() });
  process.exit(r.status ?? 1);
}

main(process.argv.slice(2));
