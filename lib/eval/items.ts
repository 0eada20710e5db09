// What every eval function reads from a scored record: its scores, whether each response counts as correct, the
// answer it gave (for majority votes), how it ended (truncation) and whether an answer was found at all.
import { describe, fail } from "../core/errors.js";
import { checkWholeAtLeast } from "../core/checks.js";

/** A scored record as the eval functions read it (data.ScoredRecord, plus what generate() adds). */
export interface EvalRecord {
  data_source: string;
  prompt?: { role: string; content: string }[] | string;
  reward_model?: { style?: string; ground_truth?: unknown };
  extra_info?: Record<string, unknown>;
  responses: string[];
  /** One score per response. */
  scores: number[];
  /** One details object per response (the reward's `details`: extracted answer, rule...). */
  details?: Record<string, unknown>[];
  /** "stop" / "length" per response, when the generator reported it (generate() does). */
  finish_reasons?: string[];
  /** Response length in tokens per response, when known. */
  response_lengths?: number[];
  [key: string]: unknown;
}

/** Options shared by the functions that turn scores into correct / wrong. */
export interface CorrectOptions {
  /** A response is correct when its score is >= threshold. Defaults to 1 (Megatron's pass@k: reward equals 1.0). */
  threshold?: number;
}

/** Defaults of the correctness rule. */
export const correctDefaults: Required<CorrectOptions> = { threshold: 1 };

// Rules the graders use when nothing could be extracted (math/MC: no-answer, empty; code: no program).
const NO_ANSWER_RULES = new Set(["no-answer", "empty", "no-code", "no-program"]);

/**
 * Check that records carry scores (one finite number per response) and return them typed; the message names the row.
 * @example const scored = evals.checkScored(rows, "evals.summarize")
 */
export function checkScored(records: readonly unknown[], where: string): EvalRecord[] {
  if (!Array.isArray(records) || records.length === 0)
    fail(
      "invalid_input",
      `${where}: no records (got ${describe(records)}; expected scored records with responses and scores). ` +
        `Score them first with evals.scoreRecords.`,
    );
  records.forEach((r, i) => {
    const rec = r as EvalRecord;
    if (typeof rec !== "object" || rec === null || typeof rec.data_source !== "string")
      fail(
        "invalid_input",
        `${where}: record ${i} is not a verl record (got ${describe(r)}; expected {data_source, responses, scores}).`,
        { path: ["records", i] },
      );
    if (!Array.isArray(rec.responses))
      fail(
        "invalid_input",
        `${where}: record ${i} has no responses list (got ${describe(rec.responses)}). Generate or ingest ` +
          `responses first.`,
        { path: ["records", i, "responses"] },
      );
    if (!Array.isArray(rec.scores) || rec.scores.length !== rec.responses.length)
      fail(
        "invalid_input",
        `${where}: record ${i} has ` +
          `${Array.isArray(rec.scores) ? rec.scores.length : `no list of (${describe(rec.scores)})`} scores ` +
          `for ${rec.responses.length} responses (expected one score per response). Score it with ` +
          `evals.scoreRecords.`,
        {
          path: ["records", i, "scores"],
        },
      );
    if (rec.responses.length === 0)
      fail(
        "invalid_input",
        `${where}: record ${i} has no responses (got an empty list). Drop it or generate responses for it.`,
        { path: ["records", i, "responses"] },
      );
    for (const s of rec.scores)
      if (typeof s !== "number" || !Number.isFinite(s))
        fail(
          "non_finite",
          `${where}: record ${i} has a non-finite score (got ${describe(s)}). Rewards must return finite numbers.`,
          { path: ["records", i, "scores"] },
        );
  });
  return records as EvalRecord[];
}

/**
 * Correct flags of a record's responses (score >= threshold).
 * @example evals.correctFlags({scores: [1, 0, 0.5]} as any) // [true, false, false]
 */
export function correctFlags(record: Pick<EvalRecord, "scores">, options: CorrectOptions = {}): boolean[] {
  const { threshold } = { ...correctDefaults, ...defined(options) };
  return record.scores.map((s) => s >= threshold);
}

/**
 * The answer a response gave, for majority votes: the grader's normalised prediction, else its extracted text, else
 * null (no answer: it does not vote).
 * @example evals.answerOf({predNormalized: "\\frac{1}{2}", extracted: "1/2"}) // "\\frac{1}{2}"
 */
export function answerOf(details: Record<string, unknown> | undefined): string | null {
  if (!details) return null;
  for (const key of ["predNormalized", "extracted", "letter", "pred"]) {
    const v = details[key];
    if (typeof v === "string" && v.trim() !== "") return v.trim();
    if (typeof v === "number" && Number.isFinite(v)) return String(v);
  }
  return null;
}

/**
 * True when the grader found no answer in the response (an extraction failure, not a wrong answer).
 * @example evals.isNoAnswer({rule: "no-answer", extracted: null}) // true
 */
export function isNoAnswer(details: Record<string, unknown> | undefined): boolean {
  if (!details) return false;
  if (typeof details.rule === "string" && NO_ANSWER_RULES.has(details.rule)) return true;
  return "extracted" in details && (details.extracted === null || details.extracted === "");
}

/**
 * True when a reward raised an error on the response (cellrl score / scoreRecords record it as rule "error").
 * @example evals.isRewardError({rule: "error", error: "boom"}) // true
 */
export function isRewardError(details: Record<string, unknown> | undefined): boolean {
  return details?.rule === "error";
}

/**
 * Truncation flags of a record's responses: true when the generator stopped at the length limit, null when unknown.
 * @example evals.truncatedFlags({responses: ["a"], finish_reasons: ["length"]} as any) // [true]
 */
export function truncatedFlags(record: Pick<EvalRecord, "responses" | "finish_reasons">): (boolean | null)[] {
  const fr = record.finish_reasons;
  if (!Array.isArray(fr) || fr.length !== record.responses.length) return record.responses.map(() => null);
  return fr.map((f) => (f === "length" ? true : f === null || f === undefined ? null : false));
}

/**
 * The question text of a record: its last user turn (or the prompt string).
 * @example evals.questionOf({prompt: [{role: "user", content: "2+2?"}]} as any) // "2+2?"
 */
export function questionOf(record: Pick<EvalRecord, "prompt">): string {
  const p = record.prompt;
  if (typeof p === "string") return p;
  if (Array.isArray(p)) {
    for (let i = p.length - 1; i >= 0; i--) if (p[i]?.role === "user") return String(p[i].content);
    if (p.length > 0) return String(p[p.length - 1].content);
  }
  return "";
}

/**
 * A stable id of a record for tables and comparisons: extra_info.id / unique_id / question_id / idx when present
 * (with the model for per-model rows), else the data_source and extra_info.index.
 * @example evals.itemId({data_source: "openai/gsm8k", extra_info: {index: 3}} as any) // "openai/gsm8k#3"
 */
export function itemId(record: Pick<EvalRecord, "data_source" | "extra_info">, position?: number): string {
  const e = record.extra_info ?? {};
  const own = ["unique_id", "id", "question_id", "task_id", "idx"]
    .map((k) => e[k])
    .find((v) => typeof v === "string" || typeof v === "number");
  const base =
    own !== undefined
      ? `${record.data_source}#${own}`
      : typeof e.index === "number"
        ? `${record.data_source}#${e.index}`
        : `${record.data_source}@${position ?? "?"}`;
  return typeof e.model === "string" ? `${base}/${e.model}` : base;
}

/**
 * Read a field of a record by a dotted path ("extra_info.level"), or call a function.
 * @example evals.fieldOf(rec, "extra_info.level") // "Level 3"
 */
export function fieldOf(record: EvalRecord, by: string | ((r: EvalRecord) => unknown)): unknown {
  if (typeof by === "function") return by(record);
  let v: unknown = record;
  for (const part of by.split(".")) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/**
 * Keep the first k responses of every record (what "k=8" means in r1's README: k samples averaged per problem).
 * @example firstK(scored, 4) // evals.summarize(scored, {k: 4}) summarises these
 */
export function firstK<T extends EvalRecord>(records: readonly T[], k: number): T[] {
  checkWholeAtLeast({ where: "evals.firstK", from: firstK }, "k", k, 1);
  return records.map((r, i) => {
    if (r.responses.length < k)
      fail(
        "invalid_input",
        `evals.firstK: record ${i} (${itemId(r, i)}) has ${r.responses.length} responses, fewer than k ` +
          `= ${k}. Lower k or generate more samples.`,
        {
          path: ["records", i, "responses"],
        },
        firstK,
      );
    if (r.responses.length === k) return r;
    const cut = <U>(xs: U[] | undefined) => (Array.isArray(xs) ? xs.slice(0, k) : xs);
    // per-response lists in extra_info (upstream_scores, upstream_preds, ...) are cut the same way
    const n = r.responses.length;
    const extra = r.extra_info
      ? Object.fromEntries(
          Object.entries(r.extra_info).map(([key, v]) => [key, Array.isArray(v) && v.length === n ? v.slice(0, k) : v]),
        )
      : r.extra_info;
    return {
      ...r,
      responses: r.responses.slice(0, k),
      scores: r.scores.slice(0, k),
      details: cut(r.details),
      finish_reasons: cut(r.finish_reasons),
      response_lengths: cut(r.response_lengths),
      extra_info: extra,
    };
  });
}

/**
 * Options with the undefined entries dropped, so `{...defaults, ...defined(options)}` keeps a default when a caller
 * passes `{k: undefined}`.
 * @example ({...{n: 8}, ...defined({n: undefined})}).n // 8
 */
export function defined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}
