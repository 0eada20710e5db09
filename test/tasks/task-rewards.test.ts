// Tasks plug into lib/reward: every cellrl/* record scores through reward.score, and each task is a named reward.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as reward from "../../lib/reward/index.js";
import * as tasks from "../../lib/tasks/index.js";

test("every task's records score 1 with their reference answer and 0 with an empty response", () => {
  for (const name of tasks.tasks.names()) {
    for (const rec of tasks.records(name, 5, { seed: 11 })) {
      const ok = reward.scoreResponseSync(rec, String(rec.extra_info!.answer));
      assert.deepEqual([ok.score, ok.details.reward, ok.details.task], [1, "task", name]);
      assert.equal(reward.scoreResponseSync(rec, "").score, 0);
      assert.equal(reward.scoreResponseSync(rec, String(rec.extra_info!.answer), { reward: name }).score, 1);
    }
  }
});

test("a task defined in a notebook is scored by data_source without touching the reward registry", () => {
  const echo = tasks.defineTask<{ length: number }>({
    name: "echo-test",
    dataSource: "cellrl/echo-test",
    summary: "repeat the word",
    alphabet: "abc =",
    defaults: { length: 3 },
    resolve: (o) => ({ length: o.length ?? 3 }),
    generate: (rng, o) => {
      const w = Array.from({ length: o.length }, () => "abc"[rng.int(3)]).join("");
      return { prompt: `${w}=`, groundTruth: w, answer: w };
    },
    verify: (r, gt) => ({ score: r.trim() === gt ? 1 : 0, details: {} }),
  });
  tasks.registerTask(echo);
  const [rec] = echo(1, { seed: 0 });
  assert.equal(reward.scoreResponseSync(rec, String(rec.reward_model.ground_truth)).score, 1);
  assert.equal(reward.scoreResponseSync(rec, "zzz").score, 0);
});
