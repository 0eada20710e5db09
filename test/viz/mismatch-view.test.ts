// viz.mismatchView on a hand-made rollout: the sampler / trainer log-probs it draws are ro.logprobs and
// ro.logprobs + log ρ, the actions it marks are the corrections' own (truncated, zeroed, rejected), the colours are the
// contract's roles, and the batch summary's fractions match a count by hand.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CharTokenizer } from "../../lib/model/tokenizer-char.js";
import { css, roles } from "../../lib/viz/color.js";
import { mismatchView } from "../../lib/viz/mismatch-view.js";
import { rolloutCorrection } from "../../lib/update/rollout-correction.js";

const L = Math.log;
const tok = CharTokenizer.fromAlphabet("ab:", { bos: null, unk: null });
const a = tok.encode("a", { addSpecialTokens: false })[0],
  b = tok.encode("b", { addSpecialTokens: false })[0],
  colon = tok.encode(":", { addSpecialTokens: false })[0];
// P = 1 prompt column, R = 3 response columns; rows 0, 1 are group 0, rows 2, 3 group 1
const ro = {
  ids: [
    [colon, a, b, a],
    [colon, b, b, 0],
    [colon, a, 0, 0],
    [colon, b, a, b],
  ],
  responseIds: [[a, b, a], [b, b], [a], [b, a, b]],
  promptLength: 1,
  group: [0, 0, 1, 1],
  logprobs: [
    [0, L(0.2), L(0.4), L(0.5)],
    [0, L(0.5), L(0.5), 0],
    [0, L(0.1), 0, 0],
    [0, L(0.5), L(0.5), L(0.5)],
  ],
};
const mask = ro.ids.map((r, i) => r.map((_, t) => (t >= 1 && t <= ro.responseIds[i].length ? 1 : 0)));
// trainer: row 0 ratios [2.5, 0.5, 1], row 2 ratio 3, others 1
const old = [
  [0, L(0.5), L(0.2), L(0.5)],
  [0, L(0.5), L(0.5), 0],
  [0, L(0.3), 0, 0],
  [0, L(0.5), L(0.5), L(0.5)],
];
const inputs = { oldLogp: old, rolloutLogp: ro.logprobs, mask, adv: [1, -1, -1, 1] };
const tis = rolloutCorrection("token-is", inputs);
const icepop = rolloutCorrection({ level: "token", threshold: [0.6, 5] }, inputs);
const rs = rolloutCorrection({ level: null, reject: "token-k1", rejectThreshold: 2.8 }, inputs);

const figOf = (v: unknown) => (v as { figure: { data: Record<string, any>[]; layout: Record<string, any> } }).figure;

test("one completion: sampler and trainer log-probs in their role colours, ratios, each correction's action", () => {
  const v = mismatchView(ro, { tis, icepop }, { tokenizer: tok, row: 0 });
  const parts = (v as unknown as { parts: unknown[] }).parts;
  const fig = figOf(parts[0]);
  const [mu, trainer] = fig.data;
  assert.deepEqual(mu.y, [L(0.2), L(0.4), L(0.5)]);
  assert.equal(mu.line.color, css(roles.sampler));
  trainer.y.forEach((y: number, i: number) => assert.ok(Math.abs(y - [L(0.5), L(0.2), L(0.5)][i]) < 1e-12));
  assert.equal(trainer.line.color, css(roles.trainer));
  const marks = Object.fromEntries(fig.data.filter((d) => d.mode === "markers").map((d) => [d.name, d.x]));
  assert.deepEqual(marks, { "tis: truncated": [0], "icepop: zeroed": [1] });
  // the caps: log 2 for TIS, log 0.6 and log 5 for the band
  const ys = fig.layout.shapes.map((s: { y0: number }) => s.y0).sort((x: number, y: number) => x - y);
  assert.deepEqual(
    ys.map((y: number) => +y.toFixed(6)),
    [L(0.6), L(2), L(5)].map((y) => +y.toFixed(6)),
  );
  const text = String(v);
  assert.match(text, /0 a +log μ=-1\.609 log π_old=-0\.6931 ρ=2\.5 \| tis: w=2 \(truncated\) \| icepop: w=2\.5/);
  assert.match(text, /1 b .* icepop: w=0 \(zeroed\)/);
  const html = v.toMimeBundle()["text/html"] as string;
  assert.equal((html.match(/data-cellrl-tok=/g) ?? []).length, 3);
});

test("a group: one token row per completion, sequence and geometric log-ratios per completion", () => {
  const v = mismatchView(ro, [tis, rs], { tokenizer: tok, group: 0 });
  const fig = figOf((v as unknown as { parts: unknown[] }).parts[0]);
  const [sum, geo] = fig.data;
  assert.deepEqual(sum.x, ["#0", "#1"]);
  assert.ok(Math.abs(sum.y[0] - L(1.25)) < 1e-12 && sum.y[1] === 0);
  assert.ok(Math.abs(geo.y[0] - L(1.25) / 3) < 1e-12);
  const html = v.toMimeBundle()["text/html"] as string;
  assert.equal((html.match(/data-cellrl-tok=/g) ?? []).length, 3 + 2);
  assert.match(String(v), /#0: Σ log ρ = 0\.2231/);
});

test("the batch: log ρ of every response token, μ vs π_old, and the fractions each correction acted on", () => {
  const view = mismatchView(ro, { tis, icepop, rs });
  const fig = figOf(view);
  const hist = fig.data[0];
  assert.equal(hist.x.length, 9); // response tokens
  const bars = Object.fromEntries(fig.data.filter((d) => d.type === "bar").map((d) => [d.name, d.y]));
  // tis truncates ρ = 2.5 and ρ = 3; icepop zeroes ρ = 0.5; token-k1 at 2.8 rejects ρ = 3 (and keeps 2.5, 0.5)
  assert.deepEqual(bars, { truncated: [2 / 9, 0, 0], zeroed: [0, 1 / 9, 0], rejected: [0, 0, 1 / 9] });
  assert.match(String(view.toMimeBundle()["text/plain"]), /rs +KL\(μ‖π_old\)=.* rejected=0\.111/);
});

test("bad input names the field", () => {
  assert.throws(() => mismatchView(ro, {} as never), /corrections must be update\.rolloutCorrection results/);
  assert.throws(() => mismatchView(ro, tis, { row: 4 }), /options\.row/);
  assert.throws(() => mismatchView(ro, tis, { group: 5 }), /options\.group/);
  assert.throws(() => mismatchView({ ...ro, ids: ro.ids.slice(0, 2) }, tis), /rollout is \[2, 4\]/);
});
