// viz.flowrlTarget (FlowRL's target over distinct answers vs the policies) and viz.exposureBias (a student's
// divergence from the teacher on its own samples vs the teacher's): the numbers each view reports, computed by hand.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as viz from "../../lib/viz/index.js";
import { CellrlError } from "../../lib/core/errors.js";

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test("flowrlTarget: target ∝ π_ref · exp(β r L); right mass, exp(H) and total variation per distribution", () => {
  const reference = ["1+3", "1+3", "2+2", "3+1", "9+9"]; // 2/5, 1/5, 1/5 right; 1/5 wrong
  const right = (a: string) =>
    a
      .split("+")
      .map(Number)
      .reduce((x, y) => x + y, 0) === 4
      ? 1
      : 0;
  const v = viz.flowrlTarget(
    { collapsed: ["1+3", "1+3", "1+3", "1+3"], spread: ["1+3", "2+2", "3+1", "1+3"] },
    { beta: 2, reward: right, reference, tokens: () => 3 },
  );
  // Weights: right answers π_ref · e^6, the wrong one π_ref · 1.
  const e = Math.exp(6),
    z = 0.4 * e + 0.2 * e + 0.2 * e + 0.2;
  const target = { "1+3": (0.4 * e) / z, "2+2": (0.2 * e) / z, "3+1": (0.2 * e) / z, "9+9": 0.2 / z };
  close(v.stats.target.rightMass, 1 - target["9+9"]);
  const bars = v.figure.data as unknown as { name: string; x: string[]; y: number[] }[];
  const t = bars.find((b) => b.name.startsWith("target"))!;
  assert.deepEqual(t.x, ["1+3 ✓", "2+2 ✓", "3+1 ✓", "9+9 ✗"]);
  close(t.y[0], target["1+3"]);
  close(t.y[3], target["9+9"]);
  close(v.stats.collapsed.effective, 1);
  const h = -(0.5 * Math.log(0.5) + 2 * 0.25 * Math.log(0.25));
  close(v.stats.spread.effective, Math.exp(h));
  close(v.stats.collapsed.tv, 1 - target["1+3"]);
  close(
    v.stats.spread.tv,
    0.5 * (Math.abs(0.5 - target["1+3"]) * 1 + 2 * Math.abs(0.25 - target["2+2"]) + target["9+9"]),
  );
  assert.ok(v.stats.spread.tv < v.stats.collapsed.tv, "the spread policy is closer to the target");
  assert.match(v.toMimeBundle()["text/plain"], /collapsed: right mass 1, effective answers exp\(H\) 1, TV to target/);
  // Without a reference the base is uniform over the answers seen: target ∝ exp(β r).
  const u = viz.flowrlTarget({ p: ["1+3", "9+9"] }, { beta: 1, reward: right });
  close(u.stats.target.rightMass, Math.E / (Math.E + 1));
  assert.throws(
    () => viz.flowrlTarget({ p: ["1+3"] }, { beta: -1, reward: right }),
    (err: unknown) => err instanceof CellrlError && /beta must be a number ≥ 0/.test(err.message),
  );
  assert.throws(() => viz.flowrlTarget({}, { beta: 1, reward: right }), /each policy's sampled answers/);
});

test("exposureBias: per-position means along own and teacher samples, NaN past an answer's end ignored", () => {
  const v = viz.exposureBias([
    {
      name: "SFT",
      own: [
        [0.2, 0.6, NaN],
        [0.4, 1.0, 2.0],
      ],
      teacher: [
        [0.1, 0.1, 0.1],
        [0.1, 0.3, NaN],
      ],
    },
    { name: "GKD", own: [[0.1, 0.1]], teacher: [[0.2, 0.2]] },
  ]);
  const tr = v.figure.data as unknown as { name: string; y: number[] }[];
  const sftOwn = tr.find((t) => t.name === "SFT: on own samples")!;
  assert.deepEqual(
    sftOwn.y.map((y) => +y.toFixed(9)),
    [0.3, 0.8, 2],
  );
  close(v.stats.SFT.own, 4.2 / 5);
  close(v.stats.SFT.teacher, 0.7 / 5);
  close(v.stats.SFT.ratio, 4.2 / 0.7);
  close(v.stats.GKD.ratio, 0.5);
  assert.match(v.toMimeBundle()["text/plain"], /SFT: 0\.84 nats\/token on its own samples, 0\.14 on the teacher's/);
  assert.throws(
    () => viz.exposureBias([{ name: "x", own: [[NaN]], teacher: [[1]] }]),
    (err: unknown) => err instanceof CellrlError && /no finite value in own/.test(err.message),
  );
});
