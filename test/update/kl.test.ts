import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { exactKl, klPenalty, klReward, klEstimators, policyLoss } from "../../lib/update/index.js";
import { isFullKl } from "../../lib/update/kl.js";
import { klHost } from "../../lib/update/kl.js";
import { Rng } from "../../lib/core/random.js";
import { close, finiteDiff, setup } from "./setup.js";

const kl = (estimator: string, logp: number[], ref: number[]) =>
  tf.tidy(() => Array.from(klPenalty({ logp: [logp], refLogp: [ref] }, { estimator }).dataSync()));

describe("KL estimators", () => {
  before(setup);
  test("k1, abs, k2, k3 match hand values", () => {
    // x = log π − log π_ref = [1, −1]
    close(kl("k1", [-1, -2], [-2, -1]), [1, -1]);
    close(kl("abs", [-1, -2], [-2, -1]), [1, 1]);
    close(kl("k2", [-1, -2], [-2, -1]), [0.5, 0.5]);
    close(kl("k3", [-1, -2], [-2, -1]), [Math.exp(-1), Math.exp(1) - 2]);
  });
  test("the host formulas (what viz.tokenKl uses) equal the tensor estimators", () => {
    const logp = [-30, -3, -1, -0.2, 0, 0.1, -2],
      ref = [0, -1, -1.5, -0.1, -25, 0, -2];
    const x = logp.map((v, i) => v - ref[i]);
    for (const k of ["k1", "abs", "k2", "k3"] as const) close(kl(k, logp, ref), x.map(klHost[k]), 1e-5, k);
    close(klHost.k3Raw(-2), Math.exp(2) - 3, 1e-12);
  });
  test("k3 is clamped as verl's low_var_kl", () => {
    // log(π_ref/π) = 30 is clamped to 20, and e^20 − 21 to 10
    close(kl("k3", [-31, -1], [-1, -1]), [10, 0]);
  });
  test("k3 is never negative", () => {
    const rng = new Rng(1);
    const a = Array.from({ length: 200 }, () => -3 * rng.uniform()),
      b = Array.from({ length: 200 }, () => -3 * rng.uniform());
    assert.ok(kl("k3", a, b).every((v) => v >= 0));
  });
  test("k3+ has the value of k3 and the gradient of k2", () => {
    const logp = tf.tensor2d([[-1, -2.5]]),
      ref = tf.tensor2d([[-2, -1]]);
    close(kl("k3+", [-1, -2.5], [-2, -1]), kl("k3", [-1, -2.5], [-2, -1]));
    const g = (e: string) =>
      tf.tidy(() =>
        Array.from(
          tf
            .grad((x: tf.Tensor) => klPenalty({ logp: x, refLogp: ref }, { estimator: e }).sum())(logp)
            .dataSync(),
        ),
      );
    close(g("k3+"), g("k2"));
    close(g("k2"), [1, -1.5]);
    tf.dispose([logp, ref]);
  });
  test("every estimator's gradient matches finite differences", () => {
    const ref = [-1.2, -0.4, -2.0],
      old = [-1.1, -1.0, -1.5]; // π_old, for "k3-unbiased"
    for (const e of klEstimators.names().filter((n) => n !== "k3+" && !isFullKl(n))) {
      const x = Float32Array.from([-1, -0.9, -1.7]);
      const g = tf.tidy(() =>
        Float32Array.from(
          tf
            .grad((z: tf.Tensor) => klPenalty({ logp: z, refLogp: [ref], oldLogp: [old] }, { estimator: e }).sum())(
              tf.tensor2d([Array.from(x)]),
            )
            .dataSync(),
        ),
      );
      close(
        g,
        finiteDiff(
          (z) =>
            tf
              .tidy(() =>
                Array.from(
                  klPenalty({ logp: [Array.from(z)], refLogp: [ref], oldLogp: [old] }, { estimator: e }).dataSync(),
                ),
              )
              .reduce((s, v) => s + v, 0),
          x,
          1e-2,
        ),
        2e-3,
        e,
      );
    }
  });
  test("exact KL matches a hand value and is never negative", () => {
    const v = tf.tidy(
      () => exactKl({ p: tf.log(tf.tensor2d([[0.5, 0.5]])), q: tf.log(tf.tensor2d([[0.25, 0.75]])) }).dataSync()[0],
    );
    close(v, 0.5 * Math.log(2) + 0.5 * Math.log(0.5 / 0.75));
    const k = tf.tidy(() =>
      Array.from(
        exactKl({
          p: tf.randomNormal([4, 5, 11], 0, 3, "float32", 1),
          q: tf.randomNormal([4, 5, 11], 0, 3, "float32", 2),
        }).dataSync(),
      ),
    );
    assert.equal(k.length, 20);
    assert.ok(k.every((x) => x >= 0));
    const same = tf.tidy(
      () => exactKl({ p: tf.tensor2d([[1, 2, 3]]), q: tf.tensor2d([[1, 2, 3]]).add(5) }).dataSync()[0],
    );
    close(same, 0, 1e-6); // logits differing by a constant are the same distribution
  });
  test("exact KL gradient matches finite differences in the logits", () => {
    const q = [0.3, -1, 2, 0.5];
    const x = Float32Array.from([1, 0.2, -0.5, 0.7]);
    const f = (z: Float32Array) =>
      tf.tidy(() => exactKl({ p: tf.tensor2d([Array.from(z)]), q: tf.tensor2d([q]) }).dataSync()[0]);
    const g = tf.tidy(() =>
      Float32Array.from(
        tf
          .grad((z: tf.Tensor) => exactKl({ p: z, q: tf.tensor2d([q]) }).sum())(tf.tensor2d([Array.from(x)]))
          .dataSync(),
      ),
    );
    close(g, finiteDiff(f, x, 1e-2), 2e-3);
  });
  test("KL in the reward subtracts β·Σ_t kl_t per sequence", () => {
    const r = klReward(
      {
        rewards: [1, 0],
        logp: [
          [-1, -2],
          [-1, -1],
        ],
        refLogp: [
          [-2, -2],
          [-1, -3],
        ],
        mask: [
          [1, 1],
          [1, 0],
        ],
      },
      { coef: 0.1, estimator: "k1" },
    );
    close(r.rewards, [1 - 0.1 * 1, 0 - 0.1 * 0]);
    close(r.kl, 0.5);
  });
});

describe("exact KL as an estimator (in klPenalty, policyLoss and klReward)", () => {
  before(setup);
  // p = [0.5, 0.25, 0.25], q = [0.25, 0.25, 0.5] at position (0, 1); position (0, 0) is p = q.
  const P = [
      [0.4, 0.3, 0.3],
      [0.5, 0.25, 0.25],
    ],
    Q = [
      [0.4, 0.3, 0.3],
      [0.25, 0.25, 0.5],
    ];
  const hand = 0.5 * Math.log(2) + 0.25 * Math.log(0.5); // Σ p log(p/q) at position (0, 1)
  const full = (x: number[][]) => tf.log(tf.tensor3d([x]));

  test("klPenalty(exact) equals Σ_v p (log p − log q), is 0 where p = q, and is ≥ 0", () => {
    const v = tf.tidy(() =>
      Array.from(klPenalty({ logits: full(P), refLogits: full(Q) }, { estimator: "exact" }).dataSync()),
    );
    close(v, [0, hand], 1e-6);
    const same = tf.tidy(() =>
      Array.from(klPenalty({ logits: full(P), refLogits: full(P) }, { estimator: "exact" }).dataSync()),
    );
    close(same, [0, 0], 1e-7);
    const r = tf.tidy(() =>
      Array.from(
        klPenalty(
          {
            logits: tf.randomNormal([3, 4, 7], 0, 2, "float32", 3),
            refLogits: tf.randomNormal([3, 4, 7], 0, 2, "float32", 4),
          },
          { estimator: "exact" },
        ).dataSync(),
      ),
    );
    assert.equal(r.length, 12);
    assert.ok(
      r.every((x) => x >= 0),
      `${r}`,
    );
    assert.ok(isFullKl("exact") && !isFullKl("k3"));
  });

  test("the exact estimator without full distributions is a clear error", () => {
    assert.throws(
      () => klPenalty({ logp: [[-1]], refLogp: [[-1]] }, { estimator: "exact" }),
      /needs inputs\.logits as a \[B, T, V\] tensor.*model\.fullLogprobs/,
    );
    const logp = tf.tensor2d([[-1, -1]]);
    assert.throws(
      () => policyLoss("pg", { logp, mask: [[0, 1]], adv: [0] }, { kl: { refLogits: full(Q), estimator: "exact" } }),
      /exact KL needs inputs\.logits as a \[1,2, V\] tensor.*logits: true/,
    );
    assert.throws(
      () =>
        policyLoss(
          "pg",
          { logp, mask: [[0, 1]], adv: [0], logits: full(P) },
          { kl: { refLogp: [[-1, -1]], estimator: "exact" } },
        ),
      /exact KL needs options\.kl\.refLogits/,
    );
    assert.throws(
      () => policyLoss("pg", { logp, mask: [[0, 1]], adv: [0] }, { kl: { estimator: "k3" } }),
      /options\.kl\.refLogp is missing/,
    );
    logp.dispose();
  });

  test("policyLoss with the exact KL: loss = β·token-mean(KL), gradient in the logits matches finite differences", () => {
    const ref = [
      [0.1, -0.4, 0.3, 0.0],
      [1.0, 0.2, -0.5, 0.4],
      [0.3, 0.3, -1, 0.2],
    ];
    const x0 = Float32Array.from([0.5, 0.1, -0.2, 0.3, -0.3, 0.8, 0.1, -0.6, 0.2, 0.0, 0.4, -0.1]);
    const mask = [[0, 1, 1]];
    const lossOf = (z: tf.Tensor) =>
      policyLoss(
        "pg",
        { logp: tf.zeros([1, 3]), mask, adv: [0], logits: z.reshape([1, 3, 4]) },
        { kl: { refLogits: tf.tensor3d([ref]), beta: 0.5, estimator: "exact" } },
      );
    const f = (z: Float32Array) => tf.tidy(() => lossOf(tf.tensor1d(z)).loss.dataSync()[0]);
    // by hand: β·mean over the two masked positions of Σ_v p (log p − log q)
    const lsm = (r: number[]) => {
      const m = Math.log(r.reduce((s, v) => s + Math.exp(v), 0));
      return r.map((v) => v - m);
    };
    const rows = [0, 1, 2].map((t) => Array.from(x0.slice(4 * t, 4 * t + 4)));
    const exact = (t: number) => {
      const lp = lsm(rows[t]),
        lq = lsm(ref[t]);
      return lp.reduce((s, v, i) => s + Math.exp(v) * (v - lq[i]), 0);
    };
    close(f(x0), (0.5 * (exact(1) + exact(2))) / 2, 1e-5);
    const m = tf.tidy(() => lossOf(tf.tensor1d(x0)).metrics);
    close(m["update/klLoss"], (exact(1) + exact(2)) / 2, 1e-5);
    const g = tf.tidy(() =>
      Float32Array.from(
        tf
          .grad((z: tf.Tensor) => lossOf(z).loss)(tf.tensor1d(x0))
          .dataSync(),
      ),
    );
    close(g, finiteDiff(f, x0, 1e-2), 2e-3);
    close(Array.from(g.slice(0, 4)), [0, 0, 0, 0], 1e-7); // the masked position 0 has no gradient
  });

  test("the Monte-Carlo means of k1 and k3 on tokens sampled from π approach the exact KL", () => {
    const p = [0.5, 0.2, 0.15, 0.1, 0.05],
      q = [0.2, 0.2, 0.2, 0.2, 0.2];
    const exact = tf.tidy(
      () =>
        klPenalty(
          { logits: tf.log(tf.tensor3d([[p]])), refLogits: tf.log(tf.tensor3d([[q]])) },
          { estimator: "exact" },
        ).dataSync()[0],
    );
    const rng = new Rng(11),
      N = 20000;
    const ys = Array.from({ length: N }, () => {
      let u = rng.uniform(),
        i = 0;
      while (i < p.length - 1 && (u -= p[i]) > 0) i++;
      return i;
    });
    for (const e of ["k1", "k3"]) {
      const v = kl(
        e,
        ys.map((y) => Math.log(p[y])),
        ys.map((y) => Math.log(q[y])),
      );
      const mean = v.reduce((a, b) => a + b, 0) / N,
        se = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (N - 1) / N);
      assert.ok(
        Math.abs(mean - exact) < 4 * se,
        `${e}: MC mean ${mean.toFixed(4)} ± ${se.toFixed(4)} vs exact ${exact.toFixed(4)}`,
      );
    }
  });

  test("klReward with the exact KL subtracts β·Σ_t m·KL_t from the full distributions", () => {
    const r = tf.tidy(() =>
      klReward(
        {
          rewards: [1, 2],
          logits: tf.log(tf.tensor3d([P, P])),
          refLogits: tf.log(tf.tensor3d([Q, Q])),
          mask: [
            [1, 1],
            [1, 0],
          ],
        },
        { coef: 0.1, estimator: "exact" },
      ),
    );
    close(r.rewards, [1 - 0.1 * hand, 2], 1e-6);
    close(r.kl, hand / 2, 1e-6);
  });

  test("k3-unbiased: (π/π_old)·k3 averaged over tokens from π_old is KL(π‖π_ref) exactly; plain k3 is not", () => {
    // a 4-token vocabulary: π (trained), π_old (sampled from), π_ref; expectations as exact sums over y ~ π_old
    const pi = [0.5, 0.2, 0.2, 0.1],
      old = [0.25, 0.25, 0.25, 0.25],
      ref = [0.1, 0.4, 0.3, 0.2];
    const exact = pi.reduce((a, p, i) => a + p * Math.log(p / ref[i]), 0);
    const per = (estimator: string) =>
      tf.tidy(() =>
        Array.from(
          klPenalty(
            { logp: [pi.map(Math.log)], refLogp: [ref.map(Math.log)], oldLogp: [old.map(Math.log)] },
            { estimator },
          ).dataSync(),
        ),
      );
    const expect = (v: number[]) => v.reduce((a, x, i) => a + old[i] * x, 0);
    close(expect(per("k3-unbiased")), exact, 1e-5);
    assert.ok(Math.abs(expect(per("k3")) - exact) > 0.05, "k3 on π_old's tokens is biased");
    close(
      per("k3-unbiased"),
      per("k3").map((k, i) => (k * pi[i]) / old[i]),
      1e-5,
    );
    assert.throws(() => klPenalty({ logp: [[-1]], refLogp: [[-1]] }, { estimator: "k3-unbiased" }), /oldLogp/);
  });

  test("k3-unbiased in policyLoss: value k3 at π = π_old, gradient k3' + k3 (the ratio carries the gradient)", () => {
    tf.tidy(() => {
      const lp = [[-0.7, -1.9]],
        rf = [[-1.2, -0.4]];
      const f = (est: string) => (x: tf.Tensor) =>
        policyLoss(
          "pg",
          { logp: x, oldLogp: lp, adv: [0], mask: [[1, 1]], refLogp: rf },
          { kl: { beta: 1, estimator: est }, agg: "token-mean" },
        ).loss;
      const x = tf.tensor2d(lp);
      close(f("k3-unbiased")(x).dataSync()[0], f("k3")(x).dataSync()[0], 1e-6);
      const k3v = lp[0].map((v, i) => klHost.k3(v - rf[0][i]) / 2);
      const g3 = Array.from(tf.grad(f("k3"))(x).dataSync()),
        gu = Array.from(tf.grad(f("k3-unbiased"))(x).dataSync());
      close(
        gu,
        g3.map((g, i) => g + k3v[i]),
        1e-5,
      );
    });
  });
});
