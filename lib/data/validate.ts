import { andMore } from "../core/checks.js";
import { describe, fail } from "../core/errors.js";
import type { VerlRecord } from "./record.js";

/** One thing wrong with a record: the field, what is wrong, what was found and expected, and the fix. */
export interface RecordProblem {
  /** Dotted path of the field, e.g. "reward_model.ground_truth" or "prompt[0].role". */
  field: string;
  /** What is wrong, e.g. "is missing". */
  problem: string;
  got: unknown;
  expected: string;
  fix: string;
}

/** Options of the record validators. */
export interface ValidateOptions {
  /**
   * Extra fields that must be present: "responses" (generated records) and/or "scores" (scored records). Defaults to
   * [].
   */
  require?: ("responses" | "scores")[];
  /** Where the row is, put at the start of the message, e.g. "line 12 of out.jsonl". Defaults to "record". */
  where?: string;
}

/** Defaults of `validateRecord`. */
export const defaults = { require: [] as ("responses" | "scores")[], where: "record", maxErrors: 10 };

const ROLES = ["system", "user", "assistant", "tool"];
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Everything wrong with one row as a verl record (an empty list when it is valid). Never throws.
 * @example
 * data.recordProblems({data_source: "x", prompt: "hi"}) // [{field: "prompt", ...}, {field: "reward_model", ...}]
 */
export function recordProblems(value: unknown, options: ValidateOptions = {}): RecordProblem[] {
  const { require = defaults.require } = options;
  const out: RecordProblem[] = [];
  const add = (field: string, problem: string, got: unknown, expected: string, fix: string) =>
    out.push({ field, problem, got, expected, fix });
  if (!isObject(value)) {
    add(
      "(row)",
      "is not an object",
      value,
      "an object {data_source, prompt, reward_model, ...}",
      "Write one JSON object per row",
    );
    return out;
  }
  const r = value;
  if (typeof r.data_source !== "string" || r.data_source === "")
    add(
      "data_source",
      r.data_source === undefined ? "is missing" : "is not a non-empty string",
      r.data_source,
      'a benchmark name such as "openai/gsm8k"',
      "Set data_source; the reward dispatches on it",
    );
  if (typeof r.prompt === "string")
    add(
      "prompt",
      "is a string, not a chat",
      r.prompt,
      'a list [{role: "user", content: ...}]',
      'Wrap it as [{"role": "user", "content": <text>}] (data.record() does this)',
    );
  else if (!Array.isArray(r.prompt) || r.prompt.length === 0)
    add(
      "prompt",
      r.prompt === undefined ? "is missing" : "is not a non-empty list",
      r.prompt,
      "a list of {role, content} messages",
      'Add the question as [{"role": "user", "content": <text>}]',
    );
  else
    r.prompt.forEach((m: unknown, i: number) => {
      if (!isObject(m))
        add(
          `prompt[${i}]`,
          "is not a message",
          m,
          "{role, content}",
          "Write each turn as an object with role and content",
        );
      else {
        if (typeof m.role !== "string" || !ROLES.includes(m.role))
          add(`prompt[${i}].role`, "is not a chat role", m.role, ROLES.join(" | "), 'Use "user" for the question');
        if (typeof m.content !== "string")
          add(
            `prompt[${i}].content`,
            "is not a string",
            m.content,
            "the message text",
            "Store the text of the turn in content",
          );
      }
    });
  if (r.ability !== undefined && r.ability !== null && typeof r.ability !== "string")
    add("ability", "is not a string", r.ability, 'a label such as "math"', "Use a string or drop the field");
  if (!isObject(r.reward_model))
    add(
      "reward_model",
      r.reward_model === undefined ? "is missing" : "is not an object",
      r.reward_model,
      '{style: "rule", ground_truth: ...}',
      'Add "reward_model": {"style": "rule", "ground_truth": <gold answer>}',
    );
  else {
    const gt = r.reward_model.ground_truth;
    if (gt === undefined || gt === null)
      add(
        "reward_model.ground_truth",
        "is missing",
        r.reward_model,
        "the gold answer (string or number) or the tests (object)",
        "Put the gold answer in reward_model.ground_truth",
      );
    else if (!(typeof gt === "string" || (typeof gt === "number" && Number.isFinite(gt)) || typeof gt === "object"))
      add(
        "reward_model.ground_truth",
        "has an unusable type",
        gt,
        "a string, a finite number or an object",
        "Store the gold answer as a string",
      );
    const st = r.reward_model.style;
    if (st !== undefined && st !== null && typeof st !== "string")
      add("reward_model.style", "is not a string", st, '"rule"', 'Use "rule"');
  }
  if (r.extra_info !== undefined && r.extra_info !== null && !isObject(r.extra_info))
    add(
      "extra_info",
      "is not an object",
      r.extra_info,
      "{split, index, ...}",
      "Store metadata as an object or drop the field",
    );
  checkResponses(r, require, add);
  return out;
}

function checkResponses(
  r: Record<string, unknown>,
  require: readonly string[],
  add: (f: string, p: string, g: unknown, e: string, x: string) => void,
) {
  const resp = r.responses;
  if (resp === undefined || resp === null) {
    if (require.includes("responses") || require.includes("scores"))
      add(
        "responses",
        "is missing",
        resp,
        "a list of response strings (one per sample)",
        "Generate first, or name the column responses (verl main_generation does)",
      );
  } else if (!Array.isArray(resp))
    add("responses", "is not a list", resp, "a list of strings", 'Wrap a single response as ["..."]');
  else {
    const bad = resp.findIndex((x) => typeof x !== "string");
    if (bad >= 0)
      add(`responses[${bad}]`, "is not a string", resp[bad], "the response text", "Store each response as a string");
  }
  const n = Array.isArray(resp) ? resp.length : -1;
  if (r.scores === undefined || r.scores === null) {
    if (require.includes("scores"))
      add(
        "scores",
        "is missing",
        r.scores,
        "one number per response",
        "Score the file first: npx cellrl score --input F --output G",
      );
  } else if (!Array.isArray(r.scores))
    add("scores", "is not a list", r.scores, "one number per response", "Store scores as a list of numbers");
  else {
    const bad = r.scores.findIndex((x) => typeof x !== "number" || !Number.isFinite(x));
    if (bad >= 0) add(`scores[${bad}]`, "is not a finite number", r.scores[bad], "a number", "Re-score the row");
    if (n >= 0 && r.scores.length !== n)
      add("scores", `has ${r.scores.length} entries for ${n} responses`, r.scores, `${n} numbers`, "Re-score the row");
  }
  if (r.details !== undefined && r.details !== null) {
    if (!Array.isArray(r.details))
      add("details", "is not a list", r.details, "one object per response", "Re-score the row");
    else if (n >= 0 && r.details.length !== n)
      add(
        "details",
        `has ${r.details.length} entries for ${n} responses`,
        r.details,
        `${n} objects`,
        "Re-score the row",
      );
  }
}

/**
 * The message of one problem, in cellrl's `<what is wrong> (got X; expected Y). <fix>.` form.
 * @example data.problemMessage("line 3 of a.jsonl", data.recordProblems(row)[0])
 */
export function problemMessage(where: string, p: RecordProblem): string {
  return `${where}: field "${p.field}" ${p.problem} (got ${describe(p.got)}; expected ${p.expected}). ${p.fix}.`;
}

/**
 * Check one row and return it typed as a record; throws a CellrlError naming the row, the field and the fix.
 * @example const rec = data.validateRecord(JSON.parse(line), {where: "line 3 of in.jsonl", require: ["responses"]})
 */
export function validateRecord<R extends VerlRecord = VerlRecord>(value: unknown, options: ValidateOptions = {}): R {
  const { where = defaults.where } = options;
  const problems = recordProblems(value, options);
  if (problems.length > 0) {
    const p = problems[0];
    const more =
      problems.length > 1
        ? ` (${problems.length - 1} more problem${problems.length > 2 ? "s" : ""} in this row: ${problems
            .slice(1)
            .map((q) => q.field)
            .join(", ")})`
        : "";
    fail(
      "invalid_input",
      `data.validateRecord: ${problemMessage(where, p)}${more}`,
      { path: [where, ...p.field.split(".")], got: p.got, expected: p.expected },
      validateRecord,
    );
  }
  return value as R;
}

/**
 * Check every row; throws once listing the first `maxErrors` bad rows (each with its row number and field).
 * @example data.validateRecords(rows, {require: ["responses"]})
 */
export function validateRecords<R extends VerlRecord = VerlRecord>(
  rows: readonly unknown[],
  options: ValidateOptions & { maxErrors?: number; rowName?: (i: number) => string } = {},
): R[] {
  const { maxErrors = defaults.maxErrors, rowName = (i: number) => `row ${i}` } = options;
  const lines: string[] = [];
  let bad = 0;
  let first: { where: string; p: RecordProblem } | null = null;
  rows.forEach((row, i) => {
    const problems = recordProblems(row, options);
    if (problems.length === 0) return;
    bad++;
    if (!first) first = { where: rowName(i), p: problems[0] };
    if (lines.length < maxErrors) lines.push("  " + problemMessage(rowName(i), problems[0]));
  });
  if (first) {
    const f = first as { where: string; p: RecordProblem };
    fail(
      "invalid_input",
      `data.validateRecords: ${bad} of ${rows.length} rows are not valid records:\n` +
        lines.join("\n") +
        andMore(bad, lines.length, "\n  ... and "),
      {
        path: [f.where, ...f.p.field.split(".")],
        got: f.p.got,
        expected: f.p.expected,
      },
      validateRecords,
    );
  }
  return rows as R[];
}
