// verl's outputs into the eval analysis: main_generation parquet (a `responses` list per prompt) and the rollout /
// validation dumps of trainer.rollout_data_dir / validation_data_dir (a directory of <step>.jsonl files, one line per
// sample: input, output, gts, score, step). The row parsing is lib/eval's ingest (evals.fromRows); this file adds the
// directory of dumps and the choice of steps.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, fail } from "../core/errors.js";
import { readRows } from "../data/io.js";
import { fromRows, readGenerations, type GeneratedInput, type IngestOptions } from "../eval/ingest.js";

/** Options of readVerlOutputs: lib/eval's ingest options plus which steps of a dump to keep. */
export interface VerlImportOptions extends IngestOptions {
  /** Steps of a rollout dump to keep: "all", "last", or a list. Defaults to "all". */
  steps?: "all" | "last" | number[];
}

/** The <step>.jsonl files of a dump directory, by step. */
function dumpFiles(dir: string): { step: number; file: string }[] {
  return fs
    .readdirSync(dir)
    .map((f) => ({ m: /^(\d+)\.jsonl(\.gz)?$/.exec(f), f }))
    .filter((x) => x.m)
    .map((x) => ({ step: Number(x.m![1]), file: path.join(dir, x.f) }))
    .sort((a, b) => a.step - b.step);
}

/**
 * Read verl generations for the eval analysis: a main_generation parquet / JSONL, one dump file, or a dump directory.
 * @example
 * const recs = await remote.readVerlOutputs("checkpoints/rollouts", {steps: "last", dataSource: "openai/gsm8k"})
 * evals.summarize(await evals.scoreRecords(recs))
 */
export async function readVerlOutputs(source: string, options: VerlImportOptions = {}): Promise<GeneratedInput[]> {
  const where = "remote.readVerlOutputs";
  if (typeof source !== "string" || !fs.existsSync(source))
    fail(
      "not_found",
      `${where}: ${describe(source)} does not exist (expected a main_generation output file, or a rollout ` +
        `dump file or directory). Check the path.`,
      { got: source },
      readVerlOutputs,
    );
  const { steps = "all", ...ingest } = options;
  if (steps !== "all" && steps !== "last" && (!Array.isArray(steps) || steps.some((s) => !Number.isInteger(s))))
    fail(
      "invalid_option",
      `${where}: options.steps must be "all", "last" or a list of step numbers (got ${describe(steps)}).`,
      { path: ["steps"] },
      readVerlOutputs,
    );
  const keepSteps = (rows: Record<string, unknown>[]): Record<string, unknown>[] => {
    if (steps === "all") return rows;
    const present = [...new Set(rows.map((r) => r.step).filter((s): s is number => typeof s === "number"))].sort(
      (a, b) => a - b,
    );
    const want = steps === "last" ? present.slice(-1) : steps;
    const out = rows.filter((r) => want.includes(r.step as number));
    if (out.length === 0)
      fail(
        "invalid_input",
        `${where}: no rows of step ${want.join(", ") || "(none)"} in ${source} (steps ` +
          `present: ${present.join(", ") || "none"}).`,
        { path: ["steps"] },
        readVerlOutputs,
      );
    return out;
  };
  if (fs.statSync(source).isDirectory()) {
    let files = dumpFiles(source);
    if (files.length === 0)
      fail(
        "invalid_input",
        `${where}: ${source} holds no <step>.jsonl files (expected verl's trainer.rollout_data_dir or ` +
          `validation_data_dir). Pass the directory verl dumped to.`,
        { got: source },
        readVerlOutputs,
      );
    const present = files.map((f) => f.step);
    if (steps === "last") files = files.slice(-1);
    else if (Array.isArray(steps)) files = files.filter((f) => steps.includes(f.step));
    if (files.length === 0)
      fail(
        "invalid_input",
        `${where}: no dump of step ${(steps as number[]).join(", ")} in ${source} (steps ` +
          `present: ${present.join(", ")}). Pick steps that were dumped.`,
        { path: ["steps"] },
        readVerlOutputs,
      );
    const rows: Record<string, unknown>[] = [];
    for (const f of files)
      for (const r of await readRows(f.file)) rows.push({ step: f.step, ...(r as Record<string, unknown>) });
    if (rows.length === 0)
      fail(
        "invalid_input",
        `${where}: the dump files of ${source} for steps ${files.map((f) => f.step).join(", ")} are empty ` +
          `(expected one JSON line per sample).`,
        {},
        readVerlOutputs,
      );
    return fromRows(rows, { ...ingest, format: ingest.format ?? "verl-dump" });
  }
  if (steps === "all") return readGenerations(source, ingest);
  const rows = (await readRows(source)) as Record<string, unknown>[];
  return fromRows(keepSteps(rows), ingest);
}
