import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../lib/core/random.js";
import { AdamW } from "../../lib/model/optim.js";
import { fullLogprobs, logprobs } from "../../lib/model/logprobs.js";
import { exactKl, grpoStep, step, policyLoss, type GrpoStepOptions } from "../../lib/update/index.js";
import { matrixMean } from "../../lib/update/metrics.js";
import type { ParallelTrainer } from "../../lib/model/parallel.js";
import { digitReward, greedyAccuracy, PROMPTS, TARGETS, tinyPolicy } from "./fixture.js";
import { close, setup } from "./setup.js";

const base: GrpoStepOptions = { n: 8, sampling: { maxNewTokens: 1, temperature: 1 }, thresholds: { truncFrac: null } };
const inputs = (p: ReturnType<typeof tinyPolicy>, opt: AdamW, s: number) => ({
  policy: p,
  opt,
  prompts: PROMPTS,
  reward: digitReward,
  columns: { target: TARGETS },
  step: s,
});

describe("grpoStep", () => {
  before(setup);

  test("GRPO raises greedy accuracy on the digit task within 60 steps", async () => {
    const p = tinyPolicy(0);
    const opt = new AdamW(p.model.namedVariables(), { lr: 3e-3, weightDecay: 0 });
    const rng = new Rng(1);
    const acc0 = greedyAccuracy(p);
    const rewards: number[] = [];
    for (let s = 0; s < 60; s++)
      rewards.push((await grpoStep(inputs(p, opt, s), { ...base, rng })).metrics["reward/mean"]);
    const acc1 = greedyAccuracy(p);
    const early = rewards.slice(0, 10).reduce((a, b) => a + b) / 10,
      late = rewards.slice(-10).reduce((a, b) => a + b) / 10;
    assert.ok(acc1 >= 0.8 && acc1 > acc0, `greedy accuracy ${acc0} → ${acc1}`);
    assert.ok(late > early + 0.3, `sampled reward ${early.toFixed(2)} → ${late.toFixed(2)}`);
    p.model.dispose();
    opt.dispose();
  });

  test("options.lossOptions reach the variant (dppo-tv's klTau, 80/20 forking tokens); a bad one names the option", async () => {
    const p = tinyPolicy(5);
    const opt = new AdamW(p.model.namedVariables(), { lr: 1e-3 });
    const run = (options: GrpoStepOptions) =>
      grpoStep(inputs(p, opt, 0), { ...base, rng: new Rng(2), loss: "dppo-tv", ...options });
    const plain = (await run({})).metrics;
    const withKl = (await run({ lossOptions: { klTau: 1e-3 } })).metrics;
    assert.equal(plain["update/dppoKl"], undefined);
    assert.ok(Number.isFinite(withKl["update/dppoKl"]), "the variant saw klTau");
    const forking = (await run({ lossOptions: { topEntropyQuantile: 0.2 } })).metrics;
    assert.ok(Number.isFinite(forking["update/loss"]), "the step computed the entropy the 80/20 mask needs");
    await assert.rejects(run({ lossOptions: { klTau: -1 } }), /options\.klTau is -1/);
    p.model.dispose();
    opt.dispose();
  });

  test("same seed, same run: identical metrics", async () => {
    const run = async () => {
      const p = tinyPolicy(3);
      const opt = new AdamW(p.model.namedVariables(), { lr: 1e-3 });
      const rng = new Rng(9);
      const out: Record<string, number>[] = [];
      for (let s = 0; s < 3; s++) {
        const m = (await grpoStep(inputs(p, opt, s), { ...base, rng, epochs: 2, miniBatchSize: 20 })).metrics;
        out.push(Object.fromEntries(Object.entries(m).filter(([k]) => !k.startsWith("time/"))));
      }
      p.model.dispose();
      opt.dispose();
      return out;
    };
    assert.deepEqual(await run(), await run());
  });

  test("epochs × mini-batches: the ratio is 1 only on the first mini-batch of the first epoch", async () => {
    const p = tinyPolicy(4);
    const opt = new AdamW(p.model.namedVariables(), { lr: 1e-2, weightDecay: 0 });
    const r = await grpoStep(inputs(p, opt, 0), {
      ...base,
      sampling: { maxNewTokens: 3, temperature: 1 },
      rng: new Rng(2),
      epochs: 2,
      miniBatchSize: 20,
    });
    assert.equal(r.updates.length, 4);
    assert.equal(r.metrics["update/optimizerSteps"], 4);
    close([r.updates[0]["update/ratioMin"], r.updates[0]["update/ratioMax"]], [1, 1], 1e-5);
    for (const u of r.updates.slice(1))
      assert.ok(
        Math.abs(u["update/ratioMax"] - 1) > 1e-4 || Math.abs(u["update/ratioMin"] - 1) > 1e-4,
        "later mini-batches are off-policy",
      );
    p.model.dispose();
    opt.dispose();
  });

  test("KL to a frozen reference: in the loss it starts at 0, in the reward it changes the rewards", async () => {
    const p = tinyPolicy(5);
    const ref = p.model.clone();
    const opt = new AdamW(p.model.namedVariables(), { lr: 1e-2, weightDecay: 0 });
    const rng = new Rng(3);
    const r0 = await grpoStep({ ...inputs(p, opt, 0), ref }, { ...base, rng, kl: { beta: 0.1, estimator: "k3" } });
    close(r0.metrics["update/klLoss"], 0, 1e-6);
    const r1 = await grpoStep({ ...inputs(p, opt, 1), ref }, { ...base, rng, kl: { beta: 0.1, estimator: "k3" } });
    assert.ok(r1.metrics["update/klLoss"] > 0 && r1.metrics["update/refKl"] !== 0);
    const r2 = await grpoStep(
      { ...inputs(p, opt, 2), ref },
      { ...base, rng, kl: { beta: 1, estimator: "k1", in: "reward" } },
    );
    assert.ok(Number.isFinite(r2.metrics["update/rewardKl"]) && r2.metrics["update/klLoss"] === undefined);
    await assert.rejects(
      grpoStep(inputs(p, opt, 3), { ...base, kl: { beta: 0.1 } }),
      /options\.kl is set but inputs\.ref is missing/,
    );
    p.model.dispose();
    ref.dispose();
    opt.dispose();
  });

  test("exact full-vocabulary KL in the loss and in the reward: values match the two models' distributions, no tensors leak", async () => {
    const p = tinyPolicy(10);
    const ref = p.model.clone();
    const opt = new AdamW(p.model.namedVariables(), { lr: 1e-2, weightDecay: 0 });
    const rng = new Rng(6);
    const sampling = { maxNewTokens: 3, temperature: 0.8 };
    const exact: GrpoStepOptions = { ...base, sampling, rng, kl: { beta: 0.1, estimator: "exact" }, entropyCoef: 0.01 };
    const r0 = await grpoStep({ ...inputs(p, opt, 0), ref }, exact);
    close(r0.metrics["update/klLoss"], 0, 1e-6); // policy == reference
    // the KL term at the next step, on the policy before its update, is token-mean(Σ_v π(log π − log π_ref)) at the sampling temperature
    const meanExact = (m: typeof p.model, ro: typeof r0.rollout) => {
      const k = tf.tidy(() => {
        const [a, b] = [fullLogprobs(m, ro, { temperature: 0.8 }), fullLogprobs(ref, ro, { temperature: 0.8 })];
        return exactKl({ p: a, q: b }).arraySync() as number[][];
      });
      return {
        tokenMean: matrixMean(k, ro.responseMask),
        seqSum: k.map((row, i) => row.reduce((s, v, t) => s + v * ro.responseMask[i][t], 0)),
      };
    };
    const before1 = p.model.clone();
    const r1 = await grpoStep({ ...inputs(p, opt, 1), ref }, exact);
    const e1 = meanExact(before1, r1.rollout);
    assert.ok(e1.tokenMean > 1e-4, `the policy moved away from the reference (KL ${e1.tokenMean})`);
    close(r1.metrics["update/klLoss"], e1.tokenMean, 1e-4, "klLoss");
    // in the reward: R_i − β·Σ_t KL_t with the old policy's distributions; the rewards are the raw ones shifted
    const before2 = p.model.clone();
    const r2 = await grpoStep(
      { ...inputs(p, opt, 2), ref },
      { ...exact, kl: { beta: 0.5, estimator: "exact", in: "reward" } },
    );
    const e2 = meanExact(before2, r2.rollout);
    assert.equal(r2.metrics["update/klLoss"], undefined);
    close(r2.metrics["update/rewardKl"], e2.seqSum.reduce((a, b) => a + b, 0) / e2.seqSum.length, 1e-4, "rewardKl");
    const raw = r2.rollout.responses.map((t, i) => (t[0] === r2.rollout.table.get("target", i) ? 1 : 0));
    close(
      r2.rewards,
      raw.map((v, i) => v - 0.5 * e2.seqSum[i]),
      1e-4,
      "rewards",
    );
    // no tensors left behind by either placement (after the warm-up above created the optimizer moments)
    for (const kl of [
      { beta: 0.1, estimator: "exact" },
      { beta: 0.1, estimator: "exact", in: "reward" as const },
    ]) {
      const n0 = tf.memory().numTensors;
      await grpoStep({ ...inputs(p, opt, 3), ref }, { ...exact, kl, epochs: 2, miniBatchSize: 20, microBatch: 7 });
      assert.equal(tf.memory().numTensors, n0, `tensors leaked with kl ${JSON.stringify(kl)}`);
    }
    // the parallel trainer cannot take the exact KL in the loss: a clear error before any work
    await assert.rejects(
      grpoStep({ ...inputs(p, opt, 4), ref, trainer: {} as ParallelTrainer }, { ...base, kl: { estimator: "exact" } }),
      /"exact" in the loss is not supported with inputs\.trainer/,
    );
    p.model.dispose();
    ref.dispose();
    before1.dispose();
    before2.dispose();
    opt.dispose();
  });

  test("a grpoStep leaves no tensors behind", async () => {
    const p = tinyPolicy(6);
    const opt = new AdamW(p.model.namedVariables(), { lr: 1e-3 });
    const rng = new Rng(4);
    await grpoStep(inputs(p, opt, 0), { ...base, rng, entropyCoef: 0.01 }); // creates the optimizer moments
    const n0 = tf.memory().numTensors;
    await grpoStep(inputs(p, opt, 1), { ...base, rng, entropyCoef: 0.01, epochs: 2, miniBatchSize: 20, microBatch: 7 });
    assert.equal(tf.memory().numTensors, n0);
    p.model.dispose();
    opt.dispose();
  });

  test("micro-batches accumulate to exactly the full-batch update", () => {
    const p = tinyPolicy(7);
    const batch = {
      ids: [
        [5, 7, 6, 3, 4],
        [6, 7, 5, 5, 2],
        [7, 7, 3, 4, 4],
        [5, 6, 7, 3, 3],
      ],
      // row 3 has no response token: the seq-mean modes leave it out of their denominators (verl seq_mask)
      responseMask: [
        [0, 0, 1, 1, 1],
        [0, 0, 1, 1, 0],
        [0, 0, 1, 0, 0],
        [0, 0, 0, 0, 0],
      ],
    };
    const old = logprobs(p.model, batch).logp.map((r) => r.map((x) => x - 0.05));
    const adv = [1, -0.5, 0.25, 2];
    const updated = (micro: number | undefined, agg: string) => {
      const m = p.model.clone({ trainable: true });
      const opt = new AdamW(m.namedVariables(), { lr: 1e-2, weightDecay: 0, clipGradNorm: null });
      const met = step(m, opt, batch, { oldLogp: old, adv }, (mb) => policyLoss("ppo-clip", mb, { agg }), {
        microBatch: micro,
        weightBy: agg === "token-mean" ? "tokens" : "rows",
      });
      const w = Array.from(m.namedVariables().get("model.layers.0.mlp.up_proj.weight")!.dataSync());
      m.dispose();
      opt.dispose();
      return { w, gradNorm: met["update/gradNorm"], loss: met["update/loss"] };
    };
    for (const agg of ["token-mean", "seq-mean-token-mean", "seq-mean-token-sum", "seq-mean-token-sum-norm"])
      for (const micro of [1, 3]) {
        const [a, b] = [updated(micro, agg), updated(undefined, agg)];
        // the gradient norm is scale-sensitive (Adam's first update is not), so compare it too
        close(a.gradNorm, b.gradNorm, 1e-4, `${agg} micro ${micro} gradNorm`);
        close(a.loss, b.loss, 1e-5, `${agg} micro ${micro} loss`);
        close(a.w, b.w, 1e-4, `${agg} micro ${micro}`);
      }
    p.model.dispose();
  });

  test("NaN logprobs raise an alert naming the step, sample and token, and skip the update", async () => {
    const p = tinyPolicy(8);
    const opt = new AdamW(p.model.namedVariables(), { lr: 1e-3 });
    const v = p.model.namedVariables().get("model.norm.weight")!;
    v.assign(tf.fill(v.shape, NaN));
    const r = await grpoStep(inputs(p, opt, 17), { ...base, rng: new Rng(5) });
    const a = r.alerts.find((x) => x.key === "alert/nonFinite");
    assert.ok(a, `alerts: ${r.alerts.map((x) => x.key)}`);
    assert.match(a!.message, /step 17: the old logprob is NaN at sample 0, response token 0/);
    assert.equal(r.metrics["update/optimizerSteps"], 0);
    p.model.dispose();
    opt.dispose();
  });
});
