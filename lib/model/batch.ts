// Host-side coercion of [B, T] matrices (token ids, masks) given as nested arrays, typed-array rows or tensors.
import * as tf from "@tensorflow/tfjs";
import { describe, fail } from "../core/errors.js";

/** A [B, T] matrix: a 2-D tensor, nested number arrays, or typed-array rows. */
export type MatrixLike = tf.Tensor | ArrayLike<number>[];

/** A row-major host copy of a [rows, cols] matrix. */
export interface HostMatrix {
  data: Int32Array;
  rows: number;
  cols: number;
}

/**
 * Read a [B, T] integer matrix to the host, checking it is rectangular and each value is in [0, max).
 * `where` names the public function and field for errors, e.g. "model.logprobs: batch.ids".
 * @example hostInts([[1, 2], [3, 4]], "model.forward: inputs.ids", 64).cols // 2
 */
export function hostInts(x: MatrixLike, where: string, max: number, from?: Function): HostMatrix {
  let rows: number;
  let cols: number;
  let data: Int32Array;
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2)
      fail(
        "shape_mismatch",
        `${where} must be a [B, T] matrix (got a tensor of shape [${x.shape.join(", ")}]). Reshape it to 2-D.`,
        { got: x.shape },
        from,
      );
    [rows, cols] = x.shape as [number, number];
    data = Int32Array.from(x.dataSync() as ArrayLike<number>);
  } else if (
    Array.isArray(x) &&
    x.length > 0 &&
    x.every((r) => r !== null && typeof r === "object" && typeof r.length === "number")
  ) {
    rows = x.length;
    cols = x[0].length;
    data = new Int32Array(rows * cols);
    for (let b = 0; b < rows; b++) {
      const r = x[b];
      if (r.length !== cols)
        fail(
          "shape_mismatch",
          `${where} rows have different lengths (row 0 has ${cols}, row ${b} has ${r.length}). ` +
            "Pad every row to the same length and mark padding with the attention mask.",
          { path: [b], got: r.length, expected: cols },
          from,
        );
      for (let t = 0; t < cols; t++) data[b * cols + t] = r[t];
    }
  } else {
    return fail(
      "invalid_input",
      `${where} must be a [B, T] matrix: a 2-D tensor or an array of rows (got ${describe(x)}). ` +
        "Wrap a single sequence as [ids].",
      { got: describe(x) },
      from,
    );
  }
  if (cols < 1)
    fail("invalid_input", `${where} has empty rows (got [${rows}, 0]). Every row needs at least one token.`, {}, from);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!(v >= 0 && v < max) || !Number.isInteger(v)) {
      // Re-read from the source: Int32Array turns NaN and 1.5 into integers silently.
      fail(
        "invalid_input",
        `${where}[${Math.floor(i / cols)}][${i % cols}] is out of range (got ${v}; ` +
          `expected an integer in [0, ${max})). Check the tokenizer matches the model's vocab_size.`,
        { path: [Math.floor(i / cols), i % cols], got: v },
        from,
      );
    }
  }
  if (!(x instanceof tf.Tensor))
    for (let b = 0; b < rows; b++)
      for (let t = 0; t < cols; t++) {
        const v = (x as ArrayLike<number>[])[b][t];
        if (!Number.isInteger(v))
          fail(
            "invalid_input",
            `${where}[${b}][${t}] is not an integer (got ${v}). Token ids and masks are integers.`,
            { path: [b, t], got: v },
            from,
          );
      }
  return { data, rows, cols };
}

/**
 * Read an optional 0/1 mask with the same shape as `like`; all ones when absent.
 * @example hostMask(null, { rows: 1, cols: 2 }, "model.forward: inputs.attentionMask") // Int32Array [1, 1]
 */
export function hostMask(
  x: MatrixLike | undefined | null,
  like: { rows: number; cols: number },
  where: string,
  from?: Function,
): Int32Array {
  if (x === undefined || x === null) return new Int32Array(like.rows * like.cols).fill(1);
  const m = hostInts(x, where, 2, from);
  if (m.rows !== like.rows || m.cols !== like.cols)
    fail(
      "shape_mismatch",
      `${where} has shape [${m.rows}, ${m.cols}] but the ids have [${like.rows}, ${like.cols}]; both must be [B, T].`,
      { got: [m.rows, m.cols], expected: [like.rows, like.cols] },
      from,
    );
  return m.data;
}

/** The real tokens of each row of a scoring batch, for scorers that take unpadded sequences (servers, llama.cpp). */
export interface RealTokenRows {
  B: number;
  T: number;
  /** Per row, the columns of its real tokens (attention mask 1), in order. */
  cols: number[][];
  /** Per row, its real token ids. */
  seqs: number[][];
  /** The response mask [B·T] row-major, or null when the batch has none (every real token after the first scores). */
  responseMask: Int32Array | null;
}

/**
 * Read a scoring batch {ids, attentionMask?, responseMask?} into its rows' real tokens, checking that the response mask
 * lies inside the attention mask and never covers a row's first real token (it has no prediction to score).
 * @example realTokenRows({ids: [[0, 5, 6]], attentionMask: [[0, 1, 1]]}, "remote.score", 64).seqs // [[5, 6]]
 */
export function realTokenRows(
  batch: { ids: MatrixLike; attentionMask?: MatrixLike | null; responseMask?: MatrixLike | null },
  where: string,
  maxId: number,
  from?: Function,
): RealTokenRows {
  const ids = hostInts(batch.ids, `${where}: batch.ids`, maxId, from);
  const { rows: B, cols: T } = ids;
  const attn = hostMask(batch.attentionMask, ids, `${where}: batch.attentionMask`, from);
  const rm =
    batch.responseMask === undefined || batch.responseMask === null
      ? null
      : hostMask(batch.responseMask, ids, `${where}: batch.responseMask`, from);
  const cols: number[][] = [];
  for (let b = 0; b < B; b++) {
    const c: number[] = [];
    for (let t = 0; t < T; t++) if (attn[b * T + t]) c.push(t);
    if (rm)
      for (let t = 0; t < T; t++) {
        if (rm[b * T + t] && !attn[b * T + t])
          fail(
            "invalid_input",
            `${where}: batch.responseMask is 1 on a padding token (row ${b}, column ${t}). The response mask ` +
              "must be inside the attention mask.",
            { path: [b, t] },
            from,
          );
        if (rm[b * T + t] && t === c[0])
          fail(
            "invalid_input",
            `${where}: batch.responseMask is 1 on the first real token of row ${b} (column ${t}), which has no ` +
              "prediction to score. Start the response after the prompt.",
            { path: [b, t] },
            from,
          );
      }
    cols.push(c);
  }
  const seqs = cols.map((c, b) => c.map((t) => ids.data[b * T + t]));
  return { B, T, cols, seqs, responseMask: rm };
}
