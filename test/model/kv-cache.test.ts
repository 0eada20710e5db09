import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { maxAbsDiff, micro, randomModel, setup } from "./model-helpers.js";
import type { LlamaConfigInput } from "../../lib/model/config.js";

before(setup);

/**
 * Feed a left-padded batch as a prefill of `split` columns followed by one column at a time through a KV cache and
 * compare every real position's logits with one full forward pass.
 */
function incrementalVsFull(cfg: LlamaConfigInput, split: number, inPlace = true): number {
  const m = randomModel(cfg, 7);
  const ids = [
    [0, 0, 0, 5, 6, 7, 8, 9, 10],
    [1, 2, 3, 4, 5, 6, 7, 8, 9],
    [0, 11, 12, 13, 14, 15, 16, 17, 18],
  ];
  const mask = ids.map((r, b) => r.map((_, t) => (b === 0 ? +(t >= 3) : b === 2 ? +(t >= 1) : 1)));
  const T = ids[0].length;
  const full = m.forward({ ids, attentionMask: mask }).logits;
  const F = full.arraySync();
  const cache = m.createCache(3, T + 2, { inPlace }); // spare slots stay masked
  let d = 0;
  const pre = m.forward(
    { ids: ids.map((r) => r.slice(0, split)), attentionMask: mask.map((r) => r.slice(0, split)) },
    { cache },
  );
  const Pa = pre.logits.arraySync();
  for (let b = 0; b < 3; b++)
    for (let t = 0; t < split; t++) if (mask[b][t]) d = Math.max(d, maxAbsDiff(Pa[b][t], F[b][t]));
  pre.logits.dispose();
  for (let t = split; t < T; t++) {
    const step = m.forward(
      { ids: ids.map((r) => [r[t]]), attentionMask: mask.map((r) => r.slice(0, t + 1)) },
      { cache, logits: "last" },
    );
    const S = step.logits.arraySync();
    for (let b = 0; b < 3; b++) if (mask[b][t]) d = Math.max(d, maxAbsDiff(S[b][0], F[b][t])); // pad queries are unused
    step.logits.dispose();
  }
  assert.equal(cache.length, T);
  cache.dispose();
  full.dispose();
  m.dispose();
  return d;
}

test("incremental decoding with a KV cache equals the full forward pass (GQA, left padding) within 1e-4", () => {
  const d = incrementalVsFull(micro, 4);
  assert.ok(d < 1e-4, `max |diff| ${d}`);
});

test("incremental decoding equals the full pass with Qwen2 q/k/v bias and one kv head", () => {
  const d = incrementalVsFull({ ...micro, model_type: "qwen2", num_key_value_heads: 1 }, 1);
  assert.ok(d < 1e-4, `max |diff| ${d}`);
});

test("the functional cache (backends without in-place writes) gives the same logits and frees its copies", () => {
  const n0 = tf.memory().numTensors;
  const d = incrementalVsFull(micro, 3, false);
  assert.ok(d < 1e-4, `max |diff| ${d}`);
  assert.equal(tf.memory().numTensors, n0);
});

test("the cache refuses to overflow and to mix batch sizes", () => {
  const m = randomModel(micro);
  const n0 = tf.memory().numTensors;
  const cache = m.createCache(1, 3);
  m.forward({ ids: [[1, 2]] }, { cache }).logits.dispose();
  assert.throws(
    () => m.forward({ ids: [[3, 4]], attentionMask: [[1, 1, 1, 1]] }, { cache }),
    /overflows the cache \(maxLength 3\)/,
  );
  assert.throws(
    () =>
      m.forward(
        {
          ids: [[3], [4]],
          attentionMask: [
            [1, 1, 1],
            [1, 1, 1],
          ],
        },
        { cache },
      ),
    /the cache holds 1 rows but inputs.ids has 2/,
  );
  cache.dispose();
  assert.equal(tf.memory().numTensors, n0);
  m.dispose();
});
