import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { AdamW, defaults } from "../../lib/model/optim.js";
import { clipGradNorm, globalNorm } from "../../lib/model/optim-clip.js";
import {
  constantSchedule,
  cosineSchedule,
  linearSchedule,
  makeSchedule,
  defaults as scheduleDefaults,
} from "../../lib/model/optim-schedule.js";
import { resetWarnings, warnings } from "../../lib/core/warn.js";
import { Rng } from "../../lib/core/random.js";

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-6, msg = "") => {
  assert.equal(a.length, b.length, msg);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol, `${msg}[${i}]: ${a[i]} vs ${b[i]}`);
};
const vals = (t: tf.Tensor) => Array.from(t.dataSync());

test("defaults match torch AdamW plus HF Trainer's clipping and no-decay rule", () => {
  assert.equal(defaults.lr, 1e-3);
  assert.deepEqual(defaults.betas, [0.9, 0.999]);
  assert.equal(defaults.eps, 1e-8);
  assert.equal(defaults.weightDecay, 0.01);
  assert.equal(defaults.clipGradNorm, 1.0);
  assert.equal(defaults.schedule, "constant");
  assert.equal(defaults.nonFinite, "error");
  assert.deepEqual(scheduleDefaults, { warmupSteps: 0, totalSteps: 1000, minLrRatio: 0 });
});

test("two AdamW steps match the hand-computed update (decoupled decay, bias correction)", () => {
  const p = tf.variable(tf.tensor([1.0, -2.0]));
  const opt = new AdamW({ p }, { lr: 0.1, weightDecay: 0.1, noDecay: null, clipGradNorm: null });
  const g1 = { p: tf.tensor([0.1, -0.2]) };
  const g2 = { p: tf.tensor([0.3, 0.4]) };
  const r1 = opt.step(g1);
  // p <- p(1 - lr wd) - lr mhat / (sqrt(vhat) + eps), computed in float64 by an independent loop.
  close(vals(p), [0.890000009999999, -1.8800000049999996], 1e-6, "step 1");
  opt.step(g2);
  close(vals(p), [0.7893219021055898, -1.8978103564960367], 1e-6, "step 2");
  assert.equal(r1.step, 1);
  assert.equal(r1.lr, 0.1);
  close([r1.gradNorm], [Math.sqrt(0.05)]);
  assert.equal(opt.stepCount, 2);
  tf.dispose([p, ...Object.values(g1), ...Object.values(g2)]);
  opt.dispose();
});

test("with weightDecay 0 AdamW equals tf.train.adam over 5 random steps", () => {
  const rng = new Rng(3);
  const init = Array.from({ length: 6 }, () => rng.normal());
  const a = tf.variable(tf.tensor(init, [2, 3]));
  const b = tf.variable(tf.tensor(init, [2, 3]));
  const ours = new AdamW({ w: a }, { lr: 0.05, betas: [0.8, 0.99], eps: 1e-7, weightDecay: 0, clipGradNorm: null });
  const ref = tf.train.adam(0.05, 0.8, 0.99, 1e-7);
  for (let s = 0; s < 5; s++) {
    const g = tf.tensor(
      Array.from({ length: 6 }, () => rng.normal()),
      [2, 3],
    );
    ours.step({ w: g });
    ref.applyGradients([{ name: b.name, tensor: g }]);
    g.dispose();
  }
  close(vals(a), vals(b), 1e-6);
  ours.dispose();
  ref.dispose();
  tf.dispose([a, b]);
});

test("global-norm clipping scales by maxNorm / (norm + 1e-6) and reports the pre-clip norm", () => {
  const g = { a: tf.tensor([3]), b: tf.tensor([[4]]) };
  assert.equal(globalNorm(g), 5);
  const { grads, norm, scale } = clipGradNorm(g, 1);
  assert.equal(norm, 5);
  close([scale], [1 / (5 + 1e-6)], 1e-12);
  close(vals(grads.a), [0.6], 1e-6);
  close(vals(grads.b), [0.8], 1e-6);
  const none = clipGradNorm(g, 10);
  assert.equal(none.scale, 1);
  tf.dispose([...Object.values(g), ...Object.values(grads), ...Object.values(none.grads)]);
  assert.throws(() => clipGradNorm({}, 0), /maxNorm must be > 0 \(got 0\)/);

  // In the optimizer: step 1 is clipped (norm 5 -> 1), step 2 (norm 0.5) is not; compare with pre-scaled gradients.
  const p = tf.variable(tf.tensor([1, 1]));
  const q = tf.variable(tf.tensor([1, 1]));
  const clipped = new AdamW({ p }, { lr: 0.1, weightDecay: 0, clipGradNorm: 1 });
  const manual = new AdamW({ q }, { lr: 0.1, weightDecay: 0, clipGradNorm: null });
  const s = 1 / (5 + 1e-6);
  const gs = [
    [3, 4],
    [0.3, 0.4],
  ].map((x) => tf.tensor(x));
  assert.equal(clipped.step({ p: gs[0] }).gradNorm, 5);
  const pre = tf.tensor([3 * s, 4 * s]);
  manual.step({ q: pre });
  clipped.step({ p: gs[1] });
  manual.step({ q: gs[1] });
  close(vals(p), vals(q), 1e-7);
  tf.dispose([p, q, pre, ...gs]);
  clipped.dispose();
  manual.dispose();
});

test("schedules give the documented multipliers at specific steps", () => {
  const cos = cosineSchedule({ warmupSteps: 4, totalSteps: 20, minLrRatio: 0.1 });
  close([0, 3, 4, 12, 19, 20, 50].map(cos), [0.25, 1, 1, 0.55, 0.10864662381854631, 0.1, 0.1], 1e-12);
  const lin = linearSchedule({ warmupSteps: 2, totalSteps: 12, minLrRatio: 0 });
  close([0, 1, 2, 7, 12, 99].map(lin), [0.5, 1, 1, 0.5, 0, 0], 1e-12);
  const con = constantSchedule({ warmupSteps: 4 });
  close([0, 1, 3, 100].map(con), [0.25, 0.5, 1, 1], 1e-12);
  assert.equal(makeSchedule("constant")(0), 1);
  assert.equal(makeSchedule({ type: "cosine", totalSteps: 10 })(5), 0.5);
  assert.throws(() => makeSchedule("cosin"), /unknown schedule "cosin" .* Did you mean "cosine"\?/);
  assert.throws(
    () => cosineSchedule({ warmupSteps: 10, totalSteps: 5 }),
    /totalSteps must be an integer >= max\(1, warmupSteps\)/,
  );
  assert.throws(() => linearSchedule({ minLrRatio: 2 }), /minLrRatio must be in \[0, 1\] \(got 2\)/);

  // The optimizer reads the schedule at its update count (0-based) and applies it to the base lr.
  const p = tf.variable(tf.zeros([1]));
  const opt = new AdamW({ p }, { lr: 2, schedule: { type: "linear", warmupSteps: 2, totalSteps: 12 } });
  const g = { p: tf.ones([1]) };
  // step index 0, 1 warm up (1/2, 2/2); index 2 starts the decay at 1; index 3 is 1 - 1/10.
  assert.deepEqual([opt.step(g).lr, opt.step(g).lr, opt.step(g).lr, opt.step(g).lr], [1, 2, 2, 1.8]);
  tf.dispose([p, g.p]);
  opt.dispose();
});

/** A least-squares problem: loss = mean over rows of (x_r . w + b - y_r)^2. */
function problem() {
  const x = tf.tensor([
    [1, 2],
    [3, -1],
    [0.5, 0.5],
    [-2, 1],
  ]);
  const y = tf.tensor([1, 0, 2, -1]);
  const loss = (w: tf.Variable, b: tf.Variable, lo: number, hi: number) => () =>
    tf.mean(
      tf.square(
        tf.sub(tf.add(tf.squeeze(tf.matMul(x.slice([lo, 0], [hi - lo, 2]), w), [1]), b), y.slice([lo], [hi - lo])),
      ),
    ) as tf.Scalar;
  return { x, y, loss };
}

test("accumulating two half-batches then one step equals one step on the full batch", () => {
  const { x, y, loss } = problem();
  const w1 = tf.variable(tf.tensor([[0.1], [-0.3]]));
  const b1 = tf.variable(tf.tensor([0.2]));
  const w2 = tf.variable(w1.clone());
  const b2 = tf.variable(b1.clone());
  const full = new AdamW({ w: w1, b: b1 }, { lr: 0.1, weightDecay: 0.1, clipGradNorm: 0.5 });
  const acc = new AdamW({ w: w2, b: b2 }, { lr: 0.1, weightDecay: 0.1, clipGradNorm: 0.5 });
  for (let s = 0; s < 3; s++) {
    const r = full.minimize(loss(w1, b1, 0, 4));
    const l1 = acc.accumulateLoss(loss(w2, b2, 0, 2));
    const l2 = acc.accumulateLoss(loss(w2, b2, 2, 4));
    assert.equal(acc.accumulatedWeight(), 2);
    const ra = acc.stepAccumulated();
    close([ra.gradNorm], [r.gradNorm], 1e-5, "grad norm");
    close([ra.loss], [(l1 + l2) / 2], 1e-6, "mean micro-batch loss");
    close([ra.loss], [r.loss], 1e-5, "loss");
  }
  close(vals(w1), vals(w2), 1e-6, "w");
  close(vals(b1), vals(b2), 1e-6, "b");
  assert.equal(acc.accumulatedWeight(), 0);
  assert.throws(() => acc.stepAccumulated(), /nothing accumulated since the last step/);
  tf.dispose([x, y, w1, b1, w2, b2]);
  full.dispose();
  acc.dispose();
});

test("frozen parameters stay bit-identical; 1-D parameters get no weight decay by default", () => {
  const { x, y, loss } = problem();
  const w = tf.variable(tf.tensor([[0.1], [-0.3]]));
  const b = tf.variable(tf.tensor([0.2]));
  const opt = new AdamW({ "model.layers.0.w": w, "model.norm.b": b }, { lr: 0.1, freeze: "model.norm.*" });
  assert.deepEqual(opt.frozenNames(), ["model.norm.b"]);
  assert.deepEqual(opt.trainableNames(), ["model.layers.0.w"]);
  const before = vals(b);
  opt.minimize(loss(w, b, 0, 4));
  // A gradient passed for a frozen parameter is ignored, not applied.
  const g = { "model.norm.b": tf.ones([1]), "model.layers.0.w": tf.zeros([2, 1]) };
  opt.step(g);
  assert.deepEqual(new Uint32Array(b.dataSync().buffer), new Uint32Array(new Float32Array(before).buffer));
  const decay = new AdamW({ w, b });
  assert.deepEqual(decay.decayNames(), ["w"]);
  const regex = new AdamW({ w, b }, { freeze: [/^w$/] });
  assert.deepEqual(regex.trainableNames(), ["b"]);
  // A variable frozen on the model (trainable = false) after the optimizer was built is skipped too.
  const wBefore = vals(w);
  w.trainable = false;
  const dyn = new AdamW({ w, b }, { lr: 0.1 });
  assert.deepEqual(dyn.frozenNames(), ["w"]);
  const gw = { w: tf.ones([2, 1]), b: tf.ones([1]) };
  dyn.step(gw);
  assert.deepEqual(vals(w), wBefore);
  b.trainable = false;
  assert.throws(() => dyn.minimize(loss(w, b, 0, 4)), /every parameter is frozen/);
  w.trainable = true;
  b.trainable = true;
  tf.dispose(Object.values(gw));
  dyn.dispose();
  tf.dispose([x, y, w, b, ...Object.values(g)]);
  opt.dispose();
});

test("no tensors leak across steps, accumulation and state snapshots", () => {
  const { x, y, loss } = problem();
  const w = tf.variable(tf.tensor([[0.1], [-0.3]]));
  const b = tf.variable(tf.tensor([0.2]));
  const start = tf.memory().numTensors;
  const opt = new AdamW({ w, b }, { lr: 0.1 });
  opt.minimize(loss(w, b, 0, 4));
  const afterFirst = tf.memory().numTensors; // + 4 moment variables
  assert.equal(afterFirst, start + 4);
  for (let s = 0; s < 3; s++) opt.minimize(loss(w, b, 0, 4));
  opt.accumulateLoss(loss(w, b, 0, 2));
  opt.accumulateLoss(loss(w, b, 2, 4));
  opt.stepAccumulated();
  const snap = opt.getState();
  opt.setState(snap);
  tf.dispose(Object.values(snap.tensors));
  assert.equal(tf.memory().numTensors, afterFirst);
  opt.dispose();
  assert.equal(tf.memory().numTensors, start);
  tf.dispose([x, y, w, b]);
});

test("getState / setState replays a step exactly", () => {
  const { x, y, loss } = problem();
  const w = tf.variable(tf.tensor([[0.1], [-0.3]]));
  const b = tf.variable(tf.tensor([0.2]));
  const opt = new AdamW({ w, b }, { lr: 0.1, schedule: { type: "cosine", warmupSteps: 1, totalSteps: 5 } });
  opt.minimize(loss(w, b, 0, 4));
  const snap = opt.getState();
  const w0 = w.clone();
  const b0 = b.clone();
  const r1 = opt.minimize(loss(w, b, 0, 4));
  const after = [...vals(w), ...vals(b)];
  w.assign(w0);
  b.assign(b0);
  opt.setState(snap);
  assert.equal(opt.stepCount, 1);
  const r2 = opt.minimize(loss(w, b, 0, 4));
  assert.deepEqual([...vals(w), ...vals(b)], after);
  assert.equal(r2.lr, r1.lr);
  assert.deepEqual(Object.keys(snap.tensors).sort(), ["exp_avg.b", "exp_avg.w", "exp_avg_sq.b", "exp_avg_sq.w"]);
  assert.throws(
    () => opt.setState({ step: 1, tensors: { "exp_avg.nope": snap.tensors["exp_avg.w"] } }),
    /state tensor "exp_avg\.nope" names no parameter/,
  );
  assert.throws(
    () => opt.setState({ step: 1, tensors: { "exp_avg.w": snap.tensors["exp_avg.b"] } }),
    /"exp_avg\.w" has shape \[1\] but parameter "w" has \[2, 1\]/,
  );
  assert.throws(
    () => opt.setState({ step: 1, tensors: { "exp_avg.w": snap.tensors["exp_avg.w"] } }),
    /has "exp_avg\.w" but not "exp_avg_sq\.w"/,
  );
  tf.dispose([x, y, w, b, w0, b0, ...Object.values(snap.tensors)]);
  opt.dispose();
});

test("bad gradients and options give named errors; non-finite steps error or skip", () => {
  const w = tf.variable(tf.tensor([1, 2]));
  const opt = new AdamW({ "model.embed_tokens.weight": w });
  const g = tf.tensor([1, 2, 3]);
  assert.throws(
    () => opt.step({ "model.embed_token.weight": g }),
    /gradient for unknown parameter "model\.embed_token\.weight" .* Did you mean "model\.embed_tokens\.weight"\?/,
  );
  assert.throws(
    () => opt.step({ "model.embed_tokens.weight": g }),
    /gradient "model\.embed_tokens\.weight" has shape \[3\] but the parameter has \[2\]/,
  );
  const nan = tf.tensor([NaN, 1]);
  const before = vals(w);
  assert.throws(
    () => opt.step({ "model.embed_tokens.weight": nan }),
    /the gradient norm is not finite \(first non-finite gradient: "model\.embed_tokens\.weight"\); no parameter was changed/,
  );
  assert.deepEqual(vals(w), before);
  resetWarnings(null);
  const skip = new AdamW({ w }, { nonFinite: "skip" });
  const r = skip.step({ w: nan });
  assert.equal(r.skipped, true);
  assert.equal(skip.stepCount, 0);
  assert.deepEqual(vals(w), before);
  assert.ok(warnings().some((x) => x.key === "model/nonFiniteStep"));
  resetWarnings(undefined);
  assert.throws(() => new AdamW({ w }, { lr: -1 }), /options\.lr must be a finite number >= 0 \(got -1\)/);
  assert.throws(() => new AdamW({ w }, { betas: [0.9, 1] }), /options\.betas must be two numbers in \[0, 1\)/);
  assert.throws(() => new AdamW({ w }, { clipGradNorm: 0 }), /clipGradNorm must be > 0 or null/);
  tf.dispose([w, g, nan]);
  opt.dispose();
  skip.dispose();
});

test("the hand-computed AdamW steps and accumulation also hold on the wasm backend", async () => {
  const { useBackend } = await import("../../lib/core/backend.js");
  const prev = tf.getBackend();
  await useBackend({ force: "wasm" });
  try {
    const p = tf.variable(tf.tensor([1.0, -2.0]));
    const opt = new AdamW({ p }, { lr: 0.1, weightDecay: 0.1, noDecay: null, clipGradNorm: null });
    const gs = [tf.tensor([0.1, -0.2]), tf.tensor([0.3, 0.4])];
    opt.step({ p: gs[0] });
    opt.step({ p: gs[1] });
    close(vals(p), [0.7893219021055898, -1.8978103564960367], 1e-6, "wasm step 2");
    tf.dispose([p, ...gs]);
    opt.dispose();
    const { x, y, loss } = problem();
    const w = tf.variable(tf.tensor([[0.1], [-0.3]]));
    const b = tf.variable(tf.tensor([0.2]));
    const start = tf.memory().numTensors;
    const acc = new AdamW({ w, b }, { lr: 0.1 });
    acc.accumulateLoss(loss(w, b, 0, 2));
    acc.accumulateLoss(loss(w, b, 2, 4));
    acc.stepAccumulated();
    assert.equal(tf.memory().numTensors, start + 4);
    acc.dispose();
    tf.dispose([x, y, w, b]);
  } finally {
    await tf.setBackend(prev);
  }
});
