import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as viz from "../../lib/viz/index.js";
import { openRunLog, readRunLog } from "../../lib/update/run-log.js";
import { CellrlError } from "../../lib/core/errors.js";

type Trace = { name?: string; x: number[]; y: number[]; xaxis: string };

test("compareRuns draws run logs read back with update.readRunLog (arquero steps), values as logged", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-viz-runs-"));
  try {
    const a = openRunLog(path.join(dir, "grpo.jsonl"), { lr: 1e-5, kl: { beta: 0 } }, { name: "grpo" });
    const b = openRunLog(path.join(dir, "grpo-kl.jsonl"), { lr: 1e-5, kl: { beta: 0.05 } }, { name: "grpo-kl" });
    for (let s = 0; s < 3; s++) {
      a.log(s, { "reward/mean": 0.1 * (s + 1), "update/refKl": 0 });
      b.log(s, { "reward/mean": 0.2 * (s + 1), "update/refKl": s === 1 ? NaN : 0.01 * s });
    }
    a.event("alert", { message: "not a step" });
    a.close();
    b.close();
    const runs = [readRunLog(path.join(dir, "grpo.jsonl")), readRunLog(path.join(dir, "grpo-kl.jsonl"))];
    assert.equal(
      typeof (runs[0].steps as unknown as { forEach?: unknown }).forEach,
      "undefined",
      "readRunLog's steps is a table, not an array",
    );

    const v = viz.compareRuns(runs);
    const bundle = v.toMimeBundle();
    const fig = v.figure as unknown as { data: Trace[] };
    const reward = fig.data.filter((t) => t.xaxis === "x");
    assert.deepEqual(
      reward.map((t) => t.name),
      ["grpo", "grpo-kl"],
    );
    assert.deepEqual(reward[0].x, [0, 1, 2]);
    assert.deepEqual(
      reward[0].y.map((y) => +y.toFixed(6)),
      [0.1, 0.2, 0.3],
    );
    assert.deepEqual(
      reward[1].y.map((y) => +y.toFixed(6)),
      [0.2, 0.4, 0.6],
    );
    const kl = fig.data.filter((t) => t.xaxis === "x2");
    assert.deepEqual(kl[1].x, [0, 2], "the NaN logged at step 1 (null in the file) is a gap, not a point");
    assert.deepEqual(kl[1].y, [0, 0.02]);
    assert.match(bundle["text/plain"], /grpo-kl: reward\/mean=0\.6 update\/refKl=0\.02/);
    assert.match(bundle["text/plain"], /kl\.beta: 0 \| 0\.05/);
    // Plain arrays of rows still work, and mixing both kinds is fine.
    const mixed = viz
      .compareRuns([runs[0], { name: "rows", steps: [{ step: 0, "reward/mean": 0.5 }] }], { metrics: ["reward/mean"] })
      .toMimeBundle();
    assert.match(mixed["text/plain"], /rows: reward\/mean=0\.5/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("compareRuns names the run whose steps are neither rows nor a table", () => {
  assert.throws(
    () =>
      viz.compareRuns([
        { name: "a", steps: [] },
        { name: "b", steps: 3 as never },
      ]),
    (e: unknown) =>
      e instanceof CellrlError &&
      /runs\[1\]\.steps must be an array of metric rows or an arquero table/.test(e.message) &&
      /update\.readRunLog/.test(e.message),
  );
});

test("compareRuns: one output with the Plotly JSON, the figure title, the runs' legend and each metric's title on lines of their own", () => {
  const steps = (k: number) => [0, 1, 2].map((s) => ({ step: s, "reward/mean": k * s, "update/refKl": s / 10 }));
  const v = viz.compareRuns(
    [
      { name: "a", config: { lr: 1 }, steps: steps(1) },
      { name: "b", config: { lr: 2 }, steps: steps(2) },
    ],
    { title: "a vs b" },
  );
  const b = v.toMimeBundle();
  type L = Record<string, { domain?: number[]; y?: number; yref?: string }> & {
    height: number;
    margin: { t: number };
    annotations: { text: string; yref: string; y: number; yshift?: number; yanchor: string }[];
  };
  const layout = (b["application/vnd.plotly.v1+json"] as { layout: L }).layout;
  assert.ok(layout, "the bundle carries the chart's Plotly JSON (not only HTML)");
  assert.match(String(b["image/svg+xml"]), /<svg/, "and its static image");
  assert.match(String(b["text/html"]), /config key/);
  assert.match(b["text/plain"], /lr: 1 \| 2/);
  // Pixel rows from the top: the legend below the title, the panel titles below the legend, the plots below them.
  const legendTop = (1 - layout.legend.y!) * layout.height;
  assert.ok(legendTop >= 30, `legend at ${legendTop} px is under the title`);
  const plotTop = layout.margin.t + (1 - layout.yaxis.domain![1]) * (layout.height - layout.margin.t - 30);
  for (const a of layout.annotations) {
    assert.match(a.text, /<b>(reward\/mean|update\/refKl)<\/b>/);
    assert.equal(a.yanchor, "bottom");
    assert.ok(a.y === 1 && a.yref.endsWith(" domain"), "each metric's title sits on its own plot's top edge");
  }
  assert.ok(plotTop - (a0Shift(layout) + 14) >= legendTop + 16, "the panel title line is below the legend line");
});

function a0Shift(layout: { annotations: { yshift?: number }[] }): number {
  return layout.annotations[0].yshift ?? 0;
}
