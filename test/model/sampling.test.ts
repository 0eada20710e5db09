import { test } from "node:test";
import assert from "node:assert/strict";
import { checkSampling, defaults, logSoftmax, sampleIndex, samplingDistribution } from "../../lib/model/sampling.js";
import { Rng } from "../../lib/core/random.js";

const close = (a: ArrayLike<number>, b: number[], tol = 1e-12) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < b.length; i++)
    assert.ok(Math.abs(a[i] - b[i]) <= tol, `[${i}] ${a[i]} vs ${b[i]}\n${Array.from(a)}`);
};

// logits ln([0.5, 0.25, 0.15, 0.1]) + 3: probabilities 0.5, 0.25, 0.15, 0.1 at temperature 1
const logits = [0.5, 0.25, 0.15, 0.1].map((p) => Math.log(p) + 3);

test("defaults are vLLM's neutral values", () => {
  assert.deepEqual(defaults, { temperature: 1, topK: 0, topP: 1, minP: 0 });
  close(samplingDistribution(logits), [0.5, 0.25, 0.15, 0.1]);
});

test("temperature scales log-probabilities before the softmax; 0 is a one-hot argmax (lowest id on ties)", () => {
  // T = 0.5 squares the probabilities: 0.25, 0.0625, 0.0225, 0.01 over 0.345
  close(
    samplingDistribution(logits, { temperature: 0.5 }),
    [0.25, 0.0625, 0.0225, 0.01].map((x) => x / 0.345),
  );
  close(samplingDistribution([1, 3, 3, 0], { temperature: 0 }), [0, 1, 0, 0]);
});

test("top-k keeps the k most likely tokens and renormalises", () => {
  close(samplingDistribution(logits, { topK: 2 }), [0.5 / 0.75, 0.25 / 0.75, 0, 0]);
  close(samplingDistribution(logits, { topK: 4 }), [0.5, 0.25, 0.15, 0.1]);
  close(
    samplingDistribution([2, 1, 1, 0], { topK: 2 }).map((x) => +(x > 0)),
    [1, 1, 1, 0],
  ); // ties with the k-th stay
});

test("top-p keeps the smallest most-likely set reaching p (the crossing token included)", () => {
  close(samplingDistribution(logits, { topP: 0.7 }), [0.5 / 0.75, 0.25 / 0.75, 0, 0]); // 0.5 < 0.7 <= 0.75
  close(samplingDistribution(logits, { topP: 0.76 }), [0.5 / 0.9, 0.25 / 0.9, 0.15 / 0.9, 0]);
  close(samplingDistribution(logits, { topP: 0.3 }), [1, 0, 0, 0]);
});

test("min-p drops tokens below minP times the top probability", () => {
  close(samplingDistribution(logits, { minP: 0.3 }), [0.5 / 0.9, 0.25 / 0.9, 0.15 / 0.9, 0]); // 0.1 < 0.15
  close(samplingDistribution(logits, { minP: 0.5 }), [0.5 / 0.75, 0.25 / 0.75, 0, 0]);
});

test("filters apply in HF order: temperature, top-k, top-p, min-p", () => {
  // topK 3 -> [.5,.25,.15]/.9 = [.556,.278,.167]; topP .8 keeps the first two (.556 < .8 <= .833); minP .6 drops .278/.556 = .5
  close(samplingDistribution(logits, { topK: 3, topP: 0.8 }), [2 / 3, 1 / 3, 0, 0]);
  close(samplingDistribution(logits, { topK: 3, topP: 0.8, minP: 0.6 }), [1, 0, 0, 0]);
});

test("inverse-CDF sampling picks by cumulative mass and skips filtered tokens", () => {
  const p = Float64Array.from([0.5, 0, 0.3, 0.2]);
  assert.equal(sampleIndex(p, 0), 0);
  assert.equal(sampleIndex(p, 0.49), 0);
  assert.equal(sampleIndex(p, 0.5), 2);
  assert.equal(sampleIndex(p, 0.79), 2);
  assert.equal(sampleIndex(p, 0.81), 3);
  assert.equal(sampleIndex(p, 0.9999999999999999), 3);
  close(logSoftmax([0, Math.log(3)]), [Math.log(0.25), Math.log(0.75)], 1e-12);
});

test("bad sampling parameters name the field and the range", () => {
  assert.throws(
    () => checkSampling({ topP: 0 }, "model.generate"),
    /model.generate: topP is invalid \(got 0; expected a number in \(0, 1\]\)/,
  );
  assert.throws(() => checkSampling({ temperature: -1 }, "model.generate"), /temperature is invalid/);
  assert.throws(() => checkSampling({ topK: 1.5 }, "model.generate"), /topK is invalid/);
  assert.throws(() => checkSampling({ minP: 2 }, "model.generate"), /minP is invalid/);
  assert.deepEqual(checkSampling({ topK: -1 }, "x"), { ...defaults, topK: -1 });
});

/** The filters written the slow, obvious way (full sorts), for comparison on random rows. */
function naiveDistribution(
  logits: number[],
  o: { temperature: number; topK: number; topP: number; minP: number },
): number[] {
  const z = logits.map((x) => x / o.temperature);
  const m = Math.max(...z);
  let p = z.map((x) => Math.exp(x - m));
  const norm = (q: number[]) => {
    const s = q.reduce((a, b) => a + b, 0);
    return q.map((x) => x / s);
  };
  p = norm(p);
  if (o.topK > 0 && o.topK < p.length) {
    const kth = [...p].sort((a, b) => b - a)[o.topK - 1];
    p = norm(p.map((x) => (x >= kth ? x : 0)));
  }
  if (o.topP < 1) {
    const order = p.map((x, i) => [x, i]).sort((a, b) => b[0] - a[0]);
    let before = 0;
    const keepIds = new Set<number>();
    for (const [x, i] of order) {
      if (x > 0 && before < o.topP) keepIds.add(i);
      before += x;
    }
    p = norm(p.map((x, i) => (keepIds.has(i) ? x : 0)));
  }
  if (o.minP > 0) {
    const mx = Math.max(...p);
    p = norm(p.map((x) => (x >= o.minP * mx ? x : 0)));
  }
  return p;
}

test("filters agree with a naive full-sort implementation on random rows (incl. 3000-token rows with p < 1e-9 tails)", () => {
  const rng = new Rng(4);
  for (let c = 0; c < 60; c++) {
    const V = c % 3 === 0 ? 3000 : 5 + rng.int(40);
    const scale = [0.5, 3, 12][c % 3];
    const logits = Array.from({ length: V }, () => rng.normal() * scale);
    const o = {
      temperature: [1, 0.6, 1.7][rng.int(3)],
      topK: [0, 1, 3, 20][rng.int(4)],
      topP: [1, 0.5, 0.9, 0.99][rng.int(4)],
      minP: [0, 0.05, 0.3][rng.int(3)],
    };
    close(samplingDistribution(logits, o), naiveDistribution(logits, o), 1e-9);
  }
});

test("snake_case sampling keys fail with the camelCase name to use", () => {
  assert.throws(
    () => checkSampling({ top_p: 0.9 } as never, "model.generate"),
    /model.generate: options.top_p is the vLLM \/ HF spelling \(got top_p\)\. Use topP/,
  );
  assert.throws(() => checkSampling({ max_new_tokens: 4 } as never, "x"), /Use maxNewTokens/);
  assert.throws(() => checkSampling({ stop_token_ids: [1] } as never, "x"), /Use stopTokenIds/);
});
