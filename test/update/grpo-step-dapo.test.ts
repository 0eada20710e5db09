// grpoStep's DAPO switches: dynamic sampling (only groups with a reward spread reach the update) and truncation
// masking (rows cut at maxNewTokens are out of the loss).
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Rng } from "../../lib/core/random.js";
import { AdamW } from "../../lib/model/optim.js";
import { grpoStep } from "../../lib/update/index.js";
import { digitReward, PROMPTS, TARGETS, tinyPolicy } from "./fixture.js";
import { setup } from "./setup.js";

const inputs = (p: ReturnType<typeof tinyPolicy>, opt: AdamW) => ({
  policy: p,
  opt,
  prompts: PROMPTS,
  reward: digitReward,
  columns: { target: TARGETS },
});

describe("grpoStep DAPO switches", () => {
  before(setup);
  test("dynamicSampling: every group of the update has a reward spread; the draws are counted", async () => {
    const p = tinyPolicy(0);
    const opt = new AdamW(p.model.namedVariables(), { lr: 1e-3, weightDecay: 0 });
    const r = await grpoStep(inputs(p, opt), {
      n: 6,
      sampling: { maxNewTokens: 1 },
      dynamicSampling: { batchSize: 2, drawSize: 2, maxDraws: 0 },
      thresholds: { truncFrac: null },
      rng: new Rng(4),
    });
    assert.equal(r.rollout.prompts.length, 2);
    assert.equal(r.rollout.size, 12);
    for (let g = 0; g < 2; g++) {
      const rg = Array.from(r.rewards).filter((_, i) => r.rollout.group[i] === g);
      assert.ok(
        rg.some((x) => x !== rg[0]),
        `group ${g}: ${rg}`,
      );
    }
    assert.ok(r.metrics["train/num_gen_batches"] >= 1);
    assert.equal(r.metrics["rollout/groupsKept"], 2);
    // no zero-std group, so no group with all-zero advantages
    assert.ok(Array.from(r.adv).some((a) => a !== 0));
    p.model.dispose();
    opt.dispose();
  });
  test("maskTruncated: rows cut at maxNewTokens get an all-zero response mask and keep their reward", async () => {
    const p = tinyPolicy(0);
    const opt = new AdamW(p.model.namedVariables(), { lr: 1e-3, weightDecay: 0 });
    const r = await grpoStep(inputs(p, opt), {
      n: 4,
      sampling: { maxNewTokens: 2 },
      maskTruncated: true,
      thresholds: { truncFrac: null },
      rng: new Rng(5),
    });
    const cut = r.rollout.finishReason.map((f, i) => (f === "length" ? i : -1)).filter((i) => i >= 0);
    assert.ok(cut.length > 0);
    for (const i of cut) assert.ok(r.rollout.responseMask[i].every((x) => x === 0));
    assert.equal(r.metrics["rollout/maskedTruncated"], cut.length);
    assert.equal(r.rewards.length, r.rollout.size);
    p.model.dispose();
    opt.dispose();
  });
});
