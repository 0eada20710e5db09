// Distributions over training: a histogram per step (reward, advantage, length) and the advantage heatmap of one
// rollout (prompts x samples), where a zero-std group shows up as a white row.
import { describe, fail } from "../core/errors.js";
import { checkPositiveInt } from "../core/checks.js";
import type { Displayable } from "../kernel/mime.js";
import { figure } from "../kernel/plotly.js";
import { clip, num } from "./format.js";
import { heatmap } from "./histogram.js";
import { COUNT, css, scales, seriesColor, type ColorScale, type ScaleName } from "./color.js";

/** Options of stepHistograms. */
export interface StepHistogramOptions {
  title?: string;
  /** Name of the value (x axis of the histograms, y axis of the heatmap). Defaults to "value". */
  x?: string;
  /** Number of bins. Defaults to 20. */
  bins?: number;
  /** Up to this many steps are overlaid as histograms; more become a heatmap (steps x bins). Defaults to 4. */
  overlayMax?: number;
  height?: number;
}

/**
 * Defaults of stepHistograms.
 * @example viz.stepHistogramDefaults.bins // 20
 */
export const stepHistogramDefaults = { bins: 20, overlayMax: 4 };

/**
 * One histogram per training step of a per-sample value (rewards, advantages, lengths): overlaid for a few steps,
 * a steps x bins count heatmap (the TensorBoard "distributions" picture) for many. Keys are the step labels.
 * @example viz.stepHistograms(history.map(h => h.rewards), {x: "reward"})
 */
export function stepHistograms(
  perStep: readonly ArrayLike<number>[] | Record<string, ArrayLike<number>>,
  options: StepHistogramOptions = {},
): Displayable {
  const entries: [string, number[]][] = Array.isArray(perStep)
    ? perStep.map((v, i) => [String(i), Array.from(v as ArrayLike<number>, Number)])
    : perStep && typeof perStep === "object"
      ? Object.entries(perStep).map(([k, v]) => [k, Array.from(v as ArrayLike<number>, Number)])
      : [];
  if (entries.length === 0 || entries.some(([, v]) => !Array.isArray(v)))
    fail(
      "invalid_input",
      `viz.stepHistograms: give one array of values per step, as an array or {step: values} ` +
        `(got ${describe(perStep)}).`,
      {},
      stepHistograms,
    );
  const bins = options.bins ?? stepHistogramDefaults.bins;
  checkPositiveInt({ where: "viz.stepHistograms", from: stepHistograms }, "options.bins", bins, undefined, [
    "options",
    "bins",
  ]);
  const xName = options.x ?? "value";
  const all = entries.flatMap(([, v]) => v).filter(Number.isFinite);
  const lo = all.length ? Math.min(...all) : 0;
  const hi = all.length ? Math.max(...all) : 1;
  const width = hi > lo ? (hi - lo) / bins : 1;
  const summary = entries
    .map(([k, v]) => {
      const f = v.filter(Number.isFinite);
      const m = f.reduce((a, b) => a + b, 0) / Math.max(1, f.length);
      const sd = Math.sqrt(f.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, f.length));
      return `${/^\d+$/.test(k) ? `step ${k}` : k}: n=${f.length} mean=${num(m)} std=${num(sd)}`;
    })
    .join("\n");
  if (entries.length <= (options.overlayMax ?? stepHistogramDefaults.overlayMax)) {
    return figure(
      {
        data: entries.map(([k, v], i) => ({
          type: "histogram",
          name: /^\d+$/.test(k) ? `step ${k}` : k,
          marker: { color: seriesColor(i) },
          x: v,
          opacity: 0.55,
          xbins: { start: lo, end: hi + width * 1e-6, size: width },
        })),
        layout: {
          title: options.title ? { text: options.title } : undefined,
          barmode: "overlay",
          height: options.height ?? 280,
          margin: { l: 50, r: 20, t: options.title ? 40 : 10, b: 40 },
          xaxis: { title: { text: xName } },
          yaxis: { title: { text: "count" } },
        },
      },
      { summary },
    );
  }
  // Shared bins across steps so the rows of the heatmap line up.
  const z = Array.from({ length: bins }, () => new Array<number>(entries.length).fill(0));
  entries.forEach(([, v], s) => {
    for (const x of v) {
      if (!Number.isFinite(x)) continue;
      const b = Math.min(bins - 1, Math.floor((x - lo) / width));
      z[b][s]++;
    }
  });
  return figure(
    {
      data: [
        {
          type: "heatmap",
          z,
          x: entries.map(([k]) => k),
          y: Array.from({ length: bins }, (_, b) => lo + (b + 0.5) * width),
          colorscale: [
            [0, "rgb(255,255,255)"],
            [1, css(COUNT)],
          ],
          colorbar: { title: { text: "count" } },
        },
      ],
      layout: {
        title: options.title ? { text: options.title } : undefined,
        height: options.height ?? 320,
        margin: { l: 60, r: 20, t: options.title ? 40 : 10, b: 40 },
        xaxis: { title: { text: "step" }, type: "category" },
        yaxis: { title: { text: xName } },
      },
    },
    { summary },
  );
}

/** The parts of a Rollout advantageHeatmap reads. */
export interface GroupedRollout {
  group: readonly number[];
  prompts: readonly string[];
  responses?: readonly string[];
}

/**
 * Advantages of one rollout as a heatmap: one row per prompt (group), one column per sample; hover shows the
 * response. A white row is a zero-std group (no learning signal).
 * @example viz.advantageHeatmap(ro, A, {title: "advantage, step 3"})
 */
export function advantageHeatmap(
  ro: GroupedRollout,
  advantages: ArrayLike<number>,
  options: {
    title?: string;
    value?: string;
    /**
     * Colour scale. Defaults: advantages on the pinned ±3 direction scale (blue = pushed down, red = pushed up, the
     * same in every step's heatmap); values that all lie in [0, 1] (a 0/1 or fractional reward) on the pinned 0..1
     * score scale (white = 0, green = 1); anything else on a signed scale fitted to the data.
     */
    scale?: ScaleName | ColorScale;
  } = {},
): Displayable {
  if (!ro || !Array.isArray(ro.group) || !Array.isArray(ro.prompts))
    fail(
      "invalid_input",
      `viz.advantageHeatmap: expected a Rollout (group, prompts) (got ${describe(ro)}).`,
      {},
      advantageHeatmap,
    );
  if (!advantages || advantages.length !== ro.group.length)
    fail(
      "shape_mismatch",
      `viz.advantageHeatmap: advantages has ${advantages?.length ?? describe(advantages)} entries but the ` +
        `rollout has ${ro.group.length} rows; give one advantage per completion.`,
      { path: ["advantages"] },
      advantageHeatmap,
    );
  const G = ro.prompts.length;
  const z: number[][] = Array.from({ length: G }, () => []);
  const text: string[][] = Array.from({ length: G }, () => []);
  ro.group.forEach((g, i) => {
    if (!Number.isInteger(g) || g < 0 || g >= G)
      fail(
        "invalid_input",
        `viz.advantageHeatmap: row ${i} has group ${describe(g)} (expected 0..${G - 1}).`,
        { path: ["group", i] },
        advantageHeatmap,
      );
    z[g].push(Number(advantages[i]));
    text[g].push(`#${i} ${clip((ro.responses?.[i] ?? "").replace(/\s+/g, " "), 60)}`);
  });
  const n = Math.max(...z.map((r) => r.length));
  for (const r of z) while (r.length < n) r.push(NaN);
  for (const r of text) while (r.length < n) r.push("");
  const flat = z.flat().filter(Number.isFinite);
  const zeroRows = z.filter((r) => r.filter(Number.isFinite).every((v) => Math.abs(v) < 1e-9)).length;
  const valueName = options.value ?? "advantage";
  const scale: ScaleName | ColorScale =
    options.scale ??
    (valueName === "advantage"
      ? "advantage"
      : flat.every((v) => v >= 0 && v <= 1)
        ? { ...scales.reward01, label: valueName }
        : "signed");
  return heatmap(z, {
    title: options.title ?? `${valueName}: prompts x samples`,
    x: "sample",
    y: "prompt",
    scale,
    valueLabel: valueName,
    yLabels: ro.prompts.map((p, g) => `${g}: ${clip(p.replace(/\s+/g, " "), 24)}`),
    xLabels: Array.from({ length: n }, (_, j) => String(j)),
    text,
    summary:
      `${G} prompts x ${n} samples; ${zeroRows} zero-advantage group(s); ${options.value ?? "advantage"} ` +
      `range ${num(Math.min(...flat))} .. ${num(Math.max(...flat))}`,
  });
}
