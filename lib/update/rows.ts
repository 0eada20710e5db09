// Row selection for mini-batches and micro-batches: the same rows of every per-sequence array, matrix or tensor.
import * as tf from "@tensorflow/tfjs";
import { describe, fail } from "../core/errors.js";
import { checkPositiveInt } from "../core/checks.js";
import type { Rng } from "../core/random.js";

/** Anything with one entry per sequence along its first axis. */
export type RowData = tf.Tensor | ArrayLike<unknown>;

/**
 * The given rows of a per-sequence value: arrays and typed arrays are indexed, tensors gathered along axis 0.
 * Internal: update.step slices the batch fields for the loss closure, so user code never calls this.
 * @example const oldMb = take(oldLogp, [0, 3, 5])
 */
export function take<T extends RowData>(x: T, rows: readonly number[]): T {
  if (x instanceof tf.Tensor) return tf.tidy(() => tf.gather(x, tf.tensor1d(rows as number[], "int32"))) as T;
  if (ArrayBuffer.isView(x)) {
    const a = x as unknown as Float32Array;
    const out = new (a.constructor as Float32ArrayConstructor)(rows.length);
    rows.forEach((r, i) => (out[i] = a[r]));
    return out as unknown as T;
  }
  if (x && typeof (x as ArrayLike<unknown>).length === "number")
    return rows.map((r) => (x as ArrayLike<unknown>)[r]) as unknown as T;
  return fail(
    "invalid_input",
    `update.take: expected an array, typed array or tensor with one entry per sequence (got ${describe(x)}).`,
    {},
    take,
  );
}

/**
 * Per-row data that is not laid out row-major along its first axis (e.g. a top-k teacher's flat arrays): it slices
 * itself. update.step calls `sliceRows(rows)` and hands the result to the loss closure.
 */
export interface RowSliceable<T = unknown> {
  sliceRows(rows: readonly number[]): T;
}

/** Per-row fields for update.step: [B] / [B, T] / [B, T, V] arrays or tensors, self-slicing values, or null. */
export type RowFields = Record<string, RowData | RowSliceable | null | undefined>;

/** The fields as the loss closure receives them: each one cut to the micro-batch's rows. */
export type SlicedRows<D> = { [K in keyof D]: SlicedField<D[K]> };
/** One field as the closure receives it. */
export type SlicedField<X> = X extends RowSliceable<infer U> ? U : X;

function rowCount(x: unknown): number {
  return x instanceof tf.Tensor
    ? x.rank > 0
      ? x.shape[0]
      : -1
    : typeof (x as ArrayLike<unknown>)?.length === "number"
      ? (x as ArrayLike<unknown>).length
      : -1;
}

/**
 * Fail unless every field holds one entry per batch row (B), or slices itself.
 * @example checkRowFields({oldLogp, adv}, 8, "update.step")
 */
export function checkRowFields(fields: RowFields, B: number, fn: string, from: Function): void {
  if (fields === null || typeof fields !== "object" || Array.isArray(fields) || fields instanceof tf.Tensor)
    fail(
      "invalid_input",
      `${fn}: the per-row fields must be a record {name: [B] or [B, T] data} (got ${describe(fields)}). Pass ` +
        `e.g. {oldLogp: old.logp, adv: A}.`,
      {},
      from,
    );
  for (const [k, v] of Object.entries(fields)) {
    if (v === null || v === undefined || typeof (v as RowSliceable).sliceRows === "function") continue;
    const n = rowCount(v);
    if (n < 0 || typeof v === "string")
      fail(
        "invalid_input",
        `${fn}: field ${k} must be an array, typed array or tensor with one entry per sequence ` +
          `(got ${describe(v)}). Capture constants in the closure instead.`,
        { path: ["fields", k] },
        from,
      );
    if (n !== B)
      fail(
        "shape_mismatch",
        `${fn}: field ${k} has ${n} rows but the batch has ${B}; every field needs one entry per sequence, in ` +
          `batch order.`,
        { path: ["fields", k], got: n, expected: B },
        from,
      );
  }
}

/**
 * Every field cut to `rows` (null / undefined stay as they are; self-slicing values slice themselves; with `all`, the
 * rows are the whole batch in order and plain data passes as is). Tensors are gathered: call it inside the tidy or
 * tape that uses them.
 * @example sliceRows({oldLogp, adv}, [0, 1])
 */
export function sliceRows<D extends RowFields>(
  fields: D,
  rows: readonly number[],
  options: { all?: boolean } = {},
): SlicedRows<D> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields))
    out[k] =
      v === null || v === undefined
        ? v
        : typeof (v as RowSliceable).sliceRows === "function"
          ? (v as RowSliceable).sliceRows(rows)
          : options.all
            ? v
            : take(v as RowData, rows);
  return out as SlicedRows<D>;
}

/** Options of miniBatches. */
export interface MiniBatchOptions {
  /**
   * Rows per mini-batch (verl ppo_mini_batch_size, counted in sequences). Defaults to all rows (one optimizer step).
   */
  size?: number;
  /** Passes over the rollout batch (verl ppo_epochs, TRL num_iterations). Defaults to 1. */
  epochs?: number;
  /** Shuffle rows each epoch (verl shuffles). Needs `rng`. Defaults to true. */
  shuffle?: boolean;
  /** Random stream for shuffling. */
  rng?: Rng;
}

/**
 * Row index lists for `epochs` passes over B rows in mini-batches of `size` (the last one may be smaller).
 * @example for (const {epoch, rows} of update.miniBatches(64, {size: 16, epochs: 2, rng})) { ... }
 */
export function miniBatches(
  B: number,
  options: MiniBatchOptions = {},
): { epoch: number; index: number; rows: number[] }[] {
  const size = options.size ?? B,
    epochs = options.epochs ?? 1,
    shuffle = options.shuffle ?? true;
  if (!Number.isInteger(B) || B < 1)
    fail("invalid_input", `update.miniBatches: B must be a positive integer (got ${describe(B)}).`, {}, miniBatches);
  const at = { where: "update.miniBatches", from: miniBatches };
  checkPositiveInt(at, "options.size", size, undefined, ["options", "size"]);
  checkPositiveInt(at, "options.epochs", epochs, undefined, ["options", "epochs"]);
  if (shuffle && !options.rng && size < B)
    fail(
      "invalid_option",
      `update.miniBatches: shuffling needs options.rng (a seeded Rng) so runs replay. Pass rng or shuffle: false.`,
      { path: ["options", "rng"] },
      miniBatches,
    );
  const out: { epoch: number; index: number; rows: number[] }[] = [];
  const all = Array.from({ length: B }, (_, i) => i);
  for (let e = 0; e < epochs; e++) {
    // One mini-batch of everything needs no shuffle (and must not consume randomness, so seeds stay aligned).
    const order = shuffle && size < B ? options.rng!.shuffle(all) : all;
    for (let s = 0, k = 0; s < B; s += size, k++) out.push({ epoch: e, index: k, rows: order.slice(s, s + size) });
  }
  return out;
}
