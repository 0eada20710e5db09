import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import {
  alignedLogits,
  entropyFromLogits,
  fullLogprobs,
  gatherColumns,
  logprobs,
  logprobTensors,
} from "../../lib/model/logprobs.js";
import { micro, randomModel, setup } from "./model-helpers.js";

before(setup);

const batch = {
  ids: [
    [0, 0, 3, 4, 5, 6, 7],
    [9, 8, 7, 6, 5, 4, 3],
  ],
  attentionMask: [
    [0, 0, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 1, 0],
  ],
  responseMask: [
    [0, 0, 0, 0, 1, 1, 1],
    [0, 0, 0, 1, 1, 1, 0],
  ],
};

/** Naive per-position softmax of logits / T in float64: logp of token t from position t-1, entropy, sorted list. */
function naive(logits: number[][][], temperature: number) {
  return logits.map((row, b) =>
    row.map((z, t) => {
      const s = z.map((x) => x / temperature);
      const m = Math.max(...s);
      const lse = m + Math.log(s.reduce((a, x) => a + Math.exp(x - m), 0));
      const lp = s.map((x) => x - lse);
      const H = -lp.reduce((a, l) => a + Math.exp(l) * l, 0);
      const next = t + 1 < row.length ? batch.ids[b][t + 1] : -1;
      const order = lp.map((l, i) => [l, i]).sort((x, y) => y[0] - x[0]);
      return { tok: next >= 0 ? lp[next] : NaN, H, order };
    }),
  );
}

test("logprobs and entropy equal a naive per-position softmax, tokens-aligned under the response mask", () => {
  const m = randomModel(micro, 3);
  const logits = m.forward(batch).logits;
  for (const temperature of [1, 0.7]) {
    const ref = naive(logits.arraySync(), temperature);
    const r = logprobs(m, batch, { temperature, topK: 3 });
    assert.deepEqual(r.mask, batch.responseMask);
    for (let b = 0; b < 2; b++)
      for (let t = 0; t < 7; t++) {
        if (!batch.responseMask[b][t]) {
          assert.equal(r.logp[b][t], 0);
          assert.equal(r.entropy![b][t], 0);
          assert.deepEqual(r.topK!.ids[b][t], []);
          continue;
        }
        const e = ref[b][t - 1]; // token t is scored by position t-1
        assert.ok(Math.abs(r.logp[b][t] - e.tok) < 1e-5, `logp ${b},${t}: ${r.logp[b][t]} vs ${e.tok}`);
        assert.ok(Math.abs(r.entropy![b][t] - e.H) < 1e-4, `entropy ${b},${t}`);
        assert.deepEqual(
          r.topK!.ids[b][t],
          e.order.slice(0, 3).map((x) => x[1]),
        );
        for (let k = 0; k < 3; k++) assert.ok(Math.abs(r.topK!.logp[b][t][k] - e.order[k][0]) < 1e-5);
      }
  }
  logits.dispose();
  m.dispose();
});

test("shifted alignment is [B, T-1] with column t scoring token t+1; default mask skips padding and the first token", () => {
  const m = randomModel(micro, 3);
  const tok = logprobs(m, batch, { entropy: false });
  const sh = logprobs(m, batch, { align: "shifted", entropy: false });
  assert.equal(sh.logp[0].length, 6);
  for (let b = 0; b < 2; b++) for (let t = 0; t < 6; t++) assert.equal(sh.logp[b][t], tok.logp[b][t + 1]);
  assert.equal(tok.entropy, undefined);
  const all = logprobs(m, { ids: batch.ids, attentionMask: batch.attentionMask });
  assert.deepEqual(all.mask, [
    [0, 0, 0, 1, 1, 1, 1],
    [0, 1, 1, 1, 1, 1, 0],
  ]);
  m.dispose();
});

test("micro-batching gives the same numbers as one pass", () => {
  const m = randomModel(micro, 3);
  const a = logprobs(m, batch, { topK: 2 });
  const b = logprobs(m, batch, { topK: 2, microBatch: 1 });
  for (let r = 0; r < 2; r++) for (let t = 0; t < 7; t++) assert.ok(Math.abs(a.logp[r][t] - b.logp[r][t]) < 1e-6);
  assert.deepEqual(a.topK!.ids, b.topK!.ids);
  m.dispose();
});

test("the differentiable path returns the same values as tensors, and nothing leaks", () => {
  const m = randomModel(micro, 3);
  const plain = logprobs(m, batch, { temperature: 0.8 });
  const n0 = tf.memory().numTensors;
  const t = logprobTensors(m, batch, { temperature: 0.8, entropy: true, hidden: true });
  assert.deepEqual(t.logp.shape, [2, 7]);
  assert.deepEqual(t.hidden!.shape, [2, 7, 32]);
  const lp = t.logp.arraySync(),
    H = t.entropy!.arraySync();
  for (let b = 0; b < 2; b++)
    for (let k = 0; k < 7; k++) {
      assert.ok(Math.abs(lp[b][k] - plain.logp[b][k]) < 1e-6);
      assert.ok(Math.abs(H[b][k] - plain.entropy![b][k]) < 1e-6);
    }
  assert.deepEqual(t.mask.arraySync(), batch.responseMask);
  tf.dispose([t.logp, t.mask, t.entropy!, t.hidden!]);
  assert.equal(tf.memory().numTensors, n0);
  logprobs(m, batch, { topK: 4 });
  assert.equal(tf.memory().numTensors, n0);
  m.dispose();
});

test("bad batches and options fail with the field and the fix", () => {
  const m = randomModel(micro, 3);
  assert.throws(() => logprobs(m, { ids: [[1]] }), /at least 2 tokens/);
  assert.throws(
    () =>
      logprobs(m, {
        ...batch,
        responseMask: [
          [1, 0, 0, 0, 0, 0, 0],
          [0, 0, 0, 0, 0, 0, 0],
        ],
      }),
    /column 0 of row 0/,
  );
  assert.throws(
    () =>
      logprobs(m, {
        ...batch,
        responseMask: [
          [0, 1, 0, 0, 0, 0, 0],
          [0, 0, 0, 0, 0, 0, 0],
        ],
      }),
    /response mask must be inside the attention mask/,
  );
  assert.throws(() => logprobs(m, batch, { temperature: 0 }), /temperature must be a positive number \(got 0\)/);
  assert.throws(() => logprobs(m, batch, { topK: 99 }), /topK is larger than the vocabulary/);
  assert.throws(() => logprobTensors(m, batch, { topK: 2 }), /only available in the no-grad path/);
  m.dispose();
});

test("one home for the logprob math: aligned logits, full logprobs, entropy from logits and the logits path agree", () => {
  const m = randomModel(micro, 3);
  const n0 = tf.memory().numTensors;
  for (const temperature of [1, 0.7]) {
    const fwd = m.forward(batch).logits;
    const raw = fwd.arraySync();
    fwd.dispose();
    const z = alignedLogits(m, batch, { temperature });
    const zz = z.arraySync();
    assert.ok(
      zz.every((row) => row[0].every((x) => x === 0)),
      "row 0 has no prediction: zeros",
    );
    for (let b = 0; b < 2; b++)
      for (let t = 1; t < 7; t++)
        zz[b][t].forEach((x, v) => assert.ok(Math.abs(x - raw[b][t - 1][v] / temperature) < 1e-5));
    const full = fullLogprobs(m, batch, { temperature });
    const ref = logprobs(m, batch, { temperature });
    const Ht = entropyFromLogits(z);
    const H = Ht.arraySync() as number[][];
    Ht.dispose();
    const fl = full.arraySync();
    for (let b = 0; b < 2; b++)
      for (let t = 1; t < 7; t++) {
        if (!batch.responseMask[b][t]) continue;
        assert.ok(Math.abs(fl[b][t][batch.ids[b][t]] - ref.logp[b][t]) < 1e-5, `full logprob ${b},${t}`);
        assert.ok(Math.abs(H[b][t] - ref.entropy![b][t]) < 1e-4, `entropy ${b},${t}`);
      }
    // the tape path with logits: the same logits, logprobs and entropy from one forward pass
    const lt = logprobTensors(m, batch, { temperature, logits: true, entropy: true });
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(lt.logits!, z))).dataSync()[0]);
    assert.ok(d < 1e-6, `logits path vs alignedLogits: ${d}`);
    const lp = lt.logp.arraySync(),
      le = lt.entropy!.arraySync();
    for (let b = 0; b < 2; b++)
      for (let t = 0; t < 7; t++) {
        assert.ok(Math.abs(lp[b][t] - ref.logp[b][t]) < 1e-5);
        assert.ok(Math.abs(le[b][t] - ref.entropy![b][t]) < 1e-4);
      }
    tf.dispose([z, full, lt.logits!, lt.logp, lt.mask, lt.entropy!]);
  }
  assert.equal(tf.memory().numTensors, n0, "no tensors leak");
  assert.throws(
    () => logprobTensors(m, batch, { logits: true, align: "shifted" }),
    /logits: true returns tokens-aligned logits/,
  );
  m.dispose();
});

test("gatherColumns: forward gather, scatter-back gradient", () => {
  const x = tf.tensor2d([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  const g = gatherColumns(x, [2, 0, 1, 2], 2);
  assert.deepEqual(g.arraySync(), [
    [3, 1],
    [5, 6],
  ]);
  const dx = tf.grad((y: tf.Tensor) =>
    gatherColumns(y as tf.Tensor2D, [2, 0, 1, 2], 2)
      .mul(
        tf.tensor2d([
          [1, 2],
          [3, 4],
        ]),
      )
      .sum(),
  )(x);
  assert.deepEqual(dx.arraySync(), [
    [2, 0, 1],
    [0, 3, 4],
  ]);
  tf.dispose([x, g, dx]);
  assert.throws(() => gatherColumns(tf.zeros([2, 3]) as tf.Tensor2D, [0], 2), /expected N·K/);
});
