import { describe, fail } from "../core/errors.js";
import { escapeHtml } from "../kernel/mime.js";
import { colorOf, css, outcome, scales, scaleWords, type ColorScale } from "./color.js";
import { badge, clip, num } from "./format.js";
import { View } from "./view.js";

/** One completion of a group. */
export interface GroupSample {
  response: string;
  reward: number;
  /** Named reward parts, each its contribution to the reward (e.g. {format: 0.1, answer: 1}). */
  components?: Record<string, number>;
  /** A required component that scored <= 0 and zeroed the reward (a composite's "gated-by:<name>"). */
  gatedBy?: string;
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
  /**
   * Colour scale of the advantage chips (direction: blue = pushed down, red = pushed up). Defaults to the pinned
   * `±2` so cards of different groups compare; pass a shared scale to match other views.
   */
  scale?: ColorScale;
}

const NOTE = "rgb(100,100,100)";

/**
 * One prompt's G completions side by side: reward (and its parts), normalised advantage, length, finish reason and
 * badges (zero-std group, truncated, correct), sorted by reward.
 * @example viz.groupCard(prompt, samples)
 */
export function groupCard(prompt: string, samples: readonly GroupSample[], options: GroupCardOptions = {}): View {
  if (!Array.isArray(samples) || samples.length === 0)
    fail(
      "invalid_input",
      "viz.groupCard: samples must be a non-empty array of {response, reward, ...}.",
      { path: ["samples"] },
      groupCard,
    );
  samples.forEach((s, i) => {
    if (typeof s.response !== "string" || typeof s.reward !== "number")
      fail(
        "invalid_input",
        `viz.groupCard: sample ${i} needs a string response and a numeric reward.`,
        { path: ["samples", i] },
        groupCard,
      );
  });
  const { sort = true, maxChars = 400 } = options;
  const order = samples.map((s, i) => ({ s, i }));
  if (sort) order.sort((a, b) => b.s.reward - a.s.reward || a.i - b.i);
  const rewards = samples.map((s) => s.reward);
  const mean = rewards.reduce((a, b) => a + b, 0) / rewards.length;
  const std = Math.sqrt(rewards.reduce((a, b) => a + (b - mean) ** 2, 0) / rewards.length);
  const zeroStd = samples.length > 1 && std === 0;
  const advScale = options.scale ?? scales.advantage;
  const hasAdv = samples.some((s) => s.advantage !== undefined);
  const head =
    `<div style="margin-bottom:6px"><b>${escapeHtml(options.title ?? "Group")}</b> · G=${samples.length} · ` +
    `reward mean ${num(mean)} ± ${num(std)} ` +
    (zeroStd ? badge("zero-std group: no learning signal", NOTE) : "") +
    `<div style="font-family:monospace;white-space:pre-wrap;background-color:rgb(245,245,245);padding:4px;` +
    `margin-top:4px;color:rgb(0,0,0)">${escapeHtml(clip(prompt, 600))}</div></div>`;
  const cards = order.map(({ s, i }) => {
    const advBg = s.advantage === undefined ? "rgb(255,255,255)" : css(colorOf(advScale, s.advantage));
    const badges = [
      s.correct === true
        ? badge("✓ correct", css(outcome.good))
        : s.correct === false
          ? badge("✗ wrong", css(outcome.bad))
          : "",
      s.finishReason === "length" ? badge("truncated", NOTE) : "",
      s.gatedBy ? badge(`gated by ${s.gatedBy}`, "rgb(120,120,120)") : "",
    ].join("");
    const comps = s.components
      ? Object.entries(s.components)
          .map(([k, v]) => `${escapeHtml(k)}=${num(v as number)}`)
          .join(" + ")
      : "";
    return (
      `<div data-cellrl-sample="${i}" style="display:inline-block;vertical-align:top;width:230px;` +
      `margin:0 6px 6px 0;border:1px solid rgb(210,210,210);border-radius:4px;padding:4px;font-size:12px;` +
      `color:rgb(0,0,0);background-color:rgb(255,255,255)">` +
      `<div>#${i} ${badges}</div>` +
      `<div>reward <b>${num(s.reward)}</b>` +
      `${comps ? ` <span style="color:rgb(100,100,100)">(${comps})</span>` : ""}</div>` +
      (s.advantage !== undefined
        ? `<div>adv <span style="background-color:${advBg};padding:0 3px">${num(s.advantage)}</span></div>`
        : "") +
      `<div>len ${s.length ?? "—"} · ${escapeHtml(s.finishReason ?? "—")}` +
      `${s.answer !== undefined ? ` · answer <code>${escapeHtml(String(s.answer))}</code>` : ""}</div>` +
      `<div style="font-family:monospace;white-space:pre-wrap;margin-top:3px;max-height:160px;overflow:auto;` +
      `background-color:rgb(250,250,250)">${escapeHtml(clip(s.response, maxChars))}</div></div>`
    );
  });
  const html =
    `<div class="cellrl-group-card tex2jax_ignore" ` +
    `style="font-family:sans-serif">${head}<div>${cards.join("")}</div>` +
    (hasAdv
      ? `<div style="font-size:11px;color:${NOTE}">adv ${escapeHtml(scaleWords({ ...advScale, label: undefined }))}; ` +
        `badges: green ✓ correct, amber ✗ wrong</div>`
      : "") +
    `</div>`;
  const text = [
    `${options.title ?? "Group"}: G=${samples.length}, reward mean ${num(mean)} ` +
      `± ${num(std)}${zeroStd ? " (zero-std group)" : ""}`,
    `prompt: ${clip(prompt.replace(/\s+/g, " "), 200)}`,
    ...order.map(({ s, i }) => {
      const parts = s.components
        ? Object.entries(s.components)
            .map(([k, v]) => `${k}=${num(v as number)}`)
            .join(" + ")
        : "";
      const comps = s.components ? ` (${parts}${s.gatedBy ? `, gated by ${s.gatedBy}` : ""})` : "";
      const adv = s.advantage !== undefined ? ` adv=${num(s.advantage)}` : "";
      const verdict = s.correct !== undefined ? (s.correct ? " correct" : " wrong") : "";
      return (
        `#${i} reward=${num(s.reward)}${comps}${adv} len=${s.length ?? "-"} ${s.finishReason ?? ""}${verdict} | ` +
        clip(s.response.replace(/\s+/g, " "), 80)
      );
    }),
  ].join("\n");
  return new View(html, text);
}

/** The parts of a Rollout rolloutGroupCard reads (a Rollout has them all). */
export interface RolloutGroupLike {
  group: readonly number[];
  prompts: readonly string[];
  responses: readonly string[];
  responseIds?: readonly ArrayLike<number>[];
  finishReason?: readonly string[];
}

/** A reward result as rolloutGroupCard reads it: a score and details (a composite's details.components too). */
type RewardLike = { score: number; details?: Record<string, unknown> };

/** reward.score(ro)'s result as rolloutGroupCard reads it: scores [B] and (optionally) details [B]. */
type BatchScoresLike = { scores: ArrayLike<number>; details?: readonly (Record<string, unknown> | undefined)[] };

/** The rewards option: numbers [B], reward results [B], or reward.score(ro)'s {scores, details}. */
type RewardsOption = ArrayLike<number> | readonly RewardLike[] | BatchScoresLike;

function isBatchScores(r: RewardsOption): r is BatchScoresLike {
  return typeof r === "object" && r !== null && typeof (r as ArrayLike<number>).length !== "number" && "scores" in r;
}

/** Each row's score and details from any form of options.rewards, checked against the rollout's B rows. */
function rowRewards(rewards: RewardsOption | undefined, B: number): (i: number) => number | RewardLike {
  if (rewards && isBatchScores(rewards)) {
    const { scores, details } = rewards;
    if (!scores || typeof scores.length !== "number" || scores.length !== B)
      fail(
        "shape_mismatch",
        `viz.rolloutGroupCard: options.rewards.scores has ${describe(scores)} but the rollout has ${B} rows. ` +
          "Pass reward.score(ro) of this rollout.",
        { path: ["options", "rewards", "scores"] },
        rolloutGroupCard,
      );
    if (details !== undefined && (!Array.isArray(details) || details.length !== B))
      fail(
        "shape_mismatch",
        `viz.rolloutGroupCard: options.rewards.details has ${describe(details)} but the rollout has ${B} rows ` +
          "(expected one details object per row, as reward.score(ro) returns).",
        { path: ["options", "rewards", "details"] },
        rolloutGroupCard,
      );
    return (i) => ({ score: scores[i], details: details?.[i] });
  }
  if (!rewards || rewards.length !== B)
    fail(
      "shape_mismatch",
      `viz.rolloutGroupCard: options.rewards has ${rewards?.length ?? "no"} entries but the rollout ` +
        `has ${B} rows.`,
      { path: ["options", "rewards"] },
      rolloutGroupCard,
    );
  return (i) => rewards[i] as number | RewardLike;
}

/**
 * A composite reward's parts from its details (reward.composite reports {components: {name: {score, weight,
 * details}}, rule}): each part's contribution score × weight, the gate that zeroed the sum, and the first part's
 * extracted answer.
 */
function compositeParts(
  details: Record<string, unknown> | undefined,
  i: number,
): { components?: Record<string, number>; gatedBy?: string; answer?: string } {
  const comps = details?.components;
  if (!comps || typeof comps !== "object") return {};
  const components: Record<string, number> = {};
  let answer: string | undefined;
  for (const [name, c] of Object.entries(comps as Record<string, unknown>)) {
    if (typeof c === "number") {
      components[name] = c;
      continue;
    }
    const part = c as { score?: unknown; weight?: unknown; details?: Record<string, unknown> } | null;
    if (!part || typeof part.score !== "number")
      fail(
        "invalid_input",
        `viz.rolloutGroupCard: rewards[${i}].details.components.${name} must be {score, weight} as ` +
          `reward.composite reports it, or a number (got ${JSON.stringify(c)}).`,
        { path: ["options", "rewards", i, "details", "components", name] },
        rolloutGroupCard,
      );
    components[name] = part.score * (typeof part.weight === "number" ? part.weight : 1);
    const d = part.details;
    if (answer === undefined && d && (typeof d.extracted === "string" || typeof d.answer === "string"))
      answer = String(d.extracted ?? d.answer);
  }
  const rule = details?.rule;
  return {
    components,
    ...(typeof rule === "string" && rule.startsWith("gated-by:") ? { gatedBy: rule.slice("gated-by:".length) } : {}),
    ...(answer !== undefined ? { answer } : {}),
  };
}

/**
 * The group card of prompt `g` of a Rollout, with per-completion rewards and advantages. `rewards` is what
 * reward.score(ro) / reward.scoreSync(ro) return ({scores, details}), or per-row numbers or reward results; details
 * give the extracted answer, and a composite's details.components give each part as score × weight. `correct`
 * defaults to reward >= 1.
 * @example viz.rolloutGroupCard(ro, 0, {rewards: reward.scoreSync(ro), advantages: A})
 */
export function rolloutGroupCard(
  ro: RolloutGroupLike,
  g: number,
  options: GroupCardOptions & {
    rewards: RewardsOption;
    advantages?: ArrayLike<number>;
    correct?: (reward: number, i: number) => boolean;
  },
): View {
  if (!ro || !Array.isArray(ro.group) || !Array.isArray(ro.responses))
    fail(
      "invalid_input",
      "viz.rolloutGroupCard: expected a Rollout (group, prompts, responses).",
      {},
      rolloutGroupCard,
    );
  if (!Number.isInteger(g) || g < 0 || g >= ro.prompts.length)
    fail(
      "invalid_input",
      `viz.rolloutGroupCard: group ${g} is out of range (expected an integer in [0, ${ro.prompts.length})).`,
      { got: g },
      rolloutGroupCard,
    );
  const { rewards, advantages, correct = (r: number) => r >= 1, ...cardOptions } = options ?? ({} as never);
  const rewardOf = rowRewards(rewards, ro.group.length);
  const samples: GroupSample[] = [];
  ro.group.forEach((grp, i) => {
    if (grp !== g) return;
    const r = rewardOf(i);
    if (typeof r !== "number" && typeof r?.score !== "number")
      fail(
        "invalid_input",
        `viz.rolloutGroupCard: rewards[${i}] must be a number or {score, details} (got ${JSON.stringify(r)}).`,
        { path: ["options", "rewards", i] },
        rolloutGroupCard,
      );
    const score = typeof r === "number" ? r : r.score;
    const details = typeof r === "number" ? undefined : r.details;
    const parts = compositeParts(details, i);
    const top =
      details && (typeof details.extracted === "string" || typeof details.answer === "string")
        ? String(details.extracted ?? details.answer)
        : undefined;
    const ans = top ?? parts.answer;
    samples.push({
      response: ro.responses[i],
      reward: score,
      advantage: advantages ? Number(advantages[i]) : undefined,
      length: ro.responseIds?.[i]?.length,
      finishReason: ro.finishReason?.[i],
      correct: correct(score, i),
      ...(ans !== undefined ? { answer: ans } : {}),
      ...(parts.components ? { components: parts.components } : {}),
      ...(parts.gatedBy ? { gatedBy: parts.gatedBy } : {}),
    });
  });
  return groupCard(ro.prompts[g], samples, { title: `Group ${g}`, ...cardOptions });
}
