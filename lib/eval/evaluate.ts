// The whole r1 main_eval step as one call, plus the analysis it lacks: read (any generations layout), score through
// the reward registry, summarise, check against upstream labels, break down, and build the report.
import { describe, fail } from "../core/errors.js";
import { upstreamAgreement, type AgreementReport } from "./agreement.js";
import { breakdown, itemDifficulty, lengthStats, type DifficultyReport, type LengthReport } from "./analysis.js";
import { readGenerations, fromRows, type GeneratedInput, type IngestOptions } from "./ingest.js";
import { checkScored, fieldOf, firstK, type EvalRecord } from "./items.js";
import { report, type EvalReport, type ReportInput } from "./report.js";
import { scoreRecords, type ScoreRecordsOptions } from "./score-records.js";
import { summarize, type EvalSummary, type SummarizeOptions, type SummaryRow } from "./summarize.js";

/** Options of evaluate. */
export interface EvaluateOptions extends SummarizeOptions, Omit<ScoreRecordsOptions, "progress">, IngestOptions {
  /** Use the first k responses of each item (r1's "k=8"). Defaults to all of them. */
  k?: number;
  /** Score the responses again (true), or keep the `scores` the records already carry (false). Defaults to true. */
  rescore?: boolean;
  /** Score with this instead of scoreRecords (the CLI passes its thread pool). */
  scorer?: (records: GeneratedInput[]) => Promise<EvalRecord[]>;
  /**
   * Fields to break accuracy down by (dotted paths or functions). Defaults to those of extra_info.subject, level,
   * type, category, subfield, model that most records have (with at most 40 distinct values).
   */
  by?: (string | ((r: EvalRecord) => unknown))[];
  /** Report title. */
  title?: string;
  /** Reported numbers for the report (percent by data_source, or a key of evals.reportedResults). */
  reported?: ReportInput["reported"];
  reportedLabel?: string;
  /** Lines shown under the report title. */
  notes?: string[];
  /** Show a progress bar while scoring. Defaults to false. */
  progress?: boolean;
}

/** Everything evaluate() computed. */
export interface EvalRun {
  records: EvalRecord[];
  summary: EvalSummary;
  /** Agreement with extra_info.upstream_scores (null when no record has them). */
  agreement: AgreementReport | null;
  breakdowns: { title: string; by: string; rows: SummaryRow[] }[];
  difficulty: DifficultyReport;
  lengths: LengthReport;
  /** The generation settings recorded by evals.generate (null when unknown). */
  settings: Record<string, unknown> | null;
  report: EvalReport;
}

const AUTO_BY = [
  "extra_info.subject",
  "extra_info.type",
  "extra_info.level",
  "extra_info.category",
  "extra_info.subfield",
  "extra_info.model",
];

function autoBy(records: EvalRecord[]): string[] {
  return AUTO_BY.filter((p) => {
    const vals = records
      .map((r) => fieldOf(r, p))
      .filter((v) => v !== undefined && v !== null && (typeof v === "string" || typeof v === "number"));
    return vals.length >= records.length / 2 && new Set(vals).size >= 2 && new Set(vals).size <= 40;
  });
}

/**
 * Evaluate generations end to end: read (a file in any supported layout, or records), keep the first k responses,
 * score them through the reward registry, then summarise (mean@k, pass@k, maj@k, CIs), compare with upstream labels
 * when present, break down by subject / level / model, measure item difficulty and length vs correctness, and build
 * the report.
 * @example const run = await evals.evaluate("datasets/qwen25_math_cot_100x8.jsonl.gz"); display(run.report)
 */
export async function evaluate(
  input: string | readonly Record<string, unknown>[],
  options: EvaluateOptions = {},
): Promise<EvalRun> {
  const {
    k,
    rescore = true,
    scorer,
    by,
    title,
    reported,
    reportedLabel,
    notes,
    progress,
    reward,
    rewardOptions,
    concurrency,
    format,
    dataSource,
    fields,
    limit,
    ...sumOpts
  } = options;
  const ingest: IngestOptions = { format, dataSource, fields, limit };
  let gen: GeneratedInput[];
  if (typeof input === "string") gen = await readGenerations(input, ingest);
  else if (Array.isArray(input)) gen = fromRows(input, ingest);
  else
    return fail(
      "invalid_input",
      `evals.evaluate: input must be a file path or an array of records (got ${describe(input)}).`,
      {},
      evaluate,
    );
  let recs: EvalRecord[];
  if (rescore) {
    const stripped = gen.map(({ scores: _s, details: _d, ...r }) => r as GeneratedInput);
    recs = scorer
      ? await scorer(stripped)
      : await scoreRecords(stripped, { reward, rewardOptions, concurrency, progress });
  } else {
    if (gen.some((r) => !Array.isArray(r.scores)))
      fail(
        "invalid_input",
        "evals.evaluate: rescore is false but some records carry no scores (expected `scores` from cellrl " +
          "score). Drop {rescore: false} to score them.",
        { path: ["rescore"] },
        evaluate,
      );
    recs = gen as EvalRecord[];
  }
  recs = checkScored(recs, "evals.evaluate");
  if (k !== undefined) recs = firstK(recs, k);
  const summary = summarize(recs, sumOpts);
  const labeled = recs.some((r) => Array.isArray(r.extra_info?.upstream_scores));
  const agreement = labeled ? upstreamAgreement(recs, { threshold: sumOpts.threshold }) : null;
  const fieldsBy = by ?? autoBy(recs);
  const breakdowns = fieldsBy.map((b) => {
    const name = typeof b === "string" ? b : b.name || "custom";
    return { title: `Accuracy by ${name.replace(/^extra_info\./, "")}`, by: name, rows: breakdown(recs, b, sumOpts) };
  });
  const difficulty = itemDifficulty(recs, { threshold: sumOpts.threshold });
  const lengths = lengthStats(recs, { threshold: sumOpts.threshold });
  const gens = recs.map((r) => r.extra_info?.generation).filter((g) => g && typeof g === "object");
  const settings = gens.length ? (gens[0] as Record<string, unknown>) : null;
  const rep = report({
    title,
    summary,
    reported,
    reportedLabel,
    agreement,
    breakdowns,
    difficulty,
    lengths,
    settings,
    notes,
  });
  return { records: recs, summary, agreement, breakdowns, difficulty, lengths, settings, report: rep };
}
