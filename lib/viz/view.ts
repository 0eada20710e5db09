import type { Displayable, MimeBundle } from "../kernel/mime.js";

/** A rendered view: HTML for notebooks and exported pages, text that carries the same numbers. */
export class View implements Displayable {
  constructor(
    /** Sanitizer-friendly HTML (inline styles, rgb colours). */
    readonly html: string,
    /** Plain-text fallback with the numbers. */
    readonly text: string,
    /** Extra mime entries (e.g. plotly JSON). */
    readonly extra: Record<string, unknown> = {},
  ) {}
  /** The Jupyter mime bundle of this view. */
  toMimeBundle(): MimeBundle {
    return { ...this.extra, "text/html": this.html, "text/plain": this.text };
  }
  /** The plain-text fallback. */
  toString(): string {
    return this.text;
  }
}

/** Several displayables stacked vertically in one output (e.g. a histogram above a group card). */
export function stack(parts: Displayable[], options: { gap?: number } = {}): View {
  const bundles = parts.map((p) => p.toMimeBundle());
  const gap = options.gap ?? 8;
  const html = bundles
    .map(
      (b) => `<div style="margin-bottom:${gap}px">${String(b["text/html"] ?? `<pre>${b["text/plain"]}</pre>`)}</div>`,
    )
    .join("");
  return new View(html, bundles.map((b) => b["text/plain"]).join("\n\n"));
}
