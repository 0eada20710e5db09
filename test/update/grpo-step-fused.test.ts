// grpoStep's on-policy path (one epoch, one mini-batch, π_old recomputed): log π_old comes from the update's own
// forward pass instead of a separate no-grad pass. It must give the same numbers, bit for bit, as the pieces composed
// by hand (sample → reward → advantage → model.logprobs → update.step), and keep the non-finite guard.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../lib/core/random.js";
import { AdamW } from "../../lib/model/optim.js";
import { logprobs } from "../../lib/model/logprobs.js";
import { sample } from "../../lib/rollout/rollout.js";
import { advantage, grpoStep, policyLoss, step, type GrpoStepOptions } from "../../lib/update/index.js";
import { matrixMean } from "../../lib/update/metrics.js";
import { digitReward, PROMPTS, TARGETS, tinyPolicy } from "./fixture.js";
import { setup } from "./setup.js";

const weights = (p: ReturnType<typeof tinyPolicy>) =>
  [...p.model.namedVariables()].map(([k, v]) => [k, Array.from(v.dataSync())] as const);

/** The same step from the pieces, with the separate no-grad pass for log π_old. */
async function byHand(p: ReturnType<typeof tinyPolicy>, opt: AdamW, seed: number, o: GrpoStepOptions) {
  const ro = await sample(p, PROMPTS, { ...o.sampling, n: o.n, columns: { target: TARGETS }, rng: new Rng(seed) });
  const rewards = Float32Array.from(digitReward(ro));
  const A = advantage("grpo", { rewards, groups: ro.group, lengths: ro.responseIds.map((r) => r.length) });
  const old = logprobs(p.model, ro, { temperature: 1 });
  const m = step(
    p,
    opt,
    { ids: ro.ids, attentionMask: ro.attentionMask, responseMask: ro.responseMask },
    { oldLogp: old.logp, adv: A },
    (mb) =>
      policyLoss("ppo-clip", mb, {
        clip: [0.2, 0.28],
        clipC: 3,
        agg: "token-mean",
        kl: null,
        entropy: o.entropyCoef && mb.entropy ? { coef: o.entropyCoef } : null,
      }),
    { temperature: 1, entropy: (o.entropyCoef ?? 0) > 0, logits: false, weightBy: "tokens" },
  );
  return { m, entropy: matrixMean(old.entropy!, ro.responseMask), rewards, A };
}

describe("grpoStep on-policy (log π_old from the update's forward pass)", () => {
  before(setup);

  for (const [what, extra] of [
    ["plain", {}],
    ["entropy bonus", { entropyCoef: 0.01 }],
  ] as const)
    test(`equals the separate passes bit for bit: metrics, entropy and weights (${what})`, async () => {
      const o: GrpoStepOptions = {
        n: 8,
        sampling: { maxNewTokens: 2, temperature: 1 },
        thresholds: { truncFrac: null },
        ...extra,
      };
      const [p1, p2] = [tinyPolicy(3), tinyPolicy(3)];
      const [o1, o2] = [p1, p2].map((p) => new AdamW(p.model.namedVariables(), { lr: 3e-3, weightDecay: 0 }));
      let before = 0;
      for (let s = 0; s < 3; s++) {
        if (s === 1) before = tf.memory().numTensors; // after the first step made AdamW's moments
        const r = await grpoStep(
          { policy: p1, opt: o1, prompts: PROMPTS, reward: digitReward, columns: { target: TARGETS }, step: s },
          { ...o, rng: new Rng(40 + s) },
        );
        const h = await byHand(p2, o2, 40 + s, o);
        assert.deepEqual(Array.from(r.rewards), Array.from(h.rewards), `step ${s} rewards`);
        assert.deepEqual(Array.from(r.adv), Array.from(h.A), `step ${s} advantages`);
        assert.ok(r.metrics["update/gradNorm"] > 0, "the step trained");
        for (const k of ["update/gradNorm", "update/loss", "update/pgLoss", "update/ratioMax", "update/approxKl"])
          assert.equal(r.metrics[k], h.m[k], `step ${s} ${k}`);
        assert.equal(r.metrics["rollout/entropy"], h.entropy, `step ${s} rollout/entropy`);
        assert.equal(r.metrics["time/logprob"], 0, "no separate pass was timed");
      }
      assert.deepEqual(weights(p1), weights(p2));
      assert.equal(tf.memory().numTensors, before, "no tensor leaked");
      for (const x of [p1.model, p2.model, o1, o2]) x.dispose();
    });

  test("epochs > 1 keeps the separate pass (π_old must stay fixed across epochs)", async () => {
    const p = tinyPolicy(4);
    const opt = new AdamW(p.model.namedVariables(), { lr: 3e-3 });
    const r = await grpoStep(
      { policy: p, opt, prompts: PROMPTS, reward: digitReward, columns: { target: TARGETS } },
      { n: 4, sampling: { maxNewTokens: 1 }, epochs: 2, rng: new Rng(1), thresholds: { truncFrac: null } },
    );
    assert.equal(r.metrics["update/optimizerSteps"], 2);
    assert.ok(r.metrics["time/logprob"] > 0, "the old logprobs had their own pass");
    assert.ok(r.metrics["update/ratioMax"] !== 1, "epoch 2 sees ρ ≠ 1");
    p.model.dispose();
    opt.dispose();
  });

  for (const nonFinite of ["error", "skip"] as const)
    test(`a non-finite π_old skips the update with its alert, leaking nothing (AdamW ${nonFinite})`, async () => {
      const p = tinyPolicy(8);
      const sampler = tinyPolicy(9); // healthy: the rollout is fine, only the trained policy's scores are NaN
      const opt = new AdamW(p.model.namedVariables(), { lr: 1e-3, nonFinite });
      const v = p.model.namedVariables().get("model.layers.1.mlp.down_proj.weight")!;
      v.assign(tf.fill(v.shape, NaN));
      const w0 = weights(p);
      const before = tf.memory().numTensors;
      const r = await grpoStep(
        { policy: p, sampler, opt, prompts: PROMPTS, reward: digitReward, columns: { target: TARGETS }, step: 4 },
        { n: 4, sampling: { maxNewTokens: 1 }, rng: new Rng(2), thresholds: { truncFrac: null } },
      );
      const bad = r.alerts.filter((x) => x.key === "alert/nonFinite");
      assert.equal(bad.length, 1, bad.map((x) => x.message).join(" | "));
      assert.match(bad[0].message, /step 4: the old logprob is NaN at sample 0, response token 0/);
      assert.equal(r.metrics["update/optimizerSteps"], 0);
      assert.deepEqual(weights(p), w0, "no update was applied");
      assert.equal(tf.memory().numTensors, before, "the refused step freed its tensors");
      for (const x of [p.model, sampler.model, opt]) x.dispose();
    });
});
