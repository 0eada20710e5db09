import * as aq from "arquero";
import { fail } from "../core/errors.js";

type ColumnTable = ReturnType<typeof aq.from>;

/**
 * A value as plain JSON-like data: typed arrays (Arrow numeric lists) become arrays, exact bigints become numbers.
 * @example data.plainValue({scores: new Float64Array([1, 0])}) // {scores: [1, 0]}
 */
export function plainValue(v: unknown): unknown {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView))
    return Array.from(v as unknown as ArrayLike<number | bigint>, (x) => plainValue(x));
  if (Array.isArray(v)) return v.map(plainValue);
  if (v !== null && typeof v === "object" && !(v instanceof Date)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = plainValue(x);
    return o;
  }
  return v;
}

/**
 * An arquero table with one row per record (nested fields such as prompt stay objects in their cells).
 * @example data.toTable(records).groupby("data_source").count()
 */
export function toTable(records: readonly Record<string, unknown>[]): ColumnTable {
  if (!Array.isArray(records))
    fail(
      "invalid_input",
      `data.toTable: expected an array of records (got ${typeof records}). Read the file with data.readRecords first.`,
      {},
      toTable,
    );
  return aq.from(records as Record<string, unknown>[]);
}

/**
 * Records (plain objects) from an arquero table, with Arrow typed arrays turned back into arrays.
 * @example const recs = data.fromTable(table.filter(d => d.data_source === "openai/gsm8k"))
 */
export function fromTable<R = Record<string, unknown>>(table: ColumnTable): R[] {
  if (!table || typeof (table as { objects?: unknown }).objects !== "function")
    fail(
      "invalid_input",
      `data.fromTable: expected an arquero table (got ${typeof table}). ` +
        "Build one with data.toTable(records) or aq.from(rows).",
      {},
      fromTable,
    );
  return table.objects().map((o) => plainValue(o) as R);
}
