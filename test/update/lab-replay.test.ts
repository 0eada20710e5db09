import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../lib/core/random.js";
import { AdamW } from "../../lib/model/optim.js";
import { logprobs } from "../../lib/model/logprobs.js";
import { compareLosses, grpoStep, replay, restore, snapshot, sftLoss } from "../../lib/update/index.js";
import { digitReward, PROMPTS, TARGETS, tinyPolicy } from "./fixture.js";
import { close, setup } from "./setup.js";

const batch = {
  ids: [
    [5, 7, 6, 3, 4],
    [6, 7, 5, 5, 2],
    [7, 7, 3, 4, 4],
    [3, 7, 3, 3, 1],
  ],
  responseMask: [
    [0, 0, 1, 1, 1],
    [0, 0, 1, 1, 0],
    [0, 0, 1, 0, 0],
    [0, 0, 1, 1, 1],
  ],
};
const adv = [1, -1, 0.5, -0.5];

describe("loss lab and step replay", () => {
  before(setup);
  test("compareLosses reports loss, per-token weights, grad norm and the logprob change, without touching the policy", () => {
    const p = tinyPolicy(11);
    const old = logprobs(p.model, batch).logp; // ratio 1: on-policy
    const before = logprobs(p.model, batch).logp;
    const lab = compareLosses(
      p,
      { ...batch, oldLogp: old, adv },
      {
        ppo: { loss: "ppo-clip", options: { clip: [0.2, 0.28] } },
        cispo: { loss: "cispo" },
        drGrpo: { loss: "ppo-clip", options: { agg: "seq-mean-token-sum-norm" } },
        sft: ({ logp, mask }) => sftLoss({ logp, mask }),
      },
      { optimizer: { lr: 1e-2 } },
    );
    assert.deepEqual(lab.table.array("variant"), ["ppo", "cispo", "drGrpo", "sft"]);
    const ppo = lab.variants[0];
    // token-mean over 9 response tokens at ratio 1: ∂loss/∂log π = −A/9 on every response token
    const N = 9;
    close(
      ppo.tokenWeights.flat(),
      batch.responseMask.flatMap((r, b) => r.map((m) => (m ? -adv[b] / N : 0))),
      1e-5,
    );
    // cispo has the same gradient at ratio 1
    close(lab.variants[1].tokenWeights.flat(), ppo.tokenWeights.flat(), 1e-5);
    // Dr. GRPO: Σ/(B·T) = weights −A/(4·5)
    close(
      lab.variants[2].tokenWeights.flat(),
      batch.responseMask.flatMap((r, b) => r.map((m) => (m ? -adv[b] / 20 : 0))),
      1e-5,
    );
    // the update raises log π on positive-advantage sequences and lowers it on negative ones
    assert.ok(ppo.meanChangePosAdv > 0 && ppo.meanChangeNegAdv < 0, `${ppo.meanChangePosAdv} ${ppo.meanChangeNegAdv}`);
    assert.ok(
      lab.variants[3].meanChangePosAdv > 0 && lab.variants[3].meanChangeNegAdv > 0,
      "sft raises every target token",
    );
    assert.ok(ppo.gradNorm > 0 && Number.isFinite(ppo.loss));
    assert.deepEqual(logprobs(p.model, batch).logp, before, "the policy itself is unchanged");
    p.model.dispose();
  });

  test("replaying a snapshot reproduces the step bit for bit and diffs logprobs on the same completions", async () => {
    const p = tinyPolicy(12);
    const opt = new AdamW(p.model.namedVariables(), { lr: 5e-3, weightDecay: 0 });
    const rng = new Rng(21);
    const opts = { n: 4, sampling: { maxNewTokens: 2 }, rng, thresholds: { truncFrac: null } };
    const inputs = (s: number) => ({
      policy: p,
      opt,
      prompts: PROMPTS,
      reward: digitReward,
      columns: { target: TARGETS },
      step: s,
    });
    await grpoStep(inputs(0), opts); // optimizer state exists now
    const snap = snapshot({ policy: p, opt, rng, step: 1 });
    const first = await grpoStep(inputs(1), opts);
    const scoreBatch = first.rollout;
    const afterFirst = logprobs(p.model, scoreBatch).logp;
    const n0 = tf.memory().numTensors;
    const rep1 = await replay(snap, { policy: p, opt, rng }, () => grpoStep(inputs(1), opts), { scoreBatch });
    const rep2 = await replay(snap, { policy: p, opt, rng }, () => grpoStep(inputs(1), opts), { scoreBatch });
    assert.equal(tf.memory().numTensors, n0);
    const strip = (m: Record<string, number>) =>
      Object.fromEntries(Object.entries(m).filter(([k]) => !k.startsWith("time/")));
    assert.deepEqual(strip(rep1.output.metrics), strip(first.metrics));
    assert.deepEqual(rep1.after, afterFirst);
    assert.deepEqual(rep2.delta, rep1.delta);
    assert.ok(rep1.meanAbsDelta > 0 && rep1.maxAbsDelta.sample >= 0);
    // restore puts the weights back exactly
    restore(snap, { policy: p, opt, rng });
    assert.deepEqual(logprobs(p.model, scoreBatch).logp, rep1.before);
    snap.dispose();
    p.model.dispose();
    opt.dispose();
  });
});
