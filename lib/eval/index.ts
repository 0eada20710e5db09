// Public API of lib/eval (the `evals` namespace): the r1 pipeline (prepare -> generateRecords -> scoreRecords ->
// summarize -> report), analyses of a scored run, generations from elsewhere, and two runs compared. Record helpers
// (items.ts), the paired test (compare.ts) and the report's SVG are internal.
export { passAtK } from "./pass-at-k.js";
export { meanAtK, majAtK, type BootstrapOptions } from "./aggregate.js";
export { isNoAnswer, questionOf, type EvalRecord, type CorrectOptions } from "./items.js";

// the r1 pipeline: prepare -> generateRecords -> scoreRecords -> summarize -> report
export {
  evalSets,
  prepare,
  prepareGpqa,
  writeEvalRecords,
  type PrepareOptions,
  type GpqaOptions,
} from "./eval-sets.js";
export { generateRecords, type GenerateEvalOptions } from "./generate.js";
export { scoreRecords, upstreamRun, type ScoreRecordsOptions } from "./score-records.js";
export { summarize, type SummaryRow, type EvalSummary, type SummarizeOptions } from "./summarize.js";
export {
  breakdown,
  itemDifficulty,
  lengthStats,
  type DifficultyReport,
  type LengthReport,
  type LengthOptions,
} from "./analysis.js";

// generations from elsewhere, and how our grader agrees with theirs
export { readGenerations, fromRows, type GeneratedInput, type IngestOptions } from "./ingest.js";
export { upstreamAgreement, type AgreementReport, type AgreementOptions } from "./agreement.js";

// two runs on the same items
export { compareEvals, type EvalComparison, type CompareEvalsOptions } from "./compare-evals.js";

// reports and the one-call pipeline
export { report, writeReport, reportedResults, type EvalReport, type ReportInput } from "./report.js";
export { evaluate, type EvaluateOptions, type EvalRun } from "./evaluate.js";
