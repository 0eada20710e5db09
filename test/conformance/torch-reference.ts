// What every PyTorch-reference conformance suite shares: finding a python3 with torch, the skip reason when there is
// none, running a reference script for its cases, and the tolerance check (float32 vs float64).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";

/** |got − expected| ≤ ATOL + RTOL·|expected|: float32 cellrl against a float64 reference. */
export const ATOL = 1e-5,
  RTOL = 2e-4;

/** The first python3 that imports torch: $CELLRL_PYTHON, python3 on PATH, /usr/bin/python3 (Debian python3-torch). */
export function findPython(): string | null {
  for (const py of [process.env.CELLRL_PYTHON, "python3", "/usr/bin/python3"]) {
    if (!py) continue;
    const r = spawnSync(py, ["-c", "import torch"], { encoding: "utf8" });
    if (r.status === 0) return py;
  }
  return null;
}

/** The python that runs the references, or null. */
export const python = findPython();

/** `describe(..., {skip})` for a suite: false with torch, else the reason and the fix. */
export function skipWithoutTorch(suite: string): string | false {
  return python
    ? false
    : "torch is missing: no python3 with PyTorch ($CELLRL_PYTHON, python3, /usr/bin/python3). " +
        `Install python3-torch (Debian) or pip install torch to run the ${suite} conformance suite.`;
}

/** Run test/conformance/reference/<script> and return its `cases`. */
export function referenceCases<T>(script: string): T[] {
  const r = spawnSync(python!, [path.join(__dirname, "reference", script)], { encoding: "utf8", maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `reference/${script} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout).cases;
}

/** Elementwise closeness within ATOL + RTOL·|want|; `onCompare` sees every error (numerics reports the worst). */
export function assertClose(
  got: ArrayLike<number> | number,
  want: ArrayLike<number> | number,
  where: string,
  onCompare?: (err: number, want: number, at: string) => void,
): void {
  const g = typeof got === "number" ? [got] : Array.from(got);
  const w = typeof want === "number" ? [want] : Array.from(want);
  assert.equal(g.length, w.length, `${where}: ${g.length} values, expected ${w.length}`);
  for (let i = 0; i < g.length; i++) {
    const err = Math.abs(g[i] - w[i]);
    onCompare?.(err, w[i], `${where}[${i}]`);
    assert.ok(
      err <= ATOL + RTOL * Math.abs(w[i]),
      `${where}[${i}]: cellrl ${g[i]}, reference ${w[i]} (|diff| ${err.toExponential(2)})`,
    );
  }
}
