// Stored snapshots of views (as Observable Plot's tests do): each view is built from seeded, deterministic inputs and
// its static picture compared byte for byte with test/output/<name>.svg (figures: the image/svg+xml every figure
// carries) or test/output/<name>.html (HTML views). On a mismatch the new output is written next to it as
// <name>-changed.<ext> (git-ignored) and the test fails: look at both, and if the change is intended, move the
// -changed file over the stored one. A missing snapshot is written and reported, so a new view gets one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import * as viz from "../../lib/viz/index.js";
import { figure } from "../../lib/kernel/plotly.js";
import { figureSvg } from "../../lib/kernel/static-svg.js";
import { Rng } from "../../lib/core/random.js";
import type { Displayable } from "../../lib/kernel/mime.js";

const OUT = path.join(__dirname, "..", "output");

function snapshot(name: string, ext: "svg" | "html", actual: string): void {
  mkdirSync(OUT, { recursive: true });
  const file = path.join(OUT, `${name}.${ext}`);
  const changed = path.join(OUT, `${name}-changed.${ext}`);
  if (!existsSync(file)) {
    writeFileSync(file, actual);
    console.log(`snapshot written: test/output/${name}.${ext} (new; commit it)`);
    return;
  }
  const expected = readFileSync(file, "utf8");
  if (expected === actual) {
    rmSync(changed, { force: true });
    return;
  }
  writeFileSync(changed, actual);
  assert.fail(
    `${name}.${ext} differs from the stored snapshot; the new output is test/output/${name}-changed.${ext} ` +
      `(compare them; if the change is intended, move it over test/output/${name}.${ext})`,
  );
}

const svgOf = (d: Displayable) => {
  const f = (d as { figure?: { data: Record<string, unknown>[]; layout?: Record<string, unknown> } }).figure;
  assert.ok(f, "not a figure");
  const bundle = d.toMimeBundle();
  const svg = bundle["image/svg+xml"];
  assert.equal(typeof svg, "string", "the figure's bundle has no image/svg+xml");
  return svg as string;
};
const htmlOf = (d: Displayable) => String(d.toMimeBundle()["text/html"]);

const rng = new Rng(16);
const normals = (n: number, mu = 0, sd = 1) => Array.from({ length: n }, () => mu + sd * rng.normal());
const round = (xs: number[], d = 3) => xs.map((x) => Number(x.toFixed(d)));

// One seeded data set for all views, built once in this order (the order fixes the random draws).
const data = {
  reward: round(normals(40, 0.5, 0.2)),
  lengths: { correct: round(normals(60, 14, 3), 0), wrong: round(normals(60, 20, 5), 0) },
  steps: Array.from({ length: 6 }, (_, s) => round(normals(32, 0.2 + 0.1 * s, 0.3))),
  adv: round(normals(24, 0, 1.2)),
  curve: round(Array.from({ length: 20 }, (_, t) => 0.3 + 0.6 * (1 - Math.exp(-t / 6)) + 0.03 * rng.normal())),
  logp: round(normals(12, -1, 1).map((v) => Math.min(0, v))),
  refLogp: round(normals(12, -1.2, 1).map((v) => Math.min(0, v))),
};
const tokens = ["The", " sum", " is", " 1", "3", ".", " So", " the", " answer", " is", " 13", "<eos>"];

const figures: [string, () => Displayable][] = [
  ["line-chart", () => viz.lineChart([{ name: "reward", y: data.curve, band: data.curve.map(() => 0.05) }, { name: "accuracy", y: data.curve.map((v) => v * 0.9), dash: "dash" }], { title: "reward and accuracy", x: "step", y: "value", yRange: [0, 1] })], // prettier-ignore
  ["histogram-overlay", () => viz.histogram(data.lengths, { title: "response length", x: "tokens" })],
  ["heatmap-signed", () => viz.heatmap([data.adv.slice(0, 8), data.adv.slice(8, 16), data.adv.slice(16, 24)], { title: "signed values", x: "sample", y: "prompt" })], // prettier-ignore
  ["advantage-heatmap", () => viz.advantageHeatmap({ group: [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2], prompts: ["sort 312=", "sort 9021=", "sort 55="] }, [1.5, -0.5, -0.5, -0.5, 0, 0, 0, 0, 0.87, 0.87, -0.87, -0.87])], // prettier-ignore
  ["reward-grid-01", () => viz.advantageHeatmap({ group: [0, 0, 0, 1, 1, 1], prompts: ["a", "b"] }, [1, 0, 0, 1, 1, 0], { value: "reward" })], // prettier-ignore
  ["step-histograms-overlay", () => viz.stepHistograms(data.steps.slice(0, 3), { x: "reward" })],
  ["step-histograms-heatmap", () => viz.stepHistograms(data.steps, { x: "reward", bins: 10 })],
  ["pass-at-k", () => viz.passAtKCurve([{ n: 8, c: 7, group: "level 1" }, { n: 8, c: 8, group: "level 1" }, { n: 8, c: 5, group: "level 5" }, { n: 8, c: 2, group: "level 5" }])], // prettier-ignore
  ["accuracy-by", () => viz.accuracyBy(["L1", "L1", "L1", "L2", "L2", "L3", "L3", "L3", "L3"].map((level, i) => ({ level, score: i % 3 === 0 ? 0 : 1 })), "level")], // prettier-ignore
  ["length-vs-correctness", () => viz.lengthVsCorrectness([...data.lengths.correct.map((length) => ({ length, correct: true })), ...data.lengths.wrong.map((length) => ({ length, correct: false }))])], // prettier-ignore
  ["letter-confusion", () => viz.letterConfusion([{ gold: "A", pred: "A" }, { gold: "A", pred: "B" }, { gold: "B", pred: "B" }, { gold: "C", pred: null }, { gold: "C", pred: "C" }])], // prettier-ignore
  ["distribution-bars", () => viz.distributionBars([{ token: "3", logp: -0.2 }, { token: "4", logp: -1.9 }, { token: " ", logp: -3 }], { other: [{ token: "4", logp: -0.1 }, { token: "3", logp: -2.5 }], target: "3" })], // prettier-ignore
  ["entropy-line", () => viz.entropyLine(tokens, { student: data.logp.map((v) => -v), teacher: data.refLogp.map((v) => -v) }, { title: "surprisal along the answer", y: "−log p" })], // prettier-ignore
  ["kl-estimators", () => (viz.klEstimatorView({ tokens, logp: data.logp, refLogp: data.refLogp, exact: data.logp.map((v, i) => Math.abs(v - data.refLogp[i]) * 0.8) }) as unknown as { parts: Displayable[] }).parts[0]], // prettier-ignore
  ["stack-of-figures", () => viz.stack([viz.lineChart([{ name: "a", y: data.curve }]), viz.histogram({ reward: data.reward }, { title: "rewards" })])], // prettier-ignore
  ["subplots-grid", () => figure({ data: [{ type: "scatter", y: [1, 2, 3], name: "left" }, { type: "bar", x: ["a", "b"], y: [2, 1], name: "right", xaxis: "x2", yaxis: "y2" }], layout: { grid: { rows: 1, columns: 2, pattern: "independent" }, height: 260, title: { text: "two panels" }, annotations: [{ text: "<b>line</b>", xref: "x domain", yref: "y domain", x: 0, y: 1, xanchor: "left", yanchor: "bottom", showarrow: false }, { text: "<b>bars</b>", xref: "x2 domain", yref: "y2 domain", x: 0, y: 1, xanchor: "left", yanchor: "bottom", showarrow: false }] } })], // prettier-ignore
  ["probe-chart", () => viz.probeChart([viz.probeReward((r: string, gt: unknown) => ({ score: r.includes(String(gt)) ? 1 : 0, details: { rule: "substring" } }), "13", { name: "substring" }), viz.probeReward((r: string) => ({ score: r.includes("\\boxed{13}") ? 1 : 0, details: { rule: "boxed" } }), "13", { name: "boxed" })])], // prettier-ignore
];

const htmlViews: [string, () => Displayable][] = [
  ["token-view-surprisal", () => viz.tokenView({ tokens, values: { logp: data.logp, entropy: data.refLogp.map((v) => -v) } }, { color: "logp", underline: "entropy", title: "surprisal, pinned at 5 nats" })], // prettier-ignore
  ["token-view-push", () => viz.tokenView({ tokens, values: { push: data.adv.slice(0, 12) } }, { color: "push", scale: { kind: "signed", domain: [-3, 3] } })], // prettier-ignore
  ["group-card", () => viz.groupCard("sort 312=", [{ response: "123", reward: 1, advantage: 1.5, correct: true, length: 4, finishReason: "stop" }, { response: "132", reward: 0, advantage: -0.5, correct: false, length: 4, finishReason: "stop" }, { response: "1233333", reward: 0, advantage: -0.5, correct: false, length: 8, finishReason: "length" }])], // prettier-ignore
  ["topk-table", () => viz.topkTable([{ token: "3", logp: -0.2 }, { token: "4", logp: -1.9 }], { other: [{ token: "4", logp: -0.1 }, { token: "3", logp: -2.5 }], target: "3" })], // prettier-ignore
  ["reward-workbench", () => viz.rewardWorkbench(viz.probeReward((r: string, gt: unknown) => ({ score: r.includes(String(gt)) ? 1 : 0, details: { rule: "substring" } }), "13", { name: "substring" }))], // prettier-ignore
];

for (const [name, make] of figures)
  test(`snapshot ${name}.svg`, () => {
    const svg = svgOf(make());
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    snapshot(name, "svg", svg);
  });

for (const [name, make] of htmlViews)
  test(`snapshot ${name}.html`, () => {
    snapshot(name, "html", htmlOf(make()));
  });

test("figureSvg draws the same figure identically twice (snapshots can be exact)", () => {
  const f = { data: [{ type: "scatter", y: data.curve, name: "x" }], layout: { title: { text: "t" } } };
  assert.equal(figureSvg(f), figureSvg(f));
});

test("a snapshot mismatch writes a -changed file and fails", () => {
  const name = "zz-selftest";
  snapshot(name, "svg", "<svg>a</svg>");
  try {
    assert.throws(() => snapshot(name, "svg", "<svg>b</svg>"), /differs from the stored snapshot/);
    assert.equal(readFileSync(path.join(OUT, `${name}-changed.svg`), "utf8"), "<svg>b</svg>");
  } finally {
    rmSync(path.join(OUT, `${name}.svg`), { force: true });
    rmSync(path.join(OUT, `${name}-changed.svg`), { force: true });
  }
});

test("viz.stack: figures only → one figure (JSON + SVG); mixed → one bundle per part for display()", () => {
  const a = viz.lineChart([{ name: "a", y: [1, 2] }]);
  const b = viz.histogram({ r: [0, 1, 1] });
  const both = viz.stack([a, b]).toMimeBundle();
  const json = both["application/vnd.plotly.v1+json"] as { data: { xaxis?: string }[] };
  assert.equal(json.data.length, 2);
  assert.deepEqual(
    json.data.map((t) => t.xaxis),
    ["x", "x2"],
  );
  assert.match(String(both["image/svg+xml"]), /^<svg xmlns=/);
  const mixed = viz.stack([a, viz.table([{ k: 1 }])]) as unknown as { toMimeBundles(): Record<string, unknown>[] };
  const parts = mixed.toMimeBundles();
  assert.equal(parts.length, 2);
  assert.ok(parts[0]["image/svg+xml"] && parts[0]["application/vnd.plotly.v1+json"]);
  assert.ok(!parts[1]["image/svg+xml"]);
});
