import { fail } from "../core/errors.js";
import { figure } from "../kernel/plotly.js";
import type { Displayable } from "../kernel/mime.js";
import { passAtK } from "../eval/pass-at-k.js";
import { num } from "./format.js";
import { COUNT, css, outcome, seriesColor } from "./color.js";

/** Per-item sample counts for pass@k curves: n samples, c correct. */
export interface ItemCounts {
  n: number;
  c: number;
  /** Group key (e.g. data_source or model name) for one curve per group. */
  group?: string;
}

/**
 * pass@k curves (unbiased estimator) for every k ≤ n, one curve per group, on a log-k axis.
 * @example viz.passAtKCurve(items.map(it => ({n: 8, c: it.correct, group: it.data_source})))
 */
export function passAtKCurve(
  items: readonly ItemCounts[],
  options: {
    title?: string;
    ks?: number[];
    /** y-axis range. Defaults to [lo, 1.01], lo = the lowest value rounded down to 0.05 (0 when curves start low). */
    yRange?: [number, number];
  } = {},
): Displayable {
  if (!items.length) fail("invalid_input", "viz.passAtKCurve: no items.", {}, passAtKCurve);
  const groups = new Map<string, ItemCounts[]>();
  for (const it of items) groups.set(it.group ?? "all", [...(groups.get(it.group ?? "all") ?? []), it]);
  const data: Record<string, unknown>[] = [];
  const lines: string[] = [];
  for (const [g, its] of groups) {
    const n = Math.min(...its.map((i) => i.n));
    const ks = (options.ks ?? Array.from({ length: n }, (_, i) => i + 1)).filter((k) => k <= n);
    const ys = ks.map((k) => its.reduce((a, it) => a + passAtK(it.n, it.c, k), 0) / its.length);
    data.push({
      type: "scatter",
      mode: "lines+markers",
      name: `${g} (${its.length} items)`,
      x: ks,
      y: ys,
      line: { color: seriesColor(data.length) },
    });
    lines.push(`${g}: ${ks.map((k, i) => `pass@${k}=${num(ys[i], 3)}`).join(" ")}`);
  }
  // A 0..1 axis squeezes curves that all live near 1 into a flat band; zoom to the data (in steps of 0.05) and say so.
  const all = data.flatMap((d) => d.y as number[]).filter(Number.isFinite);
  const lo = all.length ? Math.max(0, Math.floor((Math.min(...all) - 0.03) * 20) / 20) : 0;
  const yRange = options.yRange ?? [lo, 1.01];
  const yTitle = yRange[0] > 0 ? `pass@k (axis from ${yRange[0]})` : "pass@k";
  return figure(
    {
      data,
      layout: {
        title: { text: options.title ?? "pass@k" },
        height: 320,
        xaxis: { title: { text: "k" }, type: "log" },
        yaxis: { title: { text: yTitle }, range: yRange },
        margin: { l: 55, r: 20, t: 40, b: 45 },
      },
    },
    { summary: lines.join("\n") },
  );
}

/**
 * Accuracy by a category (data_source, subject, level) as horizontal bars with standard-error whiskers.
 * @example viz.accuracyBy(rows, "subject")
 */
export function accuracyBy(
  rows: readonly { score: number; [k: string]: unknown }[],
  key: string,
  options: { title?: string } = {},
): Displayable {
  if (!rows.length) fail("invalid_input", "viz.accuracyBy: no rows.", {}, accuracyBy);
  const by = new Map<string, number[]>();
  for (const r of rows) {
    if (!(key in r))
      fail(
        "invalid_input",
        `viz.accuracyBy: a row has no "${key}" field (fields: ${Object.keys(r).join(", ")}).`,
        { path: ["rows", key] },
        accuracyBy,
      );
    const k = String(r[key]);
    by.set(k, [...(by.get(k) ?? []), r.score]);
  }
  const cats = [...by.keys()].sort();
  const acc = cats.map((c) => by.get(c)!.reduce((a, b) => a + b, 0) / by.get(c)!.length);
  const se = cats.map((c, i) => Math.sqrt((acc[i] * (1 - acc[i])) / Math.max(1, by.get(c)!.length)));
  return figure(
    {
      data: [
        {
          type: "bar",
          orientation: "h",
          // The value sits in the category label, not on the bar, so the ± se whisker never crosses it.
          y: cats.map((c, i) => `${c} · ${num(acc[i] * 100, 3)}% (n=${by.get(c)!.length})`),
          x: acc,
          error_x: { type: "data", array: se, visible: true, color: "rgb(60,60,60)" },
          marker: { color: css(outcome.good) },
        },
      ],
      layout: {
        title: { text: options.title ?? `accuracy by ${key}` },
        height: Math.max(200, 60 + 28 * cats.length),
        xaxis: { range: [0, 1], title: { text: "accuracy" } },
        yaxis: { type: "category", automargin: true, autorange: "reversed" },
        margin: { l: 180, r: 20, t: 40, b: 40 },
      },
    },
    { summary: cats.map((c, i) => `${c}: ${num(acc[i], 3)} ± ${num(se[i], 2)} (n=${by.get(c)!.length})`).join("\n") },
  );
}

/**
 * Response length vs correctness: length histograms of correct and wrong responses overlaid, with means.
 * @example viz.lengthVsCorrectness(rows.map(r => ({length: r.length, correct: r.score === 1})))
 */
export function lengthVsCorrectness(
  rows: readonly { length: number; correct: boolean }[],
  options: { title?: string } = {},
): Displayable {
  if (!rows.length) fail("invalid_input", "viz.lengthVsCorrectness: no rows.", {}, lengthVsCorrectness);
  const ok = rows.filter((r) => r.correct).map((r) => r.length);
  const bad = rows.filter((r) => !r.correct).map((r) => r.length);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  return figure(
    {
      data: [
        {
          type: "histogram",
          name: `correct (n=${ok.length})`,
          x: ok,
          opacity: 0.6,
          marker: { color: css(outcome.good) },
        },
        {
          type: "histogram",
          name: `wrong (n=${bad.length})`,
          x: bad,
          opacity: 0.6,
          marker: { color: css(outcome.bad) },
        },
      ],
      layout: {
        title: { text: options.title ?? "response length vs correctness" },
        barmode: "overlay",
        height: 300,
        xaxis: { title: { text: "length" } },
        yaxis: { title: { text: "responses" } },
        margin: { l: 55, r: 20, t: 40, b: 45 },
      },
    },
    {
      summary:
        `correct: n=${ok.length} mean length ${num(mean(ok))}; wrong: n=${bad.length} mean ` +
        `length ${num(mean(bad))}`,
    },
  );
}

/**
 * Multiple-choice confusion: gold letter (rows) vs predicted letter (columns, with "none" for no extraction).
 * @example viz.letterConfusion(rows.map(r => ({gold: r.gold, pred: r.pred})))
 */
export function letterConfusion(
  rows: readonly { gold: string; pred: string | null }[],
  options: { title?: string } = {},
): Displayable {
  if (!rows.length) fail("invalid_input", "viz.letterConfusion: no rows.", {}, letterConfusion);
  const letters = [...new Set(rows.flatMap((r) => [r.gold, r.pred ?? "none"]))].sort((a, b) =>
    a === "none" ? 1 : b === "none" ? -1 : a.localeCompare(b),
  );
  const idx = new Map(letters.map((l, i) => [l, i]));
  const z = letters.map(() => letters.map(() => 0));
  for (const r of rows) z[idx.get(r.gold)!][idx.get(r.pred ?? "none")!]++;
  const acc = rows.filter((r) => r.pred === r.gold).length / rows.length;
  return figure(
    {
      data: [
        {
          type: "heatmap",
          z,
          x: letters,
          y: letters,
          colorscale: [
            [0, "rgb(255,255,255)"],
            [1, css(COUNT)],
          ],
          colorbar: { title: { text: "count" } },
          text: z.map((row) => row.map(String)),
          texttemplate: "%{text}",
        },
      ],
      layout: {
        title: { text: options.title ?? `letter confusion (accuracy ${num(acc * 100, 3)}%)` },
        height: 120 + 26 * letters.length,
        xaxis: { title: { text: "predicted" } },
        yaxis: { title: { text: "gold" }, autorange: "reversed" },
        margin: { l: 55, r: 20, t: 40, b: 45 },
      },
    },
    {
      summary:
        `accuracy ${num(acc, 3)}; no answer extracted: ${rows.filter((r) => r.pred === null).length}/` +
        `${rows.length}`,
    },
  );
}
