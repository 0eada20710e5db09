// Routing records to rewards by data_source, user rewards from a cell, composite rewards, result checks.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CellrlError } from "../../lib/core/errors.js";
import * as reward from "../../lib/reward/index.js";
import { routeOf } from "../../lib/reward/registry.js";
import * as tasks from "../../lib/tasks/index.js";

const rec = (data_source: string, ground_truth: unknown) => ({
  data_source,
  reward_model: { style: "rule", ground_truth },
});

test("built-in routes: R1 recipe sources, our datasets, patterns, tasks", () => {
  const cases: [string, string][] = [
    ["Maxwell-Jia/AIME_2024", "math"],
    ["opencompass/cnmo2024_zh", "math"],
    ["HuggingFaceH4/MATH-500", "math"],
    ["lighteval/MATH", "math"],
    ["opencompass/AIME2025", "math"],
    ["math-ai/amc23", "math"],
    ["Hothan/OlympiadBench", "math"],
    ["openai/gsm8k", "gsm8k"],
    ["Idavidrein/gpqa", "gpqa"],
    ["TIGER-Lab/MMLU-Pro", "mmlu-pro"],
    ["livecodebench/code_generation_lite", "code"],
    ["openai/openai_humaneval", "code"],
    ["deepmind/code_contests", "code"],
    ["my-lab/aime-2026", "math"],
    ["cellrl/countdown", "task"],
    ["OPENAI/GSM8K", "gsm8k"],
  ];
  for (const [source, name] of cases) assert.equal(routeOf(source), name, source);
});

test("score() dispatches and returns {score, details} naming the reward", async () => {
  const r = await reward.scoreResponse(rec("openai/gsm8k", "18"), "so #### 18");
  assert.deepEqual([r.score, r.details.reward, r.details.rule], [1, "gsm8k", "string"]);
  assert.equal(reward.scoreResponseSync(rec("Idavidrein/gpqa", "B"), "Answer: A ... Answer: B").score, 1);
  assert.equal(reward.scoreResponseSync(rec("HuggingFaceH4/MATH-500", "\\frac{1}{2}"), "$\\boxed{0.5}$").score, 1);
  const [cd] = tasks.countdown(1, { seed: 3 });
  assert.equal(reward.scoreResponseSync(cd, String(cd.extra_info!.answer)).score, 1);
  // Reward options pass through; {reward} overrides the route.
  assert.equal(
    reward.scoreResponseSync(rec("openai/gsm8k", "5"), "I get 5 apples", {
      rewardOptions: { lastNumberFallback: true },
    }).score,
    1,
  );
  assert.equal(reward.scoreResponseSync(rec("anything/at-all", "5"), "\\boxed{5}", { reward: "math" }).score, 1);
});

test("unknown data_source: a clear error listing sources and how to register", () => {
  assert.throws(
    () => reward.scoreResponseSync(rec("my/thing", "1"), "1"),
    (e: unknown) =>
      e instanceof CellrlError &&
      e.code === "unknown_name" &&
      /openai\/gsm8k/.test(e.message) &&
      /reward\.register\(name, fn, \{dataSources: \["my\/thing"\]\}\)/.test(e.message),
  );
  assert.throws(
    () => reward.scoreResponseSync({ reward_model: {} } as never, "1"),
    /data_source must be a non-empty string/,
  );
  assert.throws(() => reward.scoreResponseSync(rec("openai/gsm8k", "1"), 42 as never), /response must be a string/);
});

test("a user reward registered in a cell, routed by data_source and by pattern; re-running the cell is fine", () => {
  const shout = (r: string) => ({ score: r === r.toUpperCase() ? 1 : 0, details: { rule: "upper" } });
  reward.register("shout", shout, { dataSources: ["my/shout", /^shouty\//] });
  reward.register("shout", shout, { dataSources: ["my/shout"] });
  assert.equal(reward.scoreResponseSync(rec("my/shout", null), "HEY").score, 1);
  assert.equal(reward.scoreResponseSync(rec("shouty/v2", null), "hey").score, 0);
  reward.routeDataSource("my/algebra", "math");
  assert.equal(reward.scoreResponseSync(rec("my/algebra", "2"), "\\boxed{2}").score, 1);
});

test("async rewards: score() awaits, scoreSync() refuses; bad results are errors", async () => {
  reward.register("slow", async (r) => ({ score: r.length, details: {} }));
  assert.equal((await reward.scoreResponse(rec("x", null), "abc", { reward: "slow" })).score, 3);
  assert.throws(() => reward.scoreResponseSync(rec("x", null), "abc", { reward: "slow" }), /is async/);
  reward.register("broken", () => ({ score: NaN, details: {} }));
  assert.throws(
    () => reward.scoreResponseSync(rec("x", null), "a", { reward: "broken" }),
    /expected \{score: finite number/,
  );
});

test("composite: weighted sum with components in details, gates, async parts", async () => {
  const f = reward.composite({ math: 1, "r1-format": 0.1 });
  const good = f("<think>2+2</think> \\boxed{4}", "4") as reward.RewardResult;
  assert.equal(good.score, 1.1);
  const comps = good.details.components as Record<string, { score: number; weight: number }>;
  assert.deepEqual([comps.math.score, comps["r1-format"].score, comps["r1-format"].weight], [1, 1, 0.1]);
  const gated = reward.composite([{ reward: "r1-format", required: true }, { reward: "math" }]);
  const r = gated("\\boxed{4}", "4") as reward.RewardResult;
  assert.deepEqual([r.score, r.details.rule], [0, "gated-by:r1-format"]);
  const mixed = reward.composite([{ reward: "math" }, { reward: "slow", weight: 0.5 }]);
  const m = mixed("\\boxed{4}", "4");
  assert.ok(m instanceof Promise);
  assert.equal((await m).score, 1 + 0.5 * 9);
  assert.throws(() => reward.composite({ math: NaN }), /weight must be a finite number/);
  assert.throws(() => reward.composite([]), /at least one component/);
});

test("score(ro) / scoreSync(ro): one score per row, each routed by its prompt's record; table columns without records", async () => {
  const recs = [rec("openai/gsm8k", "18"), rec("Idavidrein/gpqa", "B"), rec("HuggingFaceH4/MATH-500", "\\frac{1}{2}")];
  const ro = {
    responses: ["#### 18", "#### 17", "Answer: B", "Answer: C", "$\\boxed{0.5}$", "none"],
    group: [0, 0, 1, 1, 2, 2],
    records: recs,
  };
  const s = reward.scoreSync(ro);
  assert.ok(s.scores instanceof Float32Array);
  assert.deepEqual(Array.from(s.scores), [1, 0, 1, 0, 1, 0]);
  assert.deepEqual(
    s.details.map((d) => d.reward),
    ["gsm8k", "gsm8k", "gpqa", "gpqa", "math", "math"],
  );
  const a = await reward.score(ro, { concurrency: 2 });
  assert.deepEqual(Array.from(a.scores), Array.from(s.scores));
  // an async reward: score awaits, scoreSync refuses
  assert.deepEqual(
    Array.from((await reward.score(ro, { reward: "slow" })).scores),
    ro.responses.map((r) => r.length),
  );
  assert.throws(() => reward.scoreSync(ro, { reward: "slow" }), /is async/);
  // no records: the data_source / ground_truth columns of the table
  const cols: Record<string, unknown[]> = { data_source: ["openai/gsm8k", "openai/gsm8k"], ground_truth: ["3", "4"] };
  const table = { columnNames: () => Object.keys(cols), get: (c: string, i: number) => cols[c][i] };
  assert.deepEqual(
    Array.from(reward.scoreSync({ responses: ["#### 3", "#### 3"], group: [0, 1], records: null, table }).scores),
    [1, 0],
  );
  assert.throws(() => reward.scoreSync({ responses: ["1"], group: [0], records: null }), /the rollout has no records/);
  assert.throws(
    () => reward.scoreSync({ responses: ["1"], group: [3], records: recs }),
    /row 0 belongs to prompt 3 but there are 3 records/,
  );
  assert.throws(() => reward.scoreSync(rec("x", "1") as never), /expected a rollout/);
});
