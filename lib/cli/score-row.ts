// Score every response of one record: the unit of work of `cellrl score`, run in a worker thread or in-process.
import * as path from "node:path";
import { CellrlError } from "../core/errors.js";
import { toJsonLine } from "../data/jsonl.js";
import { isNoAnswer } from "../eval/items.js";
import { register, scoreResponse, type RewardFn, type ScoreOptions } from "../reward/index.js";

/** What the scorer needs besides the record (sent once to every worker). */
export interface RowScorerSettings {
  /** Score every row with this registered reward instead of routing by data_source. */
  reward?: string;
  /**
   * A JS module to load first: it may register rewards / routes, or export a RewardFn as default (used for every row).
   */
  rewardModule?: string;
  /** Passed to every reward call as its options (e.g. {rules: ["gsm8k", "last-number"]} for the math rewards). */
  rewardOptions?: Record<string, unknown>;
}

/**
 * Scores and details of one record, or `fatal` when the row cannot be scored at all (e.g. no reward for its
 * data_source).
 */
export type RowResult = { scores: number[]; details: Record<string, unknown>[]; errors: number } | { fatal: string };

/** Name under which a --reward-module's default export is registered. */
export const MODULE_REWARD = "cli-reward-module";

/**
 * Build the per-record scoring function once per thread (loads the reward module if any).
 * @example const scoreRow = rowScorer({}); await scoreRow(record) // {scores: [1, 0], details: [...], errors: 0}
 */
export function rowScorer(settings: RowScorerSettings): (record: Record<string, unknown>) => Promise<RowResult> {
  const options: ScoreOptions = {};
  if (settings.rewardModule) {
    const mod = require(path.resolve(settings.rewardModule)) as { default?: unknown; reward?: unknown };
    const fn = (typeof mod === "function" ? mod : typeof mod.default === "function" ? mod.default : mod.reward) as
      RewardFn | undefined;
    if (typeof fn === "function") {
      register(MODULE_REWARD, fn, { summary: `from ${settings.rewardModule}` });
      options.reward = MODULE_REWARD;
    }
  }
  if (settings.reward) options.reward = settings.reward;
  if (settings.rewardOptions) options.rewardOptions = settings.rewardOptions;
  return async (record) => {
    const responses = record.responses as string[];
    let errors = 0;
    try {
      // responses of one row run concurrently: async rewards (the code sandbox) overlap, sync ones run in turn
      const results = await Promise.all(
        responses.map((resp) =>
          scoreResponse(record as Parameters<typeof scoreResponse>[0], resp, options).catch((e: unknown) => {
            // routing failures are the row's fault and stop the run; a grader crashing on one response scores 0
            if (e instanceof CellrlError && (e.code === "unknown_name" || e.code === "not_found")) throw e;
            errors++;
            return { score: 0, details: { rule: "error", error: e instanceof Error ? e.message : String(e) } };
          }),
        ),
      );
      return { scores: results.map((r) => r.score), details: results.map((r) => r.details), errors };
    } catch (e) {
      return { fatal: e instanceof Error ? e.message : String(e) };
    }
  };
}

/** One unit of `cellrl score`'s work: a JSONL line (parsed where it is scored) or an already parsed record. */
export type RowInput = string | Record<string, unknown>;

/** A scored row as `cellrl score` writes it: the output line, and what the summary and the no-answer check need. */
export type LineResult =
  | {
      /** The record with `scores` and `details`, as one JSON line (no newline). */
      line: string;
      dataSource: string;
      scores: number[];
      errors: number;
      /** The row's responses with no extracted answer (the no-answer check quotes them). */
      noAnswer: string[];
    }
  | { fatal: string };

/**
 * Build the per-row scorer of `cellrl score` once per thread: parses a line, scores it (rowScorer) and serialises the
 * scored record, so parsing and JSON writing run in the scoring threads rather than the thread that writes the file.
 * @example const score = lineScorer({}); await score('{"data_source": "openai/gsm8k", ...}') // {line, scores, ...}
 */
export function lineScorer(settings: RowScorerSettings): (input: RowInput) => Promise<LineResult> {
  const scoreRow = rowScorer(settings);
  return async (input) => {
    let record: Record<string, unknown>;
    try {
      record = typeof input === "string" ? (JSON.parse(input) as Record<string, unknown>) : input;
    } catch (e) {
      return { fatal: `not valid JSON (${(e as Error).message}); the input changed after it was checked?` };
    }
    const r = await scoreRow(record);
    if ("fatal" in r) return r;
    const responses = record.responses as string[];
    const noAnswer = responses.filter((_, j) => isNoAnswer(r.details[j]));
    return {
      line: toJsonLine({ ...record, scores: r.scores, details: r.details }),
      dataSource: record.data_source as string,
      scores: r.scores,
      errors: r.errors,
      noAnswer,
    };
  };
}
