import { inspect } from "node:util";

/** A Jupyter mime bundle: mime type -> content (string, or a JSON object for JSON mime types). */
export type MimeBundle = Record<string, unknown> & { "text/plain": string };

/** Anything that knows how to show itself: cellrl views, figures and tables implement this. */
export interface Displayable {
  toMimeBundle(): MimeBundle;
}

/** True when `x` carries its own mime bundle. */
export function isDisplayable(x: unknown): x is Displayable {
  return typeof x === "object" && x !== null && typeof (x as Displayable).toMimeBundle === "function";
}

/** Escape text for HTML content and attributes. */
export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

interface ArqueroLike {
  numRows(): number;
  numCols(): number;
  columnNames(): string[];
  toHTML(opts?: { limit?: number }): string;
  objects(opts?: { limit?: number }): Record<string, unknown>[];
}

function isArqueroTable(x: unknown): x is ArqueroLike {
  const t = x as ArqueroLike;
  return (
    typeof x === "object" &&
    x !== null &&
    typeof t.toHTML === "function" &&
    typeof t.numRows === "function" &&
    typeof t.columnNames === "function"
  );
}

function formatCell(v: unknown): string {
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toPrecision(4).replace(/\.?0+$/, "");
  if (typeof v === "string")
    return v.length > 40 ? v.slice(0, 37).replace(/\s+/g, " ") + "..." : v.replace(/\s+/g, " ");
  if (v === null || v === undefined) return "";
  return inspect(v, { depth: 0, breakLength: Infinity }).slice(0, 40);
}

/** Plain-text table of rows, as used for every `text/plain` fallback of a table. */
export function textTable(rows: Record<string, unknown>[], columns?: string[]): string {
  const cols = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cells = rows.map((r) => cols.map((c) => formatCell(r[c])));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (xs: string[]) =>
    xs
      .map((x, i) => x.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [line(cols), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

/** Mime bundle of an arquero table: a sanitizer-safe HTML table plus a text table. */
export function tableBundle(dt: ArqueroLike, options: { limit?: number } = {}): MimeBundle {
  const limit = options.limit ?? 20;
  const n = dt.numRows();
  const more = n > limit ? ` (showing ${limit} of ${n} rows)` : "";
  const html =
    `<div style="max-width:100%;overflow-x:auto">${dt.toHTML({ limit })}</div>` +
    `<div style="font-size:85%;color:rgb(100,100,100)">${n} rows x ${dt.numCols()} columns${more}</div>`;
  const text = textTable(dt.objects({ limit }), dt.columnNames()) + `\n[${n} rows x ${dt.numCols()} columns${more}]`;
  return { "text/html": html, "text/plain": text };
}

/** True for a ready-made mime bundle: a plain object whose keys are all mime types, with a text/plain string. */
export function isMimeBundle(x: unknown): x is MimeBundle {
  if (typeof x !== "object" || x === null || Array.isArray(x) || Object.getPrototypeOf(x) !== Object.prototype)
    return false;
  const keys = Object.keys(x);
  return typeof (x as MimeBundle)["text/plain"] === "string" && keys.every((k) => /^[\w.+-]+\/[\w.+-]+$/.test(k));
}

/**
 * Turn any value into a mime bundle: views and figures carry their own, arquero tables become HTML tables, anything
 * else is util.inspect text. A string shows quoted, as Node's REPL and tslab show it (`'ab'`), so "42" and 42 differ;
 * print prose with console.log, or display a {"text/markdown": ..., "text/plain": ...} bundle.
 * @example toMimeBundle("42")["text/plain"] // "'42'"
 */
export function toMimeBundle(value: unknown): MimeBundle {
  if (isDisplayable(value)) return value.toMimeBundle();
  if (isMimeBundle(value)) return value;
  if (isArqueroTable(value)) return tableBundle(value);
  return { "text/plain": inspect(value, { depth: 4, colors: false, maxArrayLength: 50 }) };
}
