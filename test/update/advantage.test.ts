import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { advantage, advantages } from "../../lib/update/index.js";
import { groupIndex, grpoAdvantages } from "../../lib/update/advantage.js";
import { grpoDefaults } from "../../lib/update/advantage/grpo.js";
import { CellrlError } from "../../lib/core/errors.js";
import { Rng } from "../../lib/core/random.js";
import { close } from "./setup.js";

const R = [1, 0, 1, 1, 0, 0, 0, 1];
const G = [0, 0, 0, 0, 1, 1, 1, 1];

describe("advantage estimators", () => {
  before(() => undefined);
  test("grpo defaults are verl's (unbiased std, eps 1e-6, group scale); singletons get 0 unless singleton: verl", () => {
    assert.deepEqual(grpoDefaults, { scale: "group", std: "unbiased", eps: 1e-6, singleton: "zero" });
  });
  test("grpo matches a hand computation with the unbiased std", () => {
    // group 0: mean 0.75, unbiased std sqrt((3·0.0625 + 0.5625)/3) = 0.5; group 1: mean 0.25, std 0.5
    const s = 0.5 + 1e-6;
    close(advantage("grpo", { rewards: R, groups: G }), [
      0.25 / s,
      -0.75 / s,
      0.25 / s,
      0.25 / s,
      -0.25 / s,
      -0.25 / s,
      -0.25 / s,
      0.75 / s,
    ]);
  });
  test("grpo with the population std and eps 1e-4 is Megatron's", () => {
    const s = Math.sqrt(0.75 / 4) + 1e-4;
    close(advantage("grpo", { rewards: R, groups: G }, { std: "population", eps: 1e-4 }).slice(0, 2), [
      0.25 / s,
      -0.75 / s,
    ]);
  });
  test("grpo advantages sum to 0 within every group", () => {
    const rng = new Rng(3);
    for (let trial = 0; trial < 5; trial++) {
      const r = Array.from({ length: 24 }, () => rng.normal());
      const g = Array.from({ length: 24 }, (_, i) => Math.floor(i / 6));
      for (const name of ["grpo", "dr-grpo", "rloo"]) {
        const a = advantage(name, { rewards: r, groups: g });
        for (let k = 0; k < 4; k++)
          close(
            a.slice(k * 6, k * 6 + 6).reduce((x, y) => x + y, 0),
            0,
            1e-5,
            name,
          );
      }
    }
  });
  test("grpo gives zero advantage to a zero-variance group and to a group of one", () => {
    const a = advantage("grpo", { rewards: [1, 1, 1, 0.3, 0, 1], groups: ["a", "a", "a", "b", "c", "c"] });
    close(a.slice(0, 4), [0, 0, 0, 0]);
    assert.ok(a[5] > 0 && a[4] < 0);
  });
  test("batch scale divides by the batch std, keeping group means", () => {
    const batchStd = Math.sqrt(2 / 7); // rewards are half 1, half 0: Σ(r − 0.5)² = 8·0.25 = 2, unbiased /7
    close(advantage("grpo", { rewards: R, groups: G }, { scale: "batch" }).slice(0, 2), [
      0.25 / (batchStd + 1e-6),
      -0.75 / (batchStd + 1e-6),
    ]);
  });
  test("dr-grpo is r minus the group mean", () => {
    close(advantage("dr-grpo", { rewards: R, groups: G }), [0.25, -0.75, 0.25, 0.25, -0.25, -0.25, -0.25, 0.75]);
    close(
      advantage("grpo", { rewards: R, groups: G }, { scale: "none" }),
      advantage("dr-grpo", { rewards: R, groups: G }),
    );
  });
  test("rloo subtracts the mean of the other samples", () => {
    close(advantage("rloo", { rewards: [1, 0, 0, 5], groups: [0, 0, 0, 1] }), [1, -0.5, -0.5, 0]);
  });
  test("reinforce-pp whitens over tokens when lengths are given", () => {
    // token returns [1, 1, 1, 0]: mean 0.75, unbiased var 0.25
    close(advantage("reinforce-pp", { rewards: [1, 0], groups: [0, 1], lengths: [3, 1] }), [
      0.25 / Math.sqrt(0.25 + 1e-8),
      -0.75 / Math.sqrt(0.25 + 1e-8),
    ]);
    close(
      advantage("reinforce-pp", { rewards: [1, 0, 1, 0], groups: [0, 0, 1, 1] }),
      [0.866025, -0.866025, 0.866025, -0.866025],
    );
  });
  test("reinforce-pp-baseline whitens the group-centred rewards", () => {
    // centred: [0.5, -0.5, 0, 0] → mean 0, unbiased var 0.5/3
    const s = Math.sqrt(0.5 / 3 + 1e-8);
    close(advantage("reinforce-pp-baseline", { rewards: [1, 0, 2, 2], groups: [0, 0, 1, 1] }), [
      0.5 / s,
      -0.5 / s,
      0,
      0,
    ]);
  });
  test("multi-reward sum-then-normalize equals the estimator on the weighted sum", () => {
    const a = advantage(
      "grpo",
      { rewards: { correct: [1, 0, 1, 0], format: [1, 1, 0, 0] }, groups: [0, 0, 0, 0] },
      { weights: { format: 0.5 } },
    );
    close(a, advantage("grpo", { rewards: [1.5, 0.5, 1, 0], groups: [0, 0, 0, 0] }));
  });
  test("multi-reward normalize-then-sum normalises each component, sums, then whitens the batch", () => {
    const g = [0, 0, 1, 1];
    const a = advantage(
      "dr-grpo",
      { rewards: { x: [1, 0, 1, 1], y: [0, 2, 0, 0] }, groups: g },
      { aggregate: "normalize-then-sum" },
    );
    // per component: x → [0.5, -0.5, 0, 0], y → [-1, 1, 0, 0]; sum [-0.5, 0.5, 0, 0]; batch mean 0, unbiased std sqrt(0.5/3)
    const s = Math.sqrt(0.5 / 3) + 1e-4;
    close(a, [-0.5 / s, 0.5 / s, 0, 0]);
  });
  test("unknown estimator names list the known ones and suggest the nearest", () => {
    assert.throws(
      () => advantage("grpo_vec", { rewards: [1], groups: [0] }),
      (e: unknown) =>
        e instanceof CellrlError &&
        e.code === "unknown_name" &&
        /known: grpo, dr-grpo, lite-ppo, rloo, reinforce-pp/.test(e.message),
    );
    assert.throws(() => advantage("gpro", { rewards: [1], groups: [0] }), /Did you mean "grpo"/);
  });
  test("a non-finite reward fails naming the completion", () => {
    assert.throws(() => advantage("grpo", { rewards: [1, NaN], groups: [0, 0] }), /inputs\.rewards\[1\] is NaN/);
    assert.throws(() => advantage("grpo", { rewards: [1, 0, 1], groups: [0, 0] }), /3 values but inputs.groups has 2/);
    assert.throws(
      () => advantage("grpo", { rewards: [1, 0] as number[], groups: [0, 0] }, { weights: { a: 1 } }),
      /options.weights applies to named reward components/,
    );
  });
  test("a user estimator registered in a cell is usable by name and re-registrable", () => {
    const half = ({ rewards }: { rewards: Float32Array }) => rewards.map((r) => r / 2);
    advantages.add("half-test", half);
    advantages.add("half-test", half);
    close(advantage("half-test", { rewards: [2, 4], groups: [0, 0] }), [1, 2]);
    close(
      advantage((x) => x.rewards.map(() => 7), { rewards: [2, 4], groups: [0, 0] }),
      [7, 7],
    );
  });
  test("groupIndex maps ids to dense indices by first appearance", () => {
    assert.deepEqual(Array.from(groupIndex(["q7", "q7", "q2", "q7"])), [0, 0, 1, 0]);
  });
  test('grpoAdvantages(rewards, groupIds, opts) is the issue\'s spelling of advantage("grpo", ...)', () => {
    close(grpoAdvantages([1, 0, 1, 1], [0, 0, 1, 1]), [Math.SQRT1_2, -Math.SQRT1_2, 0, 0], 1e-5);
    const r = [0.2, 1, 0.5, 0, 0, 1],
      g = ["a", "a", "a", "b", "b", "b"],
      o = { std: "population" as const, eps: 1e-4 };
    assert.deepEqual(grpoAdvantages(r, g, o), advantage("grpo", { rewards: r, groups: g }, o));
    assert.deepEqual(
      grpoAdvantages({ ok: [1, 0], fmt: [1, 1] }, [0, 0], { weights: { fmt: 0.5 } }),
      advantage("grpo", { rewards: { ok: [1, 0], fmt: [1, 1] }, groups: [0, 0] }, { weights: { fmt: 0.5 } }),
    );
  });
});
