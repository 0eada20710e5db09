/** An RGB colour. */
export type RGB = [number, number, number];

const WHITE: RGB = [255, 255, 255];
/** Blue for negative values, red for positive ones (CircuitsVis convention). */
export const NEGATIVE: RGB = [59, 110, 201];
export const POSITIVE: RGB = [214, 55, 46];
/** Sequential end colours. */
export const PURPLE: RGB = [118, 66, 178];
export const GREEN: RGB = [46, 150, 80];

function mix(a: RGB, b: RGB, t: number): RGB {
  const u = Math.max(0, Math.min(1, t));
  return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * u)) as RGB;
}

/** CSS `rgb(...)` of a colour. */
export function css(c: RGB): string {
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** Diverging scale: white at 0, `POSITIVE` at +maxAbs, `NEGATIVE` at −maxAbs. Non-finite values are grey. */
export function diverging(v: number, maxAbs: number): RGB {
  if (!Number.isFinite(v)) return [200, 200, 200];
  if (maxAbs <= 0) return WHITE;
  return v >= 0 ? mix(WHITE, POSITIVE, v / maxAbs) : mix(WHITE, NEGATIVE, -v / maxAbs);
}

/** Sequential scale from white at `lo` to `end` at `hi`. */
export function sequential(v: number, lo: number, hi: number, end: RGB = PURPLE): RGB {
  if (!Number.isFinite(v)) return [200, 200, 200];
  return hi > lo ? mix(WHITE, end, (v - lo) / (hi - lo)) : WHITE;
}

/** Black or white text, whichever reads better on `bg`. */
export function textOn(bg: RGB): RGB {
  const lum = (0.299 * bg[0] + 0.587 * bg[1] + 0.114 * bg[2]) / 255;
  return lum < 0.55 ? [255, 255, 255] : [0, 0, 0];
}
