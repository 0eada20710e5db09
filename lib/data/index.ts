// Public API of lib/data: verl records, their validation, and readers / writers (JSONL, JSON, parquet, Arrow).
export { record, question, type ChatMessage, type RewardModel, type ExtraInfo, type VerlRecord, type GeneratedRecord, type ScoredRecord, type RecordInputs } from "./record.js";
export { recordProblems, validateRecord, validateRecords, problemMessage, defaults as validateDefaults, type RecordProblem, type ValidateOptions } from "./validate.js";
export { formatOf, isGzip, readBytes, writeFileAtomic, type DataFormat } from "./files.js";
export { parseJsonl, parseJsonlLines, readJsonl, readJsonlLines, streamJsonl, streamJsonlFrom, writeJsonl, openJsonlAppender, toJsonLine, type JsonlLine, type JsonlAppender } from "./jsonl.js";
export { readParquet, streamParquet, writeParquet, parquetBytes, parquetRowCount, defaults as parquetDefaults, type ReadParquetOptions, type WriteParquetOptions } from "./parquet.js";
export { readArrow, readArrowTable, writeArrow } from "./arrow.js";
export { toTable, fromTable, plainValue } from "./table.js";
export { readRows, readRecords, streamRows, countRows, writeRecords, readTable, type ReadOptions, type RowAt } from "./io.js";
export { templates, applyTemplate, type PromptTemplate, type TemplateFields } from "./templates.js";
