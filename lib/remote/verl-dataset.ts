// Any task or eval set as verl's training / validation parquet: the unified record (data_source, prompt as a chat
// list, ability, reward_model {style, ground_truth}, extra_info {split, index}), validated, other columns dropped,
// written with lib/data's parquet writer (nested columns native, as pyarrow writes them).
import { describe, fail } from "../core/errors.js";
import type { VerlRecord } from "../data/record.js";
import { writeRecords } from "../data/io.js";
import { validateRecords } from "../data/validate.js";

/** Options of verlRows / writeVerlDataset. */
export interface VerlDatasetOptions {
  /** extra_info.split for rows without one. Defaults to "train". */
  split?: string;
  /** Renumber extra_info.index 0..n-1 (else rows keep theirs and only missing ones are filled). Defaults to false. */
  reindex?: boolean;
  /** A system turn put first in every prompt that has none. Defaults to none. */
  system?: string;
  /** More columns to keep besides verl's five (e.g. ["responses"]). Defaults to []. */
  keep?: string[];
}

/**
 * Defaults of writeVerlDataset.
 * @example remote.verlDatasetDefaults.split // "train"
 */
export const verlDatasetDefaults = { split: "train", reindex: false, keep: [] as string[] };

const VERL_COLUMNS = ["data_source", "prompt", "ability", "reward_model", "extra_info"];

/**
 * Records as the rows of a verl dataset: validated, verl's columns only, extra_info.split / index filled in.
 * @example remote.verlRows(tasks.arith(100, {seed: 0}))[0].extra_info // {split: "train", index: 0, ...}
 */
export function verlRows(records: readonly unknown[], options: VerlDatasetOptions = {}): VerlRecord[] {
  if (!Array.isArray(records) || records.length === 0)
    fail(
      "invalid_input",
      `remote.verlRows: records must be a non-empty array of verl records (got ${describe(records)}). Make ` +
        `them with data.record, tasks.<task>(n) or evals.prepare.`,
      {},
      verlRows,
    );
  const { split, reindex, system, keep } = {
    ...verlDatasetDefaults,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  } as typeof verlDatasetDefaults & VerlDatasetOptions;
  const valid = validateRecords(records);
  return valid.map((r, i) => {
    const out: Record<string, unknown> = {};
    for (const k of [...VERL_COLUMNS, ...keep]) if (r[k] !== undefined) out[k] = r[k];
    const extra = { ...(r.extra_info ?? {}) };
    extra.split ??= split;
    if (reindex || typeof extra.index !== "number") extra.index = i;
    out.extra_info = extra;
    const prompt = r.prompt.map((m) => ({ role: m.role, content: m.content }));
    if (system !== undefined && prompt[0]?.role !== "system") prompt.unshift({ role: "system", content: system });
    out.prompt = prompt;
    out.reward_model = { style: r.reward_model.style ?? "rule", ground_truth: r.reward_model.ground_truth };
    return out as VerlRecord;
  });
}

/**
 * Write records as a verl dataset parquet (atomically); returns the row count per data_source.
 * @example remote.writeVerlDataset("verl/train.parquet", tasks.countdown(2000, {seed: 0}))
 */
export function writeVerlDataset(
  file: string,
  records: readonly unknown[],
  options: VerlDatasetOptions = {},
): { file: string; rows: number; dataSources: Record<string, number> } {
  if (typeof file !== "string" || !file.toLowerCase().endsWith(".parquet"))
    fail(
      "invalid_option",
      `remote.writeVerlDataset: file must end in .parquet (got ${describe(file)}); verl reads ` +
        `data.train_files as parquet.`,
      { got: file },
      writeVerlDataset,
    );
  const rows = verlRows(records, options);
  writeRecords(file, rows);
  const dataSources: Record<string, number> = {};
  for (const r of rows) dataSources[r.data_source] = (dataSources[r.data_source] ?? 0) + 1;
  return { file, rows: rows.length, dataSources };
}
