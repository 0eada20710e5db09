// One call from a notebook (or `cellrl verl export`) to a directory verl can run: train.parquet (+ val.parquet),
// the config as YAML, and run_<algorithm>.sh with the Hydra command, each written atomically.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, fail } from "../core/errors.js";
import { writeFileAtomic } from "../data/files.js";
import { verlConfig, type VerlConfig, type VerlSettings } from "./verl-config.js";
import { writeVerlDataset, type VerlDatasetOptions } from "./verl-dataset.js";

/** What exportVerlRun writes from. */
export interface VerlExportInputs {
  /** Training records (a task's, an eval set's, data.readRecords(...)). */
  train: readonly unknown[];
  /** Validation records. Defaults to none (verl then validates on the training file). */
  val?: readonly unknown[] | null;
  /** Everything of verlConfig but the files. */
  settings: Omit<VerlSettings, "trainFiles" | "valFiles">;
  /** Dataset options (split, system turn, ...). */
  dataset?: VerlDatasetOptions;
}

/** What exportVerlRun wrote. */
export interface VerlExport {
  dir: string;
  files: string[];
  config: VerlConfig;
  /** Rows per data_source of each split. */
  rows: { train: Record<string, number>; val: Record<string, number> | null };
}

/**
 * Write a runnable verl directory: datasets, YAML config and a run script; returns the config (command, notes).
 * @example const out = remote.exportVerlRun("verl-run", {train: tasks.countdown(4000, {seed: 0}), settings: {algorithm: "grpo", model: "Qwen/Qwen2.5-0.5B-Instruct", batchSize: 64, step: grpoOptions, optimizer: {lr: 1e-6}}}); console.log(out.config.command)
 */
export function exportVerlRun(dir: string, inputs: VerlExportInputs): VerlExport {
  if (typeof dir !== "string" || dir === "") fail("invalid_option", `remote.exportVerlRun: dir must be a directory path (got ${describe(dir)}).`, {}, exportVerlRun);
  if (!inputs || !inputs.settings) fail("invalid_input", `remote.exportVerlRun: inputs must be {train, val?, settings} (got ${describe(inputs)}).`, {}, exportVerlRun);
  fs.mkdirSync(dir, { recursive: true });
  const alg = inputs.settings.algorithm;
  const trainFile = path.join(dir, "train.parquet");
  const valFile = path.join(dir, "val.parquet");
  const train = writeVerlDataset(trainFile, inputs.train, { split: "train", ...inputs.dataset });
  const val = inputs.val ? writeVerlDataset(valFile, inputs.val, { split: "test", ...inputs.dataset }) : null;
  // the script finds its parquet files next to itself, so the directory can be copied to the cluster as is
  const scripted = verlConfig({ ...inputs.settings, trainFiles: "$HERE/train.parquet", valFiles: val ? "$HERE/val.parquet" : "$HERE/train.parquet" } as VerlSettings);
  const config = verlConfig({ ...inputs.settings, trainFiles: path.resolve(trainFile), ...(val ? { valFiles: path.resolve(valFile) } : {}) } as VerlSettings);
  const yamlFile = path.join(dir, `cellrl_${alg}.yaml`);
  const scriptFile = path.join(dir, `run_${alg}.sh`);
  writeFileAtomic(yamlFile, config.yaml);
  const script =
    `#!/usr/bin/env bash\n# verl ${alg} run written by cellrl (remote.exportVerlRun). Run it from the verl repository root\n` +
    `# (${alg === "grpo" ? "verl installed" : "with the verl-recipe submodule checked out at recipe/"}): bash ${path.basename(dir)}/${path.basename(scriptFile)}\n` +
    scripted.notes.map((n) => `# NOTE: ${n}\n`).join("") +
    `set -euo pipefail\nHERE="$(cd "$(dirname "\${BASH_SOURCE[0]}")" && pwd)"\n` +
    `${scripted.command} "$@"\n`;
  writeFileAtomic(scriptFile, script);
  fs.chmodSync(scriptFile, 0o755);
  return {
    dir,
    files: [trainFile, ...(val ? [valFile] : []), yamlFile, scriptFile],
    config,
    rows: { train: train.dataSources, val: val ? val.dataSources : null },
  };
}
