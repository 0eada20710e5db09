// Conformance of the train/inference mismatch corrections (issue 15 item 2) against fixtures computed at test time by
// test/conformance/reference/rollout_correction.py (PyTorch, float64, written from verl's rollout_corr_helper.py and
// RolloutCorrectionConfig presets, slime's / TRL's OPSM and TRL's use_bias_correction_kl): for every registered
// correction and for option objects (batch normalisation, IcePop bands on the geometric level, every rejection
// criterion, several criteria at once, OPSM with IS), on random batches (a bf16-like small mismatch, a stale-sampler
// large one, one-token rows) and a boundary batch (ratios exactly at C, 1/C and the IcePop band's edge, a log-ratio of
// 30 beyond verl's ±20 safety bound, an empty row): the weights, the mask, and every metric under verl's name
// (update.toVerlMetrics), same key set. And the unbiased KL "k3-unbiased": values and autograd gradients. Tolerance
// 1e-5 + 2e-4·|x| (cellrl's corrections are float64 on the host; the KL is float32 tfjs). Skipped only without torch.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/core/backend.js";
import { klPenalty, rolloutCorrection, rolloutCorrections, toVerlMetrics } from "../../lib/update/index.js";
import { coveredElsewhere } from "./covered-elsewhere.js";
import { assertClose, referenceCases, skipWithoutTorch } from "./torch-reference.js";

type Case = Record<string, any> & { id: string; kind: string };

const skip = skipWithoutTorch("rollout-correction");
const close = (got: ArrayLike<number> | number, want: ArrayLike<number> | number, where: string) =>
  assertClose(got, want, where);

describe("rollout corrections vs verl / TRL / slime (PyTorch reference)", { skip }, () => {
  let cases: Case[] = [];
  before(async () => {
    await useBackend({ force: (process.env.CELLRL_TEST_BACKEND as "cpu" | "wasm") ?? "wasm" });
    cases = referenceCases<Case>("rollout_correction.py");
  });

  test("weights, masks and verl-named metrics of every correction", () => {
    const got = cases.filter((c) => c.kind === "correction");
    assert.ok(got.length >= 60, `${got.length} cases`);
    for (const c of got) {
      const inputs = { oldLogp: c.oldLogp, rolloutLogp: c.rolloutLogp, mask: c.mask, adv: c.adv };
      const r = c.name ? rolloutCorrection(c.name, inputs) : rolloutCorrection(c.options, inputs);
      close(r.weights.flat(), c.weights.flat(), `${c.id} weights`);
      assert.deepEqual(r.mask, c.newMask, `${c.id} mask`);
      const m = toVerlMetrics(r.metrics);
      assert.deepEqual(Object.keys(m).sort(), Object.keys(c.metrics).sort(), `${c.id}: metric keys`);
      for (const [k, v] of Object.entries(c.metrics as Record<string, number>)) close(m[k], v, `${c.id} ${k}`);
    }
  });

  test("the boundary batch binds where it should (the fixtures are not all-pass)", () => {
    const at = (name: string) => cases.find((c) => c.id === `${name} / ${cases.at(-4)!.id.split(" / ")[1]}`)!;
    // token TIS: ratio exactly 2 stays 2 (not truncated), 5 → 2; IcePop keeps 0.5 and 5 (inclusive band)
    assert.deepEqual(at("token-is").weights[0], [2, 0.5, 2, 1]);
    close(at("token-icepop").weights[0], [2, 0.5, 5, 1], "icepop edges");
    assert.ok(at("seq-is-rs").metrics["rollout_corr/rollout_rs_masked_fraction"] > 0);
    assert.ok(
      cases.some((c) => c.kind === "correction" && c.metrics["mismatch/opsmFrac"] > 0),
      "OPSM masks",
    );
  });

  test("k3-unbiased: values and gradients (TRL use_bias_correction_kl)", () => {
    for (const c of cases.filter((k) => k.kind === "kl")) {
      const { value, grad } = tf.tidy(() => {
        const x = tf.tensor2d(c.logp);
        const f = (lp: tf.Tensor) =>
          klPenalty({ logp: lp, refLogp: c.refLogp, oldLogp: c.oldLogp }, { estimator: c.estimator });
        return {
          value: Array.from(f(x).dataSync()),
          grad: Array.from(
            tf
              .grad((lp: tf.Tensor) => f(lp).sum())(x)
              .dataSync(),
          ),
        };
      });
      close(value, c.expected.flat(), `${c.id} value`);
      close(grad, c.grad.flat(), `${c.id} grad`);
    }
  });

  test("every registered correction and the names claimed in covered-elsewhere.ts have fixtures", () => {
    const seen = new Set(cases.map((c) => c.name ?? c.estimator));
    for (const n of rolloutCorrections.names()) assert.ok(seen.has(n), `no fixture for the correction "${n}"`);
    for (const n of coveredElsewhere["KL estimator"] ?? []) assert.ok(seen.has(n), `no fixture for the KL "${n}"`);
  });
});
