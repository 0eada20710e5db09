// score(ro): one reward per completion of a batch, each row routed to its reward by its record's data_source.
// scoreResponse(record, response): the same for one response to one record (the CLI and evals score records).
import { describe, fail } from "../core/errors.js";
import { checkNonEmptyString, checkWholeAtLeast } from "../core/checks.js";
import { rewardFor, rewards } from "./registry.js";
import type { BatchScores, RewardBatch, RewardFn, RewardRecord, RewardResult } from "./types.js";

/** Options of score(), scoreSync(), scoreResponse() and scoreResponseSync(). */
export interface ScoreOptions {
  /** Use this reward (name or function) instead of routing by data_source. Defaults to routing. */
  reward?: string | RewardFn;
  /** Passed as the 4th argument to the reward (e.g. `{fallback: "last-number"}` for "math"). Defaults to {}. */
  rewardOptions?: Record<string, unknown>;
  /** score(ro) only: rows scored at the same time (async rewards such as the code sandbox overlap). Defaults to 16. */
  concurrency?: number;
}

/** Defaults of score(). */
export const defaults = { rewardOptions: {} as Record<string, unknown>, concurrency: 16 };

function resolve(
  record: RewardRecord,
  response: string,
  options: ScoreOptions,
  from: Function,
): { name: string; fn: RewardFn } {
  if (typeof record !== "object" || record === null || Array.isArray(record))
    fail(
      "invalid_input",
      `reward.scoreResponse: record must be a verl record object (got ${describe(record)}; expected ` +
        `{data_source, reward_model: {ground_truth}}).`,
      { got: record },
      from,
    );
  if (typeof response !== "string")
    fail(
      "invalid_input",
      `reward.scoreResponse: response must be a string (got ${describe(response)}). Pass one completion ` +
        `text; score a whole rollout with reward.score(ro).`,
      { got: response, path: ["response"] },
      from,
    );
  if (options.reward !== undefined) {
    const fn = rewards.get(options.reward);
    return { name: typeof options.reward === "string" ? options.reward : fn.name || "custom", fn };
  }
  checkNonEmptyString(
    { where: "reward.score", from, code: "invalid_input" },
    "record.data_source",
    record.data_source,
    `Set it, or pass {reward: "math"} to choose the reward directly.`,
    ["data_source"],
  );
  return rewardFor(record.data_source);
}

function groundTruthOf(record: RewardRecord): unknown {
  const rm = record.reward_model;
  return rm && typeof rm === "object" ? rm.ground_truth : undefined;
}

function check(name: string, out: unknown, from: Function): RewardResult {
  const r = out as RewardResult;
  if (typeof r !== "object" || r === null || typeof r.score !== "number" || !Number.isFinite(r.score))
    fail(
      "invalid_input",
      `reward.score: reward "${name}" returned ${describe(out)} (expected {score: finite number, details: {}}). ` +
        `Make it return {score, details}.`,
      { got: out, path: ["reward", name] },
      from,
    );
  const details = r.details && typeof r.details === "object" ? r.details : {};
  return { score: r.score, details: "reward" in details ? details : { reward: name, ...details } };
}

/**
 * Score one response to a verl record with the reward its data_source routes to (async: the code reward runs a
 * sandbox). Returns `{score, details}`; details name the reward and the rule that fired.
 * @example
 * await reward.scoreResponse({data_source: "openai/gsm8k", reward_model: {ground_truth: "18"}}, "... #### 18")
 * // {score: 1, ...}
 */
export async function scoreResponse(
  record: RewardRecord,
  response: string,
  options: ScoreOptions = {},
): Promise<RewardResult> {
  const { name, fn } = resolve(record, response, options, scoreResponse);
  const out = await fn(response, groundTruthOf(record), record, options.rewardOptions ?? defaults.rewardOptions);
  return check(name, out, scoreResponse);
}

/**
 * Synchronous scoreResponse() for rewards that return directly (math, multiple choice, format, tasks); fails for async
 * ones.
 * @example reward.scoreResponseSync({data_source: "cellrl/arith", reward_model: {ground_truth: "46"}}, "46").score // 1
 */
export function scoreResponseSync(record: RewardRecord, response: string, options: ScoreOptions = {}): RewardResult {
  const { name, fn } = resolve(record, response, options, scoreResponseSync);
  const out = fn(response, groundTruthOf(record), record, options.rewardOptions ?? defaults.rewardOptions);
  if (out && typeof (out as Promise<RewardResult>).then === "function") {
    (out as Promise<RewardResult>).catch(() => undefined); // already started; keep its failure from going unhandled
    fail(
      "invalid_option",
      `reward.scoreSync: reward "${name}" is async (it returned a Promise). Use await reward.score(ro) / ` +
        `reward.scoreResponse(...) instead.`,
      { got: name },
      scoreResponseSync,
    );
  }
  return check(name, out, scoreResponseSync);
}

/** The record each row of a batch is scored against: ro.records[group], else the table's columns. */
function rowRecords(batch: RewardBatch, options: ScoreOptions, where: string, from: Function): RewardRecord[] {
  if (
    !batch ||
    typeof batch !== "object" ||
    !Array.isArray(batch.responses) ||
    !Array.isArray(batch.group) ||
    batch.group.length !== batch.responses.length
  )
    fail(
      "invalid_input",
      `${where}: expected a rollout (rollout.sample's result: {responses, group, records}) (got ${describe(batch)}).`,
      {},
      from,
    );
  const B = batch.responses.length;
  if (batch.records) {
    const recs = batch.records;
    return batch.group.map((g, i) => {
      const r = recs[g];
      if (!r)
        fail(
          "shape_mismatch",
          `${where}: row ${i} belongs to prompt ${g} but there are ${recs.length} records. Score the rollout ` +
            `sample() returned.`,
          { path: ["group", i] },
          from,
        );
      return r;
    });
  }
  const cols = batch.table?.columnNames() ?? [];
  const has = (c: string) => cols.includes(c);
  if (!has("ground_truth") || (!has("data_source") && options.reward === undefined))
    fail(
      "invalid_input",
      `${where}: the rollout has no records (it was sampled from prompt texts; table ` +
        `columns: ${cols.join(", ") || "none"}). ` +
        `Sample from verl records (rollout.sample(policy, records)), or pass columns {data_source, ` +
        `ground_truth} (or {ground_truth} with options.reward).`,
      { path: ["records"] },
      from,
    );
  return Array.from({ length: B }, (_, i) => ({
    data_source: has("data_source") ? String(batch.table!.get("data_source", i)) : "",
    reward_model: { style: "rule", ground_truth: batch.table!.get("ground_truth", i) },
    ...(has("extra_info") && batch.table!.get("extra_info", i)
      ? { extra_info: batch.table!.get("extra_info", i) as Record<string, unknown> }
      : {}),
  }));
}

/**
 * Score every completion of a rollout, each row with the reward its record's data_source routes to (async: the code
 * sandbox overlaps `concurrency` rows). Returns `{scores: Float32Array [B], details}`.
 * @example const ro = await rollout.sample(policy, records, {n: 8}); const { scores } = await reward.score(ro)
 */
export async function score(ro: RewardBatch, options: ScoreOptions = {}): Promise<BatchScores> {
  const recs = rowRecords(ro, options, "reward.score", score);
  const conc = options.concurrency ?? defaults.concurrency;
  checkWholeAtLeast({ where: "reward.score", from: score }, "concurrency", conc, 1);
  const B = recs.length;
  const scores = new Float32Array(B);
  const details = new Array<Record<string, unknown>>(B);
  let next = 0;
  const worker = async () => {
    while (next < B) {
      const i = next++;
      const r = await scoreResponse(recs[i], ro.responses[i], options);
      scores[i] = r.score;
      details[i] = r.details;
    }
  };
  await Promise.all(Array.from({ length: Math.min(conc, B) }, worker));
  return { scores, details };
}

/**
 * Synchronous score(ro) for rewards that return directly (math, multiple choice, format, tasks); fails for async ones.
 * @example const { scores } = reward.scoreSync(await rollout.sample(policy, records, {n: 4})); scores[0] // 1 or 0
 */
export function scoreSync(ro: RewardBatch, options: ScoreOptions = {}): BatchScores {
  const recs = rowRecords(ro, options, "reward.scoreSync", scoreSync);
  const scores = new Float32Array(recs.length);
  const details = recs.map((rec, i) => {
    const r = scoreResponseSync(rec, ro.responses[i], options);
    scores[i] = r.score;
    return r.details;
  });
  return { scores, details };
}
