// Lite PPO, MaxRL and GDPO advantages: hand-computed values, the zero cases, and the errors.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { advantage } from "../../lib/update/index.js";
import { litePpoDefaults } from "../../lib/update/advantage/grpo.js";
import { maxRlDefaults } from "../../lib/update/advantage/maxrl.js";
import { gdpoDefaults } from "../../lib/update/advantage/gdpo.js";
import { CellrlError } from "../../lib/core/errors.js";
import { close } from "./setup.js";

describe("lite-ppo", () => {
  test("defaults are TRL's scale_rewards=batch: unbiased std, eps 1e-4", () => {
    assert.deepEqual(litePpoDefaults, { std: "unbiased", eps: 1e-4, singleton: "zero" });
  });
  test("divides the group-centred reward by the batch std, not the group's", () => {
    // rewards [1, 0, 1, 1 | 0, 0, 0, 1]: batch mean 0.5, unbiased std sqrt(8·0.25/7) = 0.5345
    const s = Math.sqrt(2 / 7) + 1e-4;
    const A = advantage("lite-ppo", { rewards: [1, 0, 1, 1, 0, 0, 0, 1], groups: [0, 0, 0, 0, 1, 1, 1, 1] });
    close(A, [0.25 / s, -0.75 / s, 0.25 / s, 0.25 / s, -0.25 / s, -0.25 / s, -0.25 / s, 0.75 / s]);
    // a group-std estimator gives a different value for the same rows
    const g = advantage("grpo", { rewards: [1, 0, 1, 1, 0, 0, 0, 1], groups: [0, 0, 0, 0, 1, 1, 1, 1] });
    assert.ok(Math.abs(g[0] - A[0]) > 0.01);
  });
  test("rejects a scale other than batch", () => {
    assert.throws(
      () => advantage("lite-ppo", { rewards: [1, 0], groups: [0, 0] }, { scale: "group" }),
      (e: unknown) => e instanceof CellrlError && /always divides by the batch std/.test(e.message),
    );
  });
});

describe("maxrl", () => {
  test("defaults are prime-rl's (no eps)", () => assert.deepEqual(maxRlDefaults, { eps: 0 }));
  test("binary rewards: a success gets N/K − 1, a failure −1; no success gives 0", () => {
    // group 0: 1 of 4 → [3, −1, −1, −1]; group 1: 3 of 4 → [1/3, 1/3, 1/3, −1]; group 2: 0 of 2 → 0
    const A = advantage("maxrl", {
      rewards: [1, 0, 0, 0, 1, 1, 1, 0, 0, 0],
      groups: [0, 0, 0, 0, 1, 1, 1, 1, 2, 2],
    });
    close(A, [3, -1, -1, -1, 1 / 3, 1 / 3, 1 / 3, -1, 0, 0]);
  });
  test("a group of one gets 0; TRL's eps 1e-4 divides by mean + eps", () => {
    close(advantage("maxrl", { rewards: [1, 0.5], groups: [0, 1] }), [0, 0]);
    close(advantage("maxrl", { rewards: [1, 0], groups: [0, 0] }, { eps: 1e-4 }), [0.5 / 0.5001, -0.5 / 0.5001]);
  });
  test("negative rewards are an error, not a flipped advantage", () => {
    assert.throws(
      () => advantage("maxrl", { rewards: [1, -1], groups: [0, 0] }),
      (e: unknown) => e instanceof CellrlError && e.code === "invalid_input" && /rewards >= 0/.test(e.message),
    );
  });
});

describe("gdpo", () => {
  test("defaults are NVlabs/GDPO's TRL code: eps 1e-4, unbiased std", () => {
    assert.deepEqual(gdpoDefaults, { eps: 1e-4, std: "unbiased" });
  });
  test("normalises each component in its group, weighted sum, then whitens the batch", () => {
    // correct [1, 0, 1, 1]: mean .75, std .5 → [.5, −1.5, .5, .5]/(.5+ε)·(.5) ; format [1, 1, 0, 1] likewise
    const e = 1e-4;
    const c = [0.25, -0.75, 0.25, 0.25].map((x) => x / (0.5 + e));
    const f = [0.25, 0.25, -0.75, 0.25].map((x) => x / (0.5 + e));
    const S = c.map((x, i) => x + 0.5 * f[i]);
    const m = S.reduce((a, b) => a + b) / 4;
    const sd = Math.sqrt(S.reduce((a, b) => a + (b - m) ** 2, 0) / 3);
    const A = advantage(
      "gdpo",
      { rewards: { correct: [1, 0, 1, 1], format: [1, 1, 0, 1] }, groups: [0, 0, 0, 0] },
      { weights: { correct: 1, format: 0.5 } },
    );
    close(
      A,
      S.map((x) => (x - m) / (sd + e)),
    );
  });
  test("keeps reward combinations apart that GRPO on the summed reward merges", () => {
    // rows 0 and 1 both sum to 1, but a rare correct answer (1 of 4) is worth more than a common format hit (2 of 4)
    const rewards = { correct: [1, 0, 0, 0], format: [0, 1, 1, 0] };
    const sum = advantage("grpo", { rewards, groups: [0, 0, 0, 0] });
    const dec = advantage("gdpo", { rewards, groups: [0, 0, 0, 0] });
    assert.ok(Math.abs(sum[0] - sum[1]) < 1e-6);
    assert.ok(Math.abs(dec[0] - dec[1]) > 0.1);
  });
  test("equals grpo's normalize-then-sum with eps 1e-4 (one formula, two spellings)", () => {
    const rewards = { a: [1, 0, 0.5, 1, 0, 0], b: [0, 0, 1, 1, 1, 0] };
    const groups = [0, 0, 0, 1, 1, 1];
    close(
      advantage("gdpo", { rewards, groups }, { weights: { a: 2, b: 1 } }),
      advantage("grpo", { rewards, groups }, { weights: { a: 2, b: 1 }, aggregate: "normalize-then-sum", eps: 1e-4 }),
    );
  });
  test("rejects options.aggregate (it combines the components itself)", () => {
    assert.throws(
      () => advantage("gdpo", { rewards: { a: [1, 0] }, groups: [0, 0] }, { aggregate: "normalize-then-sum" }),
      /combines the reward components itself/,
    );
  });
});
