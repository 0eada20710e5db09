import { test } from "node:test";
import assert from "node:assert/strict";
import * as viz from "../../lib/viz/index.js";
import { configDiff } from "../../lib/viz/run-compare.js";
import { CellrlError } from "../../lib/core/errors.js";

test("tokenView draws one span per token, escapes HTML and makes whitespace visible", () => {
  const tokens = ["<b>", " x", "\n", "y&"];
  const v = viz.tokenView(
    { tokens, values: { logp: [-0.1, -2, -0.5, -4], adv: [1, -1, 0, 0.5] }, mask: [0, 1, 1, 1] },
    { color: "adv" },
  );
  const html = v.toMimeBundle()["text/html"] as string;
  assert.equal((html.match(/data-cellrl-tok="/g) ?? []).length, 4);
  assert.ok(html.includes("&lt;b&gt;") && !html.includes("<b>&lt;"), "token text escaped");
  assert.ok(html.includes("·x") && html.includes("↵"), "visible whitespace");
  assert.ok(html.includes("logp=-2") && html.includes("adv=-1"), "tooltip carries every value");
  // adv = +1 is the max: full red; adv = -1: full blue; the masked prompt token is grey.
  assert.ok(html.includes("background-color:rgb(236,236,236)"));
  assert.ok(html.includes("background-color:rgb(59,110,201)"));
  const text = v.toMimeBundle()["text/plain"];
  assert.match(text, /adv=0\.5/);
  assert.match(text, /\(masked\)/);
});

test("tokenView rejects series that do not align with the tokens, naming the series", () => {
  assert.throws(
    () => viz.tokenView({ tokens: ["a", "b"], values: { logp: [0] } }),
    (e: unknown) => e instanceof CellrlError && /values\.logp has 1 entries but there are 2 tokens/.test(e.message),
  );
  assert.throws(
    () => viz.tokenView({ tokens: ["a"], values: { logp: [0] } }, { color: "entropy" }),
    /not a series \(known: logp\)/,
  );
});

test("tokenView surprisal scale leaves certain tokens white and colours surprising ones", () => {
  // Pinned at 5 nats (docs/viz.md colour contract): −log p = 5 is full purple, 2.5 half way, whatever else is shown.
  const html = viz.tokenView({ tokens: ["a", "b", "c"], values: { logp: [0, -5, -2.5] } }).toMimeBundle()[
    "text/html"
  ] as string;
  assert.ok(html.includes("background-color:rgb(255,255,255)"));
  assert.ok(html.includes("background-color:rgb(118,66,178)"));
  assert.ok(html.includes("background-color:rgb(187,161,217)"));
  assert.ok(!html.includes("rgb(214,55,46)"), "surprisal is a magnitude: never the 'pushed up' red");
});

test("groupCard sorts by reward and flags a zero-std group and truncation", () => {
  const v = viz.groupCard("2+2=", [
    { response: "5", reward: 0, finishReason: "stop" },
    { response: "4", reward: 1, finishReason: "length", correct: true },
  ]);
  const text = v.toMimeBundle()["text/plain"];
  assert.ok(text.indexOf("#1 reward=1") < text.indexOf("#0 reward=0"));
  const flat = viz
    .groupCard("q", [
      { response: "a", reward: 1 },
      { response: "b", reward: 1 },
    ])
    .toMimeBundle()["text/html"] as string;
  assert.match(flat, /zero-std group/);
  assert.match(v.toMimeBundle()["text/html"] as string, /truncated/);
});

test("samplesTable shows the first page statically and embeds every row for paging", () => {
  const rows = Array.from({ length: 45 }, (_, i) => ({ id: i, reward: i / 44, text: `r${i}` }));
  const b = viz.samplesTable(rows, { pageSize: 10 }).toMimeBundle();
  const html = b["text/html"] as string;
  const body = html.slice(html.indexOf("<tbody>"), html.indexOf("</tbody>"));
  assert.equal((body.match(/<tr>/g) ?? []).length, 10);
  assert.ok(html.includes("rows 1–10 of 45"));
  assert.ok(html.includes('"r44"'));
  assert.match(b["text/plain"], /\[45 rows\]/);
});

test("dashboard draws only panels whose metrics exist and lists alerts", () => {
  const history = [
    { step: 0, "reward/mean": 0.1, "reward/std": 0.05 },
    { step: 1, "reward/mean": 0.4, "reward/std": 0.1, "update/gradNorm": 2 },
  ];
  const b = viz.dashboard(history, { alerts: ["entropy collapsed at step 1"] }).toMimeBundle();
  const fig = b["application/vnd.plotly.v1+json"] as { data: { name?: string }[] };
  const names = fig.data.map((d) => d.name).filter(Boolean);
  assert.deepEqual(names, ["reward/mean", "update/gradNorm"]);
  assert.match(b["text/plain"], /reward: reward\/mean=0\.4/);
  assert.match(b["text/html"] as string, /entropy collapsed at step 1/);
});

test("histogram, heatmap, lineChart and topkTable carry their numbers in text/plain", () => {
  assert.match(viz.histogram({ reward: [0, 1, 1, 1] }).toMimeBundle()["text/plain"], /reward: n=4 mean=0\.75/);
  assert.match(
    viz
      .heatmap([
        [1, -1],
        [0, 0.5],
      ])
      .toMimeBundle()["text/plain"],
    /2 x 2 matrix/,
  );
  assert.match(
    viz.lineChart([{ name: "acc", y: [0.2, 0.9] }]).toMimeBundle()["text/plain"],
    /acc: 2 points, first=0\.2 last=0\.9/,
  );
  const t = viz.topkTable(
    [
      { token: "a", logp: Math.log(0.7) },
      { token: "b", logp: Math.log(0.2) },
    ],
    { other: [{ token: "b", logp: Math.log(0.6) }], target: "b" },
  );
  const html = t.toMimeBundle()["text/html"] as string;
  assert.match(html, /Δlogp/);
  assert.match(t.toMimeBundle()["text/plain"], /1\. a p=0\.7 \| b p=0\.6/);
});

test("compareRuns lists only differing config keys", () => {
  const diff = configDiff([
    { name: "a", config: { lr: 1e-3, adv: { name: "grpo" }, seed: 0 }, steps: [] },
    { name: "b", config: { lr: 1e-3, adv: { name: "rloo" }, seed: 0 }, steps: [] },
  ]);
  assert.deepEqual(diff, [{ key: "adv.name", values: ['"grpo"', '"rloo"'] }]);
  const b = viz
    .compareRuns([
      { name: "a", steps: [{ "reward/mean": 0.1 }] },
      { name: "b", steps: [{ "reward/mean": 0.3 }] },
    ])
    .toMimeBundle();
  assert.match(b["text/plain"], /b: reward\/mean=0\.3/);
});

test("eval views compute pass@k, per-category accuracy and the letter confusion matrix", () => {
  const b = viz
    .passAtKCurve([
      { n: 4, c: 1 },
      { n: 4, c: 0 },
    ])
    .toMimeBundle();
  assert.match(b["text/plain"], /pass@1=0\.125 pass@2=0\.25 pass@3=0\.375 pass@4=0\.5/);
  assert.match(
    viz
      .accuracyBy(
        [
          { score: 1, s: "a" },
          { score: 0, s: "a" },
          { score: 1, s: "b" },
        ],
        "s",
      )
      .toMimeBundle()["text/plain"],
    /a: 0\.5/,
  );
  assert.throws(() => viz.accuracyBy([{ score: 1 }], "level"), /no "level" field/);
  const conf = viz
    .letterConfusion([
      { gold: "A", pred: "A" },
      { gold: "B", pred: null },
    ])
    .toMimeBundle();
  const z = (conf["application/vnd.plotly.v1+json"] as { data: { z: number[][] }[] }).data[0].z;
  assert.deepEqual(z, [
    [1, 0, 0],
    [0, 0, 1],
    [0, 0, 0],
  ]);
  assert.match(
    viz
      .lengthVsCorrectness([
        { length: 10, correct: true },
        { length: 30, correct: false },
      ])
      .toMimeBundle()["text/plain"],
    /correct: n=1 mean length 10/,
  );
});
