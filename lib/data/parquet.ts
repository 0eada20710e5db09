import {
  asyncBufferFromFile,
  parquetMetadataAsync,
  parquetReadObjects,
  type AsyncBuffer,
  type FileMetaData,
} from "hyparquet";
import { parquetWriteBuffer } from "hyparquet-writer";
import * as fs from "node:fs";
import { fail } from "../core/errors.js";
import { isGzip, readBytes, writeFileAtomic } from "./files.js";
import { mergeTypes, prepareValue, schemaElements, typeOfValue, type ValueType } from "./parquet-schema.js";

/** Options of `readParquet` / `streamParquet`. */
export interface ReadParquetOptions {
  /** Read only these columns. Defaults to all. */
  columns?: string[];
  /** Rows per batch yielded by `streamParquet`. Defaults to 1000. */
  batchSize?: number;
}

/** Options of `writeParquet`. */
export interface WriteParquetOptions {
  /** Column order. Defaults to the order in which keys first appear in the rows. */
  columns?: string[];
  /**
   * Store these columns as JSON text instead of native nested types. Defaults to [] (JSON only where types disagree).
   */
  json?: string[];
  /** Rows per row group. Defaults to 1000 (readers can stream a group at a time). */
  rowGroupSize?: number;
}

/** Defaults of the parquet reader and writer. */
export const defaults = { batchSize: 1000, rowGroupSize: 1000 };

/**
 * bigints (parquet INT64) become numbers when exact, recursively; other values are left alone.
 * @example fromParquetValue({index: 3n}) // {index: 3}
 */
export function fromParquetValue(v: unknown): unknown {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  if (Array.isArray(v)) return v.map(fromParquetValue);
  if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = fromParquetValue(x);
    return o;
  }
  return v;
}

function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

async function openParquet(file: string): Promise<{ buf: AsyncBuffer; meta: FileMetaData }> {
  let buf: AsyncBuffer;
  const head = Buffer.alloc(2);
  try {
    const fd = fs.openSync(file, "r");
    fs.readSync(fd, head, 0, 2, 0);
    fs.closeSync(fd);
  } catch (e) {
    readBytes(file); // fails with the standard not-found message
  }
  buf = isGzip(head) ? toArrayBuffer(readBytes(file)) : await asyncBufferFromFile(file);
  try {
    return { buf, meta: await parquetMetadataAsync(buf) };
  } catch (e) {
    return fail(
      "invalid_input",
      `data.readParquet: ${JSON.stringify(file)} is not a readable parquet file (${(e as Error).message}). ` +
        `Check that the file is complete (ends with "PAR1").`,
      { got: file, cause: e },
    );
  }
}

async function readRange(
  file: string,
  buf: AsyncBuffer,
  meta: FileMetaData,
  rowStart: number,
  rowEnd: number,
  columns?: string[],
) {
  try {
    const rows = await parquetReadObjects({ file: buf, metadata: meta, rowStart, rowEnd, columns });
    return rows.map((r) => fromParquetValue(r) as Record<string, unknown>);
  } catch (e) {
    const msg = (e as Error).message;
    const codec = /compression|codec/i.test(msg)
      ? " The file uses a compression codec hyparquet cannot decode without hyparquet-compressors; " +
        "rewrite it with snappy (pyarrow's default)."
      : "";
    return fail(
      "invalid_input",
      `data.readParquet: cannot decode rows ${rowStart}-${rowEnd} of ${JSON.stringify(file)} ` +
        `(${msg}).${codec || " The file may be corrupt."}`,
      { got: file, cause: e },
    );
  }
}

/**
 * Read a parquet file (verl's dataset format; nested list/struct columns become arrays/objects, INT64 numbers).
 * @example const rows = await data.readParquet("test-output-8.parquet")
 */
export async function readParquet(file: string, options: ReadParquetOptions = {}): Promise<Record<string, unknown>[]> {
  const { buf, meta } = await openParquet(file);
  return readRange(file, buf, meta, 0, Number(meta.num_rows), options.columns);
}

/**
 * Stream a parquet file in batches of rows without decoding it whole; yields {rows, offset}.
 * @example for await (const {rows, offset} of data.streamParquet("big.parquet")) { ... }
 */
export async function* streamParquet(
  file: string,
  options: ReadParquetOptions = {},
): AsyncGenerator<{ rows: Record<string, unknown>[]; offset: number }> {
  const { batchSize = defaults.batchSize, columns } = options;
  const { buf, meta } = await openParquet(file);
  const n = Number(meta.num_rows);
  for (let start = 0; start < n; start += batchSize) {
    yield { rows: await readRange(file, buf, meta, start, Math.min(n, start + batchSize), columns), offset: start };
  }
}

/**
 * Number of rows in a parquet file, read from its footer.
 * @example await data.parquetRowCount("test.parquet") // 500
 */
export async function parquetRowCount(file: string): Promise<number> {
  return Number((await openParquet(file)).meta.num_rows);
}

/**
 * Encode rows as parquet bytes with a nested schema inferred from the values (see parquet-schema.ts).
 * @example const bytes = data.parquetBytes([{data_source: "x", prompt: [{role: "user", content: "q"}]}])
 */
export function parquetBytes(rows: readonly Record<string, unknown>[], options: WriteParquetOptions = {}): Uint8Array {
  const { json = [], rowGroupSize = defaults.rowGroupSize } = options;
  const names = options.columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  if (names.length === 0)
    fail(
      "invalid_input",
      "data.writeParquet: no columns to write (got rows without keys, or no rows and no columns option). " +
        "Pass rows, or {columns}.",
      {},
      writeParquet,
    );
  const types = new Map<string, ValueType>();
  for (const name of names) {
    let t: ValueType = { k: "null" };
    if (json.includes(name)) t = { k: "json" };
    else for (const r of rows) t = mergeTypes(t, typeOfValue(r[name]));
    types.set(name, t);
  }
  const schema = [
    { name: "root", num_children: names.length },
    ...names.flatMap((n) => schemaElements(n, types.get(n) as ValueType)),
  ];
  const columnData = names.map((name) => ({
    name,
    data: rows.map((r) => prepareValue(r[name], types.get(name) as ValueType)),
  }));
  try {
    return new Uint8Array(
      parquetWriteBuffer({ schema, columnData, rowGroupSize, kvMetadata: [{ key: "writer", value: "cellrl" }] }),
    );
  } catch (e) {
    return fail(
      "invalid_input",
      `data.writeParquet: hyparquet-writer refused the rows (${(e as Error).message}). ` +
        "Pass {json: [<column>]} to store a troublesome column as JSON text.",
      { cause: e },
      writeParquet,
    );
  }
}

/**
 * Write rows as parquet atomically (temp + rename), with nested columns native (list<struct<role, content>>).
 * @example data.writeParquet("out/test.parquet", records)
 */
export function writeParquet(
  file: string,
  rows: readonly Record<string, unknown>[],
  options: WriteParquetOptions = {},
): void {
  writeFileAtomic(file, parquetBytes(rows, options));
}
