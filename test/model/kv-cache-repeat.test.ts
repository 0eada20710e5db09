// KVCache.repeatRows copies rows in the backend's memory on wasm and cpu (tf.gather of a [B, KV, S, hd] cache costs
// tens of ms on wasm): the repeated cache must equal the gathered one exactly, stay private (in-place writes to one
// copy do not reach another), and leak nothing.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { micro, randomModel, setup } from "./model-helpers.js";

before(setup);

test("repeatRows (in place) equals a gather of the rows, bit for bit, and frees the old tensors", () => {
  const m = randomModel(micro, 3);
  const ids = [
    [0, 5, 6, 7],
    [1, 2, 3, 4],
    [0, 0, 8, 9],
  ];
  const mask = ids.map((r) => r.map((x) => +(x !== 0)));
  const run = (inPlace: boolean) => {
    const cache = m.createCache(3, 8, { inPlace });
    m.forward({ ids, attentionMask: mask }, { cache }).logits.dispose();
    const before = tf.memory().numTensors;
    cache.repeatRows(4);
    assert.equal(tf.memory().numTensors, before, "the repeat replaced the cache tensors, no more, no fewer");
    assert.equal(cache.batch, 12);
    const out = [...cache.keys, ...cache.values].map((t) => Array.from(t.dataSync()));
    return { cache, out };
  };
  const a = run(true); // the in-place copy on wasm / cpu
  const b = run(false); // the functional path (tf.gather)
  assert.deepEqual(a.out, b.out);
  // row 5 (prompt 1, sample 1) is its own copy: writing to it leaves row 4 (sample 0) as it was
  const k = a.cache.keys[0];
  const [, KV, S, hd] = k.shape;
  const row4 = Array.from(k.dataSync().slice(4 * KV * S * hd, 5 * KV * S * hd));
  a.cache.length = 4;
  a.cache.write(0, tf.ones([12, KV, 1, hd]) as tf.Tensor4D, tf.ones([12, KV, 1, hd]) as tf.Tensor4D);
  const after = a.cache.keys[0].dataSync();
  assert.notDeepEqual(Array.from(after.slice(4 * KV * S * hd, 5 * KV * S * hd)), row4, "the write reached row 4");
  assert.equal(after[5 * KV * S * hd + 4 * hd], 1, "row 5 got its own write");
  a.cache.dispose();
  b.cache.dispose();
  m.dispose();
});
