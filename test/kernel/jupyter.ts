// Test helpers: Jupyter's Python, the repo's kernelspec, and scripted kernel sessions (test/kernel/session.py).
import { spawnSync } from "node:child_process";
import path from "node:path";
import { findJupyter, installHint, jupyterEnv, REPO } from "../../scripts/jupyter-env.mjs";
import { writeSpec } from "../../scripts/kernel-install.mjs";

export { REPO };

/** The Python that runs Jupyter; throws with the install line when Jupyter is missing. */
export function jupyterPython(needed: string[] = ["jupyter_client"]): string {
  const j = findJupyter();
  const missing = needed.filter((m) => !j?.modules[m]);
  if (!j || missing.length)
    throw new Error(
      `Jupyter is needed for the kernel tests (missing: ${missing.join(", ") || "jupyter_client"}). Install: ${installHint()}`,
    );
  return j.python;
}

/** Register this checkout's kernel in <repo>/.jupyter and return the env that makes Jupyter see it. */
export function kernelEnv(): NodeJS.ProcessEnv {
  writeSpec(path.join(REPO, ".jupyter", "kernels", "cellrl"));
  return jupyterEnv();
}

/** One execute step of a scripted session (see session.py). */
export interface Step {
  code?: string;
  batch?: string[];
  stop_on_error?: boolean;
  silent?: boolean;
  interrupt_after_ms?: number;
  timeout?: number;
}

/** A Jupyter message seen on iopub for one request. */
export interface Output {
  msg_type: string;
  content: Record<string, any>;
}

/** What one request got back. */
export interface StepResult {
  reply: Record<string, any> | null;
  outputs: Output[];
  ms?: number;
}

/**
 * Start a cellrl kernel, run the steps in order, shut it down. Batch steps give one result per code.
 * @example const [r] = runSession([{code: "6 * 7"}]); r.outputs[1].content.data["text/plain"] // "42"
 */
export function runSession(
  steps: Step[],
  options: { cwd?: string; timeoutMs?: number } = {},
): (StepResult & { batch?: StepResult[] })[] {
  const python = jupyterPython();
  const r = spawnSync(python, [path.join(REPO, "test", "kernel", "session.py")], {
    input: JSON.stringify({ kernel: "cellrl", cwd: options.cwd ?? path.join(REPO, "notebooks"), steps }),
    encoding: "utf8",
    env: kernelEnv(),
    timeout: options.timeoutMs ?? 180_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0)
    throw new Error(`session.py failed (status ${r.status}, ${r.error?.message ?? ""}):\n${r.stderr}`);
  return JSON.parse(r.stdout).steps;
}

/** The outputs of one type. */
export function outputsOf(res: StepResult, msgType: string): Output[] {
  return res.outputs.filter((o) => o.msg_type === msgType);
}
