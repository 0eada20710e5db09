// How steps get rewards: a function of the Rollout returning one reward per completion (or named components).
import { describe, fail } from "../core/errors.js";
import type { RewardFn } from "../reward/types.js";
import type { Rollout } from "../rollout/rollout.js";
import type { RewardInput } from "./advantage.js";

/** Rewards for a rollout: [B] numbers, or named components {correct: [B], format: [B]}. */
export type RewardSource = (ro: Rollout) => RewardInput | Promise<RewardInput>;

/**
 * A RewardSource from a reward.RewardFn and the rollout column holding each prompt's ground truth.
 * @example const src = update.rewardsFrom(myReward, "ground_truth"); await grpoStep({..., reward: src})
 */
export function rewardsFrom(fn: RewardFn, column = "ground_truth"): RewardSource {
  if (typeof fn !== "function") fail("invalid_input", `update.rewardsFrom: fn must be a reward function (response, groundTruth) => {score} (got ${describe(fn)}).`, {}, rewardsFrom);
  return async (ro) => {
    if (!ro.table.columnNames().includes(column))
      fail("not_found", `update.rewardsFrom: the rollout has no "${column}" column (has ${ro.table.columnNames().join(", ")}). Pass columns: {${column}: [...]} to the step.`, {}, rewardsFrom);
    const out = new Array<number>(ro.size);
    for (let i = 0; i < ro.size; i++) out[i] = (await fn(ro.responses[i], ro.table.get(column, i))).score;
    return out;
  };
}

/**
 * Await a RewardSource and check it returned one value per completion.
 * @example const r = await collectRewards(src, ro, "update.myStep")
 */
export async function collectRewards(src: RewardSource, ro: Rollout, fn: string): Promise<RewardInput> {
  if (typeof src !== "function") fail("invalid_input", `${fn}: reward must be a function (rollout) => rewards [B] (got ${describe(src)}). Wrap a reward.RewardFn with update.rewardsFrom(fn).`, { path: ["reward"] });
  const r = await src(ro);
  const arrays = r && typeof (r as ArrayLike<number>).length === "number" ? [r as ArrayLike<number>] : Object.values((r ?? {}) as Record<string, ArrayLike<number>>);
  if (arrays.length === 0 || arrays.some((a) => !a || a.length !== ro.size))
    fail("shape_mismatch", `${fn}: the reward returned ${describe(r)} (expected ${ro.size} values, one per completion, or named components of that length).`, { path: ["reward"] });
  return r;
}
