import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  distillDefaults,
  distillLoss,
  localTeacher,
  type FullTeacherOutput,
  type TeacherOutput,
} from "../../lib/distill/index.js";
import { LlamaModel } from "../../lib/model/llama.js";
import { Rng } from "../../lib/core/random.js";
import { close, finiteDiff, setup } from "../update/setup.js";

const kl = (p: number[], q: number[]) => p.reduce((s, pi, i) => s + (pi > 0 ? pi * Math.log(pi / q[i]) : 0), 0);
const softmax = (z: number[]) => {
  const m = Math.max(...z),
    e = z.map((v) => Math.exp(v - m)),
    s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};
const jsdHand = (p: number[], q: number[], b: number) => {
  const m = p.map((pi, i) => b * pi + (1 - b) * q[i]);
  return b * kl(p, m) + (1 - b) * kl(q, m);
};

// One position (B = T = 1) with V = 3.
const P = [0.5, 0.3, 0.2];
const ZQ = [0.1, -0.4, 0.9];
const Q = softmax(ZQ);
const full = (p: number[]): FullTeacherOutput => ({ kind: "full", logprobs: tf.tensor3d([[p.map(Math.log)]]) });
function value(z: ArrayLike<number>, teacher: TeacherOutput, o: Record<string, unknown>, V = 3) {
  return tf.tidy(
    () => distillLoss({ student: tf.tensor3d(Array.from(z), [1, 1, V]), teacher, mask: [[1]] }, o).loss.dataSync()[0],
  );
}
function grad(z: ArrayLike<number>, teacher: TeacherOutput, o: Record<string, unknown>, V = 3) {
  return tf.tidy(() =>
    Float32Array.from(
      tf
        .grad((x: tf.Tensor) => distillLoss({ student: x as tf.Tensor3D, teacher, mask: [[1]] }, o).loss)(
          tf.tensor3d(Array.from(z), [1, 1, V]),
        )
        .dataSync(),
    ),
  );
}

describe("distillation divergences", () => {
  before(setup);
  test("defaults are TRL GKDTrainer's: jsd, beta 0.5, token mean", () => {
    assert.equal(distillDefaults.divergence, "jsd");
    assert.equal(distillDefaults.beta, 0.5);
    assert.equal(distillDefaults.agg, "token-mean");
  });
  test("forward KL, reverse KL and JSD(β) match hand values on full distributions", () => {
    const t = full(P);
    close(value(ZQ, t, { divergence: "forward-kl" }), kl(P, Q));
    close(value(ZQ, t, { divergence: "reverse-kl" }), kl(Q, P));
    for (const b of [0.1, 0.5, 0.9])
      close(value(ZQ, t, { divergence: "jsd", beta: b }), jsdHand(P, Q, b), 1e-4, `beta ${b}`);
    close(value(ZQ, t, { divergence: "jsd", beta: 0 }), kl(P, Q));
    close(value(ZQ, t, { divergence: "jsd", beta: 1 }), kl(Q, P));
    t.logprobs.dispose();
  });
  test("JSD(β)/β tends to forward KL as β → 0 and JSD(β)/(1 − β) to reverse KL as β → 1", () => {
    const t = full(P);
    const small = [1e-1, 1e-2, 1e-3].map((b) => Math.abs(value(ZQ, t, { beta: b }) / b - kl(P, Q)));
    const large = [0.9, 0.99, 0.999].map((b) => Math.abs(value(ZQ, t, { beta: b }) / (1 - b) - kl(Q, P)));
    assert.ok(small[0] > small[1] && small[1] > small[2] && small[2] < 2e-3, `forward limit ${small}`);
    assert.ok(large[0] > large[1] && large[1] > large[2] && large[2] < 2e-3, `reverse limit ${large}`);
    t.logprobs.dispose();
  });
  test("temperature divides both logit sets before the softmax", () => {
    const tz = [1, 0, -1];
    const t: FullTeacherOutput = { kind: "full", logprobs: tf.tensor3d([[tz]]) };
    close(
      value(ZQ, t, { divergence: "forward-kl", temperature: 2 }),
      kl(softmax(tz.map((v) => v / 2)), softmax(ZQ.map((v) => v / 2))),
    );
    t.logprobs.dispose();
  });
  test("top-k with and without renormalisation match hand values", () => {
    // V = 4, teacher top-2 = ids [2, 0] with probs [0.6, 0.3] (tail 0.1)
    const z = [0.3, -0.2, 0.8, 0.1],
      q = softmax(z);
    const t: TeacherOutput = {
      kind: "topk",
      ids: Int32Array.from([2, 0]),
      logprobs: Float32Array.from([Math.log(0.6), Math.log(0.3)]),
      B: 1,
      T: 1,
      K: 2,
    };
    const qK = [q[2], q[0]],
      sQ = qK[0] + qK[1];
    close(
      value(z, t, { divergence: "forward-kl", renormalize: true }, 4),
      kl([2 / 3, 1 / 3], [qK[0] / sQ, qK[1] / sQ]),
    );
    close(
      value(z, t, { divergence: "reverse-kl", renormalize: true }, 4),
      kl([qK[0] / sQ, qK[1] / sQ], [2 / 3, 1 / 3]),
    );
    close(value(z, t, { divergence: "forward-kl", renormalize: false }, 4), kl([0.6, 0.3, 0.1], [...qK, 1 - sQ]), 1e-4);
    close(
      value(z, t, { divergence: "jsd", beta: 0.3, renormalize: false }, 4),
      jsdHand([0.6, 0.3, 0.1], [...qK, 1 - sQ], 0.3),
      1e-4,
    );
    assert.throws(() => value(z, t, { temperature: 2 }, 4), /needs renormalize: true/);
  });
  test("every divergence's gradient matches finite differences (full and top-k)", () => {
    const z = Float32Array.from([0.3, -0.2, 0.8, 0.1]);
    const tFull = full([0.1, 0.2, 0.6, 0.1]);
    const tTop: TeacherOutput = {
      kind: "topk",
      ids: Int32Array.from([2, 0]),
      logprobs: Float32Array.from([Math.log(0.6), Math.log(0.3)]),
      B: 1,
      T: 1,
      K: 2,
    };
    for (const [t, name] of [
      [tFull, "full"],
      [tTop, "topk"],
    ] as const)
      for (const divergence of ["forward-kl", "reverse-kl", "jsd"])
        for (const renormalize of [false, true]) {
          const o = { divergence, renormalize, beta: 0.4 };
          close(
            grad(z, t, o, 4),
            finiteDiff((x) => value(x, t, o, 4), z, 1e-2),
            2e-3,
            `${name}/${divergence}/${renormalize}`,
          );
        }
    tFull.logprobs.dispose();
  });
  test("a local teacher's top-V output reproduces its full distributions", () => {
    const m = new LlamaModel("micro", { rng: new Rng(0) });
    const student = new LlamaModel("micro", { rng: new Rng(1) });
    const batch = {
      ids: [
        [1, 5, 7, 9, 2],
        [3, 4, 4, 8, 6],
      ],
      responseMask: [
        [0, 0, 1, 1, 1],
        [0, 0, 0, 1, 1],
      ],
    };
    const tf_ = localTeacher(m).score(batch) as TeacherOutput;
    const tk = localTeacher(m, { topK: 32 }).score(batch) as TeacherOutput;
    const logits = tf.tidy(() => {
      const l = student.forward({ ids: batch.ids }).logits;
      return tf.concat([tf.zeros([2, 1, 32]), tf.slice(l, [0, 0, 0], [2, 4, 32])], 1) as tf.Tensor3D;
    });
    for (const divergence of ["forward-kl", "reverse-kl", "jsd"]) {
      const a = tf.tidy(
        () =>
          distillLoss({ student: logits, teacher: tf_, mask: batch.responseMask }, { divergence }).loss.dataSync()[0],
      );
      const b = tf.tidy(
        () =>
          distillLoss({ student: logits, teacher: tk, mask: batch.responseMask }, { divergence }).loss.dataSync()[0],
      );
      assert.ok(a > 0);
      close(b, a, 1e-3, divergence);
    }
    tf.dispose([logits, (tf_ as { logprobs: tf.Tensor }).logprobs]);
    m.dispose?.();
    student.dispose?.();
  });
  test("distillLoss frees its intermediates", () => {
    const t = full(P);
    const x = tf.tensor3d([[ZQ]]);
    const before = tf.memory().numTensors;
    for (const renormalize of [false, true])
      tf.grad(
        (s: tf.Tensor) => distillLoss({ student: s as tf.Tensor3D, teacher: t, mask: [[1]] }, { renormalize }).loss,
      )(x).dispose();
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, t.logprobs]);
  });
});
