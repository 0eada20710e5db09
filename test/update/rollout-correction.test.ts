// update.rolloutCorrection on hand values (TIS, IcePop, sequence / geometric IS, rejection, OPSM, metrics), its hook in
// policyLoss (isWeights) and grpoStep (options.rolloutCorrection), and the sampler logprobs it reads: ro.logprobs is
// log q of the renormalised truncated distribution actually sampled from, so under top-p the trainer's recomputed
// π_old / μ < 1 on every token even with identical weights (the truncation bias).
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../lib/core/random.js";
import { AdamW } from "../../lib/model/optim.js";
import { logprobs } from "../../lib/model/logprobs.js";
import { samplingDistribution } from "../../lib/model/sampling.js";
import { sample } from "../../lib/rollout/rollout.js";
import { samplingLogprobs } from "../../lib/rollout/sampling-logprobs.js";
import {
  fromVerlMetrics,
  grpoStep,
  policyLoss,
  rolloutCorrection,
  rolloutCorrections,
  step,
  toVerlMetrics,
} from "../../lib/update/index.js";
import { digitReward, PROMPTS, TARGETS, tinyPolicy } from "./fixture.js";
import { close, setup } from "./setup.js";

const L = Math.log;
// row 0: ρ = [0.5/0.2, 0.2/0.4] = [2.5, 0.5] (third column is padding); row 1: ρ = 1 everywhere
const old = [
  [L(0.5), L(0.2), 0],
  [L(0.9), L(0.1), L(0.3)],
];
const roll = [
  [L(0.2), L(0.4), 0],
  [L(0.9), L(0.1), L(0.3)],
];
const mask = [
  [1, 1, 0],
  [1, 1, 1],
];
const inputs = { oldLogp: old, rolloutLogp: roll, mask };

describe("rolloutCorrection", () => {
  before(setup);

  test("token TIS truncates ρ_t at C; sequence IS is the product, geometric IS the mean in log space", () => {
    const tok = rolloutCorrection("token-is", inputs);
    close(tok.weights.flat(), [2, 0.5, 0, 1, 1, 1]);
    assert.deepEqual(tok.tokens.truncated, [
      [1, 0, 0],
      [0, 0, 0],
    ]);
    assert.deepEqual(tok.mask, mask);
    close(rolloutCorrection("seq-is", inputs).weights.flat(), [1.25, 1.25, 0, 1, 1, 1]);
    close(rolloutCorrection("geo-is", inputs).weights.flat(), [Math.sqrt(1.25), Math.sqrt(1.25), 0, 1, 1, 1]);
    // a preset's option overridden: sequence IS truncated at 1.1
    close(rolloutCorrection("seq-is", inputs, { threshold: 1.1 }).weights[0], [1.1, 1.1, 0]);
  });

  test("IcePop zeroes weights outside [C_lo, C_hi] and keeps the tokens in the mask", () => {
    const r = rolloutCorrection({ level: "token", threshold: [0.6, 5] }, inputs);
    close(r.weights.flat(), [2.5, 0, 0, 1, 1, 1]);
    assert.deepEqual(r.mask, mask);
    assert.deepEqual(r.tokens.zeroed[0], [0, 1, 0]);
    close(r.metrics["mismatch/isOobFrac"], 1 / 5);
    // verl's preset band [0.5, 5] keeps ρ = 0.5 (boundary inclusive)
    close(rolloutCorrection("token-icepop", inputs).weights[0], [2.5, 0.5, 0]);
  });

  test("rejection removes tokens / sequences from the mask (all criteria must pass)", () => {
    // token-k1: −log ρ within [log 0.5, log 2] ⇔ ρ in [0.5, 2]: the token with ρ = 2.5 goes
    const t = rolloutCorrection({ level: null, reject: "token-k1", rejectThreshold: 2 }, inputs);
    assert.deepEqual(t.mask, [
      [0, 1, 0],
      [1, 1, 1],
    ]);
    close(t.metrics["mismatch/rsMaskedFrac"], 1 / 5);
    close(t.metrics["mismatch/rsSeqMaskedFrac"], 1 / 2);
    // geo-rs: exp(mean log μ/π_old) of row 0 is 1/√1.25 ≈ 0.894, outside [0.999, 1.001]: the whole row goes
    assert.deepEqual(rolloutCorrection("geo-rs", inputs).mask, [
      [0, 0, 0],
      [1, 1, 1],
    ]);
    // seq-max-k3: max_t (ρ − 1 − log ρ) of row 0 = 2.5 − 1 − log 2.5 ≈ 0.584
    const k3 = (upper: number) =>
      rolloutCorrection({ level: null, reject: ["seq-max-k3"], rejectThreshold: upper }, inputs).mask[0];
    assert.deepEqual(k3(0.6), [1, 1, 0]);
    assert.deepEqual(k3(0.5), [0, 0, 0]);
  });

  test("OPSM drops only sequences with A < 0 and mean log(μ/π_old) > δ", () => {
    const big = {
      oldLogp: [
        [L(0.1), L(0.1)],
        [L(0.1), L(0.1)],
        [L(0.5), L(0.5)],
      ],
      rolloutLogp: [
        [L(0.5), L(0.5)],
        [L(0.5), L(0.5)],
        [L(0.5), L(0.5)],
      ],
      mask: [
        [1, 1],
        [1, 1],
        [1, 1],
      ],
    };
    const r = rolloutCorrection("opsm", { ...big, adv: [-1, 1, -1] });
    assert.deepEqual(r.weights, [
      [0, 0],
      [1, 1],
      [1, 1],
    ]);
    close(r.metrics["mismatch/opsmFrac"], 1 / 3);
    assert.throws(() => rolloutCorrection("opsm", big), /needs inputs\.adv/);
  });

  test("mismatch metrics: KL(μ‖π_old), K3, |Δ log p|, χ² on hand values; verl's names at the edge", () => {
    const m = rolloutCorrection("none", inputs).metrics;
    const lr = [L(2.5), L(0.5), 0, 0, 0];
    close(m["mismatch/kl"], -(lr[0] + lr[1]) / 5);
    close(m["mismatch/k3Kl"], lr.reduce((a, x) => a + Math.exp(x) - x - 1, 0) / 5);
    close(m["mismatch/absLogpDiffMean"], (L(2.5) - L(0.5)) / 5);
    close(m["mismatch/absLogpDiffMax"], L(2.5));
    close(m["mismatch/chi2Token"], (6.25 + 0.25 + 3) / 5 - 1);
    close(m["mismatch/chi2Seq"], (1.25 ** 2 + 1) / 2 - 1);
    assert.equal(m["mismatch/isMean"], undefined); // no IS weights: no IS metrics
    const tm = rolloutCorrection("token-is", inputs).metrics;
    assert.deepEqual(fromVerlMetrics(toVerlMetrics(tm)), tm, "verl names round trip");
    const v = toVerlMetrics(tm);
    close(v["rollout_corr/rollout_is_mean"], (2 + 0.5 + 3) / 5);
    close(v["rollout_corr/k3_kl"], m["mismatch/k3Kl"]);
  });

  test("tensors, typed-array rows and a Float32Array of advantages give the same result as arrays", () => {
    const want = rolloutCorrection("opsm", { ...inputs, adv: [-1, -1] }, { level: "token" });
    const t = [tf.tensor2d(old), tf.tensor2d(roll)];
    const got = rolloutCorrection(
      "opsm",
      {
        oldLogp: t[0],
        rolloutLogp: t[1],
        mask: mask.map((r) => Float32Array.from(r)),
        adv: Float32Array.from([-1, -1]),
      },
      { level: "token" },
    );
    tf.dispose(t);
    close(got.weights.flat(), want.weights.flat(), 1e-6);
    assert.deepEqual(got.mask, want.mask);
  });

  test("bad input fails with the field and the fix", () => {
    assert.throws(
      () => rolloutCorrection("token-is", { ...inputs, rolloutLogp: [[0]] }),
      /inputs\.rolloutLogp is \[1, 1\]/,
    );
    assert.throws(() => rolloutCorrection("token-iss", inputs), /Did you mean "token-is"/);
    assert.throws(() => rolloutCorrection({ level: "token", threshold: [3, 2] }, inputs), /options\.threshold/);
    assert.throws(() => rolloutCorrection({ level: null, reject: "seq-mean-k1" }, inputs), /rejectThreshold/);
    assert.throws(() => rolloutCorrection({ levl: "token" } as never, inputs), /options\.levl/);
    assert.throws(
      () => rolloutCorrection("token-is", { ...inputs, rolloutLogp: [[NaN, 0, 0], roll[1]] }),
      /rolloutLogp\[0\]\[0\] is NaN/,
    );
    assert.ok(rolloutCorrections.names().includes("seq-is-rs"));
  });

  test("policyLoss multiplies isWeights into the per-token loss and its gradient", () => {
    tf.tidy(() => {
      const logp = tf.tensor2d([[-1, -2, -0.5]]);
      const base = { logp, oldLogp: [[-1, -2, -0.5]], adv: [1], mask: [[1, 1, 1]] };
      const plain = policyLoss("pg", base, { agg: "token-mean" });
      const weighted = policyLoss("pg", { ...base, isWeights: [[2, 0, 1]] }, { agg: "token-mean" });
      const f = (w?: number[][]) => (x: tf.Tensor) =>
        policyLoss("pg", { ...base, logp: x, ...(w ? { isWeights: w } : {}) }, { agg: "token-mean" }).loss;
      const g0 = tf.grad(f())(logp).dataSync(),
        g1 = tf
          .grad(f([[2, 0, 1]]))(logp)
          .dataSync();
      close(Array.from(g1), [2 * g0[0], 0, g0[2]]);
      close(weighted.tokens!.grad, [2 * plain.tokens!.grad[0], 0, plain.tokens!.grad[2]]);
      assert.throws(() => policyLoss("pg", { ...base, isWeights: [[1, -1, 1]] }), /isWeights must be finite and ≥ 0/);
    });
  });
});

describe("sampler logprobs in the Rollout", () => {
  before(setup);

  test("local: ro.logprobs is log q of the distribution sampled from (T, top-k, top-p renormalised)", async () => {
    const p = tinyPolicy(5);
    for (const s of [{ temperature: 0.7 }, { temperature: 1.3, topK: 3 }, { temperature: 1, topP: 0.6 }]) {
      const ro = await sample(p, PROMPTS, { n: 3, maxNewTokens: 3, rng: new Rng(2), ...s });
      const full = tf.tidy(() => {
        const lg = p.model.forward({ ids: ro.ids, attentionMask: ro.attentionMask }).logits;
        return lg.arraySync() as number[][][];
      });
      const P = ro.promptLength;
      for (let b = 0; b < ro.size; b++)
        for (let t = 0; t < ro.responseIds[b].length; t++) {
          const q = samplingDistribution(full[b][P + t - 1], s);
          close(ro.logprobs[b][P + t], Math.log(q[ro.responseIds[b][t]]), 1e-4, `${JSON.stringify(s)} [${b}, ${t}]`);
        }
      // the trainer's recomputation at the same temperature (no filters): equal without truncation, lower with it
      const rec = logprobs(p.model, ro, { temperature: s.temperature }).logp;
      const c = rolloutCorrection("none", { oldLogp: rec, rolloutLogp: ro.logprobs, mask: ro.responseMask });
      if (!("topK" in s) && !("topP" in s)) assert.ok(c.metrics["mismatch/absLogpDiffMax"] < 1e-4);
      else {
        assert.ok(c.metrics["mismatch/kl"] > 1e-3, `truncation bias: KL(μ‖π_old) ${c.metrics["mismatch/kl"]}`);
        assert.ok(
          c.tokens.logRatio.flat().every((x) => x <= 1e-5),
          "π_old ≤ μ on every sampled token",
        );
      }
    }
    p.model.dispose();
  });

  test("truncation fix: rollout.samplingLogprobs scores the trainer under the same filters (ratio 1)", async () => {
    const p = tinyPolicy(5);
    for (const s of [
      { temperature: 1, topP: 0.6 },
      { temperature: 0.8, topK: 2 },
      { temperature: 1.2, minP: 0.3 },
    ]) {
      const ro = await sample(p, PROMPTS, { n: 3, maxNewTokens: 4, rng: new Rng(4), ...s });
      const fixed = samplingLogprobs(p.model, ro);
      const plain = logprobs(p.model, ro, { temperature: s.temperature }).logp;
      const c = rolloutCorrection("none", { oldLogp: fixed, rolloutLogp: ro.logprobs, mask: ro.responseMask });
      assert.ok(
        c.metrics["mismatch/absLogpDiffMax"] < 1e-4,
        `${JSON.stringify(s)}: ${c.metrics["mismatch/absLogpDiffMax"]}`,
      );
      const biased = rolloutCorrection("none", { oldLogp: plain, rolloutLogp: ro.logprobs, mask: ro.responseMask });
      // (min-p keeps every token of this near-uniform tiny model: no bias to show there)
      if (!("minP" in s))
        assert.ok(
          biased.metrics["mismatch/kl"] > 1e-3,
          `${JSON.stringify(s)} without the fix: ${biased.metrics["mismatch/kl"]}`,
        );
    }
    // another model's filters may not keep a sampled token: a finite floor, not -Infinity
    const other = tinyPolicy(9);
    const ro = await sample(p, PROMPTS, { n: 4, maxNewTokens: 4, rng: new Rng(4), topK: 1, temperature: 1 });
    assert.ok(
      samplingLogprobs(other.model, ro)
        .flat()
        .every((v) => Number.isFinite(v) && v >= -30),
    );
    assert.throws(() => samplingLogprobs(p.model, ro, { temperature: 0 }), /temperature 0/);
    p.model.dispose();
    other.model.dispose();
  });

  test("update.step hands μ (a rolloutLogp field) and the weights to the loss, per micro-batch", async () => {
    const p = tinyPolicy(2);
    const opt = new AdamW(p.model.namedVariables(), { lr: 1e-3 });
    const ro = await sample(p, PROMPTS, { n: 2, maxNewTokens: 2, rng: new Rng(1), topP: 0.7 });
    const old = logprobs(p.model, ro).logp;
    const c = rolloutCorrection("token-is", { oldLogp: old, rolloutLogp: ro.logprobs, mask: ro.responseMask });
    const seen: number[][][] = [];
    step(
      p,
      opt,
      { ...ro, responseMask: c.mask },
      { oldLogp: old, adv: Float32Array.from(ro.group, (g) => g - 2), isWeights: c.weights, rolloutLogp: ro.logprobs },
      (mb) => {
        seen.push(mb.rolloutLogp);
        return policyLoss("ppo-clip", mb, {}).loss;
      },
      { microBatch: 4 },
    );
    assert.deepEqual(seen.flat(), ro.logprobs, "every row once, in order");
    assert.equal(seen[0].length, 4);
    p.model.dispose();
    opt.dispose();
  });

  test("grpoStep applies a correction: metrics, weights ≠ 1 under top-p, and no tensor leak", async () => {
    const p = tinyPolicy(0);
    const opt = new AdamW(p.model.namedVariables(), { lr: 1e-3, weightDecay: 0 });
    const run = (rolloutCorrection: string | null, s: number) =>
      grpoStep(
        { policy: p, opt, prompts: PROMPTS, reward: digitReward, columns: { target: TARGETS }, step: s },
        {
          n: 4,
          sampling: { maxNewTokens: 2, temperature: 1, topP: 0.7 },
          thresholds: { truncFrac: null },
          rolloutCorrection,
          rng: new Rng(3),
        },
      );
    await run("token-is", 0); // warm up kernels
    const before = tf.memory().numTensors;
    const r = await run("token-is", 1);
    assert.equal(tf.memory().numTensors, before);
    assert.ok(r.correction && r.correction.name === "token-is");
    assert.ok(r.metrics["mismatch/kl"] > 0 && r.metrics["mismatch/isMean"] < 1, `${r.metrics["mismatch/isMean"]}`);
    // another sampler (here: other weights, as a stale copy would be): μ ≠ π_old without any filter
    const other = tinyPolicy(7);
    const lag = await grpoStep(
      { policy: p, sampler: other, opt, prompts: PROMPTS, reward: digitReward, columns: { target: TARGETS } },
      { n: 4, sampling: { maxNewTokens: 2 }, thresholds: { truncFrac: null }, rolloutCorrection: "seq-is" },
    );
    assert.ok(lag.metrics["mismatch/absLogpDiffMean"] > 0.05, `${lag.metrics["mismatch/absLogpDiffMean"]}`);
    assert.ok(lag.correction!.weights.flat().some((w) => w > 0 && Math.abs(w - 1) > 1e-3));
    other.model.dispose();
    await assert.rejects(
      grpoStep(
        { policy: p, trainer: {} as never, prompts: PROMPTS, reward: digitReward },
        { rolloutCorrection: "token-is" },
      ),
      /rolloutCorrection is not supported with inputs\.trainer/,
    );
    const plain = await run(null, 2);
    assert.equal(plain.correction, undefined);
    assert.equal(plain.metrics["mismatch/kl"], undefined);
    p.model.dispose();
    opt.dispose();
  });
});
