// Generations from elsewhere as records with responses: verl main_generation output (a `responses` list per prompt,
// parquet or JSONL), verl rollout / validation dumps (one JSONL line per sample: input, output, gts, score, step),
// and plain JSONL with responses under common field names. Upstream labels found next to the responses are kept in
// extra_info.upstream_scores (and upstream_preds), so upstreamAgreement can check our grader against them.
import { describe, fail } from "../core/errors.js";
import { readRows } from "../data/io.js";
import { problemMessage, recordProblems } from "../data/validate.js";

/** How the rows of a generations file are laid out. */
export type GenerationFormat = "auto" | "records" | "verl-dump" | "plain";

/** A verl record with responses, ready to score (scores may already be there). */
export interface GeneratedInput {
  data_source: string;
  prompt: { role: string; content: string }[];
  ability?: string;
  reward_model: { style: string; ground_truth: unknown };
  extra_info?: Record<string, unknown>;
  responses: string[];
  scores?: number[];
  details?: Record<string, unknown>[];
  finish_reasons?: string[];
  response_lengths?: number[];
  [key: string]: unknown;
}

/** Field names of plain rows (each defaults to the first of several common names found in the row). */
export interface PlainFields {
  /** Prompt text or chat. Defaults to prompt, question, problem, query, input. */
  prompt?: string;
  /**
   * A list of responses, or one response per row. Defaults to responses, outputs, generations, completions, response,
   * output, completion, generation, generated_text.
   */
  responses?: string;
  /**
   * Gold answer. Defaults to reward_model.ground_truth, ground_truth, gt, gts, answer, expected_answer, gold, target.
   */
  groundTruth?: string;
  /**
   * Upstream correctness labels (bool or number, one per response). Defaults to scores, score, is_correct, correct,
   * symbolic_correct, acc.
   */
  upstream?: string;
  /** Upstream extracted answers. Defaults to preds, pred, predicted_answer, extracted_answer. */
  upstreamPred?: string;
}

/** Options of fromRows / readGenerations. */
export interface IngestOptions {
  /** Row layout. Defaults to "auto" (decided from the first row). */
  format?: GenerationFormat;
  /** data_source for rows that have none (rollout dumps and plain files usually don't). Defaults to none (an error). */
  dataSource?: string;
  /** Field names of plain rows. */
  fields?: PlainFields;
  /** Keep only the first `limit` records. Defaults to all. */
  limit?: number;
}

const PROMPT = ["prompt", "question", "problem", "query", "input"];
const RESPONSES = [
  "responses",
  "outputs",
  "generations",
  "completions",
  "response",
  "output",
  "completion",
  "generation",
  "generated_text",
];
const GOLD = ["reward_model.ground_truth", "ground_truth", "gt", "gts", "answer", "expected_answer", "gold", "target"];
const UPSTREAM = ["scores", "score", "is_correct", "correct", "symbolic_correct", "acc"];
const PREDS = ["preds", "pred", "predicted_answer", "extracted_answer"];

function get(row: Record<string, unknown>, path: string): unknown {
  let v: unknown = row;
  for (const p of path.split(".")) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

function pick(row: Record<string, unknown>, given: string | undefined, names: string[]): string | undefined {
  if (given !== undefined) return get(row, given) === undefined ? undefined : given;
  return names.find((n) => get(row, n) !== undefined && get(row, n) !== null);
}

/**
 * Which layout a row has: a verl record with responses, a verl rollout dump line, or a plain row.
 * @example evals.detectFormat({input: "...", output: "...", score: 1, step: 3}) // "verl-dump"
 */
export function detectFormat(row: Record<string, unknown>): Exclude<GenerationFormat, "auto"> {
  if (
    Array.isArray(row.responses) &&
    typeof row.reward_model === "object" &&
    row.reward_model !== null &&
    Array.isArray(row.prompt)
  )
    return "records";
  if (typeof row.input === "string" && typeof row.output === "string" && "score" in row) return "verl-dump";
  return "plain";
}

const label = (v: unknown): number =>
  typeof v === "boolean"
    ? Number(v)
    : v === "True" || v === "true"
      ? 1
      : v === "False" || v === "false"
        ? 0
        : Number(v);

function chat(p: unknown): { role: string; content: string }[] | null {
  if (typeof p === "string") return [{ role: "user", content: p }];
  if (Array.isArray(p) && p.every((m) => m && typeof m.role === "string" && typeof m.content === "string"))
    return p.map((m) => ({ role: m.role, content: m.content }));
  return null;
}

function dumpRecords(rows: Record<string, unknown>[], options: IngestOptions): GeneratedInput[] {
  const groups = new Map<string, { rec: GeneratedInput; labels: number[]; preds: unknown[]; hasPreds: boolean }>();
  rows.forEach((row, i) => {
    const source = typeof row.data_source === "string" ? row.data_source : options.dataSource;
    if (!source)
      fail(
        "invalid_input",
        `evals.fromRows: rollout dump line ${i + 1} has no data_source (verl dumps carry none; got ` +
          `fields ${Object.keys(row).join(", ")}). Pass {dataSource: "openai/gsm8k"} (CLI: --data-source).`,
        {
          path: [i, "data_source"],
        },
        fromRows,
      );
    if (row.gts === undefined && row.ground_truth === undefined)
      fail(
        "invalid_input",
        `evals.fromRows: rollout dump line ${i + 1} has no gts (the ground truth; older verl dumps omit it). ` +
          `Re-dump with a verl that writes gts, or add a ground_truth field to each line.`,
        {
          path: [i, "gts"],
        },
        fromRows,
      );
    const key = `${row.step ?? ""}\u0000${source}\u0000${row.input}`;
    let g = groups.get(key);
    if (!g) {
      g = {
        rec: {
          data_source: source,
          prompt: [{ role: "user", content: row.input as string }],
          reward_model: { style: "rule", ground_truth: row.gts ?? row.ground_truth },
          responses: [],
          extra_info: {
            split: "test",
            index: groups.size,
            ...(row.step !== undefined ? { step: row.step } : {}),
            upstream_grader: "verl rollout dump (acc, else score)",
          },
        },
        labels: [],
        preds: [],
        hasPreds: true,
      };
      groups.set(key, g);
    }
    g.rec.responses.push(row.output as string);
    g.labels.push(label(row.acc !== undefined ? row.acc : row.score));
    g.preds.push(row.pred ?? null);
    if (row.pred === undefined) g.hasPreds = false;
  });
  return [...groups.values()].map((g) => {
    (g.rec.extra_info as Record<string, unknown>).upstream_scores = g.labels;
    if (g.hasPreds) (g.rec.extra_info as Record<string, unknown>).upstream_preds = g.preds;
    return g.rec;
  });
}

function plainRecords(rows: Record<string, unknown>[], options: IngestOptions): GeneratedInput[] {
  const f = options.fields ?? {};
  const first = rows[0];
  const promptF = pick(first, f.prompt, PROMPT);
  const respF = pick(first, f.responses, RESPONSES);
  const goldF = pick(first, f.groundTruth, GOLD);
  const upF = pick(first, f.upstream, UPSTREAM);
  const predF = pick(first, f.upstreamPred, PREDS);
  const keys = Object.keys(first).join(", ");
  if (!promptF)
    fail(
      "invalid_input",
      `evals.fromRows: no prompt field in the first row (got fields ${keys}; expected one ` +
        `of ${PROMPT.join(", ")}). Pass {fields: {prompt: "<name>"}} (CLI: --fields).`,
      { path: [0, "prompt"] },
      fromRows,
    );
  if (!respF)
    fail(
      "invalid_input",
      `evals.fromRows: no responses field in the first row (got fields ${keys}; expected one ` +
        `of ${RESPONSES.join(", ")}). Pass {fields: {responses: "<name>"}}.`,
      { path: [0, "responses"] },
      fromRows,
    );
  if (!goldF)
    fail(
      "invalid_input",
      `evals.fromRows: no ground-truth field in the first row (got fields ${keys}; expected one ` +
        `of ${GOLD.join(", ")}). Pass {fields: {groundTruth: "<name>"}}.`,
      { path: [0, "ground_truth"] },
      fromRows,
    );
  const groups = new Map<string, { rec: GeneratedInput; labels: number[]; preds: unknown[] }>();
  rows.forEach((row, i) => {
    const source = typeof row.data_source === "string" ? row.data_source : options.dataSource;
    if (!source)
      fail(
        "invalid_input",
        `evals.fromRows: row ${i + 1} has no data_source (got fields ${Object.keys(row).join(", ")}). Pass ` +
          `{dataSource: "HuggingFaceH4/MATH-500"} (CLI: --data-source).`,
        { path: [i, "data_source"] },
        fromRows,
      );
    const prompt = chat(get(row, promptF));
    if (!prompt)
      fail(
        "invalid_input",
        `evals.fromRows: row ${i + 1} field "${promptF}" is not a prompt (got ${describe(get(row, promptF))}; ` +
          `expected text or [{role, content}]).`,
        { path: [i, promptF] },
        fromRows,
      );
    const rv = get(row, respF);
    const responses = Array.isArray(rv) ? rv : [rv];
    if (responses.some((x) => typeof x !== "string"))
      fail(
        "invalid_input",
        `evals.fromRows: row ${i + 1} field "${respF}" must be a string or a list of strings (got ${describe(rv)}).`,
        { path: [i, respF] },
        fromRows,
      );
    const gold = get(row, goldF);
    const up = upF ? get(row, upF) : undefined;
    const upList = up === undefined ? [] : Array.isArray(up) ? up.map(label) : [label(up)];
    const pv = predF ? get(row, predF) : undefined;
    const predList = pv === undefined ? [] : Array.isArray(pv) && Array.isArray(rv) ? pv : [pv];
    // one response per row (e.g. one line per seed): rows of the same prompt and gold become one record
    const key = `${source}\u0000${JSON.stringify(prompt)}\u0000${JSON.stringify(gold)}`;
    let g = groups.get(key);
    if (!g) {
      const extra = (
        typeof row.extra_info === "object" && row.extra_info !== null
          ? { ...(row.extra_info as Record<string, unknown>) }
          : {}
      ) as Record<string, unknown>;
      g = {
        rec: {
          data_source: source,
          prompt,
          reward_model: { style: "rule", ground_truth: gold },
          responses: [],
          extra_info: { split: "test", index: groups.size, ...extra },
        },
        labels: [],
        preds: [],
      };
      groups.set(key, g);
    }
    g.rec.responses.push(...(responses as string[]));
    g.labels.push(...upList);
    g.preds.push(...predList);
  });
  return [...groups.values()].map((g) => {
    const e = g.rec.extra_info as Record<string, unknown>;
    if (g.labels.length === g.rec.responses.length && g.labels.every((x) => Number.isFinite(x)))
      e.upstream_scores = g.labels;
    if (g.preds.length === g.rec.responses.length) e.upstream_preds = g.preds;
    return g.rec;
  });
}

/**
 * Turn rows of a generations file into records with responses (grouping one-sample-per-row layouts by prompt).
 * @example evals.fromRows(rows, {format: "verl-dump", dataSource: "openai/gsm8k"})
 */
export function fromRows(rows: readonly Record<string, unknown>[], options: IngestOptions = {}): GeneratedInput[] {
  if (!Array.isArray(rows) || rows.length === 0)
    fail("invalid_input", `evals.fromRows: no rows (got ${describe(rows)}). Check the file.`, {}, fromRows);
  const format = options.format ?? "auto";
  if (!["auto", "records", "verl-dump", "plain"].includes(format))
    fail(
      "invalid_option",
      `evals.fromRows: format must be auto, records, verl-dump or plain (got ${describe(format)}).`,
      { path: ["format"] },
      fromRows,
    );
  const kind = format === "auto" ? detectFormat(rows[0]) : format;
  let out: GeneratedInput[];
  if (kind === "records") {
    const bad: string[] = [];
    rows.forEach((r, i) => {
      const p = recordProblems(r, { require: ["responses"] });
      if (p.length && bad.length < 10) bad.push("  " + problemMessage(`row ${i + 1}`, p[0]));
    });
    if (bad.length)
      fail("invalid_input", `evals.fromRows: rows are not records with responses:\n${bad.join("\n")}`, {}, fromRows);
    out = rows.map((r) => ({ ...(r as GeneratedInput) }));
  } else
    out =
      kind === "verl-dump"
        ? dumpRecords(rows as Record<string, unknown>[], options)
        : plainRecords(rows as Record<string, unknown>[], options);
  return options.limit !== undefined ? out.slice(0, options.limit) : out;
}

/**
 * Read generations from a file (.jsonl, .json, .parquet, .arrow; optionally .gz): verl main_generation output, verl
 * rollout dumps, plain JSONL with responses, or the generation sets in datasets/.
 * @example const recs = await evals.readGenerations("datasets/qwen25_math_cot_100x8.jsonl.gz")
 */
export async function readGenerations(file: string, options: IngestOptions = {}): Promise<GeneratedInput[]> {
  const rows = await readRows(file);
  if (rows.length === 0)
    fail(
      "invalid_input",
      `evals.readGenerations: ${file} has no rows (got an empty file; expected generations). Check the path.`,
      {},
      readGenerations,
    );
  return fromRows(rows, options);
}
