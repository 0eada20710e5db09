// DAPO dynamic sampling (Yu et al., arXiv 2503.14476, §3.2; verl recipe/dapo `algorithm.filter_groups`): sample
// groups, drop every group whose rewards are all equal (all right or all wrong: zero advantage, no gradient), and keep
// drawing prompts until `batchSize` groups with a spread are kept, at most `maxDraws` draws (verl max_num_gen_batches).
// As verl: a group is kept iff std(rewards) > 0 or it has one completion; the kept groups are cut to `batchSize`; the
// metric `train/num_gen_batches` counts the draws. Prompts are drawn from the pool in an order shuffled by the seeded
// Rng (a new shuffle each pass over the pool), `drawSize` prompts per draw, as verl's shuffled dataloader does.
// Departures: verl raises when the cap is reached; `onCap: "partial"` returns the groups kept so far instead (with a
// warning and `rollout/dynamicPartial` = 1). Also truncation masking (TRL mask_truncated_completions): maskTruncated.
import { describe, fail } from "../core/errors.js";
import { warn } from "../core/warn.js";
import { globalRng, type Rng } from "../core/random.js";
import type { VerlRecord } from "../data/record.js";
import { emptyGenerateResult } from "../model/generate.js";
import type { Policy } from "./policy.js";
import { fromGenerate, sample, type Rollout, type RolloutOptions, type SampleInput } from "./rollout.js";

/** Rewards of a rollout, one per row (the group filter reads them). */
export type DynamicRewardFn = (ro: Rollout) => ArrayLike<number> | Promise<ArrayLike<number>>;

/** Options of dynamicSample: rollout.sample's, plus the filter's. */
export interface DynamicSampleOptions extends Omit<RolloutOptions, "promptIds"> {
  /** The filter metric per row (verl filter_groups.metric): reward.score(ro).scores or any (ro) => [B]. Required. */
  reward: DynamicRewardFn;
  /** Groups (prompts) to keep (verl data.train_batch_size). Defaults to drawSize. */
  batchSize?: number;
  /** Prompts sampled per draw (verl gen_batch_size). Defaults to batchSize, else the whole pool. */
  drawSize?: number;
  /** Most draws (verl max_num_gen_batches); 0 = no limit. Defaults to 10. */
  maxDraws?: number;
  /** At the cap with too few groups: "error" (verl) or "partial" (return what was kept, warn). Defaults to "error". */
  onCap?: "error" | "partial";
}
/** Defaults of dynamicSample (verl's max_num_gen_batches) (print them in a cell). */
export const dynamicSampleDefaults = { maxDraws: 10, onCap: "error" as "error" | "partial" };

/** What dynamicSample returns: the kept groups as one Rollout, their rewards, and the filter's metrics. */
export interface DynamicSampleResult {
  rollout: Rollout;
  /** The filter metric of each kept row [B]. */
  rewards: Float32Array;
  /**
   * train/num_gen_batches (verl: draws made), rollout/groupsDrawn, rollout/groupsKept (before the cut),
   * rollout/keptGroupFrac, rollout/dynamicPartial.
   */
  metrics: Record<string, number>;
}

function isTable(x: unknown): x is { objects(): unknown[] } {
  return !!x && typeof x === "object" && typeof (x as { objects?: unknown }).objects === "function";
}

function positiveInt(v: unknown, name: string, min: number): void {
  if (!Number.isInteger(v) || (v as number) < min)
    fail(
      "invalid_option",
      `rollout.dynamicSample: options.${name} must be an integer >= ${min} (got ${describe(v)}).`,
      { path: ["options", name], got: v },
      dynamicSample,
    );
}

/** Whether a group's rewards have a spread (verl: np.std > 0), or the group has one completion. */
function keepGroup(r: number[]): boolean {
  if (r.length === 1) return true;
  return r.some((x) => x !== r[0]);
}

/**
 * The groups verl's filter_groups keeps, in order of first appearance: std(rewards of the group) > 0, or one row.
 * Equal rewards are compared exactly (verl's np.std can leave a rounding residue > 0 for equal non-dyadic rewards such
 * as three 0.1s, and then keeps the group).
 * @example keptGroups([1, 0, 1, 1, 0.5], [0, 0, 1, 1, 2]) // [0, 2]
 */
export function keptGroups(rewards: ArrayLike<number>, groups: ArrayLike<number | string>): (number | string)[] {
  const by = new Map<number | string, number[]>();
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    if (!by.has(g)) by.set(g, []);
    by.get(g)!.push(rewards[i]);
  }
  return [...by.entries()].filter(([, r]) => keepGroup(r)).map(([g]) => g);
}

/**
 * DAPO dynamic sampling: draw prompts, sample `n` completions each, keep only groups whose rewards differ, until
 * `batchSize` groups are kept (at most `maxDraws` draws). Keep iff std_g(r) > 0 (or |g| = 1), as verl filter_groups.
 * @returns {rollout, rewards, metrics: {"train/num_gen_batches", "rollout/groupsDrawn", "rollout/groupsKept", ...}}
 * @example
 * const {rollout: ro, rewards, metrics} = await rollout.dynamicSample(policy, records,
 *   {n: 8, batchSize: 4, drawSize: 4, reward: (ro) => reward.scoreSync(ro).scores, rng: new Rng(0)})
 */
export async function dynamicSample(
  policy: Policy,
  prompts: SampleInput,
  options: DynamicSampleOptions,
): Promise<DynamicSampleResult> {
  const o = { ...dynamicSampleDefaults, ...(options ?? {}) } as DynamicSampleOptions & typeof dynamicSampleDefaults;
  if (typeof o.reward !== "function")
    fail(
      "invalid_option",
      `rollout.dynamicSample: options.reward must be a function (ro) => one reward per row (got ` +
        `${describe(o.reward)}). Pass reward: (ro) => reward.scoreSync(ro).scores.`,
      { path: ["options", "reward"] },
      dynamicSample,
    );
  const pool = (isTable(prompts) ? prompts.objects() : prompts) as unknown[];
  if (!Array.isArray(pool) || pool.length === 0)
    fail(
      "invalid_input",
      `rollout.dynamicSample: prompts must be a non-empty array of records, texts or token ids (got ` +
        `${describe(prompts)}).`,
      {},
      dynamicSample,
    );
  const drawSize = o.drawSize ?? o.batchSize ?? pool.length;
  const batchSize = o.batchSize ?? drawSize;
  positiveInt(drawSize, "drawSize", 1);
  positiveInt(batchSize, "batchSize", 1);
  positiveInt(o.maxDraws, "maxDraws", 0);
  if (drawSize > pool.length)
    fail(
      "invalid_option",
      `rollout.dynamicSample: options.drawSize ${drawSize} is larger than the ${pool.length} prompts given.`,
      { path: ["options", "drawSize"] },
      dynamicSample,
    );
  if (o.onCap !== "error" && o.onCap !== "partial")
    fail(
      "invalid_option",
      `rollout.dynamicSample: options.onCap is ${describe(o.onCap)} (expected "error" or "partial").`,
      { path: ["options", "onCap"] },
      dynamicSample,
    );
  const { reward, batchSize: _b, drawSize: _d, maxDraws, onCap, columns = {}, ...sampling } = o;
  for (const [k, col] of Object.entries(columns))
    if (!Array.isArray(col) || col.length !== pool.length)
      fail(
        "shape_mismatch",
        `rollout.dynamicSample: options.columns.${k} has ${describe(col)} but there are ${pool.length} prompts.`,
        { path: ["options", "columns", k] },
        dynamicSample,
      );
  const rng: Rng = o.rng ?? globalRng();
  let order: number[] = [];
  const nextPrompts = (): number[] => {
    const out: number[] = [];
    while (out.length < drawSize) {
      if (order.length === 0) order = rng.shuffle(pool.map((_, i) => i));
      out.push(order.shift()!);
    }
    return out;
  };
  type Kept = { ro: Rollout; g: number; rows: number[]; rewards: number[]; poolIndex: number };
  const kept: Kept[] = [];
  let draws = 0,
    drawn = 0;
  while (kept.length < batchSize) {
    if (o.maxDraws > 0 && draws >= o.maxDraws) {
      if (onCap === "error" || kept.length === 0)
        fail(
          "invalid_input",
          `rollout.dynamicSample: ${draws} draws (maxDraws) kept ${kept.length} of ${batchSize} groups: every ` +
            `other group had equal rewards. The prompts are too easy or too hard for the policy; raise ` +
            `maxDraws (0 = no limit), lower batchSize, or set onCap: "partial".`,
          { got: kept.length, expected: batchSize },
          dynamicSample,
        );
      warn(
        "rollout.dynamicSample.partial",
        `rollout.dynamicSample: kept ${kept.length} of ${batchSize} groups after ${draws} draws (maxDraws); ` +
          `training on a smaller batch. Raise maxDraws or lower batchSize to silence this.`,
      );
      break;
    }
    const idx = nextPrompts();
    draws++;
    drawn += idx.length;
    const ro = await sample(policy, idx.map((i) => pool[i]) as SampleInput, {
      ...sampling,
      rng,
      promptIds: idx,
      columns: Object.fromEntries(Object.entries(columns).map(([k, c]) => [k, idx.map((i) => c[i])])),
    });
    const r = Array.from(await reward(ro), Number);
    if (r.length !== ro.size || r.some((x) => !Number.isFinite(x)))
      fail(
        "invalid_input",
        `rollout.dynamicSample: options.reward returned ${describe(r)} for ${ro.size} rows (expected one finite ` +
          `number per row).`,
        { path: ["options", "reward"] },
        dynamicSample,
      );
    for (let g = 0; g < idx.length && kept.length < batchSize; g++) {
      const rows = ro.group.flatMap((x, i) => (x === g ? [i] : []));
      const rg = rows.map((i) => r[i]);
      if (keepGroup(rg)) kept.push({ ro, g, rows, rewards: rg, poolIndex: idx[g] });
    }
  }
  const rollout = concatGroups(kept, policy, columns, sampling as RolloutOptions);
  return {
    rollout,
    rewards: Float32Array.from(kept.flatMap((k) => k.rewards)),
    metrics: {
      "train/num_gen_batches": draws,
      "rollout/groupsDrawn": drawn,
      "rollout/groupsKept": kept.length,
      "rollout/keptGroupFrac": kept.length / Math.max(1, drawn),
      "rollout/dynamicPartial": kept.length < batchSize ? 1 : 0,
      ...rollout.metrics,
    },
  };
}

/** The kept groups of several rollouts as one Rollout (re-padded), groups renumbered in order. */
function concatGroups(
  kept: { ro: Rollout; g: number; rows: number[]; poolIndex: number }[],
  policy: Policy,
  columns: Record<string, unknown[]>,
  sampling: RolloutOptions,
): Rollout {
  const out = emptyGenerateResult();
  const prompts: string[] = [];
  const records: VerlRecord[] = [];
  const responses: string[] = [];
  kept.forEach(({ ro, g, rows }, k) => {
    prompts.push(ro.prompts[g]);
    if (ro.records) records.push(ro.records[g]);
    rows.forEach((r, j) => {
      const P = ro.promptLength,
        len = ro.responseIds[r].length;
      out.group.push(k);
      out.sample.push(j);
      out.promptTokenIds.push(ro.promptTokenIds[r]);
      out.ids.push(ro.responseIds[r]);
      out.text!.push(ro.responses[r]);
      out.logprobs.push(ro.logprobs[r].slice(P, P + len));
      out.rawLogprobs.push(ro.rawLogprobs[r].slice(P, P + len));
      out.finishReason.push(ro.finishReason[r]);
      out.stopReason.push(null);
      out.lengths.push(len);
      responses.push(ro.responses[r]);
    });
  });
  const tok = policy.tokenizer;
  return fromGenerate(out, {
    prompts,
    records: kept.length && kept[0].ro.records ? records : null,
    promptIds: kept.map((k) => k.poolIndex),
    columns: Object.fromEntries(Object.entries(columns).map(([c, v]) => [c, kept.map((k) => v[k.poolIndex])])),
    n: kept[0]?.ro.n ?? 1,
    pad: tok.padTokenId ?? tok.eosTokenId ?? 0,
    responses,
    sampling: { ...Object.fromEntries(Object.entries(sampling).filter(([k]) => k !== "rng")), n: kept[0]?.ro.n },
  });
}

/**
 * Truncation masking (TRL mask_truncated_completions; DAPO's "overlong filtering"): the same rollout with the response
 * mask of every row that hit maxNewTokens (finish reason "length") set to 0, so the loss ignores it; its reward still
 * counts in its group's statistics. Adds rollout/maskedTruncated (the count).
 * @example const ro2 = rollout.maskTruncated(ro) // ro2.responseMask[i] is all 0 where ro.finishReason[i] === "length"
 */
export function maskTruncated(ro: Rollout): Rollout {
  if (!ro || !Array.isArray(ro.responseMask) || !Array.isArray(ro.finishReason))
    fail(
      "invalid_input",
      `rollout.maskTruncated: expected a Rollout (rollout.sample's result) (got ${describe(ro)}).`,
      {},
      maskTruncated,
    );
  let n = 0;
  const responseMask = ro.responseMask.map((m, i) => {
    if (ro.finishReason[i] !== "length") return m;
    n++;
    return m.map(() => 0);
  });
  return { ...ro, responseMask, metrics: { ...ro.metrics, "rollout/maskedTruncated": n } };
}
