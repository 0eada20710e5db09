// Find the Python that Jupyter runs with (shared by kernel-install, notebook and run-notebooks).
// The `python3` on PATH is often not it (pyenv, conda, venvs): Debian's Jupyter runs on /usr/bin/python3, a pip
// install on whatever its `jupyter` script's shebang names. So: $CELLRL_PYTHON (if set, only it), else the interpreter
// in the `jupyter` script's shebang, then /usr/bin/python3, then python3 on PATH; the first that has jupyter_client.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, accessSync, constants } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** Where `npm install` registers the kernel: JUPYTER_PATH=<repo>/.jupyter finds .jupyter/kernels/cellrl. */
export const JUPYTER_DIR = path.join(REPO, ".jupyter");
/** The Debian/Ubuntu packages that give everything cellrl needs from Jupyter. */
export const APT_PACKAGES = ["jupyter-notebook", "jupyter-nbconvert", "python3-nbclient", "jupyter-client"];

/** Absolute path of an executable on PATH, or null. */
export function which(cmd) {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return null;
}

function shebangPython(script) {
  try {
    const first = readFileSync(script, "utf8").split("\n", 1)[0];
    if (!first.startsWith("#!")) return null;
    const parts = first.slice(2).trim().split(/\s+/);
    if (path.basename(parts[0]) === "env") return parts[1] ? which(parts[1]) : null;
    return parts[0];
  } catch {
    return null;
  }
}

const PROBE = `
import json, importlib.util as u
mods = ["jupyter_client", "jupyter_core", "notebook", "nbclient", "nbconvert", "nbformat", "jupyter_kernel_test"]
print(json.dumps({m: u.find_spec(m) is not None for m in mods}))
`;

/**
 * Which Python runs Jupyter, and which Jupyter modules it has.
 * @returns {{python: string, modules: Record<string, boolean>, jupyter: string | null} | null}
 */
export function findJupyter() {
  const jupyter = which("jupyter");
  // $CELLRL_PYTHON, when set, is the only candidate (a user's explicit choice; also lets tests simulate "no Jupyter").
  const candidates = (
    process.env.CELLRL_PYTHON
      ? [process.env.CELLRL_PYTHON]
      : [jupyter && shebangPython(jupyter), "/usr/bin/python3", which("python3")]
  ).filter((p) => p && existsSync(p));
  for (const python of [...new Set(candidates)]) {
    const r = spawnSync(python, ["-c", PROBE], { encoding: "utf8", timeout: 30000 });
    if (r.status !== 0) continue;
    let modules;
    try {
      modules = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}");
    } catch {
      continue;
    }
    if (modules.jupyter_client) return { python, modules, jupyter };
  }
  return null;
}

/** True on Debian/Ubuntu (apt-get present and /etc/debian_version). */
export function isDebianLike() {
  return existsSync("/etc/debian_version") && which("apt-get") !== null;
}

/** The line a user should run to get Jupyter, for this machine. */
export function installHint() {
  if (isDebianLike()) return `sudo apt-get install -y ${APT_PACKAGES.join(" ")}`;
  return "python3 -m pip install notebook nbconvert nbclient jupyter_client   # or your distribution's Jupyter packages";
}

/** Environment for Jupyter processes that makes the repo's kernel (.jupyter/kernels/cellrl) visible. */
export function jupyterEnv(base = process.env) {
  const paths = [JUPYTER_DIR, ...(base.JUPYTER_PATH ? base.JUPYTER_PATH.split(path.delimiter) : [])];
  return { ...base, JUPYTER_PATH: [...new Set(paths)].join(path.delimiter) };
}
