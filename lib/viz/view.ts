import type { Displayable, MimeBundle } from "../kernel/mime.js";
import { fail } from "../core/errors.js";
import { figure, stackFigures, type PlotlyFigure } from "../kernel/plotly.js";

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

/** A stack of views and figures: one HTML output as a cell's value; `display()` sends each part as its own output. */
export class StackView extends View {
  constructor(
    html: string,
    text: string,
    /** The stacked parts, in order. */
    readonly parts: readonly Displayable[],
  ) {
    super(html, text);
  }
  /** One mime bundle per part (figures keep their plotly JSON and static SVG). */
  toMimeBundles(): MimeBundle[] {
    return this.parts.map((p) => p.toMimeBundle());
  }
}

function isFigure(x: Displayable): x is Displayable & { figure: PlotlyFigure } {
  const f = (x as { figure?: PlotlyFigure }).figure;
  return !!f && Array.isArray(f.data);
}

/**
 * Several displayables stacked vertically in one output (e.g. a histogram above a group card). When every part is a
 * figure the result is ONE figure (`stackFigures`: plotly JSON + static SVG, one legend per part); otherwise it is one
 * HTML output (each figure shows its static image until plotly.js draws), and `display(stack)` sends every part as its
 * own output so figures keep their plotly JSON and SVG.
 * @example display(viz.stack([viz.histogram(r), viz.lineChart(series)]))
 */
export function stack(parts: Displayable[], options: { gap?: number } = {}): View {
  if (!Array.isArray(parts) || parts.length === 0)
    fail("invalid_input", "viz.stack: give a non-empty array of views or figures.", {}, stack);
  const gap = options.gap ?? 8;
  if (parts.every(isFigure)) {
    const summaries = parts.map((p) => textOf(p));
    const combined = figure(
      stackFigures(
        parts.map((p) => p.figure),
        { gap: gap * 2 },
      ),
      {
        summary: summaries.join("\n\n"),
      },
    );
    return new FigureStack(combined, summaries.join("\n\n"));
  }
  const bundles = parts.map((p) => p.toMimeBundle());
  const html = bundles
    .map(
      (b) => `<div style="margin-bottom:${gap}px">${String(b["text/html"] ?? `<pre>${b["text/plain"]}</pre>`)}</div>`,
    )
    .join("");
  return new StackView(html, bundles.map((b) => b["text/plain"]).join("\n\n"), parts);
}

/** A stack whose parts are all figures: one combined figure (its bundle is built when displayed; `html` is empty). */
export class FigureStack extends View {
  constructor(
    private readonly combined: Displayable & { figure: PlotlyFigure },
    text: string,
  ) {
    super("", text);
  }
  /** The combined Plotly figure. */
  get figure(): PlotlyFigure {
    return this.combined.figure;
  }
  override toMimeBundle(): MimeBundle {
    return this.combined.toMimeBundle();
  }
}

// The text summary of a part without building its HTML (a figure's toMimeBundle would emit plotly.js once).
function textOf(p: Displayable): string {
  const s = String(p);
  return s && s !== "[object Object]" ? s : p.toMimeBundle()["text/plain"];
}
