// grpoStep on worker threads (update.parallelTrainer): the same rollout and the same update as the single-process
// step, up to float summation order, with the loss metrics merged over workers; options that cannot cross into a
// worker are clear errors.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../lib/core/random.js";
import { AdamW } from "../../lib/model/optim.js";
import { logprobs } from "../../lib/model/logprobs.js";
import { sample } from "../../lib/rollout/rollout.js";
import { grpoStep, parallelTrainer, type GrpoStepOptions } from "../../lib/update/index.js";
import { digitReward, PROMPTS, TARGETS, tinyPolicy } from "./fixture.js";
import { close, setup } from "./setup.js";

const base: GrpoStepOptions = { n: 8, sampling: { maxNewTokens: 3, temperature: 1 }, thresholds: { truncFrac: null } };
const weightsOf = (p: ReturnType<typeof tinyPolicy>) =>
  [...p.model.namedVariables().values()].flatMap((v) => Array.from(v.dataSync()));

describe("grpoStep with a parallel trainer", () => {
  before(setup);

  test("two workers give the single-process update: same weights, same metrics, two epochs × two mini-batches, KL in the loss", async () => {
    const optim = { lr: 1e-2, weightDecay: 0.01, clipGradNorm: 1 };
    const opts: GrpoStepOptions = {
      ...base,
      epochs: 2,
      miniBatchSize: 20,
      kl: { beta: 0.05, estimator: "k3" },
      entropyCoef: 0.01,
    };
    const one = tinyPolicy(11),
      two = tinyPolicy(11);
    const refOne = one.model.clone(),
      refTwo = two.model.clone();
    const opt = new AdamW(one.model.namedVariables(), optim);
    const trainer = await parallelTrainer(two, { workers: 2, optimizer: optim });
    const initial = weightsOf(one);
    try {
      for (let s = 0; s < 2; s++) {
        const a = await grpoStep(
          {
            policy: one,
            opt,
            ref: refOne,
            prompts: PROMPTS,
            reward: digitReward,
            columns: { target: TARGETS },
            step: s,
          },
          { ...opts, rng: new Rng(5 + s) },
        );
        const tensors = tf.memory().numTensors;
        const b = await grpoStep(
          {
            policy: two,
            trainer,
            ref: refTwo,
            prompts: PROMPTS,
            reward: digitReward,
            columns: { target: TARGETS },
            step: s,
          },
          { ...opts, rng: new Rng(5 + s) },
        );
        assert.equal(
          tf.memory().numTensors,
          tensors,
          `step ${s}: the parallel step leaves no tensor behind on the main thread`,
        );
        assert.deepEqual(
          b.rollout.responseIds,
          a.rollout.responseIds,
          "same weights before the step, same seed: same rollout",
        );
        assert.equal(b.updates.length, 4);
        for (const k of [
          "update/pgLoss",
          "update/loss",
          "update/gradNorm",
          "update/approxKl",
          "update/clipFrac",
          "update/klLoss",
          "update/entropy",
          "update/ratioMax",
          "update/ratioMin",
        ].filter((k) => k in a.metrics))
          close(b.metrics[k], a.metrics[k], 2e-4, `step ${s} ${k}`);
        assert.ok(
          "update/pgLoss" in b.metrics && "update/ratioMax" in b.metrics,
          "the loss metrics come back from the workers",
        );
        const [w1, w2] = [weightsOf(one), weightsOf(two)];
        const maxDiff = w1.reduce((m, v, i) => Math.max(m, Math.abs(v - w2[i])), 0);
        assert.ok(maxDiff < 1e-4, `step ${s}: weights after the update differ by up to ${maxDiff}`);
        if (s === 1)
          assert.ok(
            w1.some((v, i) => v !== initial[i]),
            "the update moved the weights",
          );
      }
      const sums = await trainer.replicaChecksums();
      close(sums[1], sums[0], 1e-6, "the replicas stay identical");
    } finally {
      await trainer.close();
      for (const m of [one.model, two.model, refOne, refTwo]) m.dispose();
      opt.dispose();
    }
  });

  test("trainer.logprobs: the workers' no-grad pass equals model.logprobs, rows in order, also with fewer rows than workers", async () => {
    const p = tinyPolicy(4);
    const trainer = await parallelTrainer(p, { workers: 2 });
    try {
      const ro = await sample(p, PROMPTS.slice(0, 3), { n: 1, maxNewTokens: 3, temperature: 1, rng: new Rng(1) });
      for (const rows of [[0, 1, 2], [1]]) {
        const batch = {
          ids: rows.map((r) => ro.ids[r]),
          attentionMask: rows.map((r) => ro.attentionMask[r]),
          responseMask: rows.map((r) => ro.responseMask[r]),
        };
        const local = logprobs(p.model, batch, { temperature: 0.7 });
        const remote = await trainer.logprobs(batch, { temperature: 0.7 });
        assert.equal(remote.logp.length, rows.length);
        close(remote.logp.flat(), local.logp.flat(), 1e-5, `logp of rows ${rows}`);
        close(remote.entropy!.flat(), local.entropy!.flat(), 1e-5, `entropy of rows ${rows}`);
        assert.deepEqual(remote.mask, local.mask);
      }
      await assert.rejects(
        trainer.logprobs({ ids: ro.ids }, { topK: 2 } as never),
        /topK is not supported on the workers/,
      );
    } finally {
      await trainer.close();
      p.model.dispose();
    }
  });

  test("what cannot reach a worker is a clear error, before any rollout", async () => {
    const p = tinyPolicy(2);
    await assert.rejects(
      parallelTrainer(p, { optimizer: { freeze: /embed/ } }),
      /optimizer\.freeze .*cannot be sent to a worker/,
    );
    const trainer = await parallelTrainer(p, { workers: 2 });
    try {
      const inputs = { policy: p, trainer, prompts: PROMPTS, reward: digitReward, columns: { target: TARGETS } };
      await assert.rejects(grpoStep(inputs, { ...base, agg: () => tf.scalar(0) }), /options\.agg is a function/);
      await assert.rejects(
        grpoStep(inputs, { ...base, microBatch: 4 }),
        /options\.microBatch is not used with inputs\.trainer/,
      );
      await assert.rejects(
        grpoStep({ policy: p, prompts: PROMPTS, reward: digitReward }, base),
        /inputs\.opt is missing/,
      );
    } finally {
      await trainer.close();
      p.model.dispose();
    }
  });
});
