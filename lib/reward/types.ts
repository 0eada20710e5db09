// The reward contract of cellrl. Every grader (math, multiple choice, code sandbox, format, task verifiers, user
// rewards written in a cell) is a RewardFn; score() dispatches a verl record to one of them by data_source.

/** One chat message of a record's prompt. */
export interface RewardMessage {
  role: string;
  content: string;
}

/**
 * A verl-style record, as far as rewards need it: `{data_source, prompt, ability, reward_model: {style, ground_truth},
 * extra_info}`. Structural on purpose so lib/data's full record type is assignable to it.
 * @example const rec: RewardRecord = {data_source: "openai/gsm8k", reward_model: {style: "rule", ground_truth: "18"}}
 */
export interface RewardRecord {
  /** Which benchmark or task the row comes from; score() picks the reward with it. */
  data_source: string;
  /** The chat prompt (verl: one user message), or plain text. */
  prompt?: RewardMessage[] | string;
  /** Free label (verl writes e.g. "math"); nothing in scoring reads it. */
  ability?: string;
  /**
   * `style` is "rule" for verifiable rewards; `ground_truth` is whatever the reward expects (string, number, object).
   */
  reward_model?: { style?: string; ground_truth?: unknown };
  /** `{split, index, ...}`; task generators put their difficulty knobs here. */
  extra_info?: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * What every reward returns. `details` is what the reward workbench shows: the extracted answer, the normalised forms,
 * and `rule`, the name of the branch that decided the score (e.g. "numeric", "no-answer", "timeout").
 * @example ({score: 1, details: {extracted: "\\frac{1}{2}", rule: "numeric"}})
 */
export interface RewardResult {
  score: number;
  details: Record<string, unknown>;
}

/**
 * A reward function. It may be async (the code sandbox is); sync rewards can also be called with scoreResponseSync()
 * (one record) or scoreSync(ro).
 * `options` carries reward-specific settings passed through score(record, response, {rewardOptions}).
 * @example const exact: RewardFn = (response, gt) => ({score: response.trim() === String(gt) ? 1 : 0, details: {}})
 */
export type RewardFn = (
  response: string,
  groundTruth: unknown,
  record?: RewardRecord,
  options?: Record<string, unknown>,
) => RewardResult | Promise<RewardResult>;

/** A RewardFn known to return synchronously (math, multiple choice, format, tasks). */
export type SyncRewardFn = (
  response: string,
  groundTruth: unknown,
  record?: RewardRecord,
  options?: Record<string, unknown>,
) => RewardResult;

/**
 * What reward.score reads of a batch of completions (a rollout.Rollout fits): the response texts, each row's prompt
 * index, and the verl records (one per prompt). Without records, the table's data_source / ground_truth columns.
 * @example const batch: RewardBatch = {responses: ["5"], group: [0], records: [rec]}
 */
export interface RewardBatch {
  responses: readonly string[];
  /** Prompt index of each row (into records). */
  group: readonly number[];
  /** One record per prompt, or null (then the table's columns are read). */
  records?: readonly RewardRecord[] | null;
  table?: { columnNames(): string[]; get(name: string, row: number): unknown };
}

/** Scores of a batch: one per row (Float32Array [B]) and what each grader saw and decided. */
export interface BatchScores {
  scores: Float32Array;
  details: Record<string, unknown>[];
}
