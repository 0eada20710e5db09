import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../lib/core/random.js";
import { AdamW } from "../../lib/model/optim.js";
import { createLogZHead, flowrlParams, flowrlStep } from "../../lib/update/index.js";
import { digitReward, greedyAccuracy, PROMPTS, TARGETS, tinyPolicy } from "./fixture.js";
import { setup } from "./setup.js";

describe("flowrlStep", () => {
  before(setup);
  test("FlowRL trains the policy and log Z jointly without diverging", async () => {
    const p = tinyPolicy(0);
    const ref = p.model.clone();
    const head = createLogZHead(p.model.config.hidden_size, { rng: new Rng(2) });
    const opt = new AdamW(flowrlParams(p.model, head), { lr: 3e-3, weightDecay: 0 });
    const rng = new Rng(1);
    const w0 = Array.from(head.variables[head.variables.length - 2].dataSync());
    const hist: Record<string, number>[] = [];
    for (let s = 0; s < 40; s++) {
      const r = await flowrlStep(
        {
          policy: p,
          opt,
          head,
          ref,
          prompts: PROMPTS,
          reward: digitReward,
          columns: { target: TARGETS },
          step: s,
          history: hist,
        },
        { n: 8, sampling: { maxNewTokens: 1 }, rng, weight: "cap", thresholds: { truncFrac: null } },
      );
      hist.push(r.metrics);
      for (const k of ["update/flowLoss", "update/logZMean", "update/gradNorm", "update/isWeightMean"])
        assert.ok(Number.isFinite(r.metrics[k]), `step ${s}: ${k} = ${r.metrics[k]}`);
      assert.equal(r.metrics["update/isWeightMean"], 1); // one mini-batch, one epoch: w = 1
    }
    const loss = hist.map((m) => m["update/flowLoss"]);
    const early = loss.slice(0, 5).reduce((a, b) => a + b) / 5,
      late = loss.slice(-5).reduce((a, b) => a + b) / 5;
    // The loss is dominated by (β·r̂)² ≈ 15²·E[r̂²] ≈ 200 on fresh samples each step, so "no divergence" means it
    // stays at that scale while the reward rises and log Z stays small.
    assert.ok(Math.max(...loss) < 2 * 225, `flow loss peaked at ${Math.max(...loss).toFixed(1)}`);
    assert.ok(late <= Math.max(...loss.slice(5, 15)), `late flow loss ${late.toFixed(1)}, early ${early.toFixed(1)}`);
    assert.ok(
      hist.every((m) => Math.abs(m["update/logZMean"]) < 5),
      "log Z stays bounded",
    );
    assert.notDeepEqual(Array.from(head.variables[head.variables.length - 2].dataSync()), w0, "log Z head trained");
    const rew = hist.map((m) => m["reward/mean"]);
    assert.ok(
      rew.slice(-10).reduce((a, b) => a + b) / 10 > rew.slice(0, 10).reduce((a, b) => a + b) / 10,
      "reward rises",
    );
    assert.ok(greedyAccuracy(p) >= 0.6, `greedy accuracy ${greedyAccuracy(p)}`);
    const n0 = tf.memory().numTensors;
    await flowrlStep(
      { policy: p, opt, head, ref, prompts: PROMPTS, reward: digitReward, columns: { target: TARGETS } },
      {
        n: 4,
        sampling: { maxNewTokens: 1 },
        rng,
        weight: "clip",
        epochs: 2,
        miniBatchSize: 10,
        thresholds: { truncFrac: null },
      },
    );
    assert.equal(tf.memory().numTensors, n0);
    p.model.dispose();
    ref.dispose();
    head.dispose();
    opt.dispose();
  });
  test("flowrlStep refuses an optimizer that does not train the head", async () => {
    const p = tinyPolicy(1);
    const head = createLogZHead(p.model.config.hidden_size, { rng: new Rng(0) });
    const opt = new AdamW(p.model.namedVariables());
    await assert.rejects(
      flowrlStep({
        policy: p,
        opt,
        head,
        ref: p.model,
        prompts: PROMPTS,
        reward: digitReward,
        columns: { target: TARGETS },
      }),
      /does not train the log Z head.*flowrlParams/,
    );
    p.model.dispose();
    head.dispose();
    opt.dispose();
  });
  test("same seed, same run: identical metrics (3 steps, 2 epochs × 2 mini-batches, dropout in the log Z head)", async () => {
    const run = async () => {
      const p = tinyPolicy(3);
      const ref = p.model.clone();
      const head = createLogZHead(p.model.config.hidden_size, { rng: new Rng(4) });
      const opt = new AdamW(flowrlParams(p.model, head), { lr: 1e-3 });
      const rng = new Rng(9);
      const out: Record<string, number>[] = [];
      for (let s = 0; s < 3; s++) {
        const m = (
          await flowrlStep(
            { policy: p, opt, head, ref, prompts: PROMPTS, reward: digitReward, columns: { target: TARGETS }, step: s },
            {
              n: 4,
              sampling: { maxNewTokens: 2 },
              rng,
              weight: "clip",
              epochs: 2,
              miniBatchSize: 10,
              thresholds: { truncFrac: null },
            },
          )
        ).metrics;
        out.push(Object.fromEntries(Object.entries(m).filter(([k]) => !k.startsWith("time/"))));
      }
      p.model.dispose();
      ref.dispose();
      head.dispose();
      opt.dispose();
      return out;
    };
    const [a, b] = [await run(), await run()];
    assert.ok(a[2]["update/optimizerSteps"] === 4 && Number.isFinite(a[2]["update/flowLoss"]));
    assert.deepEqual(a, b);
  });
});
