import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { createLogZHead, flowrlDefaults, flowrlLoss } from "../../lib/update/index.js";
import { poolPrompt } from "../../lib/update/flowrl/logz-head.js";
import { Rng } from "../../lib/core/random.js";
import { close, finiteDiff, setup } from "./setup.js";

const B = 2,
  T = 3;
const LOGP = [-1, -2, -0.5, -1.5, -0.7, -3];
const OLD = [-1.1, -1.6, -0.5, -1.5, -0.9, -3];
const REF = [-1.2, -1.8, -0.6, -1.0, -1.0, -2];
const MASK = [1, 1, 1, 1, 1, 0];
const RHAT = [0.7, -0.7];
const LOGZ = [0.3, -0.2];
const t2 = (x: ArrayLike<number>) => tf.tensor2d(Array.from(x), [B, T]);

/** FlowRL loss by hand (reference §3.3), with a token-keep mask and a weight transform. */
function hand(keep: number[], wf: (w: number) => number, beta = 15) {
  let s = 0;
  for (let i = 0; i < B; i++) {
    let L = 0,
      a = 0,
      r = 0,
      lw = 0;
    for (let t = 0; t < T; t++) {
      const k = i * T + t,
        m = MASK[k] * keep[k];
      L += m;
      a += m * LOGP[k];
      r += m * REF[k];
      lw += m * (LOGP[k] - OLD[k]);
    }
    const delta = LOGZ[i] + a / L - beta * RHAT[i] - r / L;
    s += wf(Math.exp(lw)) * delta * delta;
  }
  return s / B;
}
const run = (o: Record<string, unknown>, logp = LOGP, logZ = LOGZ) =>
  tf.tidy(
    () =>
      flowrlLoss(
        { logp: t2(logp), oldLogp: t2(OLD), refLogp: t2(REF), mask: t2(MASK), logZ: tf.tensor1d(logZ), reward: RHAT },
        o,
      ).loss.dataSync()[0],
  );

describe("FlowRL", () => {
  before(setup);
  test("defaults: β = 15, the capped weight of verl-recipe HEAD", () => {
    assert.equal(flowrlDefaults.beta, 15);
    assert.equal(flowrlDefaults.weight, "cap");
    assert.deepEqual(flowrlDefaults.clip, [0.2, 0.28]);
  });
  test("the three importance-weight variants match hand computations", () => {
    const all = [1, 1, 1, 1, 1, 1];
    // log w: seq 0 = 0.1 − 0.4 + 0 = −0.3, seq 1 = 0 + 0.2 = 0.2
    close(
      run({ weight: "raw" }),
      hand(all, (w) => w),
    );
    close(
      run({ weight: "cap" }),
      hand(all, (w) => Math.min(w, 10)),
    );
    // clip: seq 0 has r̂ > 0 and token 0's ρ = e^0.1 = 1.105 < 1.28 (kept); token 1 ρ = e^−0.4 (A>0: only high drops) kept.
    // seq 1 has r̂ < 0: token 4 ρ = e^0.2 kept (only ρ < 0.8 drops). So nothing is dropped; only the clamp acts.
    close(
      run({ weight: "clip" }),
      hand(all, (w) => Math.min(Math.max(w, 0.8), 1.28)),
    );
    close(
      run({ weight: "clip", clip: [0.1, 0.05] }),
      hand([0, 1, 1, 1, 1, 1], (w) => Math.min(Math.max(w, 0.9), 1.05)),
    );
  });
  test("gradient w.r.t. log π and log Z matches finite differences", () => {
    for (const weight of ["raw", "cap", "clip"]) {
      const x = Float32Array.from(LOGP);
      const [gl, gz] = tf.tidy(() => {
        const g = tf.grads(
          (lp: tf.Tensor, lz: tf.Tensor) =>
            flowrlLoss(
              { logp: lp, oldLogp: t2(OLD), refLogp: t2(REF), mask: t2(MASK), logZ: lz, reward: RHAT },
              { weight: weight as "raw" },
            ).loss,
        )([t2(x), tf.tensor1d(LOGZ)]);
        return g.map((t) => Float32Array.from(t.dataSync()));
      });
      // the weight is stop-gradient: hold it fixed by moving old with logp
      const d0 = LOGP.map((v, i) => v - OLD[i]);
      const f = (z: Float32Array) =>
        tf.tidy(
          () =>
            flowrlLoss(
              {
                logp: t2(z),
                oldLogp: t2(z.map((v, i) => v - d0[i])),
                refLogp: t2(REF),
                mask: t2(MASK),
                logZ: tf.tensor1d(LOGZ),
                reward: RHAT,
              },
              { weight: weight as "raw" },
            ).loss.dataSync()[0],
        );
      close(gl, finiteDiff(f, x, 1e-2), 2e-3, weight);
      close(
        gz,
        finiteDiff((z) => run({ weight }, LOGP, Array.from(z)), Float32Array.from(LOGZ), 1e-2),
        2e-3,
        weight + " logZ",
      );
    }
  });
  test("log Z head: 3 layers, GELU, LayerNorm, dropout only when training, seeded init", () => {
    const head = createLogZHead(8, { rng: new Rng(0) });
    assert.equal(head.variables.length, 2 * 4 + 2); // 2 hidden blocks (W, b, γ, β) + output (W, b)
    const x = tf.tensor2d(
      Array.from({ length: 16 }, (_, i) => Math.sin(i)),
      [2, 8],
    );
    const a = head.apply(x),
      b = head.apply(x);
    assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
    const c = head.apply(x, { training: true, rng: new Rng(5) }),
      d = head.apply(x, { training: true, rng: new Rng(5) });
    assert.deepEqual(Array.from(c.dataSync()), Array.from(d.dataSync()));
    assert.notDeepEqual(Array.from(c.dataSync()), Array.from(a.dataSync()));
    const head2 = createLogZHead(8, { rng: new Rng(0) });
    head2.setWeights(head.getWeights());
    assert.deepEqual(Array.from(head2.apply(x).dataSync()), Array.from(a.dataSync()));
    // gradient reaches every head variable
    const { grads } = tf.variableGrads(() => head.apply(x).sum() as tf.Scalar, head.variables);
    assert.equal(Object.keys(grads).length, head.variables.length);
    tf.dispose([x, a, b, c, d, ...Object.values(grads)]);
    head.dispose();
    head2.dispose();
  });
  test("log Z head forward matches a hand-written MLP", () => {
    const head = createLogZHead(2, { layers: 2, rng: new Rng(1) });
    const w = Object.fromEntries(head.getWeights().map((x) => [x.name, Array.from(x.values)]));
    const inp = [0.5, -1];
    const h = [0, 1].map((j) => inp[0] * w["l0/w"][0 * 2 + j] + inp[1] * w["l0/w"][1 * 2 + j] + w["l0/b"][j]);
    const gelu = (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2));
    const g = h.map(gelu),
      mu = (g[0] + g[1]) / 2,
      varr = ((g[0] - mu) ** 2 + (g[1] - mu) ** 2) / 2;
    const n = g.map((v) => (v - mu) / Math.sqrt(varr + 1e-5));
    const out = n[0] * w["out/w"][0] + n[1] * w["out/w"][1] + w["out/b"][0];
    const got = tf.tidy(() => head.apply(tf.tensor2d([inp])).dataSync()[0]);
    close(got, out, 1e-4);
    head.dispose();
  });
  test("poolPrompt averages prompt positions without the last prompt token", () => {
    const hidden = tf.tensor3d([
      [
        [1, 1],
        [3, 3],
        [5, 5],
        [100, 100],
      ],
      [
        [0, 0],
        [2, 4],
        [6, 8],
        [100, 100],
      ],
    ]);
    const pooled = tf.tidy(() =>
      Array.from(
        poolPrompt({
          hidden,
          promptMask: [
            [1, 1, 1, 0],
            [0, 1, 1, 0],
          ],
        }).dataSync(),
      ),
    );
    close(pooled, [2, 2, 2, 4]); // row 0: mean of positions 0,1; row 1 (left-padded): position 1 only
    hidden.dispose();
  });
});

// Abramowitz-Stegun 7.1.26 is too coarse for 1e-4; use a series/continued fraction good to ~1e-7.
function erf(x: number): number {
  const s = Math.sign(x),
    a = Math.abs(x);
  if (a < 2.5) {
    let sum = a,
      term = a;
    for (let n = 1; n < 60; n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    return (s * 2 * sum) / Math.sqrt(Math.PI);
  }
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (a + f);
  return s * (1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + f));
}
