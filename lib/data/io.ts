import * as aq from "arquero";
import * as path from "node:path";
import { fail } from "../core/errors.js";
import { warn } from "../core/warn.js";
import { readArrow, readArrowTable, writeArrow } from "./arrow.js";
import { formatOf, readBytes, writeFileAtomic, type DataFormat } from "./files.js";
import { jsonReplacer, readJsonl, readJsonlLines, streamJsonl, textStart, writeJsonl } from "./jsonl.js";
import { parquetRowCount, readParquet, streamParquet, writeParquet } from "./parquet.js";
import type { VerlRecord } from "./record.js";
import { toTable } from "./table.js";
import { validateRecords, type ValidateOptions } from "./validate.js";

type ColumnTable = ReturnType<typeof aq.from>;

/** Options of `readRows` / `readRecords` / `streamRows`. */
export interface ReadOptions {
  /** Override the format guessed from the file name. */
  format?: DataFormat;
  /** Rows per batch when streaming parquet. Defaults to 1000. */
  batchSize?: number;
}

/**
 * One row of a file with where it came from: `where` names it in messages ("line 12 of x.jsonl", "row 5 of y.parquet").
 */
export interface RowAt<T = Record<string, unknown>> {
  value: T;
  /** 0-based position among the file's rows. */
  index: number;
  where: string;
}

function readJsonFile(file: string): Record<string, unknown>[] {
  const bytes = Buffer.from(readBytes(file));
  // a UTF-8 byte-order mark is skipped; UTF-16 is named
  const text = bytes.subarray(textStart(bytes.subarray(0, 4), path.basename(file), readRows)).toString("utf8");
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return fail(
      "invalid_input",
      `data.readRows: ${JSON.stringify(file)} is not valid JSON (${(e as Error).message}). ` +
        "If it has one object per line, name it .jsonl.",
      { got: file, cause: e },
      readRows,
    );
  }
  // accept a bare array, or the common {data: [...]} / {rows: [...]} wrappers
  if (Array.isArray(v)) return v as Record<string, unknown>[];
  for (const key of ["data", "rows", "records"]) {
    const inner = (v as Record<string, unknown> | null)?.[key];
    if (Array.isArray(inner)) return inner as Record<string, unknown>[];
  }
  return fail(
    "invalid_input",
    `data.readRows: ${JSON.stringify(file)} holds a JSON ${v === null ? "null" : typeof v} (got no top-level array; ` +
      "expected [...] or {data: [...]}). Save the rows as a JSON array or as JSONL.",
    { got: file },
    readRows,
  );
}

/**
 * Read every row of a JSONL / JSON / parquet / Arrow file (".gz" undone) as plain objects, without validation.
 * @example const rows = await data.readRows("datasets/gsm8k_test.jsonl.gz")
 */
export async function readRows(file: string, options: ReadOptions = {}): Promise<Record<string, unknown>[]> {
  const format = options.format ?? formatOf(file);
  switch (format) {
    case "jsonl":
      return readJsonl<Record<string, unknown>>(file);
    case "json":
      return readJsonFile(file);
    case "parquet":
      return readParquet(file);
    case "arrow":
      return readArrow(file);
  }
}

/**
 * Read a file of verl records and validate every row (errors name the line or row, the field and the fix).
 * @example const recs = await data.readRecords("gen.parquet", {require: ["responses"]})
 */
export async function readRecords<R extends VerlRecord = VerlRecord>(
  file: string,
  options: ReadOptions & ValidateOptions = {},
): Promise<R[]> {
  const format = options.format ?? formatOf(file);
  const base = path.basename(file);
  if (format === "jsonl") {
    // name rows by their line in the file (blank lines are skipped, so row i is not line i + 1)
    const lines = readJsonlLines<Record<string, unknown>>(file);
    return validateRecords<R>(
      lines.map((l) => l.value),
      { ...options, rowName: (i) => `line ${lines[i].line} of ${base}` },
    );
  }
  const rows = await readRows(file, { ...options, format });
  const rowName = (i: number) => `row ${i} of ${base}`;
  return validateRecords<R>(rows, { ...options, rowName });
}

/**
 * Stream rows with their position: JSONL line by line, parquet a row group at a time, JSON and Arrow whole.
 * @example for await (const {value, where} of data.streamRows("gen.jsonl")) data.validateRecord(value, {where})
 */
export async function* streamRows(file: string, options: ReadOptions = {}): AsyncGenerator<RowAt> {
  const format = options.format ?? formatOf(file);
  const base = path.basename(file);
  let index = 0;
  if (format === "jsonl") {
    for await (const { value, line } of streamJsonl<Record<string, unknown>>(file))
      yield { value, index: index++, where: `line ${line} of ${base}` };
  } else if (format === "parquet") {
    for await (const { rows } of streamParquet(file, { batchSize: options.batchSize }))
      for (const value of rows) yield { value, index: index, where: `row ${index++} of ${base}` };
  } else {
    for (const value of await readRows(file, { format })) yield { value, index, where: `row ${index++} of ${base}` };
  }
}

/**
 * Number of rows in a file (parquet: from the footer; others: by reading it).
 * @example await data.countRows("gen.parquet") // 800
 */
export async function countRows(file: string, options: ReadOptions = {}): Promise<number> {
  const format = options.format ?? formatOf(file);
  if (format === "parquet") return parquetRowCount(file);
  let n = 0;
  for await (const _ of streamRows(file, { format })) n++;
  return n;
}

/**
 * Write rows to JSONL / JSON / parquet / Arrow by the file name (".gz" compresses), atomically.
 * @example data.writeRecords("out/scored.parquet", rows)
 */
export function writeRecords(
  file: string,
  rows: readonly Record<string, unknown>[],
  options: { format?: DataFormat } = {},
): void {
  const format = options.format ?? formatOf(file);
  if (
    !file.toLowerCase().endsWith(".gz") &&
    rows.some((r) => typeof r.data_source === "string" && /gpqa/i.test(r.data_source))
  )
    warn(
      "data/gpqaPlainText",
      `data.writeRecords: ${file} gets GPQA rows uncompressed; ` +
        "GPQA's authors ask that items never appear in plain text online. Name the file *.gz to keep them compressed.",
    );
  if (format === "jsonl") writeJsonl(file, rows);
  else if (format === "parquet") writeParquet(file, rows);
  else if (format === "arrow") writeArrow(file, rows);
  else writeFileAtomic(file, JSON.stringify(rows, jsonReplacer, 1) + "\n");
}

/**
 * Read any supported file into an arquero table (one row per record).
 * @example const t = await data.readTable("datasets/math500.jsonl.gz"); t.groupby("ability").count().print()
 */
export async function readTable(file: string, options: ReadOptions = {}): Promise<ColumnTable> {
  const format = options.format ?? formatOf(file);
  if (format === "arrow") return readArrowTable(file);
  return toTable(await readRows(file, { ...options, format }));
}
