// The rollout film strip: a fixed set of prompts sampled again at a few steps of training, shown as (1) a chart of
// how the answers' shares move from step to step and (2) a strip of frames, one per step, that you scrub through
// with a row of step buttons: each frame holds a compact group card per prompt (every sample's answer, reward and
// advantage) and the dashboard's numbers at that step. The buttons are radio inputs switched by a scoped <style>, so
// the strip needs no script (untrusted notebooks, exported HTML); where styles are stripped (GitHub) every frame
// shows, one under the other.
import { randomUUID } from "node:crypto";
import { describe, fail } from "../core/errors.js";
import { escapeHtml, type Displayable, type MimeBundle } from "../kernel/mime.js";
import { figure, type PlotlyFigure } from "../kernel/plotly.js";
import { badge, clip, num } from "./format.js";
import { panelGrid, panelTitle } from "./panel-grid.js";
import { css, outcome, type RGB } from "./color.js";

/** One sample of a film frame: its answer (what the share chart counts), reward, and optionally its advantage. */
export interface FilmSample {
  answer: string;
  reward: number;
  correct: boolean;
  advantage?: number;
}

/** One step of the film: the fixed prompts, each with the samples drawn at that step. */
export interface FilmFrame {
  step: number;
  groups: { prompt: string; samples: FilmSample[] }[];
}

/** The parts of a Rollout filmFrame reads. */
export interface FilmRolloutLike {
  group: readonly number[];
  prompts: readonly string[];
  responses: readonly string[];
}

/** Per-row rewards as reward.scoreSync(ro) returns them ({scores, details}), or plain numbers. */
export type FilmRewards =
  ArrayLike<number> | { scores: ArrayLike<number>; details?: readonly (Record<string, unknown> | undefined)[] };

/** Options of filmFrame. */
export interface FilmFrameOptions {
  /** Per-row advantages (update.advantage("grpo", ...)), shown on the cards. */
  advantages?: ArrayLike<number>;
  /** The answer of a row (what the share chart counts). Defaults to the reward details' extracted answer, else the
   * trimmed response. */
  answer?: (response: string, row: number) => string;
  /** Whether a row is right. Defaults to reward ≥ 1. */
  correct?: (reward: number, row: number) => boolean;
}

/**
 * One frame of the film strip from a rollout of the fixed prompts at `step` and its rewards (reward.scoreSync(ro));
 * filmStrip calls it on each {step, rollout, rewards} shot.
 * @example filmFrame(step, ro, reward.scoreSync(ro), {advantages})
 */
export function filmFrame(
  step: number,
  ro: FilmRolloutLike,
  rewards: FilmRewards,
  options: FilmFrameOptions = {},
): FilmFrame {
  if (!Number.isFinite(step))
    fail(
      "invalid_input",
      `viz.filmFrame: step must be a number (got ${describe(step)}).`,
      { path: ["step"] },
      filmFrame,
    );
  if (!ro || !Array.isArray(ro.group) || !Array.isArray(ro.responses) || !Array.isArray(ro.prompts))
    fail(
      "invalid_input",
      `viz.filmFrame: expected a Rollout (group, prompts, responses); got ${describe(ro)}.`,
      { path: ["ro"] },
      filmFrame,
    );
  const B = ro.group.length;
  const isScores = typeof (rewards as ArrayLike<number>)?.length !== "number";
  const scores = isScores ? (rewards as { scores: ArrayLike<number> }).scores : (rewards as ArrayLike<number>);
  const details = isScores ? (rewards as { details?: readonly (Record<string, unknown> | undefined)[] }).details : [];
  if (!scores || scores.length !== B)
    fail(
      "shape_mismatch",
      `viz.filmFrame: rewards give ${scores?.length ?? "no"} scores but the rollout has ${B} rows. ` +
        "Pass reward.scoreSync(ro) of this rollout.",
      { path: ["rewards"] },
      filmFrame,
    );
  if (options.advantages && options.advantages.length !== B)
    fail(
      "shape_mismatch",
      `viz.filmFrame: options.advantages has ${options.advantages.length} entries but the rollout has ${B} rows.`,
      { path: ["options", "advantages"] },
      filmFrame,
    );
  const correct = options.correct ?? ((r: number) => r >= 1);
  const answerOf = (i: number): string => {
    if (options.answer) return options.answer(ro.responses[i], i);
    const d = details?.[i];
    const extracted = d && (typeof d.extracted === "string" ? d.extracted : d.answer);
    return typeof extracted === "string" ? extracted : ro.responses[i].trim();
  };
  const groups = ro.prompts.map((prompt) => ({ prompt, samples: [] as FilmSample[] }));
  for (let i = 0; i < B; i++) {
    const r = Number(scores[i]);
    if (!Number.isFinite(r))
      fail("invalid_input", `viz.filmFrame: reward ${i} is ${r}.`, { path: ["rewards", i] }, filmFrame);
    groups[ro.group[i]].samples.push({
      answer: answerOf(i),
      reward: r,
      correct: correct(r, i),
      ...(options.advantages ? { advantage: Number(options.advantages[i]) } : {}),
    });
  }
  return { step, groups };
}

/** Options of filmStrip. */
export interface FilmStripOptions {
  title?: string;
  /** The training history (update.train's run.history, or the live dashboard's): each frame shows these metrics. */
  history?: readonly Record<string, unknown>[];
  /** Metrics shown on each frame. Defaults to the reward, learning-signal and accuracy keys present. */
  metrics?: string[];
  /** Answers drawn separately per prompt in the share chart; the rest are "other right" / "other wrong". Default 6. */
  topAnswers?: number;
  /** Characters of an answer shown on a card. Defaults to 24. */
  maxChars?: number;
}

// The outcome colours of the viz contract (lib/viz/color.ts): right = green, wrong = amber, never red.
const GOOD = css(outcome.good);
const BAD = css(outcome.bad);
/** Shades of one colour for distinct answers: the colour, lighter, darker, lighter still, ... */
function shades(c: RGB): string[] {
  const to = (d: RGB, t: number): RGB => [0, 1, 2].map((i) => Math.round(c[i] + (d[i] - c[i]) * t)) as RGB;
  const w: RGB = [255, 255, 255],
    k: RGB = [0, 0, 0];
  return [c, to(w, 0.35), to(k, 0.3), to(w, 0.6), to(k, 0.5)].map(css);
}
/** "other right": lighter than every named right answer's shade. */
const OTHER_RIGHT = css([0, 1, 2].map((i) => Math.round(outcome.good[i] + (255 - outcome.good[i]) * 0.8)) as RGB);
const GOOD_SHADES = shades(outcome.good);
const BAD_SHADES = shades(outcome.bad);
const DEFAULT_METRICS = ["reward/mean", "reward/zeroStdFrac", "signal/gradTokenFrac", "eval/accuracy"];

/** A view that carries the frames' steps (to mark them on the dashboard: `viz.dashboard(h, {marks: strip.steps})`). */
export type FilmStripView = Displayable & { steps: number[]; frames: FilmFrame[]; figure: PlotlyFigure };

/** The value of `key` at `step` in the history: that step's row, else the latest earlier row that has it. */
function metricAt(history: readonly Record<string, unknown>[], key: string, step: number): number | undefined {
  let best: number | undefined;
  history.forEach((row, i) => {
    const s = typeof row.step === "number" ? row.step : i;
    const v = row[key];
    if (s <= step && typeof v === "number" && Number.isFinite(v)) best = v;
  });
  return best;
}

/**
 * One shot of the film: the fixed prompts' rollout at `step`, its rewards (reward.scoreSync(ro)) and optionally the
 * advantages and how to read an answer / a right answer (FilmFrameOptions). filmStrip turns it into a FilmFrame.
 */
export interface FilmShot extends FilmFrameOptions {
  step: number;
  rollout: FilmRolloutLike;
  rewards: FilmRewards;
}

/**
 * The rollout film strip: the same prompts sampled at several steps of training. A chart of each prompt's answer
 * shares per step (right answers green, wrong amber; the top answers separately), then one frame per step, picked
 * with a row of step buttons: a compact group card per prompt (each sample's answer, reward, advantage; a
 * zero-variance group is flagged) and the dashboard's metrics at that step. Each shot is `{step, rollout, rewards,
 * advantages?}` (or an already built FilmFrame); `strip.frames` gives the frames back, `strip.steps` their steps (the
 * dashboard's `marks`).
 * @example
 * const shots = [];  // in update.train's eval: shots.push({step, rollout: ro, rewards: reward.scoreSync(ro)})
 * viz.filmStrip(shots, {history: run.history})
 */
export function filmStrip(shots: readonly (FilmShot | FilmFrame)[], options: FilmStripOptions = {}): FilmStripView {
  if (!Array.isArray(shots) || shots.length === 0)
    fail(
      "invalid_input",
      `viz.filmStrip: give at least one shot {step, rollout, rewards}; got ${describe(shots)}.`,
      { path: ["shots"] },
      filmStrip,
    );
  const frames: FilmFrame[] = shots.map((x) => {
    if (x && "rollout" in x) {
      const { step, rollout, rewards, ...o } = x;
      return filmFrame(step, rollout, rewards, o);
    }
    return x as FilmFrame;
  });
  const P = frames[0].groups?.length ?? 0;
  frames.forEach((f, k) => {
    if (!f || !Array.isArray(f.groups) || f.groups.length !== P || !Number.isFinite(f.step))
      fail(
        "invalid_input",
        `viz.filmStrip: frame ${k} must be {step, groups} with the same ${P} prompts as frame 0 ` +
          `(got ${describe(f?.groups)} groups at step ${describe(f?.step)}). Sample the same prompts at every step.`,
        { path: ["frames", k] },
        filmStrip,
      );
  });
  const ordered: FilmFrame[] = [...frames].sort((a, b) => a.step - b.step);
  const steps = ordered.map((f) => f.step);
  const top = options.topAnswers ?? 6;
  const maxChars = options.maxChars ?? 24;
  const history = options.history ?? [];
  const metrics =
    options.metrics ??
    DEFAULT_METRICS.filter((k) => history.some((r) => typeof r[k] === "number" && Number.isFinite(r[k] as number)));

  // 1. Answer shares per prompt and step: stacked bars, one panel per prompt.
  const cols = Math.min(2, P);
  const chartTop = options.title ? 70 : 40;
  const grid = panelGrid(P, cols, { rowHeight: 230, top: chartTop, bottom: 40 });
  const data: Record<string, unknown>[] = [];
  const annotations: Record<string, unknown>[] = [];
  const layout: Record<string, unknown> = {
    height: grid.height,
    barmode: "stack",
    showlegend: true,
    margin: { l: 45, r: 15, t: chartTop, b: 40 },
    title: options.title ? { text: options.title } : undefined,
  };
  const summaryLines: string[] = [];
  for (let g = 0; g < P; g++) {
    const cell = grid.cells[g],
      ax = cell.ax;
    const counts = new Map<string, { n: number; correct: boolean }>();
    for (const f of ordered)
      for (const s of f.groups[g].samples) {
        const c = counts.get(s.answer) ?? { n: 0, correct: s.correct };
        c.n++;
        counts.set(s.answer, c);
      }
    const ranked = [...counts.entries()].sort((a, b) => b[1].n - a[1].n || (a[0] < b[0] ? -1 : 1));
    const shown = ranked.slice(0, top);
    const named = new Set(shown.map(([a]) => a));
    let goodIdx = 0,
      badIdx = 0;
    const answerCat = ([a, c]: [string, { correct: boolean }]) => ({
      label: `${clip(a, 14)} ${c.correct ? "✓" : "✗"}`,
      match: (s: FilmSample) => s.answer === a,
      color: c.correct ? GOOD_SHADES[goodIdx++ % GOOD_SHADES.length] : BAD_SHADES[badIdx++ % BAD_SHADES.length],
      correct: c.correct,
    });
    // Right answers at the bottom of each bar, wrong ones above them: the green height is the step's accuracy.
    const cats = [
      ...shown.filter(([, c]) => c.correct).map(answerCat),
      {
        label: "other right",
        match: (s: FilmSample) => s.correct && !named.has(s.answer),
        color: OTHER_RIGHT,
        correct: true,
      },
      ...shown.filter(([, c]) => !c.correct).map(answerCat),
      {
        label: "other wrong",
        match: (s: FilmSample) => !s.correct && !named.has(s.answer),
        color: css(outcome.none),
        correct: false,
      },
    ];
    const legend = `legend${ax}`;
    layout[legend] = {
      x: cell.x[0] + 0.74 * (cell.x[1] - cell.x[0]),
      y: cell.y[1],
      xanchor: "left",
      yanchor: "top",
      font: { size: 10 },
      traceorder: "reversed",
      bgcolor: "rgba(255,255,255,0)",
    };
    const x = steps.map(String);
    for (const cat of cats) {
      const y = ordered.map((f) => {
        const ss = f.groups[g].samples;
        return ss.length ? ss.filter(cat.match).length / ss.length : 0;
      });
      if (y.every((v) => v === 0)) continue;
      data.push({
        type: "bar",
        name: cat.label,
        x,
        y,
        legend,
        marker: { color: cat.color, line: { color: "rgb(255,255,255)", width: 0.5 } },
        hovertemplate: `${escapeHtml(clip(cat.label, 40))} (${cat.correct ? "right" : "wrong"}): %{y:.0%}<extra></extra>`,
        xaxis: `x${ax}`,
        yaxis: `y${ax}`,
      });
    }
    layout[`xaxis${ax}`] = {
      domain: [cell.x[0], cell.x[0] + 0.7 * (cell.x[1] - cell.x[0])],
      anchor: `y${ax}`,
      type: "category",
      title: { text: "step", font: { size: 10 } },
      tickfont: { size: 10 },
    };
    layout[`yaxis${ax}`] = {
      domain: cell.y,
      anchor: `x${ax}`,
      range: [0, 1],
      tickformat: ".0%",
      tickfont: { size: 10 },
    };
    const prompt = ordered[0].groups[g].prompt;
    annotations.push(panelTitle(cell, escapeHtml(clip(prompt.replace(/\s+/g, " "), 40))));
    const share = (f: FilmFrame) => {
      const ss = f.groups[g].samples;
      return ss.length ? ss.filter((s) => s.correct).length / ss.length : 0;
    };
    summaryLines.push(
      `prompt ${g} ${clip(prompt.replace(/\s+/g, " "), 40)}: right share ` +
        ordered.map((f) => `step ${f.step} ${num(share(f))}`).join(", ") +
        `; top answers ${shown.map(([a, c]) => `${clip(a, 16)}${c.correct ? "✓" : "✗"}×${c.n}`).join(" ")}`,
    );
  }
  layout.annotations = annotations;
  const chart = figure({ data, layout }, { summary: summaryLines.join("\n") });

  // 2. The frames, switched by radio buttons and a scoped style (no script).
  const id = `cellrl-film-${randomUUID().slice(0, 8)}`;
  const last = ordered.length - 1;
  const sheet =
    // The last frame shows by default (also where the sanitizer drops the inputs but keeps this style); picking
    // another step hides it and shows that step's frame.
    `#${id} .fs-frame{display:none}#${id} .fs-frame.fs-last{display:block}` +
    `#${id} > input{position:absolute;opacity:0;width:0;height:0;margin:0}` +
    `#${id} .fs-track label{display:inline-block;min-width:28px;text-align:center;padding:2px 6px;margin:0 2px 4px 0;` +
    `border:1px solid rgb(180,180,180);border-radius:10px;cursor:pointer;font-size:12px;background-color:rgb(245,245,245)}` +
    ordered
      .map(
        (_, k) =>
          `#${id} #${id}-r${k}:checked ~ .fs-frames .fs-f${k}{display:block}` +
          (k === last ? "" : `#${id} #${id}-r${k}:checked ~ .fs-frames .fs-last{display:none}`) +
          `#${id} #${id}-r${k}:checked ~ .fs-track label[for="${id}-r${k}"]{background-color:rgb(31,119,180);` +
          `color:rgb(255,255,255);border-color:rgb(31,119,180)}`,
      )
      .join("");
  const inputs = ordered
    .map((_, k) => `<input type="radio" name="${id}" id="${id}-r${k}"${k === last ? " checked" : ""}>`)
    .join("");
  const track =
    `<div class="fs-track"><span style="font-size:12px;margin-right:6px">step</span>` +
    ordered.map((f, k) => `<label for="${id}-r${k}">${f.step}</label>`).join("") +
    `</div>`;
  const frameHtml = ordered.map((f, k) => {
    const ms = metrics
      .map((m) => {
        const v = metricAt(history, m, f.step);
        return v === undefined ? "" : `<span style="margin-right:10px">${escapeHtml(m)} <b>${num(v)}</b></span>`;
      })
      .join("");
    const cards = f.groups.map((grp, g) => miniCard(grp, g, maxChars)).join("");
    return (
      `<div class="fs-frame fs-f${k}${k === last ? " fs-last" : ""}" style="margin-top:4px">` +
      `<div style="font-size:12px;margin-bottom:4px"><b>step ${f.step}</b> ${ms}</div>${cards}</div>`
    );
  });
  const html =
    `<div id="${id}" class="cellrl-film-strip tex2jax_ignore" style="font-family:sans-serif;color:rgb(0,0,0)">` +
    `<style>${sheet}</style>${inputs}${track}<div class="fs-frames">${frameHtml.join("")}</div></div>`;
  const frameText = ordered
    .map(
      (f) =>
        `step ${f.step}` +
        (metrics.length
          ? ` (${metrics
              .map((m) => [m, metricAt(history, m, f.step)] as const)
              .filter(([, v]) => v !== undefined)
              .map(([m, v]) => `${m}=${num(v)}`)
              .join(" ")})`
          : "") +
        "\n" +
        f.groups
          .map(
            (grp, g) =>
              `  prompt ${g}: ` +
              grp.samples.map((s) => `${clip(s.answer, maxChars)}${s.correct ? "✓" : "✗"}`).join(" "),
          )
          .join("\n"),
    )
    .join("\n");
  return {
    steps,
    frames: ordered,
    figure: chart.figure,
    toMimeBundle(): MimeBundle {
      const b = chart.toMimeBundle();
      return {
        ...b,
        "text/html": String(b["text/html"] ?? "") + html,
        "text/plain": `${b["text/plain"]}\nframes:\n${frameText}`,
      };
    },
  };
}

/** A compact group card: the prompt, reward mean ± std, and one chip per sample (answer, reward, advantage). */
function miniCard(grp: { prompt: string; samples: FilmSample[] }, g: number, maxChars: number): string {
  const r = grp.samples.map((s) => s.reward);
  const mean = r.reduce((a, b) => a + b, 0) / Math.max(1, r.length);
  const std = Math.sqrt(r.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, r.length));
  const zero = r.length > 1 && std === 0;
  const chips = grp.samples
    .map((s) => {
      const color = s.correct ? GOOD : BAD;
      const adv = s.advantage !== undefined ? ` Â ${num(s.advantage, 2)}` : "";
      return (
        `<span style="display:inline-block;margin:0 4px 4px 0;padding:1px 5px;border:1px solid ${color};` +
        `border-left:4px solid ${color};border-radius:3px;font-size:11px;background-color:rgb(255,255,255)">` +
        `<code>${escapeHtml(clip(s.answer, maxChars))}</code> r ${num(s.reward, 2)}${adv}</span>`
      );
    })
    .join("");
  return (
    `<div style="display:inline-block;vertical-align:top;width:440px;margin:0 8px 8px 0;padding:4px;` +
    `border:1px solid rgb(210,210,210);border-radius:4px;font-size:12px">` +
    `<div style="margin-bottom:3px"><b>prompt ${g}</b> <code>${escapeHtml(clip(grp.prompt.replace(/\s+/g, " "), 50))}` +
    `</code> · reward ${num(mean)} ± ${num(std)} ` +
    (zero ? badge("zero-variance group: no gradient", css(outcome.none)) : "") +
    `</div>${chips}</div>`
  );
}
