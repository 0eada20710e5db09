// update.step's per-row fields: every [B] / [B, T] / [B, T, V] field reaches the loss closure cut to the
// micro-batch's rows (plain arrays, typed arrays, tensors, self-slicing values), so user code never slices rows.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { AdamW } from "../../lib/model/optim.js";
import { logprobs } from "../../lib/model/logprobs.js";
import { policyLoss, step } from "../../lib/update/index.js";
import { tinyPolicy } from "./fixture.js";
import { setup } from "./setup.js";

before(setup);

const batch = {
  ids: [
    [5, 5, 1, 2, 3],
    [4, 5, 2, 2, 0],
    [3, 5, 0, 1, 1],
  ],
  responseMask: [
    [0, 0, 1, 1, 1],
    [0, 0, 1, 1, 0],
    [0, 0, 1, 0, 0],
  ],
};

test("fields arrive sliced to each micro-batch, whatever their kind", () => {
  const p = tinyPolicy(3);
  const m = p.model.clone({ trainable: true });
  const opt = new AdamW(m.namedVariables(), { lr: 1e-3, weightDecay: 0 });
  const old = logprobs(m, batch).logp;
  const seen: { rows: number[]; adv: number[]; id: number[]; tag: string[]; old: number }[] = [];
  step(m, opt, batch, (t) => policyLoss("pg", { ...t, adv: [0, 0, 0] }).loss); // AdamW creates its moments on the first step
  const n0 = tf.memory().numTensors;
  const fields = {
    oldLogp: old,
    adv: Float32Array.from([1, -1, 0.5]),
    id: tf.tensor1d([10, 11, 12]),
    tag: { sliceRows: (rows: readonly number[]) => rows.map((r) => `row${r}`) },
    none: null,
  };
  step(
    m,
    opt,
    batch,
    fields,
    (mb) => {
      seen.push({
        rows: mb.rows,
        adv: Array.from(mb.adv),
        id: Array.from(mb.id.dataSync()),
        tag: mb.tag,
        old: mb.oldLogp.length,
      });
      assert.equal(mb.none, null);
      return policyLoss("ppo-clip", mb, {});
    },
    { microBatch: 2 },
  );
  assert.deepEqual(seen, [
    { rows: [0, 1], adv: [1, -1], id: [10, 11], tag: ["row0", "row1"], old: 2 },
    { rows: [2], adv: [0.5], id: [12], tag: ["row2"], old: 1 },
  ]);
  fields.id.dispose();
  assert.equal(tf.memory().numTensors, n0, "the gathered tensor rows are freed with the step");
  assert.throws(
    () => step(m, opt, batch, { adv: [1, 2] }, (mb) => policyLoss("pg", mb)),
    /update\.step: field adv has 2 rows but the batch has 3/,
  );
  assert.throws(
    () => step(m, opt, batch, { mask: [1, 2, 3] }, (mb) => policyLoss("pg", { ...mb, adv: [0, 0, 0] })),
    /field "mask" would hide the closure's own mask/,
  );
  assert.throws(
    () => step(m, opt, batch, { beta: 0.1 } as never, () => tf.scalar(0)),
    /field beta must be an array, typed array or tensor/,
  );
  opt.dispose();
  m.dispose();
});
