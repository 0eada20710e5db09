// Conformance of the 2026 policy objectives (issue 15 item 3): dppo-tv / dppo-kl (verl, and prime-rl's default loss
// with the log² KL), sapo, gmpo (verl geo_mean), gspo-token (verl gspo), gspo-seq (the paper's sequence form), luspo,
// clip-cov, kl-cov (verl), dro (Tinker) and policyLoss's topEntropyQuantile (TRL's 80/20 forking tokens), against
// fixtures computed at test time by test/conformance/reference/objectives_losses.py (PyTorch, float64): value and
// gradient (autograd) within 1e-5 + 2e-4·|x|. Both advantage signs, A = 0 tokens and rows, a fully masked row, masks
// that bind on both sides. Skipped (with the reason) only when no python3 has torch.
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/core/backend.js";
import { Rng } from "../../lib/core/random.js";
import { policyLoss, policyLosses } from "../../lib/update/index.js";
import { coveredElsewhere } from "./covered-elsewhere.js";
import { assertClose, referenceCases, skipWithoutTorch } from "./torch-reference.js";

type Case = Record<string, any> & { id: string; name: string };

const skip = skipWithoutTorch("objectives");
const close = (got: ArrayLike<number> | number, want: ArrayLike<number> | number, where: string) =>
  assertClose(got, want, where);

/** cellrl's value, gradient and metrics for one case. */
function run(c: Case, options: Record<string, unknown> = c.options) {
  let metrics: Record<string, number> = {};
  const logp = tf.tensor2d(c.logp);
  const entropy = c.entropy ? tf.tensor2d(c.entropy) : undefined;
  const { value, grad } = tf.valueAndGrad((lp: tf.Tensor) => {
    const r = policyLoss(c.name, { logp: lp, oldLogp: c.oldLogp, adv: c.adv, mask: c.mask, entropy }, options);
    metrics = r.metrics;
    return r.loss;
  })(logp);
  const out = { value: value.dataSync()[0], grad: Array.from(grad.dataSync()), metrics };
  tf.dispose([logp, value, grad, ...(entropy ? [entropy] : [])]);
  return out;
}

describe("conformance: the 2026 objectives (PyTorch references from verl, prime-rl, TRL, Tinker)", { skip }, () => {
  let cases: Case[] = [];
  before(async () => {
    await useBackend({ force: (process.env.CELLRL_TEST_BACKEND ?? "wasm") as "wasm" | "cpu" });
    cases = referenceCases<Case>("objectives_losses.py");
  });

  test("every case: value and gradient within 1e-5 + 2e-4·|x| of the reference", () => {
    assert.ok(cases.length > 50, `only ${cases.length} cases`);
    const n0 = tf.memory().numTensors;
    for (const c of cases) {
      const got = run(c);
      if (c.compare !== "grad") close(got.value, c.expected, `${c.id} value`);
      close(got.grad, c.grad.flat(), `${c.id} grad`);
    }
    assert.equal(tf.memory().numTensors, n0, "tensors leaked");
  });

  test("the fixtures exercise the edge cases: DPPO masks bind for A > 0 and A < 0, the entropy mask keeps ρ", () => {
    const dppo = cases.filter((c) => c.name.startsWith("dppo") && c.compare !== "grad");
    const m = dppo.map((c) => run(c).metrics);
    assert.ok(
      m.some((x) => x["update/clipFracHigh"] > 0) && m.some((x) => x["update/clipFracLow"] > 0),
      "a DPPO mask binds on both sides",
    );
    for (const c of cases.filter((c) => c.options.topEntropyQuantile !== undefined)) {
      const keep = run(c).metrics["update/entropyKeepFrac"];
      if (c.options.topEntropyQuantile < 1) assert.equal(Math.round(keep * 24), c.kept, c.id);
    }
    assert.ok(
      cases.some((c) => c.name === "clip-cov" && c.candidates > 0),
      "clip-cov's band is not empty",
    );
  });

  test("gspo-seq equals gspo(-token) when A is one value per sequence; it differs for per-token A", () => {
    const c = cases.find((x) => x.name === "gspo-seq")!;
    const seq = run(c);
    const tok = run({ ...c, name: "gspo" });
    close(seq.value, tok.value, "value");
    close(seq.grad, tok.grad, "grad");
    const perToken = cases.find((x) => x.name === "gspo-token" && x.id.includes("token adv"))!;
    const a = run(perToken).grad,
      b = run({ ...perToken, name: "gspo-seq" }).grad;
    assert.ok(
      a.some((x, i) => Math.abs(x - b[i]) > 1e-4),
      "per-token A: the sequence form uses the row mean",
    );
  });

  test("clip-cov's random slice: max(1, ⌊r·N⌋) band tokens, the same for one seed, drawn by the seeded Rng", () => {
    const c = cases.find((x) => x.name === "clip-cov" && x.candidates >= 6)!;
    const opts = (o: Record<string, unknown>) => ({ ...c.options, clipCovRatio: 3 / 24, ...o });
    const frac = (o: Record<string, unknown>) => run(c, opts(o)).metrics["update/clipFrac"];
    assert.equal(Math.round(frac({ seed: 1 }) * 24), 3, "⌊0.125·24⌋ = 3 tokens lose their gradient");
    const g = (o: Record<string, unknown>) => run(c, opts(o)).grad;
    assert.deepEqual(g({ seed: 7 }), g({ seed: 7 }));
    assert.deepEqual(g({ rng: new Rng(7) }), g({ seed: 7 }));
    const draws = new Set([1, 2, 3, 4, 5, 6].map((s) => JSON.stringify(g({ seed: s }))));
    assert.ok(draws.size > 1, "different seeds draw different tokens");
  });

  test("every policy loss this suite claims has a fixture; every registered one is covered somewhere", () => {
    const seen = new Set(cases.map((c) => c.name));
    for (const n of coveredElsewhere["policy loss"]) assert.ok(seen.has(n), `no fixture for "${n}"`);
    const numerics = ["ppo-clip", "gspo", "cispo", "pg"];
    for (const n of policyLosses.names())
      assert.ok(
        seen.has(n) || numerics.includes(n) || !coveredElsewhere["policy loss"].includes(n),
        `"${n}" is not covered`,
      );
  });

  test("bad options fail with a message naming the option", () => {
    const c = cases[0];
    for (const [name, o] of [
      ["sapo", { tauPos: 0 }],
      ["dppo-tv", { klTau: -1 }],
      ["kl-cov", { klCovRatio: 2 }],
      ["clip-cov", { rng: 3 }],
      ["ppo-clip", { topEntropyQuantile: 0 }],
      ["ppo-clip", { topEntropyQuantile: 0.2 }],
    ] as const) {
      assert.throws(
        () => policyLoss(name, { logp: tf.tensor2d(c.logp), oldLogp: c.oldLogp, adv: c.adv, mask: c.mask }, o),
        (e: Error) => /options\.|inputs\.entropy/.test(e.message),
        `${name} ${JSON.stringify(o)}`,
      );
    }
  });
});
