// flowrlStep on worker threads (update.flowrlTrainer): the same rollout and the same update of the policy and the log Z
// head as the single-process step, up to float summation order; what cannot reach a worker is a clear error.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../lib/core/random.js";
import { AdamW } from "../../lib/model/optim.js";
import {
  createLogZHead,
  flowrlParams,
  flowrlStep,
  flowrlTrainer,
  parallelTrainer,
  type FlowrlStepOptions,
  type LogZHead,
} from "../../lib/update/index.js";
import { digitReward, PROMPTS, TARGETS, tinyPolicy } from "./fixture.js";
import { close, setup } from "./setup.js";

const base: FlowrlStepOptions = { n: 8, sampling: { maxNewTokens: 2 }, thresholds: { truncFrac: null } };
const weightsOf = (p: ReturnType<typeof tinyPolicy>, head: LogZHead) => [
  ...[...p.model.namedVariables().values()].flatMap((v) => Array.from(v.dataSync())),
  ...head.variables.flatMap((v) => Array.from(v.dataSync())),
];
const threads = () => (fs.existsSync("/proc/self/task") ? fs.readdirSync("/proc/self/task").length : NaN);

describe("flowrlStep with a worker trainer", () => {
  before(setup);

  test("two workers give the single-process update of policy and log Z: 2 steps × 2 epochs × 2 mini-batches", async () => {
    const optim = { lr: 1e-2, weightDecay: 0.01, clipGradNorm: 1 };
    const opts: FlowrlStepOptions = { ...base, epochs: 2, miniBatchSize: 20, weight: "clip" };
    const one = tinyPolicy(11),
      two = tinyPolicy(11);
    const refOne = one.model.clone(),
      refTwo = two.model.clone();
    // dropout 0: with dropout each worker draws its own masks, and the update equals the one-process one only in law
    const headOne = createLogZHead(one.model.config.hidden_size, { rng: new Rng(2), dropout: 0 }),
      headTwo = createLogZHead(two.model.config.hidden_size, { rng: new Rng(2), dropout: 0 });
    const opt = new AdamW(flowrlParams(one.model, headOne), optim);
    const before = threads();
    const trainer = await flowrlTrainer(two, headTwo, { workers: 2, optimizer: optim });
    const during = threads();
    const initial = weightsOf(one, headOne);
    const headInitial = headOne.variables.map((v) => Array.from(v.dataSync()));
    try {
      const inputs = { prompts: PROMPTS, reward: digitReward, columns: { target: TARGETS } };
      for (let s = 0; s < 2; s++) {
        const a = await flowrlStep(
          { ...inputs, policy: one, opt, head: headOne, ref: refOne, step: s },
          { ...opts, rng: new Rng(5 + s) },
        );
        const tensors = tf.memory().numTensors;
        const b = await flowrlStep(
          { ...inputs, policy: two, trainer, head: headTwo, ref: refTwo, step: s },
          { ...opts, rng: new Rng(5 + s) },
        );
        assert.equal(tf.memory().numTensors, tensors, `step ${s}: no tensor left behind on the main thread`);
        assert.deepEqual(b.rollout.responseIds, a.rollout.responseIds, "same weights and seed: same rollout");
        assert.equal(b.updates.length, 4);
        // float32 tolerance: each worker sums its own rows and the all-reduce adds the halves, so sums are reordered
        // (~1e-6 relative per op); over 4 AdamW steps on lr 1e-2 that stays well below 1e-4.
        for (const k of [
          "update/flowLoss",
          "update/loss",
          "update/gradNorm",
          "update/logZMean",
          "update/tbResidualMean",
          "update/tbResidualAbsMax",
          "update/isWeightMean",
          "update/isWeightMax",
          "update/isMaskedFrac",
          "update/seqLogpMean",
        ]) {
          assert.ok(k in a.metrics && k in b.metrics, `${k} in both steps' metrics`);
          close(b.metrics[k], a.metrics[k], 2e-4, `step ${s} ${k}`);
        }
        const [w1, w2] = [weightsOf(one, headOne), weightsOf(two, headTwo)];
        const maxDiff = w1.reduce((m, v, i) => Math.max(m, Math.abs(v - w2[i])), 0);
        assert.ok(maxDiff < 1e-4, `step ${s}: policy and head weights differ by up to ${maxDiff}`);
      }
      assert.ok(
        weightsOf(one, headOne).some((v, i) => v !== initial[i]),
        "the update moved the weights",
      );
      headTwo.variables.forEach((v, i) =>
        assert.notDeepEqual(Array.from(v.dataSync()), headInitial[i], `head variable ${v.name} trained and synced`),
      );
      const sums = await trainer.replicaChecksums();
      close(sums[1], sums[0], 1e-6, "the replicas (model and head) stay identical");
    } finally {
      await trainer.close();
      for (const m of [one.model, two.model, refOne, refTwo]) m.dispose();
      headOne.dispose();
      headTwo.dispose();
      opt.dispose();
    }
    if (Number.isFinite(before))
      assert.ok(threads() <= during - 2, `close() ends the worker threads (${before} → ${during} → ${threads()})`);
  });

  test("with dropout in the head: the same seed gives the same run, and log Z still trains", async () => {
    const p = tinyPolicy(3);
    const ref = p.model.clone();
    const head = createLogZHead(p.model.config.hidden_size, { rng: new Rng(4), dropout: 0.1 });
    const w0 = head.variables.map((v) => Array.from(v.dataSync()));
    const trainer = await flowrlTrainer(p, head, { optimizer: { lr: 1e-2 } });
    try {
      const run = (seed: number) =>
        flowrlStep(
          { policy: p, trainer, head, ref, prompts: PROMPTS, reward: digitReward, columns: { target: TARGETS } },
          { ...base, n: 4, rng: new Rng(seed) },
        );
      const m = (await run(1)).metrics;
      assert.ok(Number.isFinite(m["update/flowLoss"]) && m["update/optimizerSteps"] === 1);
      assert.ok(
        head.variables.some((v, i) => Array.from(v.dataSync()).some((x, j) => x !== w0[i][j])),
        "the head's weights came back trained",
      );
    } finally {
      await trainer.close();
      p.model.dispose();
      ref.dispose();
      head.dispose();
    }
  });

  test("bad options are clear errors before any rollout", async () => {
    const p = tinyPolicy(2);
    const head = createLogZHead(p.model.config.hidden_size, { rng: new Rng(0), dropout: 0 });
    const other = createLogZHead(p.model.config.hidden_size, { rng: new Rng(0), dropout: 0 });
    await assert.rejects(
      flowrlTrainer(p, head, { optimizer: { schedule: () => 1 } }),
      /update\.flowrlTrainer: options\.optimizer\.schedule .*cannot be sent to a worker/,
    );
    await assert.rejects(flowrlTrainer(p, {} as LogZHead), /head must be a log Z head made by update\.createLogZHead/);
    await assert.rejects(
      flowrlTrainer(p, createLogZHead(8, { rng: new Rng(0) })),
      /head's hidden size is 8 but the policy's is 32/,
    );
    const trainer = await flowrlTrainer(p, head, { workers: 2 });
    const grpoTrainer = await parallelTrainer(p, { workers: 1 });
    try {
      const inputs = { policy: p, ref: p.model, prompts: PROMPTS, reward: digitReward, columns: { target: TARGETS } };
      await assert.rejects(flowrlStep({ ...inputs, head }, base), /inputs\.opt is missing.*flowrlTrainer/);
      await assert.rejects(
        flowrlStep({ ...inputs, head, trainer }, { ...base, microBatch: 4 }),
        /options\.microBatch is not used with inputs\.trainer/,
      );
      await assert.rejects(
        flowrlStep({ ...inputs, head: other, trainer }, base),
        /inputs\.trainer was not made for this log Z head.*flowrlTrainer\(policy, head\)/,
      );
      await assert.rejects(
        flowrlStep({ ...inputs, head, trainer: grpoTrainer }, base),
        /workers run "parallelPolicyLoss"/,
      );
    } finally {
      await trainer.close();
      await grpoTrainer.close();
      p.model.dispose();
      head.dispose();
      other.dispose();
    }
  });
});
