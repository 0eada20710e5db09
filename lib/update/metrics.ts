// Step metrics named like verl's where they exist, as "<folder>/<camelCase>" keys: reward/*, update/adv*, rollout/*,
// time/*. verl: critic/score/{mean,max,min}, critic/advantages/*, response_length/{mean,max,clip_ratio}, timing_s/*.
import { countGroups, groupStats } from "./advantage/group-stats.js";
import { groupIndex } from "./advantage.js";
import { stats } from "./tensors.js";

/**
 * reward/mean, reward/std, reward/min, reward/max and reward/zeroStdFrac (fraction of groups whose completions all got
 * the same reward: TRL frac_reward_zero_std; they give GRPO no gradient).
 * @example update.rewardMetrics(rewards, ro.group) // {"reward/mean": 0.4, "reward/zeroStdFrac": 0.25, ...}
 */
export function rewardMetrics(rewards: ArrayLike<number>, groups: ArrayLike<number | string>): Record<string, number> {
  const s = stats(rewards);
  const g = groupIndex(groups);
  const n = countGroups(g);
  const gs = groupStats(rewards, g, n, false);
  let zero = 0;
  for (let k = 0; k < n; k++) if (gs.std[k] < 1e-12) zero++;
  return {
    "reward/mean": s.mean,
    "reward/std": s.std,
    "reward/min": s.min,
    "reward/max": s.max,
    "reward/zeroStdFrac": n ? zero / n : 0,
    "reward/groups": n,
  };
}

/**
 * update/advMean, update/advStd, update/advMin, update/advMax over completions.
 * @example update.advantageMetrics(A)
 */
export function advantageMetrics(adv: ArrayLike<number>): Record<string, number> {
  const s = stats(adv);
  return { "update/advMean": s.mean, "update/advStd": s.std, "update/advMin": s.min, "update/advMax": s.max };
}

/**
 * rollout/lengthMean, rollout/lengthMax, rollout/lengthMin, rollout/truncFrac from response lengths and finish reasons.
 * @example update.lengthMetrics(ro.responseIds.map((r) => r.length), ro.finishReason)
 */
export function lengthMetrics(lengths: ArrayLike<number>, finishReason?: ArrayLike<string>): Record<string, number> {
  const s = stats(lengths);
  let trunc = 0;
  if (finishReason) for (let i = 0; i < finishReason.length; i++) if (finishReason[i] === "length") trunc++;
  return {
    "rollout/lengthMean": s.mean,
    "rollout/lengthMax": s.max,
    "rollout/lengthMin": s.min,
    "rollout/truncFrac": lengths.length ? trunc / lengths.length : 0,
  };
}

/**
 * Masked mean of a [B, T] host matrix (e.g. per-token entropy from model.logprobs).
 * @example update.matrixMean(model.logprobs(m, ro).entropy!, ro.responseMask)
 */
export function matrixMean(values: ArrayLike<number>[], mask: ArrayLike<number>[]): number {
  let s = 0,
    n = 0;
  for (let b = 0; b < values.length; b++)
    for (let t = 0; t < values[b].length; t++)
      if (mask[b][t] > 0) {
        s += values[b][t];
        n++;
      }
  return n ? s / n : 0;
}

/**
 * A stopwatch for phase timings: `time.phase("rollout", () => ...)` records seconds under "time/rollout".
 * @example
 * const tm = update.timer();
 * const ro = await tm.phaseAsync("rollout", () => rollout.sample(p, qs));
 * tm.metrics()
 */
export function timer(): {
  phase<T>(name: string, fn: () => T): T;
  phaseAsync<T>(name: string, fn: () => Promise<T>): Promise<T>;
  metrics(): Record<string, number>;
} {
  const t: Record<string, number> = {};
  const add = (name: string, s: number) => (t[`time/${name}`] = (t[`time/${name}`] ?? 0) + s);
  return {
    phase(name, fn) {
      const s = performance.now();
      try {
        return fn();
      } finally {
        add(name, (performance.now() - s) / 1000);
      }
    },
    async phaseAsync(name, fn) {
      const s = performance.now();
      try {
        return await fn();
      } finally {
        add(name, (performance.now() - s) / 1000);
      }
    },
    metrics: () => ({ ...t }),
  };
}
