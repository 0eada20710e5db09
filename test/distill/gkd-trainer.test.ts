// gkdStep on worker threads (distill.gkdTrainer): the teacher scores on the main thread, its distributions travel to
// the workers as plain rows, and the update equals the single-process step's up to float summation order, for full and
// top-k teachers and token- and sequence-mean aggregation; what cannot reach a worker is a clear error.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../lib/core/random.js";
import { AdamW } from "../../lib/model/optim.js";
import { gkdStep, gkdTrainer, localTeacher, type GkdStepOptions } from "../../lib/distill/index.js";
import { grpoStep, parallelTrainer } from "../../lib/update/index.js";
import { digitReward, PROMPTS, tinyModel, tinyPolicy } from "../update/fixture.js";
import { close, setup } from "../update/setup.js";

const weightsOf = (p: ReturnType<typeof tinyPolicy>) =>
  [...p.model.namedVariables().values()].flatMap((v) => Array.from(v.dataSync()));
const threads = () => (fs.existsSync("/proc/self/task") ? fs.readdirSync("/proc/self/task").length : NaN);
const base: GkdStepOptions = { sampling: { maxNewTokens: 3 }, thresholds: { truncFrac: null } };
const RESPONSES = ["0", "1", "22", "33", "4"];

describe("gkdStep with a worker trainer", () => {
  before(setup);

  test("two workers give the single-process update: full and top-k teachers, token- and seq-mean", async () => {
    const optim = { lr: 1e-2, weightDecay: 0.01, clipGradNorm: 1 };
    const one = tinyPolicy(11),
      two = tinyPolicy(11);
    const teacherModel = tinyModel(7);
    const teacher = localTeacher(teacherModel);
    const opt = new AdamW(one.model.namedVariables(), optim);
    const before = threads();
    const trainer = await gkdTrainer(two, { workers: 2, optimizer: optim });
    const during = threads();
    const initial = weightsOf(one);
    const cases: GkdStepOptions[] = [
      { divergence: "jsd", beta: 0.5 },
      { lambda: 0.6, divergence: "reverse-kl", topK: 3, agg: "seq-mean-token-mean" },
      { lambda: 0.4, divergence: "forward-kl", topK: 3, topkTail: "verl", temperature: 1 },
    ];
    try {
      for (const [s, c] of cases.entries()) {
        const opts = { ...base, ...c };
        const inputs = { teacher, prompts: PROMPTS, responses: RESPONSES, step: s };
        const a = await gkdStep({ ...inputs, policy: one, opt }, { ...opts, rng: new Rng(5 + s) });
        const tensors = tf.memory().numTensors;
        const b = await gkdStep({ ...inputs, policy: two, trainer }, { ...opts, rng: new Rng(5 + s) });
        assert.equal(tf.memory().numTensors, tensors, `case ${s}: no tensor left behind on the main thread`);
        assert.deepEqual(b.rollout.ids, a.rollout.ids, "same weights and seed: same batch");
        // float32 tolerance: each worker sums its own rows and the all-reduce adds the parts, so sums are reordered
        // (~1e-6 relative per op); after three AdamW steps at lr 1e-2 the weights agree to well below 1e-4.
        const keys = ["distill/loss", "update/loss", "update/gradNorm", "update/lr"].concat(
          c.topK ? ["distill/teacherTopkMass", "distill/studentTopkMass"] : [],
        );
        for (const k of keys) {
          assert.ok(k in a.metrics && k in b.metrics, `case ${s}: ${k} in both steps' metrics`);
          close(b.metrics[k], a.metrics[k], 1e-4, `case ${s} ${k}`);
        }
        assert.equal(b.metrics["distill/onPolicyFrac"], a.metrics["distill/onPolicyFrac"]);
        const [w1, w2] = [weightsOf(one), weightsOf(two)];
        const maxDiff = w1.reduce((m, v, i) => Math.max(m, Math.abs(v - w2[i])), 0);
        assert.ok(maxDiff < 1e-4, `case ${s}: weights after the update differ by up to ${maxDiff}`);
      }
      assert.ok(
        weightsOf(one).some((v, i) => v !== initial[i]),
        "the updates moved the weights",
      );
      const sums = await trainer.replicaChecksums();
      close(sums[1], sums[0], 1e-6, "the replicas stay identical");
    } finally {
      await trainer.close();
      for (const m of [one.model, two.model, teacherModel]) m.dispose();
      opt.dispose();
    }
    if (Number.isFinite(before))
      assert.ok(threads() <= during - 2, `close() ends the worker threads (${before} → ${during} → ${threads()})`);
  });

  test("bad options are clear errors before any rollout", async () => {
    const p = tinyPolicy(2);
    const teacherModel = tinyModel(3);
    const teacher = localTeacher(teacherModel);
    await assert.rejects(
      gkdTrainer(p, { optimizer: { freeze: /embed/ } }),
      /distill\.gkdTrainer: options\.optimizer\.freeze .*cannot be sent to a worker/,
    );
    const trainer = await gkdTrainer(p, { workers: 2 });
    const grpoTrainer = await parallelTrainer(p, { workers: 1 });
    try {
      const inputs = { policy: p, teacher, prompts: PROMPTS, trainer };
      await assert.rejects(
        gkdStep(inputs, { ...base, divergence: () => tf.zeros([1]) as tf.Tensor1D }),
        /options\.divergence is a function, which cannot be sent to the trainer's workers\. Register it/,
      );
      await assert.rejects(
        gkdStep(inputs, { ...base, agg: () => tf.scalar(0) }),
        /options\.agg is a function, which cannot be sent/,
      );
      await assert.rejects(gkdStep(inputs, { ...base, microBatch: 2 }), /options\.microBatch is not used/);
      await assert.rejects(
        gkdStep({ ...inputs, trainer: grpoTrainer }, base),
        /inputs\.trainer runs "parallelPolicyLoss", not the distillation loss.*distill\.gkdTrainer/,
      );
      await assert.rejects(gkdStep({ ...inputs, trainer: null }, base), /inputs\.opt is missing.*gkdTrainer/);
      // and the other way round: grpoStep refuses a trainer that runs another loss before any work
      await assert.rejects(
        grpoStep({ policy: p, trainer, prompts: PROMPTS, reward: digitReward }),
        /update\.grpoStep: inputs\.trainer runs "parallelGkdLoss", not the policy loss.*update\.parallelTrainer/,
      );
    } finally {
      await trainer.close();
      await grpoTrainer.close();
      p.model.dispose();
      teacherModel.dispose();
    }
  });
});
