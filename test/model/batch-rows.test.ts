import { test } from "node:test";
import assert from "node:assert/strict";
import { realTokenRows } from "../../lib/model/batch.js";

test("realTokenRows: real tokens per row; a response mask off the attention mask or on a first token is an error", () => {
  const r = realTokenRows(
    {
      ids: [
        [0, 5, 6, 7],
        [1, 2, 3, 4],
      ],
      attentionMask: [
        [0, 1, 1, 1],
        [1, 1, 1, 1],
      ],
      responseMask: [
        [0, 0, 1, 1],
        [0, 0, 0, 1],
      ],
    },
    "remote.score",
    64,
  );
  assert.deepEqual(r.cols, [
    [1, 2, 3],
    [0, 1, 2, 3],
  ]);
  assert.deepEqual(r.seqs, [
    [5, 6, 7],
    [1, 2, 3, 4],
  ]);
  assert.deepEqual(Array.from(r.responseMask!), [0, 0, 1, 1, 0, 0, 0, 1]);
  assert.equal(realTokenRows({ ids: [[3, 4]] }, "x", 64).responseMask, null);
  assert.throws(
    () =>
      realTokenRows({ ids: [[0, 5, 6]], attentionMask: [[0, 1, 1]], responseMask: [[1, 0, 1]] }, "remote.score", 64),
    /remote\.score: batch\.responseMask is 1 on a padding token \(row 0, column 0\)/,
  );
  assert.throws(
    () =>
      realTokenRows({ ids: [[0, 5, 6]], attentionMask: [[0, 1, 1]], responseMask: [[0, 1, 1]] }, "remote.score", 64),
    /is 1 on the first real token of row 0 \(column 1\), which has no prediction to score/,
  );
  assert.throws(() => realTokenRows({ ids: [[0, 99]] }, "remote.score", 64), /remote\.score: batch\.ids/);
});
