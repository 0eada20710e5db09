// Turning a TaskSpec into a Task: a function that generates n verl records, with the spec's fields attached.
import { describe, fail } from "../core/errors.js";
import { Rng, globalRng } from "../core/random.js";
import type { RecordsOptions, Task, TaskRecord, TaskSpec } from "./types.js";

function generateRecords<O extends object>(
  t: TaskSpec<O>,
  n: number,
  options: RecordsOptions & Partial<O>,
  from: Function,
): TaskRecord[] {
  if (!Number.isInteger(n) || n < 0)
    fail(
      "invalid_option",
      `tasks.${t.name}: n must be a non-negative integer (got ${describe(n)}).`,
      { path: ["n"] },
      from,
    );
  const { seed, rng: given, split = "train", startIndex = 0, unique = false, exclude, system, ...knobs } = options;
  const o = t.resolve(knobs as Partial<O>);
  const rng = given ?? (seed !== undefined ? new Rng(seed) : globalRng().fork(`tasks.${t.name}`));
  const seen = new Set<string>(exclude ?? []);
  const avoid = unique || exclude !== undefined;
  const out: TaskRecord[] = [];
  let misses = 0;
  while (out.length < n) {
    const item = t.generate(rng, o);
    if (avoid && seen.has(item.prompt)) {
      if (++misses > 200 + 20 * n)
        fail(
          "invalid_option",
          `tasks.${t.name}: only ${out.length} distinct prompts found for n = ${n}. ` +
            `Raise the difficulty knobs (more digits, a longer length) or pass unique: false.`,
          { got: n },
          from,
        );
      continue;
    }
    if (avoid) seen.add(item.prompt);
    const prompt = system
      ? [
          { role: "system", content: system },
          { role: "user", content: item.prompt },
        ]
      : [{ role: "user", content: item.prompt }];
    out.push({
      data_source: t.dataSource,
      prompt,
      ability: "task",
      reward_model: { style: "rule", ground_truth: item.groundTruth },
      extra_info: { split, index: startIndex + out.length, answer: item.answer, ...item.info },
    });
  }
  return out;
}

/**
 * Make a task from its spec: the result generates records when called and carries the spec's fields.
 * @example const add = tasks.defineTask({name: "add1", dataSource: "my/add1", ...}); add(10, {seed: 0})
 */
export function defineTask<O extends object>(spec: TaskSpec<O>): Task<O> {
  const fn = function (n: number, options: RecordsOptions & Partial<O> = {}): TaskRecord[] {
    return generateRecords(spec, n, options, fn);
  };
  for (const [k, v] of Object.entries(spec))
    Object.defineProperty(fn, k, { value: v, enumerable: true, writable: k !== "name", configurable: true });
  return fn as unknown as Task<O>;
}
