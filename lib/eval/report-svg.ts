// Small self-contained SVG charts for the HTML report (no scripts, no plotly: the page stays a few kB and opens
// anywhere, including a sanitising notebook viewer).
import { escapeHtml } from "../kernel/mime.js";

const COLORS = [
  "rgb(31,119,180)",
  "rgb(255,127,14)",
  "rgb(44,160,44)",
  "rgb(214,39,40)",
  "rgb(148,103,189)",
  "rgb(140,86,75)",
  "rgb(227,119,194)",
  "rgb(127,127,127)",
];

/**
 * Line chart of y in [0, 1] against x (k), one polyline per series, with a legend.
 * @example lineSvg([{name: "MATH", xs: [1, 2, 4, 8], ys: [0.9, 0.94, 0.96, 0.97]}], {title: "pass@k"})
 */
export function lineSvg(
  series: { name: string; xs: number[]; ys: number[] }[],
  options: { title?: string; xLabel?: string; logX?: boolean; zeroBased?: boolean } = {},
): string {
  const W = 460,
    H = 260,
    L = 44,
    R = 12,
    T = 26,
    B = 34;
  const xsAll = series.flatMap((s) => s.xs);
  const lo = Math.min(...xsAll),
    hi = Math.max(...xsAll);
  const fx = (x: number) => {
    const t =
      options.logX && lo > 0
        ? (Math.log(x) - Math.log(lo)) / (Math.log(hi) - Math.log(lo) || 1)
        : (x - lo) / (hi - lo || 1);
    return L + t * (W - L - R);
  };
  // the y axis starts at the lowest tenth below the data, so curves near 1 are not squashed flat
  const yLo = Math.max(0, Math.floor(Math.min(...series.flatMap((s) => s.ys)) * 10) / 10 - (options.zeroBased ? 1 : 0));
  const fy = (y: number) => T + ((1 - y) / (1 - yLo || 1)) * (H - T - B);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
      `style="font:11px sans-serif">`,
  ];
  if (options.title)
    parts.push(
      `<text x="${W / 2}" y="15" text-anchor="middle" style="font-weight:bold">${escapeHtml(options.title)}</text>`,
    );
  for (const g of [0, 1, 2, 3, 4].map((i) => yLo + ((1 - yLo) * i) / 4)) {
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${fy(g)}" y2="${fy(g)}" stroke="rgb(225,225,225)"/>`);
    parts.push(`<text x="${L - 4}" y="${fy(g) + 4}" text-anchor="end">${g.toFixed(yLo > 0 ? 3 : 2)}</text>`);
  }
  for (const x of [...new Set(xsAll)].sort((a, b) => a - b))
    parts.push(`<text x="${fx(x)}" y="${H - B + 14}" text-anchor="middle">${x}</text>`);
  if (options.xLabel)
    parts.push(`<text x="${(L + W - R) / 2}" y="${H - 4}" text-anchor="middle">${escapeHtml(options.xLabel)}</text>`);
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    const pts = s.xs.map((x, j) => `${fx(x).toFixed(1)},${fy(s.ys[j]).toFixed(1)}`).join(" ");
    parts.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts}"/>`);
    s.xs.forEach((x, j) =>
      parts.push(
        `<circle cx="${fx(x).toFixed(1)}" cy="${fy(s.ys[j]).toFixed(1)}" r="2.5" ` +
          `fill="${c}"><title>${escapeHtml(s.name)} k=${x}: ${s.ys[j].toFixed(3)}</title></circle>`,
      ),
    );
    parts.push(
      `<rect x="${W - R - 150}" y="${H - B - 18 - 14 * i}" width="10" height="3" fill="${c}"/><text ` +
        `x="${W - R - 136}" y="${H - B - 14 - 14 * i}">${escapeHtml(s.name)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("");
}

/**
 * Horizontal bars of values in [0, 1] with optional ± whiskers, labelled with the value in percent.
 * @example barsSvg([{label: "Level 1", value: 0.98, err: 0.02}], {title: "accuracy by level"})
 */
export function barsSvg(
  bars: { label: string; value: number; err?: number; note?: string }[],
  options: { title?: string } = {},
): string {
  const W = 460,
    L = 130,
    R = 90,
    rowH = 20,
    T = 24;
  const H = T + rowH * bars.length + 8;
  const fx = (v: number) => L + Math.max(0, Math.min(1, v)) * (W - L - R);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
      `style="font:11px sans-serif">`,
  ];
  if (options.title)
    parts.push(
      `<text x="${W / 2}" y="15" text-anchor="middle" style="font-weight:bold">${escapeHtml(options.title)}</text>`,
    );
  bars.forEach((b, i) => {
    const y = T + i * rowH;
    parts.push(
      `<text x="${L - 6}" y="${y + 13}" text-anchor="end">` +
        `${escapeHtml(b.label.length > 22 ? b.label.slice(0, 21) + "…" : b.label)}</text>`,
    );
    parts.push(
      `<rect x="${L}" y="${y + 3}" width="${(fx(b.value) - L).toFixed(1)}" height="${rowH - 6}" ` +
        `fill="rgb(31,119,180)"/>`,
    );
    if (b.err !== undefined && b.err > 0)
      parts.push(
        `<line x1="${fx(b.value - b.err).toFixed(1)}" x2="${fx(b.value + b.err).toFixed(1)}" ` +
          `y1="${y + rowH / 2}" y2="${y + rowH / 2}" stroke="rgb(0,0,0)"/>`,
      );
    parts.push(
      `<text x="${W - R + 4}" y="${y + 13}">${(100 * b.value).toFixed(1)}%` +
        `${b.note ? ` ${escapeHtml(b.note)}` : ""}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("");
}
