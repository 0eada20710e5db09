// viz.lossLabView's scale options and length panel: the shared colour scales can be set by chosen variants (SFT kept
// from washing out the RL variants) or pinned, and the length panel reports push per token and per completion.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as viz from "../../lib/viz/index.js";
import { useBackend } from "../../lib/core/backend.js";
import { CharTokenizer } from "../../lib/model/tokenizer-char.js";

before(async () => {
  await useBackend({ force: "cpu" });
});

const tok = CharTokenizer.fromAlphabet("0123456789+=", { bos: null, unk: null });
const ids = (s: string) => tok.encode(s);
// row 0: a 1-token answer, row 1: a 4-token answer, both A = −1
const batch = {
  ids: [ids("1+1=2000"), ids("1+1=1111")],
  responseMask: [
    [0, 0, 0, 0, 1, 0, 0, 0],
    [0, 0, 0, 0, 1, 1, 1, 1],
  ],
  adv: [-1, -1],
};
/** token-mean-like: the same weight on every token; seq-mean-like: 1/L per token; sft: a large push everywhere. */
const variant = (name: string, w: (b: number) => number) => ({
  name,
  loss: 0,
  gradNorm: 1,
  meanAbsChange: 0,
  meanChangePosAdv: 0,
  meanChangeNegAdv: 0,
  tokenWeights: batch.responseMask.map((r, b) => r.map((m) => (m ? w(b) : 0))),
  logpChange: batch.responseMask.map((r) => r.map((m) => (m ? -0.01 : 0))),
});
const lab = {
  variants: [
    variant("token-mean", () => 0.1),
    variant("seq-mean", (b) => (b === 0 ? 0.2 : 0.05)),
    variant("sft", () => -5),
  ],
};

test("the shared scales: by default the largest variant sets them; scaleFrom and scale override", () => {
  const text = (o: object) =>
    viz.lossLabView(lab, batch, { tokenizer: tok, ...o }).toMimeBundle()["text/html"] as string;
  assert.match(text({}), /push ±5,/, "SFT's push sets the default scale");
  assert.match(
    text({ scaleFrom: ["token-mean", "seq-mean"] }),
    /push ±0\.1, Δlogp ±0\.01, set by token-mean, seq-mean/,
  );
  assert.match(text({ scale: { push: 0.5 } }), /push ±0\.5,/);
  assert.throws(() => text({ scaleFrom: ["nope"] }), /options\.scaleFrom must name at least one variant/);
  assert.throws(() => text({ scale: { dlogp: -1 } }), /options\.scale\.dlogp must be a positive number/);
});

test("the length panel: mean push per token and total push per completion, per variant", () => {
  const b = viz.lossLabView(lab, batch, { tokenizer: tok, lengthRows: [0, 1] }).toMimeBundle();
  const plain = b["text/plain"] as string;
  // push = −weight: token-mean 0.1 per token → totals −0.1 (1 token) and −0.4 (4 tokens); seq-mean −0.2 both
  assert.match(
    plain,
    /completion #0 \(1 tokens\): token-mean per-token -0\.1 total -0\.1; seq-mean per-token -0\.2 total -0\.2/,
  );
  assert.match(
    plain,
    /completion #1 \(4 tokens\): token-mean per-token -0\.1 total -0\.4; seq-mean per-token -0\.05 total -0\.2/,
  );
  assert.throws(() => viz.lossLabView(lab, batch, { tokenizer: tok, lengthRows: [2] }), /options\.lengthRows has 2/);
});

test("scaleFrom also sets the bars' y ranges: a bar past them ends at the edge, its label keeps the value + ▲", () => {
  const big = { ...variant("dro", () => 0.1), gradNorm: 50 };
  const fig = (o: object) =>
    viz.lossLabView({ variants: [...lab.variants, big] }, batch, { tokenizer: tok, ...o }).toMimeBundle();
  const plotly = (o: object) => {
    const html = fig(o)["text/html"] as string;
    const m = html.match(/"y":\[([^\]]*)\],"text":\[([^\]]*)\]/);
    return { y: JSON.parse(`[${m![1]}]`) as number[], text: JSON.parse(`[${m![2]}]`) as string[] };
  };
  const all = plotly({});
  assert.deepEqual(all.y, [1, 1, 1, 50], "no scaleFrom: the bars are the values");
  const capped = plotly({ scaleFrom: ["token-mean", "seq-mean"] });
  assert.ok(capped.y[3] < 1.2 && capped.y[3] > 1, `drawn to the edge of [0, 1.15]: ${capped.y[3]}`);
  assert.deepEqual(capped.text, ["1", "1", "1", "50 ▲"]);
});
