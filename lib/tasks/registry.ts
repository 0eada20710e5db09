// The task registry and what works on any task: making records, alphabets, counting distinct correct answers.
import { describe, fail } from "../core/errors.js";
import { registry } from "../core/registry.js";
import { arith } from "./arith.js";
import { countdown } from "./countdown.js";
import { derange, pairSum } from "./many-answers.js";
import { modular } from "./modular.js";
import { reverse, sort } from "./sequence.js";
import { defineTask } from "./define.js";
import type { RecordsOptions, Task, TaskRecord, TaskSpec } from "./types.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyTask = Task<any>;

/** Every task by name ("arith", "countdown", "sort", "reverse", "modular", "pair-sum", "derange"). */
export const tasks = registry<AnyTask>("task");
for (const t of [arith, countdown, sort, reverse, modular, pairSum, derange])
  tasks.add(t.name, t, { summary: t.summary });

/**
 * Add a task (a name, data source, alphabet, generator and verifier); its data source is scored by reward.score.
 * @example
 * tasks.registerTask({...tasks.arith, name: "arith-big", dataSource: "cellrl/arith-big",
 *   defaults: {...tasks.arith.defaults, digits: 8}})
 */
export function registerTask(task: AnyTask | TaskSpec<any>, options: { override?: boolean } = {}): AnyTask {
  if (
    (typeof task !== "object" && typeof task !== "function") ||
    task === null ||
    typeof task.generate !== "function" ||
    typeof task.verify !== "function" ||
    typeof task.dataSource !== "string" ||
    typeof task.resolve !== "function"
  )
    fail(
      "invalid_option",
      `tasks.registerTask: a task needs name, dataSource, alphabet, defaults, resolve, generate and verify ` +
        `(got ${describe(task)}). Build one with tasks.defineTask({...}).`,
      {},
      registerTask,
    );
  const t = typeof task === "function" ? task : defineTask(task);
  return tasks.add(t.name, t, { summary: t.summary, override: options.override });
}

/** The task a data_source belongs to ("cellrl/arith" -> arith), or undefined. */
export function taskForSource(dataSource: string): AnyTask | undefined {
  return tasks.entries().find((e) => e.fn.dataSource === dataSource)?.fn;
}

/**
 * n verl records of a task: `{data_source: "cellrl/<task>", prompt: [{role: "user", content}], ability: "task",
 * reward_model: {style: "rule", ground_truth}, extra_info: {split, index, answer, ...knobs}}`.
 * @example tasks.records("countdown", 100, {seed: 0, count: 3, maxTarget: 50})
 */
export function records(
  task: string | AnyTask,
  n: number,
  options: RecordsOptions & Record<string, unknown> = {},
): TaskRecord[] {
  return tasks.get(task)(n, options);
}

/**
 * Every character the given tasks can put in prompts and answers, sorted (build a CharTokenizer from it).
 * @example tasks.alphabet("arith", "modular").length // 16 (digits and "%*+-=^")
 */
export function alphabet(...names: (string | AnyTask)[]): string {
  const list = names.length > 0 ? names.map((n) => tasks.get(n)) : tasks.entries().map((e) => e.fn);
  return [...new Set(list.flatMap((t) => [...t.alphabet]))].sort().join("");
}

/**
 * How many distinct correct answers appear among responses, and how many exist (tasks with many answers).
 * @example
 * tasks.distinctCorrect("pair-sum", ["3+9", "9+3", "3+9", "5+5"], {target: 12, minValue: 1})
 * // {distinct: 2, total: 11}
 */
export function distinctCorrect(
  task: string | AnyTask,
  responses: string[],
  groundTruth: unknown,
): { distinct: number; correct: number; total: number | null } {
  const t = tasks.get(task);
  const canon = t.canonical ?? ((a: string) => a.trim());
  const found = new Set<string>();
  let correct = 0;
  for (const r of responses) {
    if (t.verify(r, groundTruth).score >= 1) {
      correct++;
      found.add(canon(r));
    }
  }
  return { distinct: found.size, correct, total: t.countCorrect ? t.countCorrect(groundTruth) : null };
}
