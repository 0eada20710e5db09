// A GRPO step written out as a notebook cell through the public API: it must stay this short and read like the paper.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { model, rollout, update, Rng } from "../../lib/index.js";
import { digitReward, PROMPTS, TARGETS, tinyPolicy } from "./fixture.js";
import { setup } from "./setup.js";

describe("a GRPO step as a notebook cell", () => {
  before(setup);
  test("sample, score, group-normalise, one clipped update: six lines", async () => {
    const policy = tinyPolicy(0);
    const opt = new model.AdamW(policy.model.namedVariables(), { lr: 3e-3, weightDecay: 0 });
    const rng = new Rng(1);
    const rewards: number[] = [];
    for (let step = 0; step < 40; step++) {
      const ro = await rollout.sample(policy, PROMPTS, { n: 8, maxNewTokens: 1, columns: { target: TARGETS }, rng }); // o_1..o_G ~ π_old(·|q)
      const r = digitReward(ro); // r_i
      const A = update.advantage("grpo", { rewards: r, groups: ro.group }); // Â_i = (r_i − mean) / std
      const old = model.logprobs(policy.model, ro).logp; // log π_old(o_t)
      const m = update.step(policy, opt, ro, ({ logp, mask }) =>
        // one step on −J_GRPO(θ)
        update.policyLoss("ppo-clip", { logp, mask, oldLogp: old, adv: A }, { clip: [0.2, 0.28], agg: "token-mean" }),
      );
      rewards.push(r.reduce((a, b) => a + b, 0) / r.length);
      assert.ok(Number.isFinite(m["update/gradNorm"]) && m["update/ratioMax"] > 0.999);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(
      mean(rewards.slice(-10)) > mean(rewards.slice(0, 10)) + 0.2,
      `${mean(rewards.slice(0, 10))} → ${mean(rewards.slice(-10))}`,
    );
    policy.model.dispose();
    opt.dispose();
  });
});
