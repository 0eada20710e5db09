// Exposure bias, drawn: a student's per-token divergence from the teacher measured along two kinds of prefixes, the
// teacher's own samples (what SFT on teacher samples trains on) and the student's own samples (what it meets when it
// writes, and what on-policy distillation trains on). A student trained only on teacher prefixes can look close to
// the teacher on them and still be far on its own: the gap between the two lines is its exposure bias.
import { describe, fail } from "../core/errors.js";
import { figure, type PlotlyFigure } from "../kernel/plotly.js";
import type { Displayable } from "../kernel/mime.js";
import { seriesColor } from "./color.js";
import { num } from "./format.js";

/** One student's divergence matrices: [answer][answer token], NaN past an answer's end. */
export interface ExposureBiasSeries {
  name: string;
  /** Per-token KL(student ‖ teacher) (or any divergence) along the student's own samples. */
  own: readonly (readonly number[])[];
  /** The same along the teacher's samples. */
  teacher: readonly (readonly number[])[];
}

/** Mean over answers at each position (finite entries only), and the mean over every finite entry. */
function profile(m: readonly (readonly number[])[]): { byPos: number[]; mean: number; n: number } {
  const L = Math.max(0, ...m.map((r) => r.length));
  const byPos: number[] = [];
  let s = 0,
    n = 0;
  for (let t = 0; t < L; t++) {
    let st = 0,
      nt = 0;
    for (const r of m) {
      const v = r[t];
      if (typeof v === "number" && Number.isFinite(v)) {
        st += v;
        nt++;
      }
    }
    byPos.push(nt ? st / nt : NaN);
    s += st;
    n += nt;
  }
  return { byPos, mean: n ? s / n : NaN, n };
}

/**
 * Exposure bias of one or more students: mean per-token divergence from the teacher at each answer position, along
 * the student's own samples (solid) and along the teacher's samples (dashed), one colour per student. The summary
 * gives each student's mean on both kinds of prefixes and their ratio own / teacher (its exposure gap).
 * @example viz.exposureBias([{name: "SFT student", own: klOwn, teacher: klTeacher}, {name: "GKD student", ...}])
 */
export function exposureBias(
  students: readonly ExposureBiasSeries[],
  options: { title?: string; divergence?: string; height?: number } = {},
): Displayable & { figure: PlotlyFigure; stats: Record<string, { own: number; teacher: number; ratio: number }> } {
  if (!Array.isArray(students) || students.length === 0)
    fail(
      "invalid_input",
      `viz.exposureBias: give at least one {name, own, teacher} (got ${describe(students)}).`,
      {},
      exposureBias,
    );
  students.forEach((s, i) => {
    if (!s || typeof s.name !== "string" || !Array.isArray(s.own) || !Array.isArray(s.teacher))
      fail(
        "invalid_input",
        `viz.exposureBias: students[${i}] must be {name, own: number[][], teacher: number[][]} ` +
          `(per-token divergences, [answer][token]); got ${describe(s)}.`,
        { path: ["students", i] },
        exposureBias,
      );
  });
  const div = options.divergence ?? "KL(student ‖ teacher)";
  const data: Record<string, unknown>[] = [];
  const stats: Record<string, { own: number; teacher: number; ratio: number }> = {};
  students.forEach((s, i) => {
    const own = profile(s.own),
      tea = profile(s.teacher);
    if (!own.n || !tea.n)
      fail(
        "invalid_input",
        `viz.exposureBias: students[${i}] (${s.name}) has no finite value in ${own.n ? "teacher" : "own"}.`,
        { path: ["students", i, own.n ? "teacher" : "own"] },
        exposureBias,
      );
    stats[s.name] = { own: own.mean, teacher: tea.mean, ratio: own.mean / tea.mean };
    const color = seriesColor(i);
    for (const [kind, p, dash] of [
      ["own samples", own, "solid"],
      ["teacher samples", tea, "dash"],
    ] as const)
      data.push({
        type: "scatter",
        mode: "lines+markers",
        name: `${s.name}: on ${kind}`,
        legendgroup: s.name,
        x: p.byPos.map((_, t) => t + 1),
        y: p.byPos,
        line: { color, dash, width: 2 },
        marker: { size: 5 },
      });
  });
  const summary = Object.entries(stats)
    .map(
      ([n, s]) =>
        `${n}: ${num(s.own)} nats/token on its own samples, ${num(s.teacher)} on the teacher's ` +
        `(own / teacher = ${num(s.ratio)})`,
    )
    .join("\n");
  const fig = figure(
    {
      data,
      layout: {
        title: options.title ? { text: options.title } : undefined,
        height: options.height ?? 320,
        margin: { l: 60, r: 20, t: options.title ? 90 : 60, b: 45 },
        xaxis: { title: { text: "answer token position" }, dtick: 1 },
        yaxis: { title: { text: `${div}, nats` }, rangemode: "tozero" },
        legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: 10 } },
      },
    },
    { summary },
  );
  return Object.assign(fig, { stats });
}
