// Conformance of the 2026 advantage estimators (lite-ppo, maxrl, gdpo), on-policy distillation (distill.opdLoss:
// Tinker's importance-sampling OPD, verl's k1/k2/k3 estimator modes direct and policy-gradient, verl's
// forward_kl_topk) and the DAPO sampling side (verl's overlong_buffer term, filter_groups' kept groups) against
// reference/objectives_opd.py, written from TRL, prime-rl, NVlabs/GDPO, tinker-cookbook and verl (see its docstring).
// Values and gradients, float32 vs float64: |got − expected| ≤ 1e-5 + 2e-4·|expected|.
// Skipped (with the reason) only when no python3 has torch.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/core/backend.js";
import { advantage } from "../../lib/update/index.js";
import { opdLoss } from "../../lib/distill/index.js";
import { softOverlong } from "../../lib/reward/length.js";
import { keptGroups } from "../../lib/rollout/dynamic-sampling.js";
import { assertClose, referenceCases, skipWithoutTorch } from "./torch-reference.js";

type Case = Record<string, any> & { kind: string; id: string };

const skip = skipWithoutTorch("objectives (advantages, OPD, DAPO sampling)");
const close = (got: ArrayLike<number> | number, want: ArrayLike<number> | number, where: string) =>
  assertClose(got, want, where);

function checkAdvantage(c: Case): void {
  const { rewards, groups, mask } = c.inputs;
  const A = advantage(c.name, { rewards, groups }, c.options);
  const T = mask[0].length;
  close(
    (mask as number[][]).flat().map((m, i) => m * A[Math.floor(i / T)]),
    (c.expected as number[][]).flat(),
    c.id,
  );
}

function checkOpd(c: Case): void {
  if (c.input === "logits") {
    const logits = tf.tensor3d(c.logits);
    const [B, T] = logits.shape;
    const teacher = {
      kind: "topk" as const,
      B,
      T,
      K: c.K as number,
      ids: Int32Array.from((c.topkIds as number[][][]).flat(2)),
      logprobs: Float32Array.from((c.topkLogprobs as number[][][]).flat(2)),
    };
    const logp = tf.zeros([B, T]) as tf.Tensor2D;
    const f = (z: tf.Tensor) => opdLoss({ logp, mask: c.mask, logits: z as tf.Tensor3D, teacher }, c.options).loss;
    const { value, grad } = tf.valueAndGrad(f)(logits);
    close(value.dataSync()[0], c.expected, `${c.id} value`);
    close(grad.dataSync(), (c.grad as number[][][]).flat(2), `${c.id} grad`);
    tf.dispose([logits, logp, value, grad]);
    return;
  }
  const x = tf.tensor2d(c.logp);
  const f = (lp: tf.Tensor) =>
    opdLoss(
      { logp: lp as tf.Tensor2D, mask: c.mask, samplerLogp: c.samplerLogp, teacherLogp: c.teacherLogp },
      c.options,
    ).loss;
  const { value, grad } = tf.valueAndGrad(f)(x);
  close(value.dataSync()[0], c.expected, `${c.id} value`);
  close(grad.dataSync(), (c.grad as number[][]).flat(), `${c.id} grad`);
  tf.dispose([x, value, grad]);
}

describe("conformance: lite-ppo, maxrl, gdpo, OPD (Tinker / verl) against PyTorch references", { skip }, () => {
  let cases: Case[] = [];
  before(async () => {
    await useBackend({ force: (process.env.CELLRL_TEST_BACKEND ?? "wasm") as "wasm" | "cpu" });
    cases = referenceCases<Case>("objectives_opd.py");
  });
  test("advantage: lite-ppo, maxrl and gdpo match TRL / prime-rl / NVlabs GDPO", () => {
    const mine = cases.filter((c) => c.kind === "advantage");
    for (const n of ["lite-ppo", "maxrl", "gdpo"])
      assert.ok(
        mine.some((c) => c.name === n),
        `no ${n} fixture`,
      );
    for (const c of mine) checkAdvantage(c);
  });
  test("DAPO: softOverlong is verl's overlong_buffer term; dynamicSample keeps verl filter_groups' groups", () => {
    const over = cases.filter((c) => c.kind === "overlong");
    const filt = cases.filter((c) => c.kind === "filter");
    assert.ok(over.length > 0 && filt.length > 0, "no DAPO fixtures");
    for (const c of over) close(softOverlong(c.lengths as number[], c.options), c.expected, c.id);
    for (const c of filt) assert.deepEqual(keptGroups(c.rewards, c.groups), c.expected, c.id);
  });
  test("opd: every mode's value and gradient match Tinker / verl; no tensor leak", () => {
    const mine = cases.filter((c) => c.kind === "opd");
    for (const m of ["tinker", "k1", "k2", "k3", "forward-kl-topk"])
      assert.ok(
        mine.some((c) => c.options.mode === m),
        `no ${m} fixture`,
      );
    const before = tf.memory().numTensors;
    for (const c of mine) checkOpd(c);
    assert.equal(tf.memory().numTensors, before, "opd: tensors leaked");
  });
});
