import { fail } from "../core/errors.js";
import { escapeHtml } from "../kernel/mime.js";
import { css, diverging } from "./color.js";
import { badge, clip, num } from "./format.js";
import { View } from "./view.js";

/** One completion of a group. */
export interface GroupSample {
  response: string;
  reward: number;
  /** Named reward parts (e.g. {format: 0.1, answer: 1}). */
  components?: Record<string, number>;
  advantage?: number;
  /** Response length in tokens. */
  length?: number;
  finishReason?: string;
  correct?: boolean;
  /** Extracted answer, if the reward reports one. */
  answer?: string | null;
}

/** Options of groupCard. */
export interface GroupCardOptions {
  /** Sort completions by reward, highest first. Defaults to true. */
  sort?: boolean;
  /** Characters of each response shown. Defaults to 400. */
  maxChars?: number;
  title?: string;
}

/**
 * One prompt's G completions side by side: reward (and its parts), normalised advantage, length, finish reason and
 * badges (zero-std group, truncated, correct), sorted by reward.
 * @example viz.groupCard(prompt, samples)
 */
export function groupCard(prompt: string, samples: readonly GroupSample[], options: GroupCardOptions = {}): View {
  if (!Array.isArray(samples) || samples.length === 0)
    fail("invalid_input", "viz.groupCard: samples must be a non-empty array of {response, reward, ...}.", { path: ["samples"] }, groupCard);
  samples.forEach((s, i) => {
    if (typeof s.response !== "string" || typeof s.reward !== "number")
      fail("invalid_input", `viz.groupCard: sample ${i} needs a string response and a numeric reward.`, { path: ["samples", i] }, groupCard);
  });
  const { sort = true, maxChars = 400 } = options;
  const order = samples.map((s, i) => ({ s, i }));
  if (sort) order.sort((a, b) => b.s.reward - a.s.reward || a.i - b.i);
  const rewards = samples.map((s) => s.reward);
  const mean = rewards.reduce((a, b) => a + b, 0) / rewards.length;
  const std = Math.sqrt(rewards.reduce((a, b) => a + (b - mean) ** 2, 0) / rewards.length);
  const zeroStd = samples.length > 1 && std === 0;
  const maxAdv = Math.max(1e-9, ...samples.map((s) => Math.abs(s.advantage ?? 0)));
  const head = `<div style="margin-bottom:6px"><b>${escapeHtml(options.title ?? "Group")}</b> · G=${samples.length} · reward mean ${num(mean)} ± ${num(std)} ` +
    (zeroStd ? badge("zero-std group: no learning signal", "rgb(200,120,0)") : "") +
    `<div style="font-family:monospace;white-space:pre-wrap;background-color:rgb(245,245,245);padding:4px;margin-top:4px;color:rgb(0,0,0)">${escapeHtml(clip(prompt, 600))}</div></div>`;
  const cards = order.map(({ s, i }) => {
    const advBg = s.advantage === undefined ? "rgb(255,255,255)" : css(diverging(s.advantage, maxAdv));
    const badges = [
      s.correct === true ? badge("correct", "rgb(46,150,80)") : s.correct === false ? badge("wrong", "rgb(180,60,60)") : "",
      s.finishReason === "length" ? badge("truncated", "rgb(200,120,0)") : "",
    ].join("");
    const comps = s.components ? Object.entries(s.components as Record<string, number>).map(([k, v]) => `${escapeHtml(k)}=${num(v as number)}`).join(" ") : "";
    return `<div data-cellrl-sample="${i}" style="display:inline-block;vertical-align:top;width:230px;margin:0 6px 6px 0;border:1px solid rgb(210,210,210);border-radius:4px;padding:4px;font-size:12px;color:rgb(0,0,0);background-color:rgb(255,255,255)">` +
      `<div>#${i} ${badges}</div>` +
      `<div>reward <b>${num(s.reward)}</b>${comps ? ` <span style="color:rgb(100,100,100)">(${comps})</span>` : ""}</div>` +
      (s.advantage !== undefined ? `<div>adv <span style="background-color:${advBg};padding:0 3px">${num(s.advantage)}</span></div>` : "") +
      `<div>len ${s.length ?? "—"} · ${escapeHtml(s.finishReason ?? "—")}${s.answer !== undefined ? ` · answer <code>${escapeHtml(String(s.answer))}</code>` : ""}</div>` +
      `<div style="font-family:monospace;white-space:pre-wrap;margin-top:3px;max-height:160px;overflow:auto;background-color:rgb(250,250,250)">${escapeHtml(clip(s.response, maxChars))}</div></div>`;
  });
  const html = `<div class="cellrl-group-card" style="font-family:sans-serif">${head}<div>${cards.join("")}</div></div>`;
  const text = [`${options.title ?? "Group"}: G=${samples.length}, reward mean ${num(mean)} ± ${num(std)}${zeroStd ? " (zero-std group)" : ""}`,
    `prompt: ${clip(prompt.replace(/\s+/g, " "), 200)}`,
    ...order.map(({ s, i }) => `#${i} reward=${num(s.reward)}${s.advantage !== undefined ? ` adv=${num(s.advantage)}` : ""} len=${s.length ?? "-"} ${s.finishReason ?? ""}${s.correct !== undefined ? (s.correct ? " correct" : " wrong") : ""} | ${clip(s.response.replace(/\s+/g, " "), 80)}`)].join("\n");
  return new View(html, text);
}
