// The switches that reproduce verl where cellrl keeps its own convention (singleton groups, the top-k distillation
// tail), the new estimators' contracts, and remote.exportVerlRun's warning when a run relies on a cellrl-only
// behaviour.
// The numbers themselves are checked against verl in test/conformance/numerics.test.ts.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { advantage, aggregate, policyLoss } from "../../lib/update/index.js";
import { distillLoss } from "../../lib/distill/distill-loss.js";
import { cellrlOnlyBehaviours, exportVerlRun } from "../../lib/remote/verl-export.js";
import { resetWarnings } from "../../lib/core/warn.js";
import { CellrlError } from "../../lib/core/errors.js";
import { AdamW } from "../../lib/model/optim.js";
import { Rng } from "../../lib/core/random.js";
import { grpoStep } from "../../lib/update/index.js";
import { digitReward, PROMPTS, TARGETS, tinyPolicy } from "./fixture.js";
import { close, setup } from "./setup.js";

describe("verl switches", () => {
  before(setup);
  test('singleton groups: 0 by default, verl\'s R/(1+eps), R, whiten(R) with singleton: "verl"', () => {
    const inputs = { rewards: [1, 0, 2], groups: ["a", "a", "b"] };
    close(advantage("grpo", inputs)[2], 0);
    close(advantage("grpo", inputs, { singleton: "verl" })[2], 2 / (1 + 1e-6));
    close(advantage("dr-grpo", inputs, { singleton: "verl" })[2], 2);
    close(advantage("rloo", inputs, { singleton: "verl" }), [1, -1, 2]);
    close(advantage("rloo", inputs), [1, -1, 0]);
    // reinforce-pp-baseline: centred [0.5, −0.5, 2] then whitened (verl) vs [0.5, −0.5, 0]
    const v = advantage("reinforce-pp-baseline", inputs, { singleton: "verl" });
    assert.ok(v[2] > v[0] && v[0] > v[1]);
    assert.throws(() => advantage("grpo", inputs, { singleton: "trl" }), /options\.singleton of "grpo" is "trl"/);
  });
  test("a fully masked row counts in no seq-mean denominator (verl seq_mask)", () => {
    const values = [
      [1, 2],
      [5, 5],
    ];
    const mask = [
      [1, 1],
      [0, 0],
    ];
    const v = (mode: string) => tf.tidy(() => aggregate({ values, mask }, { mode }).dataSync()[0]);
    close(v("seq-mean-token-sum"), 3);
    close(v("seq-mean-token-mean"), 1.5);
    close(v("seq-mean-token-sum-norm"), 1.5);
    close(
      tf.tidy(
        () =>
          aggregate(
            {
              values,
              mask: [
                [0, 0],
                [0, 0],
              ],
            },
            { mode: "seq-mean-token-mean" },
          ).dataSync()[0],
      ),
      0,
    );
  });
  test("approxKl is verl's ppo_kl: the log-ratio clamped to ±20 first", () => {
    const r = policyLoss("ppo-clip", { logp: tf.tensor2d([[0, 0]]), oldLogp: [[-30, 0]], adv: [1], mask: [[1, 1]] });
    r.loss.dispose();
    close(r.metrics["update/approxKl"], -10);
  });
  test("reinforce-pp-token: one advantage per token, 0 off the mask, taken flat by policyLoss; remax", () => {
    const mask = [
      [1, 1, 0],
      [1, 0, 0],
    ];
    const A = advantage("reinforce-pp-token", { rewards: [1, 0], groups: [0, 0], mask }, { gamma: 1 });
    assert.equal(A.length, 6);
    close([A[2], A[4], A[5]], [0, 0, 0]);
    const logp = tf.variable(
      tf.tensor2d([
        [-1, -1, -1],
        [-1, -1, -1],
      ]),
    );
    const before = tf.memory().numTensors;
    const r = policyLoss("pg", { logp, adv: A, mask });
    r.loss.dispose();
    assert.equal(tf.memory().numTensors, before);
    logp.dispose();
    assert.throws(() => advantage("reinforce-pp-token", { rewards: [1, 0], groups: [0, 0] }), /needs inputs\.mask/);
    assert.throws(() => advantage("remax", { rewards: [1, 0], groups: [0, 1] }), /needs inputs\.baselines/);
    close(advantage("remax", { rewards: [1, 0], groups: [0, 1], baselines: [0.5, 0.5] }), [0.5, -0.5]);
  });
  test('topkTail: "verl" with K = V equals the full divergence; conflicting options are clear errors', () => {
    const V = 5;
    const student = tf.tensor3d([[[0.3, -1, 2, 0.5, 0.1]]]);
    const tlogits = [1, 0.2, -0.5, 2, 0];
    const lse = Math.log(tlogits.reduce((s, x) => s + Math.exp(x), 0));
    const order = [3, 0, 1, 4, 2];
    const teacher = {
      kind: "topk" as const,
      B: 1,
      T: 1,
      K: V,
      ids: Int32Array.from(order),
      logprobs: Float32Array.from(order.map((i) => tlogits[i] - lse)),
    };
    const full = { kind: "full" as const, logprobs: tf.tensor3d([[tlogits]]) };
    for (const divergence of ["forward-kl", "jsd", "reverse-kl"]) {
      const a = distillLoss({ student, teacher, mask: [[1]] }, { divergence, topkTail: "verl" }).loss;
      const b = distillLoss({ student, teacher: full, mask: [[1]] }, { divergence }).loss;
      close(a.dataSync()[0], b.dataSync()[0], 1e-4, divergence);
      tf.dispose([a, b]);
    }
    assert.throws(
      () => distillLoss({ student, teacher, mask: [[1]] }, { divergence: "jsd", topkTail: "verl", renormalize: true }),
      (e: unknown) => e instanceof CellrlError && /verl's jsd does not renormalise/.test(e.message),
    );
    assert.throws(
      () => distillLoss({ student, teacher, mask: [[1]] }, { topkTail: "tail" as "verl" }),
      /options\.topkTail must be "bucket" or "verl"/,
    );
    tf.dispose([student, full.logprobs]);
  });
  test("exportVerlRun warns when the run relies on cellrl-only singletons or the top-k tail bucket", () => {
    assert.equal(cellrlOnlyBehaviours({ algorithm: "grpo", step: { n: 4 } }).length, 0);
    assert.match(cellrlOnlyBehaviours({ algorithm: "grpo", step: { n: 1 } })[0], /singleton: "verl"/);
    assert.equal(
      cellrlOnlyBehaviours({ algorithm: "grpo", step: { n: 1, advantageOptions: { singleton: "verl" } } }).length,
      0,
    );
    assert.match(cellrlOnlyBehaviours({ algorithm: "gkd", step: { topK: 8 } })[0], /topkTail: "verl"/);
    assert.equal(cellrlOnlyBehaviours({ algorithm: "gkd", step: { topK: 8, topkTail: "verl" } }).length, 0);
    assert.equal(cellrlOnlyBehaviours({ algorithm: "gkd", step: { topK: 8, divergence: "reverse-kl" } }).length, 0);
    const seen: string[] = [];
    resetWarnings((m) => seen.push(m));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-verl-warn-"));
    try {
      exportVerlRun(dir, {
        train: [
          {
            data_source: "openai/gsm8k",
            prompt: [{ role: "user", content: "1+1?" }],
            reward_model: { ground_truth: "2" },
          },
        ],
        settings: { algorithm: "grpo", model: "m", batchSize: 1, step: { n: 1 } },
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      resetWarnings(null);
    }
    assert.equal(seen.length, 1);
    assert.match(seen[0], /remote\.exportVerlRun: verl will not reproduce the notebook: step\.n = 1/);
  });
  test("grpoStep runs the token-level reinforce-pp-token (the rollout's mask, per-token advantages)", async () => {
    const p = tinyPolicy(0);
    const opt = new AdamW(p.model.namedVariables(), { lr: 1e-3, weightDecay: 0 });
    const run = () =>
      grpoStep(
        { policy: p, opt, prompts: PROMPTS, reward: digitReward, columns: { target: TARGETS } },
        {
          n: 4,
          sampling: { maxNewTokens: 2, temperature: 1 },
          advantage: "reinforce-pp-token",
          advantageOptions: { gamma: 0.9 },
          thresholds: { truncFrac: null },
          rng: new Rng(3),
        },
      );
    await run(); // the optimizer's moments are created on the first step
    const before = tf.memory().numTensors;
    const r = await run();
    assert.equal(r.adv.length, r.rollout.size * r.rollout.responseMask[0].length);
    assert.ok(Number.isFinite(r.metrics["update/loss"]));
    assert.equal(tf.memory().numTensors, before);
  });
});
