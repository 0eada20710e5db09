// A small static table (no scripts) for the views' numbers: sanitizer-safe HTML plus the same rows as text.
import { describe, fail } from "../core/errors.js";
import { escapeHtml, textTable } from "../kernel/mime.js";
import { num } from "./format.js";
import { View } from "./view.js";

/** Options of htmlTable. */
export interface HtmlTableOptions {
  /** Columns in order. Defaults to the keys of the rows. */
  columns?: string[];
  /** Significant digits of numbers. Defaults to 3. */
  digits?: number;
  /** Rows shown (the text says how many were left out). Defaults to 200. */
  maxRows?: number;
  title?: string;
  /** Per-cell background colour (CSS rgb), by row index and column; return undefined for none. */
  cellColor?: (row: number, column: string) => string | undefined;
}

/**
 * Rows of plain values as a static HTML table and a text table (NaN and null print as blanks).
 * @example const t = htmlTable([{variant: "ppo", loss: 0.12}]); new View(t.html, t.text)
 */
export function htmlTable(
  rows: readonly Record<string, unknown>[],
  options: HtmlTableOptions = {},
): { html: string; text: string } {
  const columns = options.columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const digits = options.digits ?? 3;
  const maxRows = options.maxRows ?? 200;
  const shown = rows.slice(0, maxRows);
  const fmt = (v: unknown) =>
    typeof v === "number" ? (Number.isNaN(v) ? "" : num(v, digits)) : v === null || v === undefined ? "" : String(v);
  const th = columns
    .map(
      (c) =>
        `<th style="text-align:left;padding:2px 8px;border-bottom:1px solid rgb(180,180,180)">${escapeHtml(c)}</th>`,
    )
    .join("");
  const body = shown
    .map(
      (r, i) =>
        `<tr>${columns
          .map((c) => {
            const v = r[c];
            const bg = options.cellColor?.(i, c);
            return (
              `<td style="padding:1px 8px;${typeof v === "number" ? "text-align:right;" : ""}` +
              `font-family:monospace;${bg ? `background-color:${bg};` : ""}">${escapeHtml(fmt(v))}</td>`
            );
          })
          .join("")}</tr>`,
    )
    .join("");
  const more =
    rows.length > shown.length
      ? `<div style="font-size:85%;color:rgb(100,100,100)">${rows.length - shown.length} more rows not shown</div>`
      : "";
  const html =
    `<div class="cellrl-table tex2jax_ignore" style="font-size:12px;color:rgb(0,0,0)">` +
    (options.title ? `<div style="font-weight:bold;margin-bottom:2px">${escapeHtml(options.title)}</div>` : "") +
    `<table style="border-collapse:collapse"><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>${more}</div>`;
  const text =
    `${options.title ? options.title + "\n" : ""}${textTable(
      shown.map((r) => Object.fromEntries(columns.map((c) => [c, fmt(r[c])]))),
      columns,
    )}` + (rows.length > shown.length ? `\n[${rows.length - shown.length} more rows]` : "");
  return { html, text };
}

/**
 * A static table view of plain rows (numbers formatted, no scripts): for small result tables in notebooks.
 * @example viz.table([{variant: "ppo", loss: 0.12}, {variant: "cispo", loss: 0.3}], {title: "losses"})
 */
export function table(rows: readonly Record<string, unknown>[], options: HtmlTableOptions = {}): View {
  if (!Array.isArray(rows))
    fail(
      "invalid_input",
      `viz.table: rows must be an array of objects (got ${describe(rows)}). For an arquero table pass t.objects().`,
      {},
      table,
    );
  const t = htmlTable(rows, options);
  return new View(t.html, t.text);
}
