// The advantage dispatcher: validates inputs once, maps group ids to indices, aggregates several reward components,
// then calls the registered estimator.
import { describe, fail } from "../core/errors.js";
import { advantages, type AdvantageFn } from "./registries.js";
import { batchStats } from "./advantage/group-stats.js";
import "./advantage/grpo.js";
import "./advantage/rloo.js";
import "./advantage/reinforce-pp.js";
import "./advantage/reinforce-pp-token.js";
import "./advantage/remax.js";
import "./advantage/maxrl.js";
import "./advantage/gdpo.js";

/** Rewards as one array, or several named components (multi-reward). */
export type RewardInput = ArrayLike<number> | Record<string, ArrayLike<number>>;

/** Inputs of `advantage`. */
export interface AdvantageCallInputs {
  /** One reward per completion [B], or named components {correct: [B], format: [B]}. */
  rewards: RewardInput;
  /** Prompt / group id per completion [B] (any numbers or strings; equal ids share a group). */
  groups: ArrayLike<number | string>;
  /** Response length per completion [B] (used by estimators that whiten over tokens). */
  lengths?: ArrayLike<number>;
  /** Response mask [B][T], 1 on the tokens that count ("reinforce-pp-token", token-level "remax"). */
  mask?: ArrayLike<ArrayLike<number>>;
  /**
   * Per-token rewards [B][T] ("reinforce-pp-token", "remax"); without them the outcome reward sits on the last unmasked
   * token.
   */
  tokenRewards?: ArrayLike<ArrayLike<number>>;
  /** A baseline reward per completion [B] ("remax": the reward of the greedy response to the same prompt). */
  baselines?: ArrayLike<number>;
}

/** Options of `advantage`: the multi-reward ones below, the rest go to the estimator (e.g. grpo's scale/std/eps). */
export interface AdvantageOptions {
  /** Weight per reward component (by name), for multi-reward input. Defaults to 1 for each. */
  weights?: Record<string, number>;
  /**
   * How several components become one advantage: "sum-then-normalize" (weighted sum of rewards, then the estimator;
   * TRL's default) or "normalize-then-sum" (the estimator per component, weighted sum, then batch whitening: GDPO,
   * arXiv 2601.05242, TRL multi_objective_aggregation="normalize_then_sum"; the "gdpo" estimator is this with "grpo"
   * and eps 1e-4, and takes no aggregate). Defaults to "sum-then-normalize".
   */
  aggregate?: "sum-then-normalize" | "normalize-then-sum";
  [estimatorOption: string]: unknown;
}
/** Defaults of advantage (batchEps: the whitening eps of normalize-then-sum) (print them in a cell). */
export const advantageDefaults = { aggregate: "sum-then-normalize" as const, batchEps: 1e-4 };

/** Rows [B][T] (all the same width) flattened row-major, checked finite. */
function toRows(x: ArrayLike<ArrayLike<number>>, field: string, B: number, T: number | null): Float32Array {
  if (x === null || typeof x !== "object" || typeof x.length !== "number" || x.length !== B)
    fail(
      "shape_mismatch",
      `update.advantage: ${field} must be ${B} rows (one per completion) of numbers (got ${describe(x)}).`,
      { path: field.split(".") },
      advantage,
    );
  const W = T ?? (x[0]?.length as number);
  const out = new Float32Array(B * W);
  for (let b = 0; b < B; b++) {
    const row = x[b];
    if (!row || row.length !== W)
      fail(
        "shape_mismatch",
        `update.advantage: ${field}[${b}] has ${row?.length} values (expected ${W}, the width of every row).`,
        { path: [...field.split("."), b], got: row?.length, expected: W },
        advantage,
      );
    for (let t = 0; t < W; t++) {
      const v = Number(row[t]);
      if (!Number.isFinite(v))
        fail(
          "non_finite",
          `update.advantage: ${field}[${b}][${t}] is ${row[t]} (expected a finite number).`,
          { path: [...field.split("."), b, t], got: row[t] },
          advantage,
        );
      out[b * W + t] = v;
    }
  }
  return out;
}

function toFloat(x: ArrayLike<number>, field: string, B: number | null): Float32Array {
  if (x === null || typeof x !== "object" || typeof (x as ArrayLike<number>).length !== "number")
    fail(
      "invalid_input",
      `update.advantage: ${field} must be an array of numbers (got ${describe(x)}).`,
      { path: field.split(".") },
      advantage,
    );
  if (B !== null && x.length !== B)
    fail(
      "shape_mismatch",
      `update.advantage: ${field} has ${x.length} values but inputs.groups has ${B} (expected one per completion).`,
      { path: field.split("."), got: x.length, expected: B },
      advantage,
    );
  const out = Float32Array.from(x as ArrayLike<number>);
  for (let i = 0; i < out.length; i++)
    if (!Number.isFinite(out[i]))
      fail(
        "non_finite",
        `update.advantage: ${field}[${i}] is ${x[i]} (expected a finite number). Fix the reward function for ` +
          `completion ${i}.`,
        { path: [...field.split("."), i], got: x[i] },
        advantage,
      );
  return out;
}

/**
 * Dense group indices from arbitrary ids, in order of first appearance.
 * @example groupIndex(["a", "a", "b"]) // Int32Array [0, 0, 1]
 */
export function groupIndex(groups: ArrayLike<number | string>): Int32Array {
  const ids = new Map<number | string, number>();
  const out = new Int32Array(groups.length);
  for (let i = 0; i < groups.length; i++) {
    let k = ids.get(groups[i]);
    if (k === undefined) ids.set(groups[i], (k = ids.size));
    out[i] = k;
  }
  return out;
}

/**
 * Advantages by estimator name (or function): one value per completion, broadcast over its tokens by the loss.
 * @param name "grpo" | "dr-grpo" | "lite-ppo" | "maxrl" | "gdpo" | "rloo" | "reinforce-pp" | "reinforce-pp-baseline" |
 *   "reinforce-pp-token" | "remax" | a registered name | a function
 * @returns Float32Array [B]; token-level estimators ("reinforce-pp-token", "remax" with tokenRewards) one per token,
 *   flat [B·T] row-major (update.policyLoss takes it as `adv`)
 * @example const A = update.advantage("grpo", {rewards: r, groups: ro.group}, {std: "population", eps: 1e-4})
 */
export function advantage(
  name: string | AdvantageFn,
  inputs: AdvantageCallInputs,
  options: AdvantageOptions = {},
): Float32Array {
  if (!inputs || typeof inputs !== "object")
    fail(
      "invalid_input",
      `update.advantage: inputs must be {rewards, groups} (got ${describe(inputs)}).`,
      {},
      advantage,
    );
  const fn = advantages.get(name);
  const { weights, aggregate = advantageDefaults.aggregate, ...estOptions } = options;
  if (aggregate !== "sum-then-normalize" && aggregate !== "normalize-then-sum")
    fail(
      "invalid_option",
      `update.advantage: options.aggregate is ${describe(aggregate)} (expected "sum-then-normalize" or ` +
        `"normalize-then-sum").`,
      { path: ["options", "aggregate"] },
      advantage,
    );
  if (!inputs.groups || typeof inputs.groups.length !== "number")
    fail(
      "invalid_input",
      `update.advantage: inputs.groups must be one id per completion (got ${describe(inputs.groups)}). Pass ro.group.`,
      { path: ["inputs", "groups"] },
      advantage,
    );
  const B = inputs.groups.length;
  const groups = groupIndex(inputs.groups);
  const lengths = inputs.lengths ? toFloat(inputs.lengths, "inputs.lengths", B) : undefined;
  const mask = inputs.mask ? toRows(inputs.mask, "inputs.mask", B, null) : undefined;
  const width = mask
    ? mask.length / Math.max(B, 1)
    : inputs.tokenRewards
      ? (inputs.tokenRewards[0]?.length ?? 0)
      : undefined;
  const tokenRewards = inputs.tokenRewards
    ? toRows(inputs.tokenRewards, "inputs.tokenRewards", B, width ?? null)
    : undefined;
  const baselines = inputs.baselines ? toFloat(inputs.baselines, "inputs.baselines", B) : undefined;
  const r = inputs.rewards;
  const isComponents =
    r !== null &&
    typeof r === "object" &&
    typeof (r as ArrayLike<number>).length !== "number" &&
    !ArrayBuffer.isView(r);
  const run = (rewards: Float32Array) => {
    const out = fn({ rewards, groups, lengths, mask, tokenRewards, width, baselines }, estOptions);
    const ok = out instanceof Float32Array && (out.length === B || (fn.tokenLevel && out.length === B * (width ?? 0)));
    if (!ok)
      fail(
        "invalid_input",
        `update.advantage: estimator ${typeof name === "string" ? `"${name}"` : "function"} ` +
          `returned ${describe(out)} (expected a Float32Array of ${B} ` +
          `values${fn.tokenLevel ? `, or ${B}·${width} per token` : ""}).`,
        {},
        advantage,
      );
    return out;
  };
  if (!isComponents) {
    if (weights !== undefined)
      fail(
        "invalid_option",
        `update.advantage: options.weights applies to named reward components, but inputs.rewards is one ` +
          `array. Pass rewards as {name: values} or drop weights.`,
        { path: ["options", "weights"] },
        advantage,
      );
    return run(toFloat(r as ArrayLike<number>, "inputs.rewards", B));
  }
  const comps = Object.entries(r as Record<string, ArrayLike<number>>);
  if (comps.length === 0)
    fail(
      "invalid_input",
      `update.advantage: inputs.rewards has no components (got {}).`,
      { path: ["inputs", "rewards"] },
      advantage,
    );
  for (const k of Object.keys(weights ?? {}))
    if (!(k in (r as object)))
      fail(
        "invalid_option",
        `update.advantage: options.weights names "${k}" but inputs.rewards has ${comps.map(([c]) => c).join(", ")}.`,
        { path: ["options", "weights", k] },
        advantage,
      );
  if (fn.tokenLevel && aggregate === "normalize-then-sum")
    fail(
      "invalid_option",
      `update.advantage: options.aggregate "normalize-then-sum" needs one advantage per completion, ` +
        `but ${typeof name === "string" ? `"${name}"` : "this estimator"} is token-level. Use ` +
        `"sum-then-normalize".`,
      { path: ["options", "aggregate"] },
      advantage,
    );
  if (fn.multiReward) {
    // the estimator normalises each component itself (GDPO): hand it the components unsummed
    if (options.aggregate !== undefined)
      fail(
        "invalid_option",
        `update.advantage: ${typeof name === "string" ? `"${name}"` : "this estimator"} combines the reward ` +
          `components itself; drop options.aggregate.`,
        { path: ["options", "aggregate"] },
        advantage,
      );
    const components: Record<string, Float32Array> = {};
    const sum = new Float32Array(B);
    for (const [k, v] of comps) {
      components[k] = toFloat(v, `inputs.rewards.${k}`, B);
      for (let i = 0; i < B; i++) sum[i] += (weights?.[k] ?? 1) * components[k][i];
    }
    const out = fn(
      { rewards: sum, groups, lengths, mask, tokenRewards, width, baselines, components, weights },
      estOptions,
    );
    if (!(out instanceof Float32Array) || out.length !== B)
      fail(
        "invalid_input",
        `update.advantage: estimator returned ${describe(out)} (expected a Float32Array of ${B} values).`,
        {},
        advantage,
      );
    return out;
  }
  const total = new Float32Array(B);
  for (const [k, v] of comps) {
    const w = weights?.[k] ?? 1;
    const x = toFloat(v, `inputs.rewards.${k}`, B);
    const part = aggregate === "normalize-then-sum" ? run(x) : x;
    for (let i = 0; i < B; i++) total[i] += w * part[i];
  }
  if (aggregate === "sum-then-normalize") return run(total);
  const { mean, std } = batchStats(total, true);
  return total.map((a) => (a - mean) / (std + advantageDefaults.batchEps));
}

/**
 * The issue's spelling, `grpoAdvantages(rewards, groupIds, opts)`: exactly `advantage("grpo", {rewards, groups}, opts)`
 * (group-normalised Â_i = (r_i − mean_g) / (std_g + eps); `{std: "population", eps: 1e-4}` for Megatron's example).
 * @example const A = update.grpoAdvantages([1, 0, 1, 1], [0, 0, 1, 1]) // [0.707, −0.707, 0, 0]
 */
export function grpoAdvantages(
  rewards: RewardInput,
  groups: ArrayLike<number | string>,
  options: AdvantageOptions = {},
): Float32Array {
  return advantage("grpo", { rewards, groups }, options);
}
