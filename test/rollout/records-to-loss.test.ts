// Records in, scores out: the README's GRPO cell (sample records -> reward.score(ro) -> advantage -> old logprobs ->
// step) learns the tiny digit task, and grpoStep given records scores them with reward.score by default.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { data, model, reward, rollout, update, Rng } from "../../lib/index.js";
import { PROMPTS, TARGETS, tinyPolicy } from "../update/fixture.js";
import { setup } from "../update/setup.js";

before(setup);

// a user reward, routed by data_source as a built-in one would be
reward.register(
  "test-digit",
  (response, gt) => ({ score: response[0] === gt ? 1 : 0, details: { rule: "first-char" } }),
  { dataSources: ["test/digit"] },
);
const records = PROMPTS.map((p, i) => data.record({ data_source: "test/digit", prompt: p, ground_truth: TARGETS[i] }));
const mean = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0) / xs.length;

test("the README cell: records -> reward.score(ro) -> advantage -> old logprobs -> step, no row bookkeeping", async () => {
  const policy = tinyPolicy(0);
  const opt = new model.AdamW(policy.model.namedVariables(), { lr: 3e-3, weightDecay: 0 });
  const rng = new Rng(1);
  const means: number[] = [];
  for (let s = 0; s < 40; s++) {
    const ro = await rollout.sample(policy, records, { n: 8, maxNewTokens: 1, rng });
    const { scores } = await reward.score(ro);
    const A = update.advantage("grpo", { rewards: scores, groups: ro.group });
    const old = model.logprobs(policy.model, ro).logp;
    update.step(policy, opt, ro, { oldLogp: old, adv: A }, (mb) =>
      update.policyLoss("ppo-clip", mb, { clip: [0.2, 0.28] }),
    );
    means.push(mean(scores));
    if (s === 0) assert.deepEqual(ro.table.array("ground_truth").slice(0, 8), Array(8).fill("0"));
  }
  assert.ok(
    mean(means.slice(-10)) > mean(means.slice(0, 10)) + 0.2,
    `${mean(means.slice(0, 10))} -> ${mean(means.slice(-10))}`,
  );
  policy.model.dispose();
  opt.dispose();
});

test("grpoStep on records: the reward defaults to reward.score(ro)", async () => {
  const policy = tinyPolicy(0);
  const opt = new model.AdamW(policy.model.namedVariables(), { lr: 3e-3, weightDecay: 0 });
  const r = await update.grpoStep(
    { policy, opt, prompts: records },
    { n: 4, sampling: { maxNewTokens: 1 }, rng: new Rng(2), thresholds: { truncFrac: null } },
  );
  const ro = r.rollout;
  assert.deepEqual(ro.records, records);
  assert.deepEqual(
    Array.from(r.rewards),
    ro.responses.map((s, i) => (s[0] === TARGETS[ro.group[i]] ? 1 : 0)),
  );
  policy.model.dispose();
  opt.dispose();
});
