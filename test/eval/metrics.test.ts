import { test } from "node:test";
import assert from "node:assert/strict";
import { passAtK, meanPassAtK } from "../../lib/eval/pass-at-k.js";
import { meanAtK, majAtK, bootstrapCI, standardError } from "../../lib/eval/aggregate.js";
import { mcnemarExact, compareRuns } from "../../lib/eval/compare.js";
import { CellrlError } from "../../lib/core/errors.js";

function choose(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

test("pass@k equals the closed form 1 - C(n-c,k)/C(n,k) on hand-made cases", () => {
  assert.ok(Math.abs(passAtK(8, 2, 4) - (1 - 15 / 70)) < 1e-12);
  for (const [n, c, k] of [
    [10, 3, 1],
    [10, 3, 5],
    [16, 0, 4],
    [16, 16, 1],
    [32, 5, 32],
    [5, 4, 2],
    [100, 7, 10],
  ]) {
    const closed = n - c < k ? 1 : 1 - choose(n - c, k) / choose(n, k);
    assert.ok(Math.abs(passAtK(n, c, k) - closed) < 1e-12, `${n} ${c} ${k}`);
  }
  assert.equal(passAtK(10, 3, 1), 0.3);
  assert.equal(passAtK(4, 0, 4), 0);
  assert.equal(
    meanPassAtK(
      [
        { n: 4, c: 4 },
        { n: 4, c: 0 },
      ],
      2,
    ),
    0.5,
  );
});

test("pass@k rejects k larger than n with an error naming k", () => {
  assert.throws(
    () => passAtK(4, 1, 5),
    (e: unknown) => e instanceof CellrlError && /k must be an integer in \[1, n\]/.test(e.message),
  );
  assert.throws(() => passAtK(4, 5, 1), /c must be/);
});

test("mean@k averages per item then over items, as the R1 recipe does", () => {
  assert.equal(
    meanAtK([
      [1, 0],
      [1, 1],
    ]),
    0.75,
  );
  assert.equal(meanAtK([[1, 0, 0, 0], [1]]), 0.625);
  assert.throws(() => meanAtK([[1, NaN]]), /finite/);
  assert.throws(() => meanAtK([]), /empty/);
  assert.ok(Math.abs(standardError([[1], [0], [1], [0]]) - Math.sqrt(1 / 3 / 4)) < 1e-12);
});

test("maj@k votes over extracted answers, ignores missing answers, and breaks ties by first seen", () => {
  const items = [
    { answers: ["4", "5", "4"], correct: [true, false, true] },
    { answers: ["7", "8", "8"], correct: [true, false, false] },
    { answers: [null, null, "3"], correct: [false, false, true] },
    { answers: ["1", "2", "3"], correct: [false, true, false] },
  ];
  assert.equal(majAtK(items, 3), 2 / 4);
  assert.equal(majAtK(items, 1), 2 / 4);
  assert.equal(majAtK([{ answers: ["2", "1"], correct: [false, true] }], 2), 0);
});

test("bootstrap CI brackets the estimate and replays under the same seed", () => {
  const xs = Array.from({ length: 50 }, (_, i) => (i % 3 === 0 ? 1 : 0));
  const m = (s: number[]) => s.reduce((a, b) => a + b, 0) / s.length;
  const a = bootstrapCI(xs, m, { seed: 1 });
  const b = bootstrapCI(xs, m, { seed: 1 });
  assert.deepEqual(a, b);
  assert.ok(a.low <= a.estimate && a.estimate <= a.high);
  assert.ok(a.high - a.low > 0.1 && a.high - a.low < 0.5);
});

test("McNemar's exact p-value matches the binomial tail computed by hand", () => {
  assert.ok(Math.abs(mcnemarExact(10, 2) - (2 * 79) / 4096) < 1e-12);
  assert.equal(mcnemarExact(0, 0), 1);
  assert.equal(mcnemarExact(3, 3), 1);
  const r = compareRuns([1, 1, 1, 0, 0, 1], [1, 0, 0, 0, 1, 1]);
  assert.deepEqual([r.both, r.onlyA, r.onlyB, r.neither], [2, 2, 1, 1]);
  assert.ok(Math.abs(r.diff - 1 / 6) < 1e-12);
  assert.equal(r.agreement, 0.5);
  assert.throws(() => compareRuns([1], [1, 0]), /different item counts/);
});
