import { escapeHtml } from "../kernel/mime.js";

/** A number with `digits` significant digits, or "—" when missing. */
export function num(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined) return "—";
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(digits - 1);
  return String(parseFloat(v.toPrecision(digits)));
}

/** A token with visible whitespace: · for spaces, → for tabs, ↵ for newlines (HTML-escaped). */
export function visibleToken(tok: string): string {
  return escapeHtml(tok).replace(/ /g, "·").replace(/\t/g, "→").replace(/\r?\n/g, "↵");
}

/** The same visible-whitespace form for text output. */
export function visibleTokenText(tok: string): string {
  return tok.replace(/ /g, "·").replace(/\t/g, "→").replace(/\r?\n/g, "↵");
}

/** A small coloured badge (pure inline CSS). */
export function badge(label: string, bg: string, fg = "rgb(255,255,255)"): string {
  return (
    `<span style="display:inline-block;padding:0 5px;margin-right:4px;border-radius:3px;font-size:80%;` +
    `background-color:${bg};color:${fg}">${escapeHtml(label)}</span>`
  );
}

/** Text shortened to `max` characters with an ellipsis. */
export function clip(s: string, max: number): string {
  return s.length > max ? s.slice(0, Math.max(0, max - 1)) + "…" : s;
}
