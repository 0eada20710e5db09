// Format rewards: the R1 <think>...</think> layout, <answer> tags, and open-r1's per-tag count.
import { register } from "./registry.js";
import type { RewardRecord, RewardResult } from "./types.js";

/** Options of r1FormatReward. */
export interface R1FormatOptions {
  /**
   * Text the chat template already put before the response (R1 prompts end with "<think>\n"). "auto" prepends
   * "<think>" when the response has a "</think>" but no "<think>". Defaults to "auto".
   */
  prefix?: string | "auto";
  /**
   * After </think> there must be exactly one <answer>...</answer> and nothing but whitespace after it. Defaults to
   * false.
   */
  requireAnswerTag?: boolean;
  /** Minimum non-space characters inside <think>. Defaults to 1. */
  minThinkChars?: number;
}

/** Defaults of r1FormatReward. */
export const defaults: Required<R1FormatOptions> = { prefix: "auto", requireAnswerTag: false, minThinkChars: 1 };

function count(s: string, sub: string): number {
  let n = 0;
  for (let k = s.indexOf(sub); k >= 0; k = s.indexOf(sub, k + sub.length)) n++;
  return n;
}

/** Content of the last <tag>...</tag> in a text, or null. */
export function lastTag(text: string, tag = "answer"): string | null {
  const close = text.lastIndexOf(`</${tag}>`);
  if (close < 0) return null;
  const open = text.lastIndexOf(`<${tag}>`, close);
  return open < 0 ? null : text.slice(open + tag.length + 2, close);
}

/**
 * R1 format reward: 1 when the response is `<think> reasoning </think> answer` with exactly one think block,
 * non-empty reasoning and a non-empty answer after it (inside one <answer> tag if required), else 0.
 * details.rule names the first check that failed.
 * @example reward.r1FormatReward("<think>2+2=4</think> The answer is 4").score // 1
 */
export function r1FormatReward(
  response: string,
  _gt?: unknown,
  _record?: RewardRecord,
  options: R1FormatOptions = {},
): RewardResult {
  const o = { ...defaults, ...options };
  let text = response;
  if (o.prefix === "auto") {
    if (!text.includes("<think>") && text.includes("</think>")) text = "<think>" + text;
  } else text = o.prefix + text;
  const fail = (rule: string): RewardResult => ({ score: 0, details: { rule } });
  if (count(text, "<think>") !== 1 || count(text, "</think>") !== 1) return fail("think-tags-not-once");
  const open = text.indexOf("<think>"),
    close = text.indexOf("</think>");
  if (text.slice(0, open).trim() !== "") return fail("text-before-think");
  if (close < open) return fail("think-tags-out-of-order");
  const thinking = text.slice(open + 7, close);
  if (thinking.replace(/\s/g, "").length < o.minThinkChars) return fail("empty-think");
  const after = text.slice(close + 8);
  if (after.trim() === "") return fail("no-answer-after-think");
  if (o.requireAnswerTag) {
    if (count(after, "<answer>") !== 1 || count(after, "</answer>") !== 1) return fail("answer-tags-not-once");
    const m = /^\s*<answer>([\s\S]*)<\/answer>\s*$/.exec(after);
    if (!m) return fail("text-outside-answer");
    if (m[1].trim() === "") return fail("empty-answer");
  }
  return { score: 1, details: { rule: "ok", thinkChars: thinking.length, answerChars: after.trim().length } };
}

/**
 * open-r1's tag_count_reward: +0.25 for each of <think>, </think>, <answer>, </answer> that appears exactly once.
 * @example reward.tagCountReward("<think>x</think><answer>4</answer>").score // 1
 */
export function tagCountReward(response: string): RewardResult {
  const tags = ["<think>", "</think>", "<answer>", "</answer>"];
  const once = tags.filter((t) => count(response, t) === 1);
  return { score: 0.25 * once.length, details: { rule: `${once.length}/4 tags once`, once } };
}

register("r1-format", r1FormatReward, {
  paper: "arXiv:2501.12948",
  summary: "<think>…</think> then an answer: 1 / 0",
});
register("tag-count", tagCountReward, { summary: "open-r1: 0.25 per think/answer tag that appears exactly once" });
