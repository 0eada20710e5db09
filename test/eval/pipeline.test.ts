// The eval pipeline on hand-made records: every expected number below is computed by hand in the comments.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CellrlError } from "../../lib/core/errors.js";
import { writeParquet } from "../../lib/data/parquet.js";
import { register } from "../../lib/reward/index.js";
import { upstreamAgreement } from "../../lib/eval/agreement.js";
import { breakdown, itemDifficulty, lengthStats } from "../../lib/eval/analysis.js";
import { compareEvals } from "../../lib/eval/compare-evals.js";
import { detectFormat, fromRows, readGenerations } from "../../lib/eval/ingest.js";
import { firstK, type EvalRecord } from "../../lib/eval/items.js";
import { report } from "../../lib/eval/report.js";
import { scoreRecords, upstreamRun } from "../../lib/eval/score-records.js";
import { summarize } from "../../lib/eval/summarize.js";
import { evaluate } from "../../lib/eval/evaluate.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-eval-"));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function choose(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}
const closed = (n: number, c: number, k: number) => (n - c < k ? 1 : 1 - choose(n - c, k) / choose(n, k));
const near = (a: number, b: number, what: string, tol = 1e-12) =>
  assert.ok(Math.abs(a - b) < tol, `${what}: ${a} vs ${b}`);

const rec = (
  source: string,
  level: string,
  q: string,
  responses: string[],
  scores: number[],
  details: Record<string, unknown>[],
  extra: Record<string, unknown> = {},
): EvalRecord => ({
  data_source: source,
  prompt: [{ role: "user", content: q }],
  reward_model: { style: "rule", ground_truth: "g" },
  extra_info: { split: "test", index: 0, level },
  responses,
  scores,
  details,
  ...extra,
});
const ex = (...xs: (string | null)[]) =>
  xs.map((x) => (x === null ? { rule: "no-answer", extracted: null } : { rule: "x", extracted: x }));

// toy/a: R0 c=2 of 4 (one no-answer, one truncated), R1 c=1 of 4; toy/b: R2 c=2 of 2, R3 c=0 of 2 (one reward error)
const R0 = rec("toy/a", "L1", "q0", ["a", "bb", "ccc", "dddddddd"], [1, 1, 0, 0], ex("4", "4", "5", null), {
  finish_reasons: ["stop", "stop", "stop", "length"],
});
const R1 = rec("toy/a", "L2", "q1", ["eeee", "f", "gg", "hhh"], [1, 0, 0, 0], ex("7", "8", "8", "8"), {
  finish_reasons: ["stop", "stop", "stop", "stop"],
});
const R2 = rec("toy/b", "L1", "q2", ["ii", "jjj"], [1, 1], ex("1", "1"));
const R3 = rec(
  "toy/b",
  "L2",
  "q3",
  ["k", "CRASH"],
  [0, 0],
  [
    { rule: "x", extracted: "3" },
    { rule: "error", error: "boom" },
  ],
);
const toy = [R0, R1, R2, R3];

test("summarize: mean@k, se, pass@k for every k against the closed form, maj@k, no-answer / truncation / error counts", () => {
  const s = summarize(toy);
  assert.deepEqual(
    s.rows.map((r) => r.data_source),
    ["toy/a", "toy/b"],
  );
  const [a, b] = s.rows;
  assert.equal(a.items, 2);
  assert.equal(a.n, 4);
  assert.equal(a.responses, 8);
  near(a.meanAtK, (0.5 + 0.25) / 2, "mean@4 toy/a");
  near(a.se, 0.125, "se: sample sd of (0.5, 0.25) / sqrt(2)");
  for (let k = 1; k <= 4; k++) near(a.passAtK[k], (closed(4, 2, k) + closed(4, 1, k)) / 2, `pass@${k}`);
  near(a.passAtK[2], (5 / 6 + 0.5) / 2, "pass@2 by hand");
  assert.equal(a.passAtK[4], 1);
  // maj: R0 votes 4,4,5 (4 right at every k); R1 votes 7 | 7,8 tie -> 7 first | 8,8 win -> wrong
  assert.deepEqual(a.majAtK, { 1: 1, 2: 1, 3: 0.5, 4: 0.5 });
  assert.equal(a.noAnswer, 1);
  assert.equal(a.truncated, 1);
  assert.equal(a.errors, 0);
  assert.equal(a.meanChars, 24 / 8);
  assert.ok(a.ci.low <= a.meanAtK && a.meanAtK <= a.ci.high);
  near(b.meanAtK, 0.5, "mean@2 toy/b");
  assert.deepEqual(b.passAtK, { 1: 0.5, 2: 0.5 });
  assert.deepEqual(b.majAtK, { 1: 0.5, 2: 0.5 });
  assert.equal(b.truncated, null, "no finish reasons: unknown, not zero");
  assert.equal(b.errors, 1);
  assert.equal(b.noAnswer, 0, "a reward error is not an extraction failure");
  // all items pooled: n is the smallest count (2)
  const o = s.overall!;
  assert.equal(o.n, 2);
  near(o.meanAtK, (0.5 + 0.25 + 1 + 0) / 4, "overall mean");
  near(o.passAtK[2], (5 / 6 + 0.5 + 1 + 0) / 4, "overall pass@2");
  // a stricter threshold changes pass@k, not mean@k
  const half = summarize([rec("t", "L", "q", ["x", "y"], [0.5, 0], ex("1", "2"))], { threshold: 0.5 });
  assert.equal(half.rows[0].passAtK[1], 0.5);
  assert.equal(summarize([rec("t", "L", "q", ["x", "y"], [0.5, 0], ex("1", "2"))]).rows[0].passAtK[1], 0);
});

test("summarize rejects records without scores, with a message naming the record", () => {
  assert.throws(
    () => summarize([{ ...R0, scores: [1, 0] }]),
    (e: unknown) => e instanceof CellrlError && /record 0 has 2 scores for 4 responses/.test(e.message),
  );
  assert.throws(() => summarize([]), /no records/);
  assert.throws(() => summarize([{ ...R0, scores: [1, NaN, 0, 0] }]), /non-finite/);
});

test("firstK keeps the first k responses and cuts per-response lists, extra_info ones included", () => {
  const r = { ...R0, extra_info: { ...R0.extra_info, upstream_scores: [1, 0, 1, 0], note: "kept" } };
  const [c] = firstK([r], 2);
  assert.deepEqual(c.responses, ["a", "bb"]);
  assert.deepEqual(c.scores, [1, 1]);
  assert.deepEqual(c.finish_reasons, ["stop", "stop"]);
  assert.deepEqual(c.extra_info?.upstream_scores, [1, 0]);
  assert.equal(c.extra_info?.note, "kept");
  assert.throws(() => firstK([R2], 3), /has 2 responses, fewer than k = 3/);
});

test("breakdown by a field, item difficulty buckets and length vs correctness", () => {
  const by = breakdown(toy, "extra_info.level");
  assert.deepEqual(
    by.map((r) => [r.data_source, r.items, r.meanAtK]),
    [
      ["L1", 2, (0.5 + 1) / 2],
      ["L2", 2, (0.25 + 0) / 2],
    ],
  );
  assert.throws(() => breakdown(toy, "extra_info.subject"), /no record has a field "extra_info.subject"/);
  const d = itemDifficulty(toy);
  assert.deepEqual(
    d.items.map((it) => [it.c, it.n, it.bucket]),
    [
      [2, 4, "mostly"],
      [1, 4, "rarely"],
      [2, 2, "always"],
      [0, 2, "never"],
    ],
  );
  assert.deepEqual(d.buckets, { always: 1, mostly: 1, rarely: 1, never: 1 });
  assert.equal(d.byCorrect, null, "items have different n");
  assert.deepEqual(itemDifficulty([R0, R1]).byCorrect, [0, 1, 1, 0, 0]);
  const L = lengthStats(toy, { bins: 2 });
  assert.equal(L.unit, "chars");
  // correct lengths 1,2,4,2,3; wrong 3,8,1,2,3,1,5; the no-answer one is 8
  assert.deepEqual([L.correct.responses, L.correct.mean, L.correct.median], [5, 12 / 5, 2]);
  assert.deepEqual([L.wrong.responses, L.wrong.mean, L.wrong.median], [7, 23 / 7, 3]);
  assert.deepEqual([L.noAnswer.responses, L.noAnswer.mean], [1, 8]);
  // R0: wrong (3+8)/2 - correct (1+2)/2 = 4; R1: wrong 2 - correct 4 = -2; R2, R3 are not mixed
  assert.equal(L.mixedItems, 2);
  assert.equal(L.withinItemGap, 1);
  assert.equal(
    L.bins.reduce((s, b) => s + b.responses, 0),
    12,
  );
  assert.equal(L.points.length, 12);
  const T = lengthStats([{ ...R0, response_lengths: [10, 20, 30, 40] }]);
  assert.equal(T.unit, "tokens");
  assert.equal(T.correct.mean, 15);
});

test("upstreamAgreement: counts, Cohen's kappa by hand, disagreements with what each side saw", () => {
  const lab = (r: EvalRecord, up: number[] | undefined) => ({
    ...r,
    extra_info: { ...r.extra_info, ...(up ? { upstream_scores: up, upstream_grader: "toy grader" } : {}) },
  });
  const recs = [lab(R0, [1, 1, 0, 0]), lab(R1, [1, 1, 0, 0]), lab(R2, [1, 0]), lab(R3, undefined)];
  const a = upstreamAgreement(recs);
  assert.equal(a.responses, 10);
  assert.equal(a.agree, 8);
  assert.equal(a.unlabeled, 1);
  near(a.oursMean, (0.5 + 0.25 + 1) / 3, "ours");
  near(a.upstreamMean, 0.5, "upstream");
  near(a.diff, (0.5 + 0.25 + 1) / 3 - 0.5, "diff");
  assert.equal(a.oursOnly, 1);
  assert.equal(a.upstreamOnly, 1);
  // both say "correct" for 5 of 10: pe = 0.5, po = 0.8, kappa = 0.6
  near(a.kappa, 0.6, "kappa");
  assert.deepEqual(
    a.disagreements.map((d) => [d.item, d.sample, d.ours, d.upstream, d.extracted]),
    [
      [1, 1, 0, 1, "8"],
      [2, 1, 1, 0, "1"],
    ],
  );
  assert.deepEqual(a.graders, ["toy grader"]);
  assert.equal(a.disagreements[0].excerpt, "f");
  const g = upstreamAgreement([{ ...lab(R2, [0, 0]), data_source: "Idavidrein/gpqa" }]);
  assert.equal(g.disagreements[0].excerpt, null, "GPQA responses are never copied into reports");
  assert.throws(() => upstreamAgreement([R0]), /none of the 1 records has upstream labels/);
  // the upstream labels as a run of their own
  const up = upstreamRun(recs.slice(0, 3));
  assert.deepEqual(
    up.map((r) => r.scores),
    [
      [1, 1, 0, 0],
      [1, 1, 0, 0],
      [1, 0],
    ],
  );
});

test("compareEvals aligns items by prompt, counts flips, McNemar and a paired bootstrap of the difference", () => {
  const item = (q: string, scores: number[]) =>
    rec("toy/c", "L", q, scores.map(String), scores, ex(...scores.map(String)));
  const A = [
    item("q0", [1, 1]),
    item("q1", [1, 1]),
    item("q2", [0, 0]),
    item("q3", [0, 0]),
    item("q4", [1, 1]),
    item("q5", [1, 0]),
  ];
  // B in another order, plus an item A does not have
  const B = [
    item("q5", [0, 0.5]),
    item("q4", [0, 0]),
    item("q3", [0, 0]),
    item("q2", [1, 1]),
    item("q1", [0, 0]),
    item("q0", [1, 1]),
    item("q9", [1, 1]),
  ];
  const c = compareEvals(A, B, { labels: ["base", "tuned"] });
  assert.equal(c.items, 6);
  assert.equal(c.onlyInB, 1);
  // item means A 1,1,0,0,1,.5 vs B 1,0,1,0,0,.25 (solved at >= .5): both q0; only A q1,q4,q5; only B q2; neither q3
  assert.deepEqual([c.both, c.onlyA, c.onlyB, c.neither], [1, 3, 1, 1]);
  near(c.mcnemarP, (2 * (1 + 4)) / 16, "McNemar exact with b=3, c=1");
  near(c.diff, (3.5 - 2.25) / 6, "diff");
  assert.ok(c.diffCI.low <= c.diff && c.diff <= c.diffCI.high);
  assert.deepEqual(
    c.flippedToA.map((p) => [p.a, p.b]),
    [
      [1, 0],
      [1, 0],
      [0.5, 0.25],
    ],
  );
  assert.deepEqual(
    c.flippedToB.map((p) => [p.a, p.b]),
    [[0, 1]],
  );
  // response-level: same call on 2 + 0 + 0 + 2 + 0 + 1 of 12
  near(c.sampleAgreement as number, 5 / 12, "sample agreement");
  assert.throws(() => compareEvals(A, [...B, item("q0", [0, 0])]), /two records for the same item/);
  assert.throws(() => compareEvals(A, [item("zz", [1])]), /share no item/);
});

register(
  "eval-test-exact",
  (response, gt) => ({
    score: response.trim() === String(gt) ? 1 : 0,
    details: { rule: "exact", extracted: response.trim() },
  }),
  { dataSources: ["eval-test/exact"] },
);
register(
  "eval-test-slow",
  async (response, gt) => {
    // later responses finish first, so results must be put back in order
    await new Promise((r) => setTimeout(r, 20 - 4 * Number(response.length % 5)));
    if (response === "CRASH") throw new Error("crashes on purpose");
    return { score: response === String(gt) ? 1 : 0, details: { rule: "exact", extracted: response } };
  },
  { dataSources: ["eval-test/slow"] },
);

test("scoreRecords scores every response through the registry, in order, concurrently; a throwing reward scores 0", async () => {
  const gen = [
    {
      data_source: "eval-test/slow",
      prompt: [{ role: "user", content: "q" }],
      reward_model: { style: "rule", ground_truth: "abc" },
      responses: ["a", "abc", "CRASH", "abcd", "abc"],
    },
    {
      data_source: "eval-test/exact",
      prompt: [{ role: "user", content: "q" }],
      reward_model: { style: "rule", ground_truth: "7" },
      responses: [" 7 ", "8"],
    },
  ];
  const out = await scoreRecords(gen, { concurrency: 4 });
  assert.deepEqual(
    out.map((r) => r.scores),
    [
      [0, 1, 0, 0, 1],
      [1, 0],
    ],
  );
  assert.equal(out[0].details[2].rule, "error");
  assert.match(String(out[0].details[2].error), /crashes on purpose/);
  assert.deepEqual(
    out[0].details.map((d) => d.extracted ?? null),
    ["a", "abc", null, "abcd", "abc"],
  );
  assert.equal(summarize(out).rows.find((r) => r.data_source === "eval-test/slow")?.errors, 1);
  await assert.rejects(
    scoreRecords([{ ...gen[1], data_source: "nobody/knows" }]),
    (e: unknown) => e instanceof CellrlError && e.code === "unknown_name",
  );
  const forced = await scoreRecords([{ ...gen[1], data_source: "nobody/knows" }], { reward: "eval-test-exact" });
  assert.deepEqual(forced[0].scores, [1, 0]);
});

test("ingest: verl rollout dumps grouped by prompt, plain one-per-row files grouped, records passed through, parquet read", async () => {
  const dump = [
    { input: "<|user|>Q1", output: "x \\boxed{1}", gts: "1", score: 1, step: 3, acc: true, pred: "1" },
    { input: "<|user|>Q2", output: "y", gts: "2", score: -1, step: 3, acc: false, pred: "" },
    { input: "<|user|>Q1", output: "z \\boxed{3}", gts: "1", score: -1, step: 3, acc: false, pred: "3" },
  ];
  assert.equal(detectFormat(dump[0]), "verl-dump");
  assert.throws(() => fromRows(dump), /has no data_source.*--data-source/s);
  const recs = fromRows(dump, { dataSource: "lighteval/MATH" });
  assert.deepEqual(
    recs.map((r) => r.responses),
    [["x \\boxed{1}", "z \\boxed{3}"], ["y"]],
  );
  assert.deepEqual(
    recs.map((r) => r.extra_info?.upstream_scores),
    [[1, 0], [0]],
  );
  assert.deepEqual(recs[0].extra_info?.upstream_preds, ["1", "3"]);
  assert.deepEqual(
    recs.map((r) => r.reward_model.ground_truth),
    ["1", "2"],
  );
  assert.equal(recs[0].extra_info?.step, 3);
  // dumps are re-scored by the math grader and agree with their acc labels
  const run = await evaluate(dump, { dataSource: "lighteval/MATH" });
  assert.deepEqual(
    run.records.map((r) => r.scores),
    [[1, 0], [0]],
  );
  assert.equal(run.agreement?.agree, 3);

  const plain = [
    {
      problem: "P1",
      generation: "\\boxed{4}",
      expected_answer: "4",
      symbolic_correct: true,
      predicted_answer: "4",
      data_source: "lighteval/MATH",
    },
    {
      problem: "P2",
      generation: "\\boxed{5}",
      expected_answer: "6",
      symbolic_correct: false,
      predicted_answer: "5",
      data_source: "lighteval/MATH",
    },
    {
      problem: "P1",
      generation: "\\boxed{3}",
      expected_answer: "4",
      symbolic_correct: false,
      predicted_answer: "3",
      data_source: "lighteval/MATH",
    },
  ];
  assert.equal(detectFormat(plain[0]), "plain");
  const p = fromRows(plain);
  assert.deepEqual(
    p.map((r) => [r.prompt[0].content, r.responses, r.extra_info?.upstream_scores, r.extra_info?.upstream_preds]),
    [
      ["P1", ["\\boxed{4}", "\\boxed{3}"], [1, 0], ["4", "3"]],
      ["P2", ["\\boxed{5}"], [0], ["5"]],
    ],
  );
  const lists = fromRows([{ question: "Q", outputs: ["a", "b"], answer: "a", scores: [1, 0] }], { dataSource: "toy" });
  assert.deepEqual(
    [lists[0].responses, lists[0].extra_info?.upstream_scores],
    [
      ["a", "b"],
      [1, 0],
    ],
  );
  assert.throws(
    () => fromRows([{ question: "Q", answer: "a" }], { dataSource: "toy" }),
    /no responses field in the first row \(got fields question, answer/,
  );
  assert.throws(() => fromRows([{ question: "Q", outputs: ["a"] }], { dataSource: "toy" }), /no ground-truth field/);

  // verl main_generation output: parquet with a responses list per prompt
  const mg = [R2, R3].map(({ scores: _s, details: _d, ...r }) => ({
    ...r,
    ability: "math",
    extra_info: { split: "test", index: 0 },
  }));
  const file = path.join(tmp, "test-output-2.parquet");
  writeParquet(file, mg);
  const back = await readGenerations(file);
  assert.equal(detectFormat(back[0]), "records");
  assert.deepEqual(
    back.map((r) => r.responses),
    [
      ["ii", "jjj"],
      ["k", "CRASH"],
    ],
  );
  assert.deepEqual(
    back.map((r) => r.data_source),
    ["toy/b", "toy/b"],
  );
});

test("report: r1's README table with reported numbers and deltas, then details; Markdown, HTML without scripts, text", () => {
  const s = summarize(toy);
  const rep = report({
    title: "Toy eval",
    summary: s,
    reported: { "toy/a": 40, "toy/b": null },
    breakdowns: [{ title: "Accuracy by level", rows: breakdown(toy, "extra_info.level") }],
    difficulty: itemDifficulty(toy),
    lengths: lengthStats(toy),
  });
  const md = rep.toMarkdown();
  assert.match(md, /^# Toy eval\n/);
  assert.ok(md.includes("| Dataset | Items | Test Results (k=2-4) | 95% CI | Reported | Δ |"), md);
  assert.ok(md.includes("| toy/a | 2 | 37.5 |"), md);
  assert.match(md, /\| toy\/a \| 2 \| 37\.5 \| [\d.]+–[\d.]+ \| 40\.0 \| -2\.5 \|/);
  assert.match(md, /\| toy\/b \| 2 \| 50\.0 \| [\d.]+–[\d.]+ \| - \| - \|/);
  assert.ok(md.includes("| toy/a | 37.5 | 66.7 | 87.5 | 100.0 |"), "pass@k row");
  assert.ok(md.includes("## Accuracy by level"));
  const html = rep.toHTML();
  assert.match(html, /^<!doctype html>/);
  assert.ok(!/<script/i.test(html), "the report page has no scripts");
  assert.ok(html.includes("<svg"));
  const b = rep.toMimeBundle();
  assert.ok(b["text/plain"].includes("Test Results (k=2-4)"));
  assert.ok(String(b["text/html"]).startsWith('<div class="cellrl-eval-report"'));
  // a named set of published numbers
  const r1 = report({
    summary: summarize([{ ...R0, data_source: "Maxwell-Jia/AIME_2024" }]),
    reported: "DeepSeek-R1-Distill-Qwen-1.5B",
  });
  assert.ok(r1.toMarkdown().includes("| AIME 2024 | 1 | 50.0 |"));
  assert.match(r1.toMarkdown(), /\| 28\.9 \| \+21\.1 \|/);
});
