// FlowRL's target, drawn: over the distinct answers to one prompt, the distribution FlowRL trains the policy to
// match, π*(y) ∝ π_ref(y) · exp(β · r(y) · L(y)) (L = 1 without length normalisation; no reference = uniform), next
// to the policies' own distributions, all estimated from samples. The summary gives each distribution's effective
// number of answers exp(H) and its total-variation distance to the target.
import { describe, fail } from "../core/errors.js";
import { figure, type PlotlyFigure } from "../kernel/plotly.js";
import type { Displayable } from "../kernel/mime.js";
import { css, cssAlpha, roles, seriesColor } from "./color.js";
import { clip, num } from "./format.js";

/** Options of flowrlTarget. */
export interface FlowrlTargetOptions {
  /** FlowRL's β (the target tilts each answer by exp(β · r · L)). */
  beta: number;
  /** Reward of an answer (e.g. 1 right, 0 wrong). */
  reward: (answer: string) => number;
  /** Samples of the reference policy π_ref (FlowRL's target is π_ref · exp(β r)); without it the base is uniform. */
  reference?: readonly string[];
  /** Token count of an answer when the objective is length-normalised (FlowRL's δ divides log π by L, so the tilt is
   * β · r · L). Defaults to 1 for every answer. */
  tokens?: (answer: string) => number;
  title?: string;
  /** Answers drawn (most probable under the target first, then the rest by policy mass). Defaults to 24. */
  maxAnswers?: number;
}

function empirical(samples: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of samples) m.set(s, (m.get(s) ?? 0) + 1 / samples.length);
  return m;
}

/** exp(entropy) of a distribution: how many equally likely answers it is worth. */
function effectiveCount(p: readonly number[]): number {
  const h = -p.reduce((a, x) => a + (x > 0 ? x * Math.log(x) : 0), 0);
  return Math.exp(h);
}

/**
 * FlowRL's target vs the policies over one prompt's distinct answers: bars of π_ref (grey), the target
 * π*(y) ∝ π_ref(y) · exp(β · r(y) · L(y)) (black outline) and each policy (colour), all from samples. The summary
 * has each distribution's mass on right answers (r ≥ 1), its effective number of answers exp(H), and its total
 * variation distance ½ Σ |p − π*| to the target.
 * @example
 * viz.flowrlTarget({GRPO: grpoTexts, FlowRL: flowTexts}, {beta: 3, reward: (a) => score(a), reference: baseTexts})
 */
export function flowrlTarget(
  policies: Record<string, readonly string[]>,
  options: FlowrlTargetOptions,
): Displayable & { figure: PlotlyFigure; stats: Record<string, { rightMass: number; effective: number; tv: number }> } {
  const names = Object.keys(policies ?? {});
  if (names.length === 0 || names.some((n) => !Array.isArray(policies[n]) || policies[n].length === 0))
    fail(
      "invalid_input",
      `viz.flowrlTarget: give each policy's sampled answers, {name: [answer, ...]} (got ${describe(policies)}).`,
      { path: ["policies"] },
      flowrlTarget,
    );
  const { beta, reward } = options ?? ({} as FlowrlTargetOptions);
  if (typeof beta !== "number" || !Number.isFinite(beta) || beta < 0)
    fail(
      "invalid_option",
      `viz.flowrlTarget: options.beta must be a number ≥ 0 (got ${describe(beta)}).`,
      { path: ["options", "beta"] },
      flowrlTarget,
    );
  if (typeof reward !== "function")
    fail(
      "invalid_option",
      "viz.flowrlTarget: options.reward must be a function answer → reward.",
      { path: ["options", "reward"] },
      flowrlTarget,
    );
  const tokens = options.tokens ?? (() => 1);
  const ref = options.reference ? empirical(options.reference) : null;
  const pols = names.map((n) => empirical(policies[n]));
  const answers = [...new Set([...(ref?.keys() ?? []), ...pols.flatMap((p) => [...p.keys()])])];
  const r = new Map(answers.map((a) => [a, Number(reward(a))]));
  for (const [a, v] of r)
    if (!Number.isFinite(v))
      fail(
        "invalid_input",
        `viz.flowrlTarget: reward(${JSON.stringify(a)}) is ${v}; it must be a finite number.`,
        { path: ["options", "reward"] },
        flowrlTarget,
      );
  // log target weights, shifted by their max before exp (no overflow at large β · L).
  const logw = answers.map((a) => {
    const base = ref ? Math.log(ref.get(a) ?? 0) : 0;
    return base + beta * r.get(a)! * tokens(a);
  });
  const top = Math.max(...logw.filter(Number.isFinite));
  const w = logw.map((l) => (Number.isFinite(l) ? Math.exp(l - top) : 0));
  const z = w.reduce((a, b) => a + b, 0);
  const target = new Map(answers.map((a, i) => [a, w[i] / z]));
  const polMass = (a: string) => Math.max(...pols.map((p) => p.get(a) ?? 0));
  const order = [...answers].sort(
    (a, b) => target.get(b)! - target.get(a)! || polMass(b) - polMass(a) || (a < b ? -1 : 1),
  );
  const shown = order.slice(0, options.maxAnswers ?? 24);
  const label = (a: string) => `${clip(a, 12)}${r.get(a)! >= 1 ? " ✓" : " ✗"}`;
  const x = shown.map(label);
  const data: Record<string, unknown>[] = [];
  if (ref)
    data.push({
      type: "bar",
      name: "π_ref (reference samples)",
      x,
      y: shown.map((a) => ref.get(a) ?? 0),
      marker: { color: cssAlpha(roles.reference, 0.45) },
    });
  data.push({
    type: "bar",
    name: `target ∝ ${ref ? "π_ref · " : ""}exp(β r${options.tokens ? " L" : ""}), β = ${beta}`,
    x,
    y: shown.map((a) => target.get(a)!),
    marker: { color: "rgba(0,0,0,0)", line: { color: css(roles.exact), width: 1.5 } },
  });
  names.forEach((n, i) =>
    data.push({
      type: "bar",
      name: n,
      x,
      y: shown.map((a) => pols[i].get(a) ?? 0),
      marker: { color: seriesColor(i) },
    }),
  );
  const dist = (m: Map<string, number>) => answers.map((a) => m.get(a) ?? 0);
  const stat = (m: Map<string, number>) => ({
    rightMass: answers.reduce((s, a) => s + (r.get(a)! >= 1 ? (m.get(a) ?? 0) : 0), 0),
    effective: effectiveCount(dist(m)),
    tv: 0.5 * answers.reduce((s, a) => s + Math.abs((m.get(a) ?? 0) - target.get(a)!), 0),
  });
  const stats: Record<string, { rightMass: number; effective: number; tv: number }> = { target: stat(target) };
  if (ref) stats.reference = stat(ref);
  names.forEach((n, i) => (stats[n] = stat(pols[i])));
  const summary = Object.entries(stats)
    .map(
      ([n, s]) =>
        `${n}: right mass ${num(s.rightMass)}, effective answers exp(H) ${num(s.effective)}, ` +
        `TV to target ${num(s.tv)}`,
    )
    .join("\n");
  const fig = figure(
    {
      data,
      layout: {
        title: options.title ? { text: options.title } : undefined,
        barmode: "group",
        bargap: 0.25,
        height: 320,
        margin: { l: 55, r: 20, t: options.title ? 70 : 40, b: 70 },
        xaxis: { title: { text: "distinct answer (✓ right, ✗ wrong)" }, tickangle: -45, tickfont: { size: 10 } },
        yaxis: { title: { text: "probability" }, rangemode: "tozero" },
        legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: 10 } },
      },
    },
    { summary },
  );
  return Object.assign(fig, { stats });
}
