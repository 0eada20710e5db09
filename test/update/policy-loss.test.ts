import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { aggregate, policyLoss, policyLossDefaults, sftLoss } from "../../lib/update/index.js";
import { Rng } from "../../lib/core/random.js";
import { close, finiteDiff, setup, tidy } from "./setup.js";

// B = 2 sequences, T = 3 tokens; the second sequence has 2 valid tokens.
const OLD = [-1.0, -2.0, -0.5, -1.5, -0.7, -3.0];
const DIFF = [0.0, 0.3, -0.3, 0.1, -0.5, 0.0]; // log π − log π_old
const LOGP = OLD.map((o, i) => o + DIFF[i]);
const MASK = [1, 1, 1, 1, 1, 0];
const ADV = [1, -1];

const t2 = (x: ArrayLike<number>) => tf.tensor2d(Array.from(x), [2, 3]);

/** Loss value and d loss / d logp for a variant (autodiff). */
function lossAndGrad(
  name: string,
  logp: ArrayLike<number>,
  opts: Record<string, unknown> = {},
  old: ArrayLike<number> = OLD,
  adv: number[] = ADV,
) {
  return tf.tidy(() => {
    const x = t2(logp);
    let value = 0;
    const g = tf.grad((lp: tf.Tensor) => {
      const { loss } = policyLoss(name, { logp: lp, oldLogp: t2(old), adv, mask: t2(MASK) }, opts);
      value = loss.dataSync()[0];
      return loss;
    })(x);
    return { value, grad: Float32Array.from(g.dataSync()) };
  });
}
const lossValue = (
  name: string,
  logp: ArrayLike<number>,
  opts: Record<string, unknown> = {},
  old: ArrayLike<number> = OLD,
) =>
  tf.tidy(
    () => policyLoss(name, { logp: t2(logp), oldLogp: t2(old), adv: ADV, mask: t2(MASK) }, opts).loss.dataSync()[0],
  );

describe("policy losses", () => {
  before(setup);
  test("defaults are verl's: clip 0.2, dual-clip c = 3, token-mean", () => {
    assert.equal(policyLossDefaults.clip, 0.2);
    assert.equal(policyLossDefaults.clipC, 3);
    assert.equal(policyLossDefaults.agg, "token-mean");
  });

  test("ppo-clip matches a hand computation with clip-higher", () => {
    const [lo, hi] = [0.2, 0.28];
    let s = 0;
    for (let i = 0; i < 6; i++) {
      const A = ADV[Math.floor(i / 3)],
        r = Math.exp(DIFF[i]);
      const l = Math.max(-A * r, -A * Math.min(Math.max(r, 1 - lo), 1 + hi));
      s += MASK[i] * (A < 0 ? Math.min(l, -A * 3) : l);
    }
    const { value } = lossAndGrad("ppo-clip", LOGP, { clip: [lo, hi] });
    close(value, s / 5);
    const m = tidy(() =>
      policyLoss("ppo-clip", { logp: t2(LOGP), oldLogp: t2(OLD), adv: ADV, mask: t2(MASK) }, { clip: [lo, hi] }),
    ).metrics;
    // token 1 (A>0, ρ = e^0.3 = 1.35 > 1.28) is clipped high; token 4 (A<0, ρ = e^-0.5 = 0.61 < 0.8) clipped low
    close([m["update/clipFracHigh"], m["update/clipFracLow"], m["update/clipFrac"]], [1 / 5, 1 / 5, 2 / 5]);
    close(m["update/ratioMax"], Math.exp(0.3));
    close(m["update/approxKl"], -(0 + 0.3 - 0.3 + 0.1 - 0.5) / 5);
  });

  test("ppo-clip gradient is zero exactly on the clipped tokens", () => {
    const { grad } = lossAndGrad("ppo-clip", LOGP, { clip: [0.2, 0.28] });
    // unclipped token: d(−A·ρ)/dlogp = −A·ρ, divided by 5 tokens
    close(grad, [-1 / 5, 0, -Math.exp(-0.3) / 5, Math.exp(0.1) / 5, 0, 0]);
  });

  test("clipping has no effect at ratio 1: ppo-clip, gspo and cispo all give −A·m/N", () => {
    for (const name of ["ppo-clip", "gspo", "cispo", "pg"]) {
      const { grad } = lossAndGrad(name, LOGP, { agg: "token-mean" }, LOGP);
      close(grad, [-1 / 5, -1 / 5, -1 / 5, 1 / 5, 1 / 5, 0], 1e-5, name);
    }
    // and the ratio-1 loss value of ppo-clip is −mean(A) over tokens
    close(lossValue("ppo-clip", LOGP, {}, LOGP), (-3 + 2) / 5);
  });

  test("dual-clip caps the loss of a negative advantage at −A·c with zero gradient", () => {
    const old = [...OLD];
    old[3] = LOGP[3] - Math.log(4); // ρ = 4 > c = 3 on a token with A = −1
    const { grad } = lossAndGrad("ppo-clip", LOGP, {}, old);
    assert.equal(grad[3], 0);
    const off = lossAndGrad("ppo-clip", LOGP, { clipC: null }, old);
    close(off.grad[3], 4 / 5); // without dual-clip: d(−A·ρ)/dlogp = ρ = 4 (over 5 tokens)
    const m = tidy(
      () => policyLoss("ppo-clip", { logp: t2(LOGP), oldLogp: t2(old), adv: ADV, mask: t2(MASK) }).metrics,
    );
    close(m["update/dualClipFrac"], 1 / 5);
  });

  test("gspo uses the length-normalised sequence ratio", () => {
    const s0 = Math.exp((0 + 0.3 - 0.3) / 3),
      s1 = Math.exp((0.1 - 0.5) / 2);
    const clipS = (s: number) => Math.min(Math.max(s, 0.8), 1.2);
    const l0 = Math.max(-1 * s0, -1 * clipS(s0)),
      l1 = Math.max(s1, clipS(s1));
    close(lossValue("gspo", LOGP), (l0 + l1) / 2); // default agg seq-mean-token-mean
    close(lossValue("gspo", LOGP, { agg: "token-mean" }), (3 * l0 + 2 * l1) / 5);
  });

  test("cispo is −sg(clip(ρ))·A·log π", () => {
    let s = 0;
    for (let i = 0; i < 6; i++)
      s += MASK[i] * -Math.min(Math.max(Math.exp(DIFF[i]), 0.8), 1.28) * ADV[Math.floor(i / 3)] * LOGP[i];
    const { value, grad } = lossAndGrad("cispo", LOGP, { clip: [0.2, 0.28] });
    close(value, s / 5);
    // gradient keeps flowing on the clipped tokens (1 and 4), scaled by the clipped weight
    close(grad[1], -1.28 / 5);
    close(grad[4], 0.8 / 5);
  });

  test("every variant's gradient matches finite differences, under every aggregation", () => {
    const rng = new Rng(7);
    for (const agg of ["token-mean", "seq-mean-token-sum", "seq-mean-token-mean", "seq-mean-token-sum-norm"]) {
      for (const name of ["ppo-clip", "gspo", "cispo", "pg"]) {
        // smooth points: ratios far from the clip boundaries
        const x = Float32Array.from(OLD, (o) => o + 0.05 * (rng.uniform() - 0.5));
        const d0 = x.map((v, i) => v - OLD[i]);
        const { grad } = lossAndGrad(name, x, { agg, clip: 0.2 });
        // cispo's weight is stop-gradient: hold it fixed by moving old with logp (the ratio stays put)
        const f =
          name === "cispo"
            ? (z: Float32Array) =>
                lossValue(
                  name,
                  z,
                  { agg },
                  z.map((v, i) => v - d0[i]),
                )
            : (z: Float32Array) => lossValue(name, z, { agg });
        close(grad, finiteDiff(f, x, 1e-2), 2e-3, `${name}/${agg}`);
      }
    }
  });

  test("the KL term adds β·agg(k) with the right gradient, for every estimator", () => {
    const ref = LOGP.map((v, i) => v + [0.2, -0.4, 0.1, 0.3, -0.2, 0.5][i]);
    for (const estimator of ["k1", "abs", "k2", "k3"]) {
      const opts = { kl: { refLogp: t2(ref), beta: 0.5, estimator } };
      const x = Float32Array.from(LOGP);
      const { value, grad } = lossAndGrad("pg", x, opts, LOGP);
      const base = lossValue("pg", x, {}, LOGP);
      let k = 0;
      for (let i = 0; i < 6; i++) {
        const d = LOGP[i] - ref[i];
        const v =
          estimator === "k1"
            ? d
            : estimator === "abs"
              ? Math.abs(d)
              : estimator === "k2"
                ? 0.5 * d * d
                : Math.exp(-d) + d - 1;
        k += MASK[i] * v;
      }
      close(value, base + 0.5 * (k / 5), 1e-5, estimator);
      close(
        grad,
        finiteDiff(
          (z) =>
            tf.tidy(
              () =>
                policyLoss(
                  "pg",
                  { logp: t2(z), oldLogp: t2(LOGP), adv: ADV, mask: t2(MASK) },
                  { kl: { refLogp: t2(ref), beta: 0.5, estimator } },
                ).loss.dataSync()[0],
            ),
          x,
          1e-2,
        ),
        2e-3,
        estimator,
      );
      opts.kl.refLogp.dispose();
    }
  });

  test("the entropy bonus subtracts coef·agg(H)", () => {
    const H = t2([1, 2, 3, 4, 5, 6]);
    const with_ = tidy(() =>
      policyLoss("pg", { logp: t2(LOGP), adv: ADV, mask: t2(MASK) }, { entropy: { values: H, coef: 0.1 } }),
    );
    const without = tidy(() => policyLoss("pg", { logp: t2(LOGP), adv: ADV, mask: t2(MASK) }));
    close(with_.loss.dataSync()[0], without.loss.dataSync()[0] - 0.1 * (15 / 5));
    close(with_.metrics["update/entropy"], 3);
    tf.dispose([H, with_.loss, without.loss]);
  });

  test("policyLoss frees every intermediate tensor", () => {
    const logp = t2(LOGP),
      old = t2(OLD),
      mask = t2(MASK);
    const before = tf.memory().numTensors;
    for (const name of ["ppo-clip", "gspo", "cispo"]) {
      const g = tf.grad(
        (lp: tf.Tensor) => policyLoss(name, { logp: lp, oldLogp: old, adv: ADV, mask }, { kl: { refLogp: old } }).loss,
      )(logp);
      g.dispose();
    }
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([logp, old, mask]);
  });

  test("bad inputs fail with the field and the fix", () => {
    const lp = t2(LOGP);
    assert.throws(
      () =>
        policyLoss("ppo-clip", {
          logp: lp,
          adv: ADV,
          mask: [
            [1, 1],
            [1, 1],
          ],
        }),
      /inputs\.mask has shape \[2, 2\] but inputs\.logp has \[2, 3\]; both must be \[B, T\]/,
    );
    assert.throws(
      () =>
        policyLoss("ppo-clip", {
          logp: lp,
          adv: [1, 2, 3],
          mask: MASK.length
            ? [
                [1, 1, 1],
                [1, 1, 0],
              ]
            : [],
        }),
      /inputs\.adv has 3 values but there are 2 sequences/,
    );
    assert.throws(
      () =>
        policyLoss(
          "ppo-clip",
          {
            logp: lp,
            adv: ADV,
            mask: [
              [1, 1, 1],
              [1, 1, 0],
            ],
          },
          { clip: [0.2] as unknown as number },
        ),
      /options\.clip is array\(1\)/,
    );
    assert.throws(
      () =>
        policyLoss(
          "ppo-clip",
          {
            logp: lp,
            adv: ADV,
            mask: [
              [1, 1, 1],
              [1, 1, 0],
            ],
          },
          { clipC: 0.5 },
        ),
      /clipC must be a number > 1 or null/,
    );
    assert.throws(
      () =>
        policyLoss("ppo", {
          logp: lp,
          adv: ADV,
          mask: [
            [1, 1, 1],
            [1, 1, 0],
          ],
        }),
      /unknown policy loss "ppo"/,
    );
    lp.dispose();
  });
});

describe("aggregation and SFT", () => {
  before(setup);
  const V = [
      [1, 2, 3],
      [4, 5, 6],
    ],
    M = [
      [1, 1, 0],
      [1, 0, 0],
    ];
  test("the four aggregation modes match hand values", () => {
    const a = (mode: string, o = {}) => tf.tidy(() => aggregate({ values: V, mask: M }, { mode, ...o }).dataSync()[0]);
    close(a("token-mean"), 7 / 3);
    close(a("seq-mean-token-sum"), 3.5);
    close(a("seq-mean-token-mean"), 2.75);
    close(a("seq-mean-token-sum-norm"), 7 / 6);
    close(a("token-mean", { tokens: 10 }), 0.7);
    close(a("seq-mean-token-sum-norm", { scaleFactor: 7, seqs: 1 }), 1);
    close(a("seq-mean-token-mean", { seqs: 4 }), 5.5 / 4);
  });
  test("sft loss is the masked mean negative log-likelihood", () => {
    const r = tf.tidy(() =>
      sftLoss({
        logp: tf.tensor2d([
          [-1, -2, -9],
          [-3, -9, -9],
        ]),
        mask: M,
      }),
    );
    close(r.loss.dataSync()[0], 2);
    close(r.metrics["update/sftLoss"], 2);
    r.loss.dispose();
    // gradient: −m/N on the 3 target tokens, against finite differences
    const x = Float32Array.from([-1, -2, -9, -3, -9, -9]);
    const f = (z: Float32Array) => tf.tidy(() => sftLoss({ logp: tf.tensor2d(z, [2, 3]), mask: M }).loss.dataSync()[0]);
    const g = tf.tidy(() =>
      Float32Array.from(
        tf
          .grad((z: tf.Tensor) => sftLoss({ logp: z, mask: M }).loss)(tf.tensor2d(x, [2, 3]))
          .dataSync(),
      ),
    );
    close(g, [-1 / 3, -1 / 3, 0, -1 / 3, 0, 0]);
    close(g, finiteDiff(f, x, 1e-2), 2e-3);
  });
});
