import { fail } from "../core/errors.js";
import { escapeHtml } from "../kernel/mime.js";
import { css, sequential, GREEN } from "./color.js";
import { num, visibleToken, visibleTokenText } from "./format.js";
import { View } from "./view.js";

/** One candidate next token. */
export interface TokenCandidate {
  token: string;
  logp: number;
}

/** Options of topkTable. */
export interface TopkTableOptions {
  /** The token actually chosen at this position (bold, pinned if outside the top-k). */
  target?: string;
  /** Column titles. Defaults to ["student", "teacher"]. */
  labels?: [string, string];
  title?: string;
}

function column(cands: readonly TokenCandidate[], target: string | undefined): string[] {
  return cands.map((c) => {
    const p = Math.exp(c.logp);
    const bg = css(sequential(p, 0, 1, GREEN));
    const bold = c.token === target ? "font-weight:bold;text-decoration:underline;" : "";
    return (
      `<td style="padding:1px 6px;background-color:${bg};${bold}font-family:monospace">` +
      `${visibleToken(c.token) || "&nbsp;"}</td>` +
      `<td style="padding:1px 6px;text-align:right"><small>${num(p, 3)}</small></td><td style="padding:1px ` +
      `6px;text-align:right"><small>${num(c.logp, 3)}</small></td>`
    );
  });
}

/**
 * The top-k next-token distribution at one position, optionally student vs teacher side by side with a Δlogp column
 * (teacher − student) for the tokens in the first column.
 * @example viz.topkTable(studentTopk[t], {other: teacherTopk[t], target: tokens[t]})
 */
export function topkTable(
  first: readonly TokenCandidate[],
  options: TopkTableOptions & { other?: readonly TokenCandidate[] } = {},
): View {
  if (!Array.isArray(first) || first.length === 0)
    fail("invalid_input", "viz.topkTable: give a non-empty list of {token, logp}.", {}, topkTable);
  const [la, lb] = options.labels ?? ["student", "teacher"];
  const a = column(first, options.target);
  const b = options.other ? column(options.other, options.target) : [];
  const otherMap = new Map((options.other ?? []).map((c) => [c.token, c.logp]));
  const rows = Math.max(a.length, b.length);
  const empty = `<td></td><td></td><td></td>`;
  const body = Array.from({ length: rows }, (_, i) => {
    const diff =
      options.other && first[i] && otherMap.has(first[i].token)
        ? num(otherMap.get(first[i].token)! - first[i].logp, 3)
        : options.other
          ? "—"
          : "";
    return (
      `<tr><td style="color:rgb(120,120,120);padding:1px 4px">${i + 1}</td>${a[i] ?? empty}` +
      `${options.other ? `${b[i] ?? empty}<td style="padding:1px 6px;text-align:right">${diff}</td>` : ""}</tr>`
    );
  }).join("");
  const head =
    `<tr><th></th><th colspan="3" style="text-align:left">${escapeHtml(la)} (token, p, logp)</th>` +
    `${options.other ? `<th colspan="3" style="text-align:left">${escapeHtml(lb)}</th><th>Δlogp</th>` : ""}</tr>`;
  const html =
    `<div class="cellrl-topk tex2jax_ignore" style="font-size:12px;color:rgb(0,0,0)">` +
    (options.title ? `<b>${escapeHtml(options.title)}</b>` : "") +
    `<table style="border-collapse:collapse">${head}${body}</table></div>`;
  const text =
    `${options.title ?? "top-k"}\n` +
    Array.from({ length: rows }, (_, i) => {
      const x = first[i] ? `${visibleTokenText(first[i].token)} p=${num(Math.exp(first[i].logp), 3)}` : "";
      const y = options.other?.[i]
        ? ` | ${visibleTokenText(options.other[i].token)} p=${num(Math.exp(options.other[i].logp), 3)}`
        : "";
      return `${i + 1}. ${x}${y}`;
    }).join("\n");
  return new View(html, text);
}
