// Input coercion and small tensor helpers shared by lib/update and lib/distill. Validation happens here, once, at the
// public boundary; the helpers name the function and the field in every error.
import * as tf from "@tensorflow/tfjs";
import { describe, fail } from "../core/errors.js";

/** A tensor or anything tf.tensor() accepts (nested arrays, typed arrays). */
export type TensorInput = tf.Tensor | tf.TensorLike;

/**
 * A tensor from `x` with the given rank, checked; a TensorLike is converted (the caller's tf.tidy frees the copy).
 * @example const mask = asTensor(inputs.mask, 2, "update.policyLoss", "inputs.mask")
 */
export function asTensor(x: TensorInput | undefined, rank: number, fn: string, field: string): tf.Tensor {
  if (x === undefined || x === null)
    fail(
      "invalid_input",
      `${fn}: ${field} is missing (got ${describe(x)}; expected a rank-${rank} tensor or array). Pass ${field}.`,
      { path: field.split(".") },
    );
  let t: tf.Tensor;
  if (x instanceof tf.Tensor) {
    if (x.isDisposed)
      fail("invalid_input", `${fn}: ${field} was already disposed. Recompute it or keep it outside tf.tidy.`, {
        path: field.split("."),
      });
    t = x;
  } else {
    try {
      t = tf.tensor(x as tf.TensorLike);
    } catch (e) {
      return fail(
        "invalid_input",
        `${fn}: ${field} is not numeric data (got ${describe(x)}; expected a rank-${rank} tensor or ` +
          `array). ${(e as Error).message}.`,
        { path: field.split("."), cause: e },
      );
    }
  }
  if (t.rank !== rank)
    fail(
      "shape_mismatch",
      `${fn}: ${field} has shape [${t.shape.join(", ")}] (got rank ${t.rank}; expected rank ${rank}). Reshape it.`,
      { path: field.split("."), got: t.shape },
    );
  return t.dtype === "float32" ? t : t.toFloat();
}

/**
 * Fail unless `t` has exactly `shape`; `like` names the tensor whose shape it must match.
 * @example checkShape(mask, logp.shape, "update.policyLoss", "inputs.mask", "inputs.logp")
 */
export function checkShape(t: tf.Tensor, shape: number[], fn: string, field: string, like: string): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
    fail(
      "shape_mismatch",
      `${fn}: ${field} has shape [${t.shape.join(", ")}] but ${like} has [${shape.join(", ")}]; both must be [B, T].`,
      { path: field.split("."), got: t.shape, expected: shape },
    );
}

/**
 * Per-sequence values [B] or per-token values [B, T] as a [B, T] tensor (a scalar per sequence is broadcast over
 * tokens).
 * @example const A = perToken(inputs.adv, [B, T], "update.policyLoss", "inputs.adv")
 */
export function perToken(
  x: TensorInput | ArrayLike<number> | undefined,
  shape: [number, number],
  fn: string,
  field: string,
): tf.Tensor2D {
  if (x === undefined)
    return fail("invalid_input", `${fn}: ${field} is missing. Pass one value per sequence [B] or per token [B, T].`, {
      path: field.split("."),
    });
  const t =
    x instanceof tf.Tensor
      ? x
      : tf.tensor(ArrayBuffer.isView(x) ? Array.from(x as ArrayLike<number>) : (x as tf.TensorLike));
  const f = t.dtype === "float32" ? t : t.toFloat();
  if (f.rank === 1) {
    // one value per token, flat [B·T] row-major (a token-level advantage estimator's output)
    if (f.shape[0] === shape[0] * shape[1] && shape[1] > 1) return f.reshape(shape) as tf.Tensor2D;
    if (f.shape[0] !== shape[0])
      fail(
        "shape_mismatch",
        `${fn}: ${field} has ${f.shape[0]} values but there are ${shape[0]} sequences (got [${f.shape}]; ` +
          `expected [${shape[0]}], [${shape}] or ${shape[0] * shape[1]} flat).`,
        { path: field.split("."), got: f.shape },
      );
    return f.reshape([shape[0], 1]).tile([1, shape[1]]) as tf.Tensor2D;
  }
  checkShape(f, shape, fn, field, "inputs.logp");
  return f as tf.Tensor2D;
}

const detachOp = tf.customGrad(((x: tf.Tensor) => ({
  value: x.clone(),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]);

/**
 * The same values with no gradient (PyTorch `.detach()`, the papers' sg[.]). tfjs has no stopGradient op.
 * @example const w = detach(tf.exp(logp.sub(oldLogp)))
 */
export function detach<T extends tf.Tensor>(x: T): T {
  return detachOp(x) as T;
}

/**
 * Read a tensor to a Float32Array (for metrics and host-side logic only).
 * @example const r = hostData(ratio)
 */
export function hostData(t: tf.Tensor): Float32Array {
  const d = t.dataSync();
  return d instanceof Float32Array ? d : Float32Array.from(d as ArrayLike<number>);
}

/**
 * Masked mean of host data: Σ m·x / Σ m (0 when the mask is empty).
 * @example maskedMean([1, 2, 3], [1, 1, 0]) // 1.5
 */
export function maskedMean(x: ArrayLike<number>, m: ArrayLike<number>): number {
  let s = 0,
    n = 0;
  for (let i = 0; i < x.length; i++)
    if (m[i] > 0) {
      s += x[i] * m[i];
      n += m[i];
    }
  return n > 0 ? s / n : 0;
}

/**
 * Masked max of host data (NaN when the mask is empty).
 * @example maskedMax([1, 5, 3], [1, 0, 1]) // 3
 */
export function maskedMax(x: ArrayLike<number>, m: ArrayLike<number>): number {
  let v = -Infinity;
  for (let i = 0; i < x.length; i++) if (m[i] > 0 && x[i] > v) v = x[i];
  return v === -Infinity ? NaN : v;
}
/**
 * Masked min of host data (NaN when the mask is empty).
 * @example maskedMin([1, 5, 3], [0, 1, 1]) // 3
 */
export function maskedMin(x: ArrayLike<number>, m: ArrayLike<number>): number {
  let v = Infinity;
  for (let i = 0; i < x.length; i++) if (m[i] > 0 && x[i] < v) v = x[i];
  return v === Infinity ? NaN : v;
}

/**
 * mean, std (population), min, max of plain numbers.
 * @example stats([1, 3]) // {mean: 2, std: 1, min: 1, max: 3}
 */
export function stats(x: ArrayLike<number>): { mean: number; std: number; min: number; max: number } {
  const n = x.length;
  if (n === 0) return { mean: NaN, std: NaN, min: NaN, max: NaN };
  let s = 0,
    mn = Infinity,
    mx = -Infinity;
  for (let i = 0; i < n; i++) {
    s += x[i];
    if (x[i] < mn) mn = x[i];
    if (x[i] > mx) mx = x[i];
  }
  const mean = s / n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (x[i] - mean) ** 2;
  return { mean, std: Math.sqrt(v / n), min: mn, max: mx };
}
