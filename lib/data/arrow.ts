import * as aq from "arquero";
import { fail } from "../core/errors.js";
import { readBytes, writeFileAtomic } from "./files.js";
import { fromTable } from "./table.js";

type ColumnTable = ReturnType<typeof aq.from>;

/**
 * Read an Arrow IPC file or stream (.arrow / .feather v2 / .arrows, gzip or not) into an arquero table.
 * @example const t = data.readArrowTable("results.arrow"); t.print()
 */
export function readArrowTable(file: string): ColumnTable {
  const bytes = readBytes(file);
  try {
    return aq.fromArrow(bytes);
  } catch (e) {
    return fail(
      "invalid_input",
      `data.readArrowTable: ${JSON.stringify(file)} is not a readable Arrow IPC file (${(e as Error).message}). ` +
        "Feather v1 and compressed IPC are not supported; " +
        're-save it with pyarrow.feather.write_feather(..., compression="uncompressed").',
      { got: file, cause: e },
      readArrowTable,
    );
  }
}

/**
 * Read an Arrow IPC file as plain records (numeric lists as arrays, exact int64 as numbers).
 * @example const rows = data.readArrow("gen.arrow")
 */
export function readArrow(file: string): Record<string, unknown>[] {
  return fromTable(readArrowTable(file));
}

/**
 * Write records or an arquero table as an Arrow IPC file atomically (nested fields become Arrow lists/structs).
 * @example data.writeArrow("out.arrow", records)
 */
export function writeArrow(file: string, rows: readonly Record<string, unknown>[] | ColumnTable): void {
  const table = Array.isArray(rows) ? aq.from(rows as Record<string, unknown>[]) : (rows as ColumnTable);
  let bytes: Uint8Array | null;
  try {
    bytes = aq.toArrowIPC(table, { format: "file" });
  } catch (e) {
    return fail(
      "invalid_input",
      `data.writeArrow: cannot encode the rows as Arrow (${(e as Error).message}). ` +
        "Make each column hold one type, or write parquet/JSONL instead.",
      { cause: e },
      writeArrow,
    );
  }
  writeFileAtomic(file, bytes as Uint8Array);
}
