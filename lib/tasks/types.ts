// What a procedural task is: a seeded generator of short prompts with a verifier for the answers.
import type { Rng } from "../core/random.js";
import type { VerlRecord } from "../data/record.js";

/** A verifier's verdict; the same shape as a reward's {score, details}, so it plugs into lib/reward. */
export interface Verdict {
  score: number;
  details: Record<string, unknown>;
}

/** One generated problem before it becomes a record. */
export interface TaskItem {
  /** The prompt text the model sees (short: tiny char-level models learn it in minutes). */
  prompt: string;
  /** What the verifier needs (a string answer, or an object such as {target, numbers}). */
  groundTruth: unknown;
  /** One correct answer (for SFT warm-up and tests). */
  answer: string;
  /** Facts about this item worth keeping in extra_info (e.g. the digits used). */
  info?: Record<string, unknown>;
}

/**
 * What defines a procedural task: generator + verifier. Options are the difficulty knobs; `defaults` documents them.
 * @example const spec: TaskSpec<{digits: number}> = {name: "add", dataSource: "my/add", ...}
 */
export interface TaskSpec<O extends object = Record<string, unknown>> {
  /** Registry name, e.g. "arith". */
  name: string;
  /** data_source written into records, e.g. "cellrl/arith". */
  dataSource: string;
  /** One line: what the model must do. */
  summary: string;
  /** Every character prompts and answers of this task can contain (build a CharTokenizer from it). */
  alphabet: string;
  /** Default knobs. */
  defaults: O;
  /** Check knobs and return the full set (defaults filled in); fails with a clear message on a bad knob. */
  resolve(options: Partial<O>): O;
  /** Draw one item with the given knobs. */
  generate(rng: Rng, options: O): TaskItem;
  /** Score a response against a ground truth. */
  verify(response: string, groundTruth: unknown, options?: Record<string, unknown>): Verdict;
  /** For tasks with many correct answers: how many distinct correct answers a ground truth admits. */
  countCorrect?(groundTruth: unknown): number;
  /** For tasks with many correct answers: the canonical form of a correct answer (to count distinct ones). */
  canonical?(answer: string): string;
}

/** A task record: verl's record with the task's knobs and one reference answer in extra_info. */
export type TaskRecord = VerlRecord;

/** Options of generating records: the task's knobs plus these. */
export interface RecordsOptions {
  /** Seed of the generator; the same seed gives the same records. Defaults to a fork of the global Rng (see seed()). */
  seed?: number | string;
  /** Use this Rng instead of a seed. */
  rng?: Rng;
  /** extra_info.split. Defaults to "train". */
  split?: string;
  /** extra_info.index of the first record. Defaults to 0. */
  startIndex?: number;
  /** Never repeat a prompt. Defaults to false. */
  unique?: boolean;
  /** Prompts to avoid (e.g. a test set's), so train and test are disjoint. Defaults to none. */
  exclude?: Iterable<string>;
  /** A system message put before the user prompt. Defaults to none. */
  system?: string;
}

/**
 * A task: its spec, callable to generate n records (`tasks.arith(100, {seed: 0, digits: 3})`).
 * @example
 * const recs = tasks.countdown(8, {seed: 1});
 * tasks.countdown.verify("(3+5)*7", {target: 56, numbers: [3, 5, 7]})
 */
export type Task<O extends object = Record<string, unknown>> = TaskSpec<O> &
  ((n: number, options?: RecordsOptions & Partial<O>) => TaskRecord[]);
