// On-policy distillation: opdLoss's modes against hand values and autograd, opdStep end to end (one teacher and two),
// no tensor leak across a step.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../lib/core/random.js";
import { AdamW } from "../../lib/model/optim.js";
import { CellrlError } from "../../lib/core/errors.js";
import { localTeacher, opdLoss, opdStep } from "../../lib/distill/index.js";
import { opdStepDefaults, sampledTeacherLogp } from "../../lib/distill/opd-step.js";
import { PROMPTS, tinyModel, tinyPolicy } from "../update/fixture.js";
import { close, setup } from "../update/setup.js";
import { opdAdvantages } from "../../lib/distill/opd.js";

const logp = [
  [0, -1.2, -0.3, -2.0],
  [0, -0.5, -0.7, 0],
];
const q = [
  [0, -1.0, -0.5, -1.5],
  [0, -0.5, -0.9, 0],
];
const tl = [
  [0, -0.8, -1.5, -1.0],
  [0, -2.0, -0.1, 0],
];
const mask = [
  [0, 1, 1, 1],
  [0, 1, 1, 0],
];

describe("distill.opdLoss", () => {
  before(setup);
  test("defaults: Tinker's coef 1, no discount, verl's token-mean; step samples 1 per prompt, top-16", () => {
    assert.equal(opdStepDefaults.mode, "tinker");
    assert.equal(opdStepDefaults.coef, 1);
    assert.equal(opdStepDefaults.discount, 0);
    assert.equal(opdStepDefaults.agg, "token-mean");
    assert.equal(opdStepDefaults.n, 1);
    assert.equal(opdStepDefaults.topK, 16);
  });
  test("tinker advantages are −coef·(log q − log π_T), discounted over the response only", () => {
    const a = opdAdvantages(q, tl, mask, { coef: 2, discount: 0 });
    close(a.flat(), [0, 0.4, -2, 1, 0, -3, 1.6, 0]);
    // γ = 0.5, row 0: a = [_, 0.2, −1, 0.5] → [0.2 + 0.5·(−1 + 0.5·0.5), −1 + 0.25, 0.5]
    const d = opdAdvantages(q, tl, mask, { coef: 1, discount: 0.5 });
    close(d[0], [0, 0.2 + 0.5 * -0.75, -0.75, 0.5]);
  });
  test("tinker loss: −Σ exp(log π_θ − log q)·A over the tokens with agg sum, gradient −ratio·A", () => {
    const x = tf.tensor2d(logp);
    const f = (lp: tf.Tensor) =>
      opdLoss({ logp: lp as tf.Tensor2D, mask, samplerLogp: q, teacherLogp: tl }, { agg: "sum" }).loss;
    const { value, grad } = tf.valueAndGrad(f)(x);
    const A = opdAdvantages(q, tl, mask, { coef: 1, discount: 0 });
    let want = 0;
    const g: number[] = [];
    for (let b = 0; b < 2; b++)
      for (let t = 0; t < 4; t++) {
        const r = Math.exp(logp[b][t] - q[b][t]) * mask[b][t];
        want -= r * A[b][t];
        g.push(-r * A[b][t]);
      }
    close([value.dataSync()[0]], [want]);
    close(grad.dataSync(), g);
    tf.dispose([x, value, grad]);
  });
  test("k1 / k2 / k3 direct: agg of verl's kl_penalty(student, teacher), maxClamp clamps", () => {
    const x = tf.tensor2d(logp);
    const n = 5; // tokens under the mask
    const d = logp.map((r, b) => r.map((v, t) => v - tl[b][t]));
    const k1 = d.flat().reduce((s, v, i) => s + v * mask.flat()[i], 0) / n;
    const k2 = d.flat().reduce((s, v, i) => s + 0.5 * v * v * mask.flat()[i], 0) / n;
    const k3 = d.flat().reduce((s, v, i) => s + (Math.exp(-v) + v - 1) * mask.flat()[i], 0) / n;
    for (const [mode, want] of [
      ["k1", k1],
      ["k2", k2],
      ["k3", k3],
    ] as const) {
      const r = opdLoss({ logp: x, mask, teacherLogp: tl }, { mode });
      close([r.loss.dataSync()[0]], [want]);
      r.loss.dispose();
    }
    const c = opdLoss({ logp: x, mask, teacherLogp: tl }, { mode: "k1", maxClamp: 0.5 });
    const clamped = d.flat().reduce((s, v, i) => s + Math.max(-0.5, Math.min(0.5, v)) * mask.flat()[i], 0) / n;
    close([c.loss.dataSync()[0]], [clamped]);
    // policy gradient: A = −sg[k1], the same IS loss as "tinker" with the student's own log-probs
    const g = tf.grad(
      (lp: tf.Tensor) =>
        opdLoss(
          { logp: lp as tf.Tensor2D, mask, samplerLogp: logp, teacherLogp: tl },
          { mode: "k1", policyGradient: true },
        ).loss,
    )(x);
    close(
      g.dataSync(),
      d.flat().map((v, i) => (v * mask.flat()[i]) / n),
    );
    tf.dispose([x, c.loss, g]);
  });
  test("forward-kl-topk: Σ_K p_T(log p_T − log q) clamped at 0; log-prob floor as verl's log_prob_min_clamp", () => {
    const V = 4;
    const logits = tf.tensor3d([
      [
        [0, 0, 0, 0],
        [1, 0, -1, 0],
      ],
    ]); // B 1, T 2
    const m = [[0, 1]];
    const lse = Math.log(Math.exp(1) + 1 + Math.exp(-1) + 1);
    const lq = [1, 0, -1, 0].map((z) => z - lse);
    const teacher = {
      kind: "topk" as const,
      B: 1,
      T: 2,
      K: 2,
      ids: Int32Array.from([0, 1, 0, 2]),
      logprobs: Float32Array.from([-1, -1, Math.log(0.6), Math.log(0.3)]),
    };
    const want = 0.6 * (Math.log(0.6) - lq[0]) + 0.3 * (Math.log(0.3) - lq[2]);
    const lp = tf.zeros([1, 2]) as tf.Tensor2D;
    const r = opdLoss({ logp: lp, mask: m, logits, teacher }, { mode: "forward-kl-topk" });
    close([r.loss.dataSync()[0]], [want]);
    assert.ok(Math.abs(r.metrics["distill/teacherTopkMass"] - 0.9) < 1e-5);
    const fl = opdLoss({ logp: lp, mask: m, logits, teacher }, { mode: "forward-kl-topk", logProbMinClamp: -1 });
    // both sides floored at −1: the teacher's log 0.3 becomes −1 (p = e^−1), the student's log q(2) too
    const wantF = Math.max(0, 0.6 * (Math.log(0.6) - lq[0]) + Math.exp(-1) * (-1 - Math.max(-1, lq[2])));
    close([fl.loss.dataSync()[0]], [wantF]);
    assert.equal(V, logits.shape[2]);
    tf.dispose([logits, lp, r.loss, fl.loss]);
  });
  test("bad options and inputs fail with the fix", () => {
    const x = tf.tensor2d(logp);
    assert.throws(() => opdLoss({ logp: x, mask, teacherLogp: tl }, { mode: "k4" as never }), /options.mode/);
    assert.throws(
      () => opdLoss({ logp: x, mask, teacherLogp: tl, samplerLogp: q }, { mode: "k1", coef: 2 }),
      /coef and options.discount are Tinker's/,
    );
    assert.throws(() => opdLoss({ logp: x, mask, teacherLogp: tl }, {}), /inputs.samplerLogp is missing/);
    assert.throws(
      () => opdLoss({ logp: x, mask, samplerLogp: q, teacherLogp: tl }, { discount: 2 }),
      /kl_discount_factor/,
    );
    assert.throws(
      () => opdLoss({ logp: x, mask }, { mode: "forward-kl-topk" }),
      (e: unknown) => e instanceof CellrlError && /needs inputs.logits/.test(e.message),
    );
    x.dispose();
  });
});

describe("distill.opdStep", () => {
  before(setup);
  test("sampledTeacherLogp reads full and top-k teachers; a top-k miss is an error", () => {
    const full = {
      kind: "full" as const,
      logprobs: tf.tensor3d([
        [
          [0, 0, 0],
          [-1, -2, -3],
          [-4, -5, -6],
        ],
      ]),
    };
    assert.deepEqual(sampledTeacherLogp(full, [[0, 2, 1]], [[0, 1, 1]]), [[0, -3, -5]]);
    full.logprobs.dispose();
    const topk = {
      kind: "topk" as const,
      B: 1,
      T: 2,
      K: 1,
      ids: Int32Array.from([0, 1]),
      logprobs: Float32Array.from([0, -0.5]),
    };
    assert.deepEqual(sampledTeacherLogp(topk, [[0, 1]], [[0, 1]]), [[0, -0.5]]);
    assert.throws(() => sampledTeacherLogp(topk, [[0, 2]], [[0, 1]]), /does not contain the sampled token/);
  });
  test("one tinker step moves the student toward the teacher; two teachers by prompt; no tensor leak", async () => {
    const teacherModel = tinyModel(10);
    const other = tinyModel(11);
    const student = tinyPolicy(21);
    const opt = new AdamW(student.model.namedVariables(), { lr: 1e-2 });
    const prompts = PROMPTS.slice(0, 4);
    // a first step creates AdamW's moment tensors; the leak check is across the second
    await opdStep(
      { policy: student, opt, teacher: localTeacher(teacherModel), prompts },
      { sampling: { maxNewTokens: 3 }, rng: new Rng(2) },
    );
    const before = tf.memory().numTensors;
    const r = await opdStep(
      {
        policy: student,
        opt,
        teacher: [localTeacher(teacherModel), localTeacher(other)],
        teacherIndex: [0, 0, 1, 1],
        prompts,
      },
      { n: 2, sampling: { maxNewTokens: 3 }, rng: new Rng(3) },
    );
    assert.equal(tf.memory().numTensors, before, "tensors leaked across an OPD step");
    assert.ok(Number.isFinite(r.metrics["distill/teacherKl"]));
    assert.ok(Number.isFinite(r.metrics["distill/teacherKl/0"]) && Number.isFinite(r.metrics["distill/teacherKl/1"]));
    assert.equal(r.adv.length, r.rollout.size * r.rollout.ids[0].length);
    // k3 and forward-kl-topk steps run too, and are leak-free
    for (const mode of ["k3", "forward-kl-topk"] as const) {
      const n0 = tf.memory().numTensors;
      const s = await opdStep(
        { policy: student, opt, teacher: localTeacher(teacherModel), prompts },
        { mode, topK: 3, sampling: { maxNewTokens: 3 }, rng: new Rng(4) },
      );
      assert.equal(tf.memory().numTensors, n0, `${mode}: tensors leaked`);
      assert.ok(Number.isFinite(s.metrics["distill/loss"]), `${mode}: loss ${s.metrics["distill/loss"]}`);
    }
    // task advantages per completion add to the distillation advantage on the response tokens
    const withAdv = await opdStep(
      { policy: student, opt, teacher: localTeacher(teacherModel), prompts, adv: [1, 0, 0, -1] },
      { sampling: { maxNewTokens: 2 }, rng: new Rng(9) },
    );
    const ro = withAdv.rollout;
    const tOut = await localTeacher(teacherModel).score(ro);
    const tl = sampledTeacherLogp(tOut, ro.ids, ro.responseMask);
    if (tOut.kind === "full") tOut.logprobs.dispose();
    const base = opdAdvantages(ro.logprobs, tl, ro.responseMask, { coef: 1, discount: 0 });
    const extra = [1, 0, 0, -1];
    close(
      withAdv.adv,
      base.flatMap((r, b) => r.map((a, t) => a + extra[b] * ro.responseMask[b][t])),
    );
    await assert.rejects(
      opdStep(
        { policy: student, opt, teacher: localTeacher(teacherModel), prompts },
        { agg: "sum", microBatch: 2, sampling: { maxNewTokens: 2 } },
      ),
      /agg "sum" \(Tinker's Σ over tokens\) cannot be split/,
    );
    await assert.rejects(
      opdStep(
        { policy: student, opt, teacher: localTeacher(teacherModel), prompts, teacherIndex: [0, 1, 0, 0] },
        { sampling: { maxNewTokens: 2 } },
      ),
      /teacherIndex must give one teacher index/,
    );
    [teacherModel, other, student.model].forEach((m) => m.dispose());
  });
  test("repeated tinker steps lower the student's reverse KL to the teacher", async () => {
    const teacherModel = tinyModel(10);
    const student = tinyPolicy(21);
    const opt = new AdamW(student.model.namedVariables(), { lr: 3e-2 });
    const kls: number[] = [];
    for (let s = 0; s < 12; s++) {
      const r = await opdStep(
        { policy: student, opt, teacher: localTeacher(teacherModel), prompts: PROMPTS, step: s },
        { n: 4, sampling: { maxNewTokens: 2 }, rng: new Rng(100 + s) },
      );
      kls.push(r.metrics["distill/teacherKl"]);
    }
    const first = (kls[0] + kls[1] + kls[2]) / 3,
      last = (kls[9] + kls[10] + kls[11]) / 3;
    assert.ok(last < first, `teacher KL did not fall: ${kls.map((k) => k.toFixed(3)).join(" ")}`);
    teacherModel.dispose();
    student.model.dispose();
  });
});
