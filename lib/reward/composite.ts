// Weighted sums of rewards (correctness + format + length shaping), each component kept in details for logging.
import { describe, fail } from "../core/errors.js";
import { checkFinite } from "../core/checks.js";
import { rewards } from "./registry.js";
import type { RewardFn, RewardRecord, RewardResult } from "./types.js";

/** One component of a composite reward. */
export interface CompositePart {
  /** A registered reward name or a function. */
  reward: string | RewardFn;
  /** Multiplies this component's score. Defaults to 1. */
  weight?: number;
  /** Options passed to this component (merged over the composite's own options). Defaults to {}. */
  options?: Record<string, unknown>;
  /** When this component scores <= 0 the whole reward is 0 (a gate, e.g. "format must hold"). Defaults to false. */
  required?: boolean;
  /** Key of this component in details.components. Defaults to the reward's name. */
  name?: string;
}

interface Part {
  name: string;
  fn: RewardFn;
  weight: number;
  options: Record<string, unknown>;
  required: boolean;
}

function normalise(parts: Record<string, number> | CompositePart[]): Part[] {
  const list: CompositePart[] = Array.isArray(parts)
    ? parts
    : Object.entries(parts).map(([reward, weight]) => ({ reward, weight }));
  if (list.length === 0)
    fail(
      "invalid_option",
      `reward.composite: needs at least one component (got none; expected {math: 1, "r1-format": 0.1} ` +
        `or [{reward, weight}]).`,
      {},
      composite,
    );
  const seen = new Set<string>();
  return list.map((p, i) => {
    if (typeof p !== "object" || p === null)
      fail(
        "invalid_option",
        `reward.composite: component ${i} must be {reward, weight} (got ${describe(p)}).`,
        { path: [i] },
        composite,
      );
    const fn = rewards.get(p.reward);
    const weight = p.weight ?? 1;
    checkFinite({ where: "reward.composite", from: composite }, `component ${i} weight`, weight, undefined, [
      i,
      "weight",
    ]);
    let name = p.name ?? (typeof p.reward === "string" ? p.reward : fn.name || `part${i}`);
    if (seen.has(name)) name = `${name}#${i}`;
    seen.add(name);
    return { name, fn, weight, options: p.options ?? {}, required: p.required ?? false };
  });
}

function combine(parts: Part[], results: RewardResult[]): RewardResult {
  let total = 0;
  let gated: string | null = null;
  const components: Record<string, { score: number; weight: number; details: Record<string, unknown> }> = {};
  parts.forEach((p, i) => {
    const r = results[i];
    if (typeof r?.score !== "number" || !Number.isFinite(r.score))
      fail(
        "invalid_input",
        `reward.composite: component "${p.name}" returned ${describe(r)} (expected {score: finite number, details}).`,
        { path: ["components", p.name] },
      );
    components[p.name] = { score: r.score, weight: p.weight, details: r.details ?? {} };
    total += p.weight * r.score;
    if (p.required && r.score <= 0 && gated === null) gated = p.name;
  });
  return {
    score: gated === null ? total : 0,
    details: { rule: gated === null ? "weighted-sum" : `gated-by:${gated}`, components },
  };
}

/**
 * A reward that is the weighted sum of others; sync when every component is sync, a Promise otherwise.
 * @example reward.register("math+format", reward.composite({math: 1, "r1-format": 0.1}))
 */
export function composite(
  parts: Record<string, number> | CompositePart[],
  options: Record<string, unknown> = {},
): RewardFn {
  const list = normalise(parts);
  return function compositeReward(
    response: string,
    groundTruth: unknown,
    record?: RewardRecord,
    callOptions?: Record<string, unknown>,
  ) {
    const results = list.map((p) => p.fn(response, groundTruth, record, { ...options, ...callOptions, ...p.options }));
    if (results.some((r) => r && typeof (r as Promise<RewardResult>).then === "function"))
      return Promise.all(results).then((rs) => combine(list, rs));
    return combine(list, results as RewardResult[]);
  };
}
