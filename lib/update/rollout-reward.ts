// How steps get rewards: a function of the Rollout returning one reward per completion (or named components).
// By default, reward.score(ro): each row graded by its record's data_source.
import { describe, fail } from "../core/errors.js";
import { score } from "../reward/index.js";
import type { Rollout } from "../rollout/rollout.js";
import type { RewardInput } from "./advantage.js";

/** Rewards for a rollout: [B] numbers, or named components {correct: [B], format: [B]}. */
export type RewardSource = (
  ro: Rollout,
) => RewardInput | { scores: Float32Array } | Promise<RewardInput | { scores: Float32Array }>;

/** The default RewardSource of the steps: reward.score(ro).scores (rows routed by their records' data_source). */
export const scoreRollout: RewardSource = async (ro) => (await score(ro)).scores;

/**
 * Await a RewardSource (reward.score(ro) when none is given) and check it returned one value per completion.
 * @example const r = await collectRewards(undefined, ro, "update.myStep")
 */
export async function collectRewards(src: RewardSource | undefined, ro: Rollout, fn: string): Promise<RewardInput> {
  if (src === undefined || src === null) src = scoreRollout;
  if (typeof src !== "function")
    fail(
      "invalid_input",
      `${fn}: reward must be a function (rollout) => rewards [B] (got ${describe(src)}). Leave it out to use ` +
        `reward.score(ro), or pass e.g. (ro) => reward.scoreSync(ro, {reward: "math"}).scores.`,
      { path: ["reward"] },
    );
  let r = await src(ro);
  // reward.score's own result ({scores, details}) may be returned as is
  const sd = r as unknown as { scores?: ArrayLike<number>; details?: unknown };
  if (sd && typeof sd === "object" && sd.scores && Array.isArray(sd.details) && Object.keys(sd).length === 2)
    r = sd.scores;
  const arrays =
    r && typeof (r as ArrayLike<number>).length === "number"
      ? [r as ArrayLike<number>]
      : Object.values((r ?? {}) as Record<string, ArrayLike<number>>);
  if (arrays.length === 0 || arrays.some((a) => !a || a.length !== ro.size))
    fail(
      "shape_mismatch",
      `${fn}: the reward returned ${describe(r)} (expected ${ro.size} values, one per completion, or named ` +
        `components of that length).`,
      { path: ["reward"] },
    );
  return r;
}
