// The cellrl task verifiers (lib/tasks) as a verl custom reward function: one self-contained Python file,
// standard library only, that exportVerlRun writes next to the parquet files as cellrl_reward.py and names in
// custom_reward_function.path / .name. It scores every built-in cellrl/* data source exactly as reward.scoreSync does
// (test/remote/verl-reward.test.ts compares the two on thousands of responses) and hands every other data source to
// verl's own default_compute_score. The file is python/cellrl_reward.py (its rules mirror lib/tasks exactly,
// including JavaScript's string semantics where they matter); this module validates the export settings and writes
// them, as JSON, into the file's one settings line.
import { describe, fail } from "../core/errors.js";
import { checkFinite } from "../core/checks.js";
import { pythonSource } from "../core/python-files.js";
import { arith } from "../tasks/arith.js";
import { countdown } from "../tasks/countdown.js";
import { derange, pairSum } from "../tasks/many-answers.js";
import { modular } from "../tasks/modular.js";
import { taskForSource } from "../tasks/registry.js";
import { reverse, sort } from "../tasks/sequence.js";

/** The verifiers the Python file implements (sort and reverse share one: exact match, positions from the left). */
export type VerlRewardKind = "arith" | "countdown" | "sequence" | "modular" | "pair-sum" | "derange";

/** Options of verlRewardPython. */
export interface VerlRewardPythonOptions {
  /**
   * More data sources → the built-in verifier they use (tasks registered from a notebook with a built-in verify).
   * Defaults to {}.
   */
  sources?: Record<string, VerlRewardKind>;
  /**
   * Defaults of the verifier options reward.score takes as rewardOptions: partialWeight (sort, reverse, arith),
   * formatScore (countdown). Defaults to the tasks' own (0 and 0.1).
   */
  options?: { partialWeight?: number; formatScore?: number };
}

/**
 * The built-in data sources and their verifier.
 * @example remote.verlRewardSources["cellrl/reverse"] // "sequence"
 */
export const verlRewardSources: Readonly<Record<string, VerlRewardKind>> = {
  [arith.dataSource]: "arith",
  [countdown.dataSource]: "countdown",
  [sort.dataSource]: "sequence",
  [reverse.dataSource]: "sequence",
  [modular.dataSource]: "modular",
  [pairSum.dataSource]: "pair-sum",
  [derange.dataSource]: "derange",
};

const KIND_OF_VERIFY = new Map<unknown, VerlRewardKind>([
  [arith.verify, "arith"],
  [countdown.verify, "countdown"],
  [sort.verify, "sequence"],
  [reverse.verify, "sequence"],
  [modular.verify, "modular"],
  [pairSum.verify, "pair-sum"],
  [derange.verify, "derange"],
]);

/**
 * Which data sources of a dataset need cellrl's reward file, and with which verifier: built-in cellrl/* sources, and
 * sources of registered tasks that reuse a built-in verify. A cellrl/* source the file cannot score (a task with its
 * own
 * verifier, or no task at all) is an error naming the fix.
 * @example remote.verlRewardSourcesOf(["cellrl/countdown", "openai/gsm8k"]) // {"cellrl/countdown": "countdown"}
 */
export function verlRewardSourcesOf(dataSources: Iterable<string>): Record<string, VerlRewardKind> {
  const out: Record<string, VerlRewardKind> = {};
  for (const src of dataSources) {
    if (src in verlRewardSources) {
      out[src] = verlRewardSources[src];
      continue;
    }
    const task = taskForSource(src);
    const kind = task ? KIND_OF_VERIFY.get(task.verify) : undefined;
    if (kind) out[src] = kind;
    else if (task || src.startsWith("cellrl/")) {
      const owner = task
        ? `belongs to task "${task.name}", whose verify is not one of the built-in verifiers`
        : "belongs to no registered task";
      fail(
        "invalid_input",
        `remote.exportVerlRun: data_source ${JSON.stringify(src)} ${owner}, ` +
          `so the generated cellrl_reward.py cannot score it ` +
          `(it implements ${Object.keys(verlRewardSources).join(", ")}). ` +
          `Write a verl reward function for it (compute_score(data_source, solution_str, ground_truth, ` +
          `extra_info=None)) and pass settings.rewardFunction: {path, name}.`,
        { got: src, path: ["data_source"] },
        verlRewardSourcesOf,
      );
    }
  }
  return out;
}

/**
 * The text of cellrl_reward.py: verl's `compute_score(data_source, solution_str, ground_truth, extra_info=None,
 * **kwargs)`
 * for every built-in cellrl task (plus `options.sources`), delegating other data sources to verl's
 * default_compute_score.
 * Also a command-line checker: `python3 cellrl_reward.py < cases.jsonl` prints one `{"score": x}` per
 * `{"data_source", "solution_str", "ground_truth", "kwargs"?}` line.
 * @example fs.writeFileSync("cellrl_reward.py", remote.verlRewardPython({options: {partialWeight: 0.5}}))
 */
export function verlRewardPython(options: VerlRewardPythonOptions = {}): string {
  const kinds = new Set<string>(Object.values(verlRewardSources));
  const sources = options.sources ?? {};
  for (const [src, kind] of Object.entries(sources))
    if (!kinds.has(kind))
      fail(
        "invalid_option",
        `remote.verlRewardPython: sources[${JSON.stringify(src)}] must be one of ${[...kinds].join(", ")} ` +
          `(got ${describe(kind)}).`,
        { path: ["sources", src] },
        verlRewardPython,
      );
  const opts: Record<string, number> = {};
  for (const k of ["partialWeight", "formatScore"] as const) {
    const v = options.options?.[k];
    if (v === undefined) continue;
    checkFinite({ where: "remote.verlRewardPython", from: verlRewardPython }, `options.${k}`, v, undefined, [
      "options",
      k,
    ]);
    opts[k] = v;
  }
  const text = pythonSource(__dirname, "cellrl_reward.py");
  const lines = text.match(SETTINGS_LINE) ?? [];
  if (lines.length !== 1)
    fail(
      "not_found",
      `remote.verlRewardPython: cellrl_reward.py must have exactly one settings line "_EXPORT = json.loads(...)" ` +
        `(got ${lines.length}). Restore lib/remote/python/cellrl_reward.py.`,
      { got: lines.length },
      verlRewardPython,
    );
  // a JSON string is also a valid Python string literal
  const settings = JSON.stringify(JSON.stringify({ sources, options: opts }));
  return text.replace(SETTINGS_LINE, () => `_EXPORT = json.loads(${settings})`);
}

/** The line of cellrl_reward.py that holds the export settings. */
const SETTINGS_LINE = /^_EXPORT = json\.loads\(.*\)$/gm;
