import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { figure, supportedTraceTypes } from "../../lib/kernel/plotly.js";
import { CellrlError } from "../../lib/core/errors.js";

test("supportedTraceTypes are exactly the trace modules of the bundled plotly.js-cartesian-dist-min", () => {
  const src = fs.readFileSync(require.resolve("plotly.js-cartesian-dist-min/plotly-cartesian.min.js"), "utf8");
  const inBundle = [...new Set([...src.matchAll(/moduleType:"trace",name:"([a-z0-9]+)"/g)].map((m) => m[1]))].sort();
  assert.deepEqual([...supportedTraceTypes].sort(), inBundle);
});

test("figure rejects a trace type the bundle cannot draw, naming the trace, its type, the supported types and the fix", () => {
  const bad = { data: [{ type: "scatter", y: [1, 2] }, { y: [3] }, { type: "scattergl", x: [1], y: [2] }] };
  assert.throws(
    () => figure(bad),
    (e: unknown) => {
      assert.ok(e instanceof CellrlError);
      assert.equal(e.code, "invalid_option");
      assert.deepEqual(e.path, ["data", 2, "type"]);
      assert.equal(e.got, "scattergl");
      assert.match(e.message, /data\[2\] has type "scattergl"/);
      assert.match(
        e.message,
        /Supported trace types: scatter, bar, box, violin, histogram, histogram2d, histogram2dcontour, heatmap, contour, image, pie, scatterternary\./,
      );
      assert.match(e.message, /Use type "scatter"/);
      return true;
    },
  );
  for (const type of [
    "scatter3d",
    "surface",
    "sankey",
    "sunburst",
    "treemap",
    "parcoords",
    "scattergeo",
    "scattermapbox",
  ])
    assert.throws(() => figure({ data: [{ type }] }), new RegExp(`data\\[0\\] has type "${type}".*Use `));
  assert.throws(() => figure({ data: [{ type: "nonsense" }] }), /Use one of those types instead/);
  assert.throws(() => figure({ data: [null as never] }), /data\[0\] must be a Plotly trace object/);
});

test("figure accepts every supported type and an untyped trace (plotly's default scatter)", () => {
  const f = figure({ data: [...supportedTraceTypes.map((type) => ({ type })), { y: [1] }] });
  assert.equal(f.figure.data.length, supportedTraceTypes.length + 1);
});
