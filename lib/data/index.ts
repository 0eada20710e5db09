// Public API of lib/data: verl records, their validation, and reading / writing them (JSONL, JSON, parquet, Arrow,
// chosen by the file name). The per-format readers and writers (jsonl.ts, parquet.ts, arrow.ts, files.ts) are internal.
export {
  record,
  question,
  type ChatMessage,
  type RewardModel,
  type ExtraInfo,
  type VerlRecord,
  type GeneratedRecord,
  type ScoredRecord,
  type RecordInputs,
} from "./record.js";
export {
  recordProblems,
  validateRecord,
  validateRecords,
  type RecordProblem,
  type ValidateOptions,
} from "./validate.js";
export { readRows, readRecords, streamRows, writeRecords, readTable, type ReadOptions, type RowAt } from "./io.js";
export { readParquet, writeParquet, type ReadParquetOptions, type WriteParquetOptions } from "./parquet.js";
export { toTable, fromTable } from "./table.js";
export { templates, applyTemplate, type PromptTemplate, type TemplateFields } from "./templates.js";
