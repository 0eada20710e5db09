// The loss lab with the 2026 objectives: every registered policy loss runs in compareLosses on one frozen batch
// (nothing leaks, the policy is untouched), the 80/20 variant gets the entropy and pushes only the top-ρ tokens, and
// a closure may return another loss's result (distill.opdLoss).
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { logprobs } from "../../lib/model/logprobs.js";
import { compareLosses, policyLosses, type LossVariant } from "../../lib/update/index.js";
import { opdLoss } from "../../lib/distill/index.js";
import { tinyPolicy } from "./fixture.js";
import { setup } from "./setup.js";

const batch = {
  ids: [
    [5, 7, 6, 3, 4, 4],
    [6, 7, 5, 5, 2, 3],
    [7, 7, 3, 4, 4, 5],
    [3, 7, 3, 3, 1, 6],
  ],
  responseMask: [
    [0, 0, 1, 1, 1, 1],
    [0, 0, 1, 1, 0, 0],
    [0, 0, 1, 0, 0, 0],
    [0, 0, 1, 1, 1, 0],
  ],
};
const adv = [1, -1, 0.5, -0.5];

describe("loss lab: the 2026 objectives", () => {
  before(setup);
  test("every registered policy loss runs in the lab off-policy; no tensor leaks; the policy is unchanged", () => {
    const p = tinyPolicy(31);
    const now = logprobs(p.model, batch).logp;
    // a stale π_old: every response token's log-prob shifted by ±0.4, so ratios leave the clip range both ways
    const old = now.map((r, b) => r.map((x, t) => (batch.responseMask[b][t] ? x + (t % 2 ? 0.4 : -0.4) : x)));
    const variants: Record<string, LossVariant> = {};
    for (const name of policyLosses.names()) variants[name] = { loss: name, options: { seed: 0 } };
    const n0 = tf.memory().numTensors;
    const lab = compareLosses(p, { ...batch, oldLogp: old, adv }, variants, { optimizer: { lr: 1e-2 } });
    assert.equal(tf.memory().numTensors, n0, "no tensors leak");
    assert.deepEqual(lab.table.array("variant"), policyLosses.names());
    for (const v of lab.variants) {
      assert.ok(Number.isFinite(v.loss) && Number.isFinite(v.gradNorm) && v.gradNorm > 0, `${v.name}: ${v.loss}`);
      v.tokenWeights.forEach((r, b) =>
        r.forEach((w, t) => {
          if (!batch.responseMask[b][t]) assert.ok(w === 0, `${v.name}: no weight off the response`);
        }),
      );
      assert.ok(v.clipped, `${v.name} reports its clip flags`);
    }
    // the ratios e^±0.4 leave PPO's [0.8, 1.2]: clips bind, and a clipped token has no weight
    const ppo = lab.variants.find((v) => v.name === "ppo-clip")!;
    assert.ok(ppo.metrics["update/clipFrac"] > 0);
    ppo.clipped!.forEach((r, b) => r.forEach((c, t) => c && assert.ok(ppo.tokenWeights[b][t] === 0)));
    assert.deepEqual(logprobs(p.model, batch).logp, now, "the policy itself is unchanged");
    p.model.dispose();
  });

  test("80/20: the lab passes the entropy; only the top-ρ entropy tokens carry a weight", () => {
    const p = tinyPolicy(32);
    const old = logprobs(p.model, batch).logp;
    const H = logprobs(p.model, batch, { entropy: true }).entropy!;
    const lab = compareLosses(
      p,
      { ...batch, oldLogp: old, adv },
      {
        all: { loss: "ppo-clip" },
        top: { loss: "ppo-clip", options: { topEntropyQuantile: 0.25 } },
      },
      { optimizer: { lr: 1e-2 } },
    );
    const [all, top] = lab.variants;
    // 10 response tokens: the 0.75-quantile (linear) keeps the top 3 entropies
    const on: [number, number][] = [];
    batch.responseMask.forEach((r, b) => r.forEach((m, t) => m && on.push([b, t])));
    const hs = on.map(([b, t]) => H[b][t]).sort((x, y) => x - y);
    const pos = 0.75 * (hs.length - 1);
    const thr = hs[Math.floor(pos)] + (hs[Math.ceil(pos)] - hs[Math.floor(pos)]) * (pos - Math.floor(pos));
    let kept = 0;
    for (const [b, t] of on) {
      const keep = H[b][t] >= thr - 1e-6;
      if (keep) kept++;
      const want = keep ? all.tokenWeights[b][t] : 0;
      assert.ok(Math.abs(top.tokenWeights[b][t] - want) <= 1e-7, `[${b},${t}] ${top.tokenWeights[b][t]} vs ${want}`);
    }
    assert.equal(kept, 3);
    assert.ok(Math.abs(top.metrics["update/entropyKeepFrac"] - 0.3) < 1e-6);
    p.model.dispose();
  });

  test("a closure may return another loss's result (distill.opdLoss): weights by autograd, no clip flags", () => {
    const p = tinyPolicy(33);
    const old = logprobs(p.model, batch).logp;
    const teacher = old.map((r) => r.map((x, t) => x + (t % 2 ? 0.3 : -0.3)));
    const lab = compareLosses(
      p,
      { ...batch, oldLogp: old, adv, refLogp: teacher },
      { opd: (t) => opdLoss({ logp: t.logp, mask: t.mask, samplerLogp: t.oldLogp!, teacherLogp: t.refLogp! }) },
      { optimizer: { lr: 1e-2 } },
    );
    const v = lab.variants[0];
    assert.equal(v.clipped, undefined);
    // Tinker's OPD: the push on a token has the sign of log π_T − log q (here ±0.3 by column parity)
    batch.responseMask.forEach((r, b) =>
      r.forEach((m, t) => m && assert.equal(Math.sign(-v.tokenWeights[b][t]), t % 2 ? 1 : -1, `[${b},${t}]`)),
    );
    p.model.dispose();
  });
});
