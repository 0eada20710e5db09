// viz.lossWeights draws what the policy-loss variant itself reports: for EVERY registered variant (a variant added
// later is covered without touching this file), its per-token effective weight equals −∂loss/∂log π by autograd, on a
// batch where PPO's clip binds on both sides and dual-clip binds (A < 0, ρ > c).
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import * as viz from "../../lib/viz/index.js";
import { policyLoss, policyLosses } from "../../lib/update/index.js";
import { setup } from "../update/setup.js";

before(setup);

const LN = Math.log;
// Column 0 is the prompt (masked); the response's log-ratios ρ: 0.5 (< 1 − ε_low), 1.1 (inside), 1.5 (> 1 + ε_high),
// 4 (> c = 3). Rows 0-2: per-token ratios with A = 1.5, −2, 0. Rows 3-10: every token of a row shares one ratio (so
// the sequence-level ratio of gspo crosses the same bounds), A = +1 then −1.
const R = [0.5, 1.1, 1.5, 4];
const LR: number[][] = [
  [0, ...R.map(LN)],
  [0, ...R.map(LN)],
  [0, ...R.map(LN)],
  ...[...R, ...R].map((r) => [0, LN(r), LN(r), LN(r), LN(r)]),
];
const ADV = [1.5, -2, 0, 1, 1, 1, 1, -1, -1, -1, -1];
const OLD = LR.map((r, b) => r.map((_, t) => -0.3 - 0.1 * t - 0.05 * b));
const LOGP = LR.map((r, b) => r.map((x, t) => OLD[b][t] + x));
const MASK = LR.map((r) => r.map((_, t) => (t === 0 ? 0 : 1)));
const OPTS = { clip: [0.2, 0.28] as [number, number], clipC: 3 };

/** ∂(Σ_b Σ_t m·ℓ)/∂log π by autograd: seq-mean-token-sum over 1 "sequence" is the plain masked sum. */
function autogradWeights(name: string): number[][] {
  return tf.tidy(() => {
    const g = tf.grad(
      (lp: tf.Tensor) =>
        policyLoss(
          name,
          { logp: lp, oldLogp: OLD, adv: ADV, mask: MASK },
          { ...OPTS, agg: "seq-mean-token-sum", seqs: 1 },
        ).loss,
    )(tf.tensor2d(LOGP));
    return g.arraySync() as number[][];
  });
}

test("viz.lossWeights' effective weight is −∂loss/∂log π (autograd) for every registered policy-loss variant", () => {
  const names = policyLosses.names();
  assert.ok(
    names.length >= 4 && ["ppo-clip", "gspo", "cispo", "pg"].every((n) => names.includes(n)),
    `registered: ${names}`,
  );
  const n0 = tf.memory().numTensors;
  for (const name of names) {
    const w = viz.lossWeights({ logp: LOGP, oldLogp: OLD, adv: ADV, mask: MASK }, { loss: name, ...OPTS });
    const g = autogradWeights(name);
    g.forEach((row, b) =>
      row.forEach((x, t) => {
        const want = x === 0 ? 0 : -x;
        assert.ok(
          Math.abs(w.effective[b][t] - want) <= 1e-5 * Math.max(1, Math.abs(want)),
          `${name}: row ${b}, token ${t}: viz ${w.effective[b][t]} vs autograd ${want}`,
        );
      }),
    );
  }
  assert.equal(tf.memory().numTensors, n0, "no tensors leak");
});

test("the batch exercises PPO's clip on both sides and dual-clip, and viz shows no push where the loss has none", () => {
  const w = viz.lossWeights({ logp: LOGP, oldLogp: OLD, adv: ADV, mask: MASK }, { loss: "ppo-clip", ...OPTS });
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) <= 1e-5, `${a} vs ${b}`);
  // row 0, A > 0: ρ = 1.5 and 4 clip (no gradient); ρ = 0.5 and 1.1 push up with A·ρ
  assert.deepEqual(w.clipped[0], [0, 0, 0, 1, 1]);
  [0, 0.75, 1.65, 0, 0].forEach((x, t) => close(w.effective[0][t], x));
  // row 1, A < 0: ρ = 0.5 clips low; ρ = 4 > c is the dual clip: zero gradient (the old viz showed a push of −8)
  assert.deepEqual(w.clipped[1], [0, 1, 0, 0, 1]);
  [0, 0, -2.2, -3, 0].forEach((x, t) => close(w.effective[1][t], x));
  close(w.weight[1][4], -8); // A x ratio is still shown as the unclipped surrogate weight
  // without dual-clip the same token pushes down with A·ρ
  const noDual = viz.lossWeights(
    { logp: LOGP, oldLogp: OLD, adv: ADV, mask: MASK },
    { loss: "ppo-clip", clip: [0.2, 0.28], clipC: null },
  );
  close(noDual.effective[1][4], -8);
  assert.equal(noDual.clipped[1][4], 0);
  // cispo's clip changes the weight but keeps the gradient: ρ = 4 counts as 1.28
  const cispo = viz.lossWeights({ logp: LOGP, oldLogp: OLD, adv: ADV, mask: MASK }, { loss: "cispo", ...OPTS });
  close(cispo.effective[0][4], 1.5 * 1.28);
  assert.equal(cispo.clipped[0][4], 1);
});
