import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { exactKl, klPenalty, klReward, klEstimators } from "../../lib/update/index.js";
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
  test("k3 is clamped as verl's low_var_kl", () => {
    // log(π_ref/π) = 30 is clamped to 20, and e^20 − 21 to 10
    close(kl("k3", [-31, -1], [-1, -1]), [10, 0]);
  });
  test("k3 is never negative", () => {
    const rng = new Rng(1);
    const a = Array.from({ length: 200 }, () => -3 * rng.uniform()), b = Array.from({ length: 200 }, () => -3 * rng.uniform());
    assert.ok(kl("k3", a, b).every((v) => v >= 0));
  });
  test("k3+ has the value of k3 and the gradient of k2", () => {
    const logp = tf.tensor2d([[-1, -2.5]]), ref = tf.tensor2d([[-2, -1]]);
    close(kl("k3+", [-1, -2.5], [-2, -1]), kl("k3", [-1, -2.5], [-2, -1]));
    const g = (e: string) => tf.tidy(() => Array.from(tf.grad((x: tf.Tensor) => klPenalty({ logp: x, refLogp: ref }, { estimator: e }).sum())(logp).dataSync()));
    close(g("k3+"), g("k2"));
    close(g("k2"), [1, -1.5]);
    tf.dispose([logp, ref]);
  });
  test("every estimator's gradient matches finite differences", () => {
    const ref = [-1.2, -0.4, -2.0];
    for (const e of klEstimators.names().filter((n) => n !== "k3+")) {
      const x = Float32Array.from([-1, -0.9, -1.7]);
      const g = tf.tidy(() => Float32Array.from(tf.grad((z: tf.Tensor) => klPenalty({ logp: z, refLogp: [ref] }, { estimator: e }).sum())(tf.tensor2d([Array.from(x)])).dataSync()));
      close(g, finiteDiff((z) => kl(e, Array.from(z), ref).reduce((s, v) => s + v, 0), x, 1e-2), 2e-3, e);
    }
  });
  test("exact KL matches a hand value and is never negative", () => {
    const v = tf.tidy(() => exactKl({ p: tf.log(tf.tensor2d([[0.5, 0.5]])), q: tf.log(tf.tensor2d([[0.25, 0.75]])) }).dataSync()[0]);
    close(v, 0.5 * Math.log(2) + 0.5 * Math.log(0.5 / 0.75));
    const k = tf.tidy(() => Array.from(exactKl({ p: tf.randomNormal([4, 5, 11], 0, 3, "float32", 1), q: tf.randomNormal([4, 5, 11], 0, 3, "float32", 2) }).dataSync()));
    assert.equal(k.length, 20);
    assert.ok(k.every((x) => x >= 0));
    const same = tf.tidy(() => exactKl({ p: tf.tensor2d([[1, 2, 3]]), q: tf.tensor2d([[1, 2, 3]]).add(5) }).dataSync()[0]);
    close(same, 0, 1e-6); // logits differing by a constant are the same distribution
  });
  test("exact KL gradient matches finite differences in the logits", () => {
    const q = [0.3, -1, 2, 0.5];
    const x = Float32Array.from([1, 0.2, -0.5, 0.7]);
    const f = (z: Float32Array) => tf.tidy(() => exactKl({ p: tf.tensor2d([Array.from(z)]), q: tf.tensor2d([q]) }).dataSync()[0]);
    const g = tf.tidy(() => Float32Array.from(tf.grad((z: tf.Tensor) => exactKl({ p: z, q: tf.tensor2d([q]) }).sum())(tf.tensor2d([Array.from(x)])).dataSync()));
    close(g, finiteDiff(f, x, 1e-2), 2e-3);
  });
  test("KL in the reward subtracts β·Σ_t kl_t per sequence", () => {
    const r = klReward({ rewards: [1, 0], logp: [[-1, -2], [-1, -1]], refLogp: [[-2, -2], [-1, -3]], mask: [[1, 1], [1, 0]] }, { coef: 0.1, estimator: "k1" });
    close(r.rewards, [1 - 0.1 * 1, 0 - 0.1 * 0]);
    close(r.kl, 0.5);
  });
});
