// softOverlong against verl's overlong_buffer formula, min(−(|y| − (L − C))/C · factor, 0), written out here on
// token counts, and the batch form over a rollout's rows.
import { test } from "node:test";
import assert from "node:assert/strict";
import { softOverlong, defaults } from "../../lib/reward/length.js";

const verl = (len: number, L: number, C: number, factor: number) => Math.min((-(len - (L - C)) / C) * factor, 0);

test("softOverlong equals verl's overlong_buffer term up to max_response_length", () => {
  for (const [L, C, f] of [
    [64, 16, 1],
    [20, 5, 0.5],
    [4096, 1024, 1],
  ])
    for (let len = 0; len <= L; len += Math.max(1, Math.floor(L / 37)))
      assert.ok(Math.abs(softOverlong(len, { maxLength: L, buffer: C, penalty: f }) - verl(len, L, C, f)) < 1e-12);
});

test("beyond maxLength: −penalty (DAPO Eq. 13) by default, verl's line with beyond: linear", () => {
  assert.equal(defaults.beyond, "penalty");
  assert.equal(softOverlong(80, { maxLength: 64, buffer: 16 }), -1);
  assert.equal(softOverlong(80, { maxLength: 64, buffer: 16, beyond: "linear" }), verl(80, 64, 16, 1));
  assert.throws(() => softOverlong(10, { beyond: "clip" as never }), /beyond must be "penalty" or "linear"/);
});

test("an array of lengths (token counts incl. EOS, verl's valid_response_length) gives one penalty per row", () => {
  const lengths = [3, 49, 56, 64, 70];
  assert.deepEqual(softOverlong(lengths, { maxLength: 64, buffer: 16 }), [0, -1 / 16, -0.5, -1, -1]);
  assert.throws(() => softOverlong([1, -2], { maxLength: 64, buffer: 16 }), /length must be a finite number >= 0/);
});
