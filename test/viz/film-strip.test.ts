// The rollout film strip: frames built from a rollout and its rewards, the share chart's numbers, the step buttons
// (radio inputs switched by a scoped style: no script), the dashboard's metrics on each frame, and clear errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as viz from "../../lib/viz/index.js";
import { filmFrame } from "../../lib/viz/film-strip.js";
import { CellrlError } from "../../lib/core/errors.js";

type Bar = { name: string; x: string[]; y: number[]; xaxis: string };
const ro = (responses: string[]) => ({ group: [0, 0, 0, 0, 1, 1, 1, 1], prompts: ["sum 5=", "sum 3="], responses });
const score = (rs: string[]) =>
  rs.map((r, i) => {
    const [a, b] = r.split("+").map(Number);
    return a + b === (i < 4 ? 5 : 3) ? 1 : 0;
  });

test("filmStrip: answer shares per prompt and step (right answers at the bottom), one frame per step", () => {
  const r0 = ["1+4", "1+4", "2+2", "3+3", "1+2", "1+1", "1+1", "2+1"];
  const r1 = ["1+4", "1+4", "1+4", "2+3", "1+2", "1+2", "1+2", "1+2"];
  const frames = [
    { step: 10, rollout: ro(r1), rewards: score(r1), advantages: [0.5, 0.5, 0.5, 0.5, 0, 0, 0, 0] },
    filmFrame(0, ro(r0), { scores: score(r0), details: r0.map(() => ({})) }),
  ];
  const history = [0, 5, 10].map((s) => ({ step: s, "reward/mean": s / 10, "reward/zeroStdFrac": s / 20 }));
  const strip = viz.filmStrip(frames, { history, title: "two prompts" });
  assert.deepEqual(strip.steps, [0, 10], "frames sorted by step");
  assert.deepEqual(
    strip.frames[1].groups[0].samples.map((s) => s.advantage),
    [0.5, 0.5, 0.5, 0.5],
  );
  const bars = strip.figure.data as unknown as Bar[];
  const p0 = bars.filter((b) => b.xaxis === "x");
  assert.deepEqual(
    p0.map((b) => b.name),
    ["1+4 ✓", "2+3 ✓", "2+2 ✗", "3+3 ✗"],
  );
  assert.deepEqual(p0[0].y, [0.5, 0.75], "1+4 is 2 of 4 samples at step 0, 3 of 4 at step 10");
  assert.deepEqual(p0[0].x, ["0", "10"]);
  for (let t = 0; t < 2; t++)
    assert.ok(Math.abs(p0.reduce((a, b) => a + b.y[t], 0) - 1) < 1e-12, "each bar stacks to 100%");
  const b = strip.toMimeBundle();
  const html = String(b["text/html"]);
  assert.equal((html.match(/type="radio"/g) ?? []).length, 2, "one step button per frame");
  assert.match(html, /id="(cellrl-film-[0-9a-f]+)-r1" checked/, "the last step is shown first");
  assert.equal(
    (html.match(/fs-frame fs-f\d+ fs-last/g) ?? []).length,
    1,
    "shown by default even if the inputs are dropped",
  );
  assert.ok(!/<script/.test(html.split("cellrl-film-strip")[1]), "the strip itself runs no script");
  assert.match(html, /zero-variance group: no gradient/, "prompt 1 at step 10: all four 1+2, one reward");
  assert.match(b["text/plain"], /step 10 \(reward\/mean=1 reward\/zeroStdFrac=0\.5\)/);
  assert.match(b["text/plain"], /prompt 0 sum 5=: right share step 0 0\.5, step 10 1/);
  assert.ok(b["application/vnd.plotly.v1+json"], "the share chart goes out as Plotly JSON too");
  // Linked to the dashboard: its steps are the dashboard's marks.
  const dash = viz.dashboard(history, { marks: strip.steps }).toMimeBundle();
  const shapes = (dash["application/vnd.plotly.v1+json"] as { layout: { shapes: { x0: number }[] } }).layout.shapes;
  assert.deepEqual([...new Set(shapes.map((s) => s.x0))], [0, 10]);
});

test("filmFrame and filmStrip name what is wrong", () => {
  const r = ["1+4", "1+4", "2+2", "3+3", "1+2", "1+1", "1+1", "2+1"];
  assert.throws(
    () => filmFrame(0, ro(r), [1, 0]),
    (e: unknown) => e instanceof CellrlError && /2 scores but the rollout has 8 rows/.test(e.message),
  );
  const f = filmFrame(0, ro(r), score(r));
  const one = filmFrame(1, { group: [0], prompts: ["sum 5="], responses: ["1+4"] }, [1]);
  assert.throws(
    () => viz.filmStrip([f, one]),
    (e: unknown) => e instanceof CellrlError && /same 2 prompts as frame 0/.test(e.message),
  );
  assert.throws(() => viz.filmStrip([]), /at least one shot \{step, rollout, rewards\}/);
});
