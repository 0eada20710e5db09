// One call from a notebook (or `cellrl verl export`) to a directory verl can run: train.parquet (+ val.parquet),
// cellrl_reward.py when the data has cellrl/* task sources (verl's own scorer does not know them), the config as
// YAML, and run_<algorithm>.sh with the Hydra command, each written atomically.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, fail } from "../core/errors.js";
import { warn } from "../core/warn.js";
import { writeFileAtomic } from "../data/files.js";
import { verlConfig, type VerlConfig, type VerlSettings } from "./verl-config.js";
import { writeVerlDataset, type VerlDatasetOptions } from "./verl-dataset.js";
import {
  verlRewardPython,
  verlRewardSources,
  verlRewardSourcesOf,
  type VerlRewardPythonOptions,
} from "./verl-reward-py.js";

/** File name of the reward function exportVerlRun writes for cellrl/* data sources. */
export const verlRewardFile = "cellrl_reward.py";

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
  /**
   * Verifier options baked into cellrl_reward.py as its defaults, as reward.score's rewardOptions: partialWeight
   * (sort, reverse, arith), formatScore (countdown). Defaults to the tasks' own (0 and 0.1).
   */
  rewardOptions?: VerlRewardPythonOptions["options"];
}

/** What exportVerlRun wrote. */
export interface VerlExport {
  dir: string;
  files: string[];
  config: VerlConfig;
  /** Rows per data_source of each split. */
  rows: { train: Record<string, number>; val: Record<string, number> | null };
  /** The cellrl_reward.py written (null when no data source needs it, or settings.rewardFunction was given). */
  rewardFile: string | null;
}

const GROUP_ESTIMATORS = new Set(["grpo", "dr-grpo", "rloo", "reinforce-pp-baseline"]);

/**
 * The cellrl-only behaviours a run's settings rely on that verl will not reproduce, one sentence each naming the
 * switch that makes the notebook train as verl will: singleton groups (advantage 0 in cellrl, R/(1+ε) or R in verl)
 * and the top-k tail bucket of distillation (verl's kl has no tail, its jsd treats the teacher as 0 outside the top-k).
 * @example cellrlOnlyBehaviours({algorithm: "grpo", step: {n: 1}}) // ["step.n = 1: every group is a singleton ..."]
 */
export function cellrlOnlyBehaviours(settings: Pick<VerlSettings, "algorithm" | "step">): string[] {
  const out: string[] = [];
  const step = (settings.step ?? {}) as {
    n?: number;
    advantage?: unknown;
    advantageOptions?: { singleton?: string };
    topK?: number;
    renormalize?: boolean;
    divergence?: unknown;
    topkTail?: string;
  };
  if (settings.algorithm === "grpo") {
    const est = step.advantage ?? "grpo";
    if (
      step.n === 1 &&
      typeof est === "string" &&
      GROUP_ESTIMATORS.has(est) &&
      step.advantageOptions?.singleton !== "verl"
    )
      out.push(
        `step.n = 1: every group is a singleton, which cellrl's "${est}" gives advantage 0 (no signal) while ` +
          `verl uses mean 0, std 1 (A = ` +
          `${est === "grpo" ? "R / (1 + eps)" : est === "reinforce-pp-baseline" ? "whiten(R)" : "R"}). Set ` +
          `step.advantageOptions.singleton: "verl" to train in the notebook as verl will.`,
      );
  }
  if (settings.algorithm === "gkd") {
    const div = step.divergence ?? "jsd";
    if (
      (step.topK ?? 0) > 0 &&
      !step.renormalize &&
      step.topkTail !== "verl" &&
      (div === "jsd" || div === "forward-kl")
    )
      out.push(
        `step.topK = ${step.topK} without renormalisation: cellrl's "${div}" adds a tail bucket for the mass ` +
          `outside the top-k, which verl's ` +
          `${div === "jsd" ? "jsd (the teacher is 0 outside the top-k)" : "kl (no tail)"} does not. Set ` +
          `step.topkTail: "verl" to train in the notebook as verl will.`,
      );
  }
  return out;
}

/**
 * Write a runnable verl directory: datasets, cellrl_reward.py (when the data has cellrl/* task sources), YAML config
 * and a run script; returns the config (command, notes).
 * @example
 * const out = remote.exportVerlRun("verl-run", {
 *   train: tasks.countdown(4000, {seed: 0}),
 *   settings: {
 *     algorithm: "grpo", model: "Qwen/Qwen2.5-0.5B-Instruct", batchSize: 64, step: grpoOptions, optimizer: {lr: 1e-6},
 *   },
 * });
 * console.log(out.config.command)
 */
export function exportVerlRun(dir: string, inputs: VerlExportInputs): VerlExport {
  if (typeof dir !== "string" || dir === "")
    fail(
      "invalid_option",
      `remote.exportVerlRun: dir must be a directory path (got ${describe(dir)}).`,
      {},
      exportVerlRun,
    );
  if (!inputs || !inputs.settings)
    fail(
      "invalid_input",
      `remote.exportVerlRun: inputs must be {train, val?, settings} (got ${describe(inputs)}).`,
      {},
      exportVerlRun,
    );
  fs.mkdirSync(dir, { recursive: true });
  const alg = inputs.settings.algorithm;
  for (const msg of cellrlOnlyBehaviours(inputs.settings))
    warn(
      `remote/verlCellrlOnly/${msg.split(" ")[0]}`,
      `remote.exportVerlRun: verl will not reproduce the notebook: ${msg}`,
    );
  // cellrl/* task sources: verl's default_compute_score does not know them, so the run gets cellrl's verifiers as a
  // custom reward function (other sources in the same file still go to verl's default). A rewardFunction the caller
  // gives wins; GKD has no reward. Checked before anything is written.
  const needsReward = alg !== "gkd" && !inputs.settings.rewardFunction;
  const sourceNames = new Set<string>();
  for (const r of [
    ...(Array.isArray(inputs.train) ? inputs.train : []),
    ...(Array.isArray(inputs.val) ? inputs.val : []),
  ]) {
    const src = (r as { data_source?: unknown } | null)?.data_source;
    if (typeof src === "string") sourceNames.add(src);
  }
  const sources = needsReward ? verlRewardSourcesOf(sourceNames) : {};
  const trainFile = path.join(dir, "train.parquet");
  const valFile = path.join(dir, "val.parquet");
  const train = writeVerlDataset(trainFile, inputs.train, { split: "train", ...inputs.dataset });
  const val = inputs.val ? writeVerlDataset(valFile, inputs.val, { split: "test", ...inputs.dataset }) : null;
  const rewardFile = Object.keys(sources).length > 0 ? path.join(dir, verlRewardFile) : null;
  const about = rewardFile
    ? [
        `custom_reward_function: ${verlRewardFile} (next to this file) ` +
          `scores ${Object.keys(sources).join(", ")} with cellrl's task verifiers`,
        "(the same scores as reward.scoreSync) and passes every other data_source to verl's default_compute_score.",
      ]
    : [];
  if (rewardFile) {
    const aliases = Object.fromEntries(Object.entries(sources).filter(([s]) => !(s in verlRewardSources)));
    writeFileAtomic(rewardFile, verlRewardPython({ sources: aliases, options: inputs.rewardOptions }));
  }
  // the script finds its files next to itself ($HERE is absolute, so verl finds the reward file from the verl root and
  // in Ray workers whatever their cwd), so the directory can be copied to the cluster as is; the YAML names absolute
  // paths
  const scripted = verlConfig({
    ...inputs.settings,
    trainFiles: "$HERE/train.parquet",
    valFiles: val ? "$HERE/val.parquet" : "$HERE/train.parquet",
    ...(rewardFile ? { rewardFunction: { path: `$HERE/${verlRewardFile}`, name: "compute_score" } } : {}),
  } as VerlSettings);
  const config = verlConfig({
    ...inputs.settings,
    trainFiles: path.resolve(trainFile),
    ...(val ? { valFiles: path.resolve(valFile) } : {}),
    ...(rewardFile ? { rewardFunction: { path: path.resolve(rewardFile), name: "compute_score" } } : {}),
  } as VerlSettings);
  const yamlFile = path.join(dir, `cellrl_${alg}.yaml`);
  const scriptFile = path.join(dir, `run_${alg}.sh`);
  const comments = about.map((l) => `# ${l}\n`).join("");
  config.yaml = config.yaml.replace(/^hydra:\n/m, `${comments}hydra:\n`);
  writeFileAtomic(yamlFile, config.yaml);
  const script =
    `#!/usr/bin/env bash\n# verl ${alg} run written by cellrl (remote.exportVerlRun). Run it from the verl ` +
    `repository root\n` +
    `# (${alg === "grpo" ? "verl installed" : "with the verl-recipe submodule checked out at recipe/"}): ` +
    `bash ${path.basename(dir)}/${path.basename(scriptFile)}\n` +
    comments +
    scripted.notes.map((n) => `# NOTE: ${n}\n`).join("") +
    `set -euo pipefail\nHERE="$(cd "$(dirname "\${BASH_SOURCE[0]}")" && pwd)"\n` +
    `${scripted.command} "$@"\n`;
  writeFileAtomic(scriptFile, script);
  fs.chmodSync(scriptFile, 0o755);
  return {
    dir,
    files: [trainFile, ...(val ? [valFile] : []), ...(rewardFile ? [rewardFile] : []), yamlFile, scriptFile],
    config,
    rows: { train: train.dataSources, val: val ? val.dataSources : null },
    rewardFile,
  };
}
