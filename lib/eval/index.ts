// Public API of lib/eval.
export { passAtK, meanPassAtK } from "./pass-at-k.js";
export { meanAtK, standardError, bootstrapCI, bootstrapDefaults, majAtK, type BootstrapOptions } from "./aggregate.js";
export { mcnemarExact, compareRuns, type PairedComparison } from "./compare.js";

// records as the eval functions read them
export { checkScored, correctFlags, correctDefaults, answerOf, isNoAnswer, isRewardError, truncatedFlags, questionOf, itemId, fieldOf, firstK, defined, type EvalRecord, type CorrectOptions } from "./items.js";

// the r1 pipeline: prepare -> generate -> score -> summarise -> report
export { evalSets, evalPresets, prepare, prepareDefaults, prepareGpqa, writeEvalRecords, datasetsDir, type EvalSetLoader, type PrepareOptions, type GpqaOptions } from "./eval-sets.js";
export { generate, generateDefaults, type GenerateEvalOptions, type GenerationSettings } from "./generate.js";
export { scoreRecords, scoreDefaults, upstreamRun, type ScoreRecordsOptions } from "./score-records.js";
export { summarize, summarizeGroup, summarizeDefaults, type SummaryRow, type EvalSummary, type SummarizeOptions } from "./summarize.js";
export { breakdown, itemDifficulty, lengthStats, type ItemDifficulty, type DifficultyReport, type LengthReport, type LengthGroup, type LengthOptions } from "./analysis.js";

// generations from elsewhere, and how our grader agrees with theirs
export { readGenerations, fromRows, detectFormat, type GenerationFormat, type GeneratedInput, type IngestOptions, type PlainFields } from "./ingest.js";
export { upstreamAgreement, agreementDefaults, isGpqaSource, type AgreementReport, type AgreementRow, type AgreementOptions, type Disagreement } from "./agreement.js";

// two runs on the same items
export { compareEvals, compareDefaults, type EvalComparison, type ComparedItem, type CompareEvalsOptions } from "./compare-evals.js";

// reports and the one-call pipeline
export { report, writeReport, EvalReport, datasetNames, reportedResults, type ReportInput, type ReportedResults } from "./report.js";
export { evaluate, type EvaluateOptions, type EvalRun } from "./evaluate.js";
