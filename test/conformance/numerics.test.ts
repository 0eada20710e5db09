// Conformance of cellrl's RL numerics with verl and TRL: every advantage estimator, policy loss, aggregation mode, KL
// estimator and distillation divergence (and model.entropyFromLogits) against fixtures computed at test time by the
// PyTorch references in test/conformance/reference/ (written line by line from verl's core_algos.py / GKD recipe and
// TRL's trainers), values and gradients, float32 vs float64: |got − expected| ≤ 1e-5 + 2e-4·|expected|. Fully masked
// rows, singleton groups, extreme log-ratios, top-k < V and = V are in the fixtures. Skipped (with the reason) only
// when no python3 has torch.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/core/backend.js";
import { advantage, aggregate, klPenalty, policyLoss } from "../../lib/update/index.js";
import { distillLoss, type DistillLossOptions } from "../../lib/distill/distill-loss.js";
import { entropyFromLogits } from "../../lib/model/index.js";
import { coveredElsewhere } from "./covered-elsewhere.js";
import { assertClose, referenceCases, skipWithoutTorch } from "./torch-reference.js";

type Case = Record<string, any> & { kind: string; id: string };

const skip = skipWithoutTorch("verl/TRL");

function loadFixtures(): Case[] {
  return referenceCases<Case>("fixtures.py");
}

let worst = { err: 0, where: "" };
let compared = 0;
/** Elementwise closeness; records the largest error relative to the tolerance's scale. */
function close(got: ArrayLike<number> | number, want: ArrayLike<number> | number, where: string): void {
  assertClose(got, want, where, (err, w, at) => {
    compared++;
    if (err / (1 + Math.abs(w)) > worst.err) worst = { err: err / (1 + Math.abs(w)), where: at };
  });
}
const flat = (x: number[][]) => x.flat();

function checkAdvantage(c: Case): void {
  const { rewards, groups, mask, lengths, tokenRewards, baselines } = c.inputs;
  const A = advantage(c.name, { rewards, groups, mask, lengths, tokenRewards, baselines }, c.options);
  const B = rewards.length,
    T = mask[0].length;
  // one value per completion is broadcast over its unmasked tokens (verl's scores.unsqueeze(-1) * response_mask)
  const got = A.length === B * T ? Array.from(A) : flat(mask).map((m: number, i: number) => m * A[Math.floor(i / T)]);
  close(got, flat(c.expected), c.id);
}

function checkAgg(c: Case): void {
  const values = tf.tensor2d(c.values);
  const mask = tf.tensor2d(c.mask);
  const f = (v: tf.Tensor) => aggregate({ values: v, mask }, { mode: c.mode, ...c.options });
  const { value, grad } = tf.valueAndGrad(f)(values);
  close(value.dataSync()[0], c.expected, `${c.id} value`);
  close(grad.dataSync(), flat(c.grad), `${c.id} grad`);
  tf.dispose([values, mask, value, grad]);
}

function checkPolicyLoss(c: Case): void {
  const logp = tf.tensor2d(c.logp);
  let metrics: Record<string, number> = {};
  const f = (lp: tf.Tensor) => {
    const r = policyLoss(c.name, { logp: lp, oldLogp: c.oldLogp, adv: c.adv, mask: c.mask }, c.options);
    metrics = r.metrics;
    return r.loss;
  };
  const { value, grad } = tf.valueAndGrad(f)(logp);
  close(value.dataSync()[0], c.expected, `${c.id} value`);
  close(grad.dataSync(), flat(c.grad), `${c.id} grad`);
  if (c.approxKl !== null) close(metrics["update/approxKl"], c.approxKl, `${c.id} approxKl (verl actor/ppo_kl)`);
  tf.dispose([logp, value, grad]);
}

function checkKl(c: Case): void {
  const w = tf.tensor2d(c.weights);
  if (c.estimator === "exact") {
    // the full-vocabulary KL from the policy's and the reference's logits [B, T, V]
    const logits = tf.tensor3d(c.logits),
      refLogits = tf.tensor3d(c.refLogits);
    const kl = klPenalty({ logits, refLogits }, { estimator: "exact" });
    close(kl.dataSync(), flat(c.expected), `${c.id} value`);
    const grad = tf.grad((lg: tf.Tensor) => klPenalty({ logits: lg, refLogits }, { estimator: "exact" }).mul(w).sum())(
      logits,
    );
    close(grad.dataSync(), c.grad.flat(2), `${c.id} grad`);
    tf.dispose([logits, refLogits, w, kl, grad]);
    return;
  }
  const logp = tf.tensor2d(c.logp);
  const kl = tf.tidy(() => klPenalty({ logp, refLogp: c.refLogp }, { estimator: c.estimator }));
  close(kl.dataSync(), flat(c.expected), `${c.id} value`);
  const grad = tf.grad((lp: tf.Tensor) =>
    klPenalty({ logp: lp, refLogp: c.refLogp }, { estimator: c.estimator }).mul(w).sum(),
  )(logp);
  close(grad.dataSync(), flat(c.grad), `${c.id} grad`);
  tf.dispose([logp, w, kl, grad]);
}

function checkEntropy(c: Case): void {
  const logits = tf.tensor3d(c.logits);
  const w = tf.tensor2d(c.weights);
  const H = entropyFromLogits(logits);
  close(H.dataSync(), flat(c.expected), `${c.id} value`);
  const grad = tf.grad((lg: tf.Tensor) => entropyFromLogits(lg).mul(w).sum())(logits);
  close(grad.dataSync(), c.grad.flat(2), `${c.id} grad`);
  tf.dispose([logits, w, H, grad]);
}

function checkDistill(c: Case): void {
  const student = tf.tensor3d(c.student);
  const [B, T] = student.shape;
  const teacher =
    c.teacher === "full"
      ? { kind: "full" as const, logprobs: tf.tensor3d(c.teacherLogits) }
      : {
          kind: "topk" as const,
          B,
          T,
          K: c.K,
          ids: Int32Array.from(c.topkIds.flat(2)),
          logprobs: Float32Array.from(c.topkLogprobs.flat(2)),
        };
  const f = (s: tf.Tensor) =>
    distillLoss({ student: s as tf.Tensor3D, teacher, mask: c.mask }, c.options as DistillLossOptions).loss;
  const { value, grad } = tf.valueAndGrad(f)(student);
  close(value.dataSync()[0], c.expected, `${c.id} value`);
  close(grad.dataSync(), c.grad.flat(2), `${c.id} grad`);
  tf.dispose([student, value, grad]);
  if (teacher.kind === "full") teacher.logprobs.dispose();
}

const CHECK: Record<string, (c: Case) => void> = {
  advantage: checkAdvantage,
  agg: checkAgg,
  "policy-loss": checkPolicyLoss,
  kl: checkKl,
  entropy: checkEntropy,
  distill: checkDistill,
};

describe("conformance: verl / TRL numerics (PyTorch references)", { skip }, () => {
  let cases: Case[] = [];
  before(async () => {
    await useBackend({ force: (process.env.CELLRL_TEST_BACKEND ?? "wasm") as "wasm" | "cpu" });
    cases = loadFixtures();
  });
  for (const kind of Object.keys(CHECK))
    test(`${kind}: every case within 1e-5 + 2e-4·|x| of the reference, values and gradients`, () => {
      const mine = cases.filter((c) => c.kind === kind);
      assert.ok(mine.length > 0, `no ${kind} fixtures`);
      const before = tf.memory().numTensors;
      for (const c of mine) CHECK[kind](c);
      assert.equal(tf.memory().numTensors, before, `${kind}: tensors leaked`);
    });
  test("the suite covers every registered estimator, loss, mode and divergence; report", async () => {
    const { advantages, policyLosses, klEstimators, lossAggs } = await import("../../lib/update/index.js");
    const { divergences } = await import("../../lib/distill/index.js");
    const seen = (kind: string, key: string) => new Set(cases.filter((c) => c.kind === kind).map((c) => c[key]));
    const need: [string, string[], Set<string>][] = [
      ["advantage estimator", advantages.names(), seen("advantage", "name")],
      ["policy loss", policyLosses.names(), seen("policy-loss", "name")],
      ["KL estimator", klEstimators.names(), seen("kl", "estimator")],
      ["aggregation mode", lossAggs.names(), seen("agg", "mode")],
      [
        "divergence",
        divergences.names(),
        new Set(cases.filter((c) => c.kind === "distill").map((c) => c.options.divergence)),
      ],
    ];
    for (const [what, names, got] of need)
      for (const n of names)
        assert.ok(
          got.has(n) || (coveredElsewhere[what] ?? []).includes(n),
          `no conformance fixture for the ${what} "${n}"`,
        );
    console.log(
      `conformance: ${cases.length} cases, ${compared} values compared, ` +
        `largest error ${worst.err.toExponential(2)} (relative to 1 + |x|) at ${worst.where}`,
    );
  });
});
