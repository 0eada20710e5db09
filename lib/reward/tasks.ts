// The verifiers of lib/tasks as rewards: each task is a reward by its name ("countdown", "arith", ...), and every
// "cellrl/..." data source routes to the task that owns it (including tasks registered later from a notebook).
import { fail } from "../core/errors.js";
import { tasks, taskForSource } from "../tasks/registry.js";
import { register, routeDataSource } from "./registry.js";
import type { RewardRecord, RewardResult } from "./types.js";

/**
 * Reward for any task record: finds the task by record.data_source ("cellrl/countdown") and runs its verifier.
 * @example reward.taskReward("(3+5)*7", {target: 56, numbers: [3, 5, 7]}, {data_source: "cellrl/countdown"}).score // 1
 */
export function taskReward(
  response: string,
  groundTruth: unknown,
  record?: RewardRecord,
  options: Record<string, unknown> = {},
): RewardResult {
  const source = record?.data_source ?? "";
  const task = taskForSource(source);
  if (!task)
    fail(
      "unknown_name",
      `reward.taskReward: no task owns data_source ${JSON.stringify(source)} (tasks: ` +
        `${tasks
          .entries()
          .map((e) => e.fn.dataSource)
          .join(", ")}). Register it with tasks.registerTask(...).`,
      { got: source, path: ["data_source"] },
    );
  const v = task!.verify(response, groundTruth, options);
  return { score: v.score, details: { task: task!.name, ...v.details } };
}

for (const { fn: t } of tasks.entries())
  register(t.name, (response, groundTruth, _record, options) => t.verify(response, groundTruth, options), {
    summary: `task verifier: ${t.summary}`,
  });
register("task", taskReward, { summary: "any cellrl/* task record, verified by the task that owns its data_source" });
routeDataSource(/^cellrl\//, "task");
