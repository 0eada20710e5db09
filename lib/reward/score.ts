// score(record, response): route a verl record to its reward by data_source and check what comes back.
import { describe, fail } from "../core/errors.js";
import { rewardFor, rewards } from "./registry.js";
import type { RewardFn, RewardRecord, RewardResult } from "./types.js";

/** Options of score() and scoreSync(). */
export interface ScoreOptions {
  /** Use this reward (name or function) instead of routing by data_source. Defaults to routing. */
  reward?: string | RewardFn;
  /** Passed as the 4th argument to the reward (e.g. `{fallback: "last-number"}` for "math"). Defaults to {}. */
  rewardOptions?: Record<string, unknown>;
}

/** Defaults of score(). */
export const defaults: Required<Pick<ScoreOptions, "rewardOptions">> = { rewardOptions: {} };

function resolve(record: RewardRecord, response: string, options: ScoreOptions, from: Function): { name: string; fn: RewardFn } {
  if (typeof record !== "object" || record === null || Array.isArray(record))
    fail("invalid_input", `reward.score: record must be a verl record object (got ${describe(record)}; expected ` +
      `{data_source, reward_model: {ground_truth}}).`, { got: record }, from);
  if (typeof response !== "string")
    fail("invalid_input", `reward.score: response must be a string (got ${describe(response)}). Pass one completion ` +
      `text; score a list with responses.map(r => reward.score(record, r)).`, { got: response, path: ["response"] }, from);
  if (options.reward !== undefined) {
    const fn = rewards.get(options.reward);
    return { name: typeof options.reward === "string" ? options.reward : fn.name || "custom", fn };
  }
  if (typeof record.data_source !== "string" || record.data_source.length === 0)
    fail("invalid_input", `reward.score: record.data_source must be a non-empty string (got ${describe(record.data_source)}). ` +
      `Set it, or pass {reward: "math"} to choose the reward directly.`, { path: ["data_source"], got: record.data_source }, from);
  return rewardFor(record.data_source);
}

function groundTruthOf(record: RewardRecord): unknown {
  const rm = record.reward_model;
  return rm && typeof rm === "object" ? rm.ground_truth : undefined;
}

function check(name: string, out: unknown, from: Function): RewardResult {
  const r = out as RewardResult;
  if (typeof r !== "object" || r === null || typeof r.score !== "number" || !Number.isFinite(r.score))
    fail("invalid_input", `reward.score: reward "${name}" returned ${describe(out)} (expected {score: finite number, details: {}}). ` +
      `Make it return {score, details}.`, { got: out, path: ["reward", name] }, from);
  const details = r.details && typeof r.details === "object" ? r.details : {};
  return { score: r.score, details: "reward" in details ? details : { reward: name, ...details } };
}

/**
 * Score one response to a verl record with the reward its data_source routes to (async: the code reward runs a
 * sandbox). Returns `{score, details}`; details name the reward and the rule that fired.
 * @example await reward.score({data_source: "openai/gsm8k", reward_model: {ground_truth: "18"}}, "... #### 18") // {score: 1, ...}
 */
export async function score(record: RewardRecord, response: string, options: ScoreOptions = {}): Promise<RewardResult> {
  const { name, fn } = resolve(record, response, options, score);
  const out = await fn(response, groundTruthOf(record), record, options.rewardOptions ?? defaults.rewardOptions);
  return check(name, out, score);
}

/**
 * Synchronous score() for rewards that return directly (math, multiple choice, format, tasks); fails for async ones.
 * @example reward.scoreSync({data_source: "cellrl/arith", reward_model: {ground_truth: "46"}}, "46").score // 1
 */
export function scoreSync(record: RewardRecord, response: string, options: ScoreOptions = {}): RewardResult {
  const { name, fn } = resolve(record, response, options, scoreSync);
  const out = fn(response, groundTruthOf(record), record, options.rewardOptions ?? defaults.rewardOptions);
  if (out && typeof (out as Promise<RewardResult>).then === "function") {
    (out as Promise<RewardResult>).catch(() => undefined); // already started; keep its failure from going unhandled
    fail("invalid_option", `reward.scoreSync: reward "${name}" is async (it returned a Promise). Use await reward.score(...) instead.`,
      { got: name }, scoreSync);
  }
  return check(name, out, scoreSync);
}
