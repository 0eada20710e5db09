// Shared test setup: one backend for the whole file (CELLRL_TEST_BACKEND=cpu|wasm, default wasm), closeness helpers.
import * as tf from "@tensorflow/tfjs";
import assert from "node:assert/strict";
import { useBackend } from "../../lib/core/backend.js";
import { resetWarnings } from "../../lib/core/warn.js";

export async function setup(): Promise<void> {
  const force = (process.env.CELLRL_TEST_BACKEND ?? "wasm") as "wasm" | "cpu";
  if (tf.getBackend() !== force) await useBackend({ force });
  resetWarnings(null);
}

export function close(
  actual: ArrayLike<number> | number,
  expected: ArrayLike<number> | number,
  tol = 1e-5,
  what = "",
): void {
  const a = typeof actual === "number" ? [actual] : Array.from(actual);
  const e = typeof expected === "number" ? [expected] : Array.from(expected);
  assert.equal(a.length, e.length, `${what} length ${a.length} != ${e.length}`);
  for (let i = 0; i < a.length; i++)
    assert.ok(
      Math.abs(a[i] - e[i]) <= tol * Math.max(1, Math.abs(e[i])),
      `${what}[${i}]: got ${a[i]}, expected ${e[i]} (tol ${tol})\n got ${a}\n exp ${e}`,
    );
}

/** Central finite-difference gradient of f at x (float64 math on the host; f must read its input as data). */
export function finiteDiff(f: (x: Float32Array) => number, x: Float32Array, h = 1e-2): Float32Array {
  const g = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const xp = x.slice(),
      xm = x.slice();
    xp[i] += h;
    xm[i] -= h;
    g[i] = (f(xp) - f(xm)) / (2 * h);
  }
  return g;
}

/** tf.tidy for functions that return objects holding tensors and plain numbers (tidy keeps the nested tensors). */
export function tidy<T>(f: () => T): T {
  return tf.tidy(f as unknown as () => tf.TensorContainer) as unknown as T;
}
