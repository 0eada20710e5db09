import { checkNonEmptyString } from "../core/checks.js";
import { describe, fail } from "../core/errors.js";

/** One chat turn of a prompt, as verl and OpenAI chat APIs spell it. */
export interface ChatMessage {
  role: "system" | "user" | "assistant" | "tool" | (string & {});
  content: string;
}

/** How a record is graded: verl always writes style "rule" and the gold answer (or tests) as ground_truth. */
export interface RewardModel {
  style: string;
  /** Gold answer (math, letter), or code tests as an object or a JSON string of one. */
  ground_truth: unknown;
}

/** Free-form per-row metadata; verl writes at least {split, index}. */
export interface ExtraInfo {
  split?: string;
  index?: number;
  [key: string]: unknown;
}

/** verl's unified record (recipe/r1 data_process.py): one prompt and how to grade answers to it. */
export interface VerlRecord {
  /** Which benchmark the row comes from; the reward dispatches on it. */
  data_source: string;
  /** A chat: usually one user turn, optionally a system turn first. */
  prompt: ChatMessage[];
  /** Free-form label ("math", "code", "multiple_choice"); verl's scorer never reads it. */
  ability?: string;
  reward_model: RewardModel;
  extra_info?: ExtraInfo;
  [key: string]: unknown;
}

/** A record after generation: n sampled responses per prompt (verl main_generation's `responses` column). */
export interface GeneratedRecord extends VerlRecord {
  responses: string[];
}

/** A generated record after scoring: one score and one details object per response. */
export interface ScoredRecord extends GeneratedRecord {
  scores: number[];
  details: Record<string, unknown>[];
}

/** Fields for building a record with `record()`. */
export interface RecordInputs {
  data_source: string;
  /** The user turn (a string) or a whole chat. */
  prompt: string | ChatMessage[];
  ground_truth: unknown;
  /** A system turn put before a string prompt. Defaults to none. */
  system?: string;
  ability?: string;
  extra_info?: ExtraInfo;
  /** reward_model.style. Defaults to "rule". */
  style?: string;
}

/**
 * Build a verl record from a question and its gold answer (a string prompt becomes one user turn).
 * @example
 * data.record({data_source: "openai/gsm8k", prompt: "What is 2+3?", ground_truth: "5",
 *   extra_info: {split: "test", index: 0}})
 */
export function record(inputs: RecordInputs): VerlRecord {
  const { data_source, prompt, ground_truth, system, ability, extra_info, style = "rule" } = inputs;
  const at = { where: "data.record", from: record, code: "invalid_input" } as const;
  checkNonEmptyString(at, "data_source", data_source, 'Name the benchmark, e.g. "openai/gsm8k".');
  if (ground_truth === undefined || ground_truth === null)
    fail(
      "invalid_input",
      `data.record: ground_truth is missing (got ${describe(ground_truth)}). ` +
        "Pass the gold answer, or the tests for code.",
      { path: ["ground_truth"] },
      record,
    );
  let chat: ChatMessage[];
  if (typeof prompt === "string")
    chat = [...(system !== undefined ? [{ role: "system", content: system }] : []), { role: "user", content: prompt }];
  else if (Array.isArray(prompt)) {
    if (system !== undefined)
      fail(
        "invalid_input",
        "data.record: system is only used with a string prompt (got a chat list too). Put the system turn in the list.",
        { path: ["system"] },
        record,
      );
    chat = prompt.map((m) => ({ role: m.role, content: m.content }));
  } else
    return fail(
      "invalid_input",
      `data.record: prompt must be a string or a list of {role, content} (got ${describe(prompt)}).`,
      { path: ["prompt"], got: prompt },
      record,
    );
  return {
    data_source,
    prompt: chat,
    ...(ability !== undefined ? { ability } : {}),
    reward_model: { style, ground_truth },
    ...(extra_info !== undefined ? { extra_info } : {}),
  };
}

/**
 * The text of the last user turn of a record's prompt (the question), or "" when there is none.
 * @example data.question(rec) // "What is 2+3?"
 */
export function question(rec: Pick<VerlRecord, "prompt">): string {
  for (let i = rec.prompt.length - 1; i >= 0; i--) if (rec.prompt[i].role === "user") return rec.prompt[i].content;
  return "";
}
