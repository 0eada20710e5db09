// The views added for the logits explorer, loss lab, reward workbench and distributions: hand-computed numbers on
// tiny inputs, checked in the text/plain and in the HTML (one span per token), plus the errors.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as viz from "../../lib/viz/index.js";
import { labTokens } from "../../lib/viz/token-adapters.js";
import { CellrlError } from "../../lib/core/errors.js";
import { useBackend } from "../../lib/core/backend.js";
import { CharTokenizer } from "../../lib/model/tokenizer-char.js";
import { mathReward } from "../../lib/reward/index.js";

// lossWeights reads the loss's own tensors, so it needs a backend, as in a notebook.
before(async () => {
  await useBackend();
});

const tok = CharTokenizer.fromAlphabet("0123456789+=", { bos: null, unk: null });
const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);
const spans = (html: string) => (html.match(/data-cellrl-tok="/g) ?? []).length;
const ids = (s: string) => tok.encode(s);

test("lossWeights: ratio, A x ratio, PPO clip flags (both signs) and the effective weight", () => {
  const logp = [
    [Math.log(1.5), Math.log(0.5), Math.log(1.1)],
    [Math.log(1.5), Math.log(0.5), 0],
  ];
  const oldLogp = [
    [0, 0, 0],
    [0, 0, 0],
  ];
  const w = viz.lossWeights({ logp, oldLogp, adv: [2, -1] }, { clip: 0.2 });
  w.ratio[0].forEach((r, t) => close(r, [1.5, 0.5, 1.1][t], 1e-6)); // float32, as update.policyLoss computes it
  assert.deepEqual(
    w.weight[0].map((x) => +x.toFixed(6)),
    [3, 1, 2.2],
  );
  assert.deepEqual(w.clipped, [
    [1, 0, 0],
    [0, 1, 0],
  ]); // A > 0 clips ρ > 1.2; A < 0 clips ρ < 0.8
  assert.deepEqual(
    w.effective[0].map((x) => +x.toFixed(6)),
    [0, 1, 2.2],
  );
  assert.deepEqual(
    w.effective[1].map((x) => +x.toFixed(6)),
    [-1.5, 0, -1],
  );
  // clip-higher [0.2, 0.6]: ρ = 1.5 no longer clips for A > 0
  assert.deepEqual(viz.lossWeights({ logp, oldLogp, adv: [2, -1] }, { clip: [0.2, 0.6] }).clipped[0], [0, 0, 0]);
  // the response mask zeroes the prompt column
  const masked = viz.lossWeights({
    logp,
    oldLogp,
    adv: [2, -1],
    mask: [
      [0, 1, 1],
      [1, 1, 1],
    ],
  });
  assert.deepEqual(
    [masked.ratio[0][0], masked.weight[0][0], masked.clipped[0][0], masked.effective[0][0]],
    [1, 0, 0, 0],
  );
  assert.deepEqual(masked.clipped[1], [0, 1, 0]);
  // per-token advantages
  assert.deepEqual(viz.lossWeights({ logp: [[0, 0]], oldLogp: [[0, 0]], adv: [[1, -3]] }).weight, [[1, -3]]);
  assert.throws(() => viz.lossWeights({ logp, oldLogp, adv: [1] }), /inputs.adv has 1 entries but logp has 2 rows/);
  assert.throws(() => viz.lossWeights({ logp, oldLogp: [[0, 0]], adv: [1, 1] }), /oldLogp has 1 rows but logp has 2/);
  assert.throws(
    () => viz.lossWeights({ logp, oldLogp, adv: [1, 1] }, { clip: 1.5 }),
    (e: unknown) => e instanceof CellrlError && /options.clip/.test(e.message),
  );
});

test("tokenKl: k1, k2, k3 by hand, verl's clamp and the raw k3; teacherGap", () => {
  const x = Math.log(2); // log π = 0, log π_ref = log 0.5
  const kl = viz.tokenKl({ logp: [[0, -30]], refLogp: [[Math.log(0.5), 0]] });
  close(kl.k1[0][0], x);
  close(kl.k2[0][0], 0.5 * x * x);
  close(kl.k3[0][0], 0.5 + x - 1, 1e-12); // r = π_ref/π = 0.5: r − 1 − log r
  assert.equal(kl.k3[0][1], 10, "k3 is clamped at 10 as verl does");
  close(viz.tokenKl({ logp: [[-30]], refLogp: [[0]] }, { clamp: false }).k3[0][0], Math.exp(30) - 31, 1e-3);
  assert.deepEqual(viz.teacherGap({ studentLogp: [[-1, -2]], teacherLogp: [[-0.5, -3]] }), [[0.5, -1]]);
  assert.deepEqual(viz.tokenKl({ logp: [0, 0], refLogp: [0, 0] }).k3, [[0, 0]], "1-D inputs are one row");
});

test("rolloutTokens slices [B, T] matrices, broadcasts [B] vectors and accepts response-only rows", () => {
  // P = 4 (left-padded prompt), R = 3.
  const pad = tok.padTokenId!;
  const ro = {
    ids: [
      [pad, ...ids("1+2="), ...ids("3"), tok.eosTokenId!, pad].slice(1),
      [...ids("12+3"), ...ids("15"), tok.eosTokenId!],
    ],
    attentionMask: [
      [1, 1, 1, 1, 1, 1, 0],
      [1, 1, 1, 1, 1, 1, 1],
    ],
    responseIds: [
      [...ids("3"), tok.eosTokenId!],
      [...ids("15"), tok.eosTokenId!],
    ],
    promptLength: 4,
  };
  ro.ids[0] = [...ids("1+2="), ...ids("3"), tok.eosTokenId!, pad];
  const logprobs = [
    [0, 0, 0, 0, -0.1, -0.2, 0],
    [0, 0, 0, 0, -1, -2, -3],
  ];
  const s = viz.rolloutTokens(ro, 1, {
    tokenizer: tok,
    values: {
      logp: logprobs,
      adv: [0.5, -1.5],
      dlogp: [
        [1, 2],
        [7, 8, 9],
      ],
    },
  });
  assert.deepEqual(s.tokens, ["1", "5", "<eos>"]);
  assert.deepEqual(s.values, { logp: [-1, -2, -3], adv: [-1.5, -1.5, -1.5], dlogp: [7, 8, 9] });
  assert.deepEqual(s.mask, [1, 1, 1]);
  const withPrompt = viz.rolloutTokens(ro, 0, {
    tokenizer: tok,
    values: { logp: logprobs, adv: [0.5, -1.5] },
    prompt: true,
  });
  assert.deepEqual(withPrompt.tokens, ["1", "+", "2", "=", "3", "<eos>"]);
  assert.deepEqual(withPrompt.mask, [0, 0, 0, 0, 1, 1]);
  assert.deepEqual(Array.from(withPrompt.values!.adv).slice(4), [0.5, 0.5]);
  assert.ok(Array.from(withPrompt.values!.adv).slice(0, 4).every(Number.isNaN), "no advantage on prompt tokens");
  assert.equal(spans(viz.tokenView(withPrompt, { color: "adv" }).toMimeBundle()["text/html"] as string), 6);
  assert.throws(() => viz.rolloutTokens(ro, 2, { tokenizer: tok }), /row 2 is out of range/);
  assert.throws(
    () => viz.rolloutTokens(ro, 0, { tokenizer: tok, values: { x: [[1, 2]] } }),
    /values.x has 1 rows but the rollout has 2/,
  );
  assert.throws(
    () => viz.rolloutTokens(ro, 0, { tokenizer: tok, values: { x: [[1, 2, 3, 4], [1]] } }),
    /row 0 of values.x has 4 entries \(expected 7/,
  );
});

test("logprobTokens keeps attended tokens, greys unscored ones and decodes the top-k; labTokens shows push and Δlogp", () => {
  const pad = tok.padTokenId!;
  const batch = { ids: [[pad, ...ids("1+1="), ...ids("2")]], attentionMask: [[0, 1, 1, 1, 1, 1]] };
  const lp = {
    logp: [[0, 0, 0, 0, 0, -0.25]],
    entropy: [[0, 0, 0, 0, 0, 0.7]],
    mask: [[0, 0, 0, 0, 0, 1]],
    topK: { ids: [[[], [], [], [], [], [ids("2")[0], ids("3")[0]]]], logp: [[[], [], [], [], [], [-0.25, -1.6]]] },
  };
  const s = viz.logprobTokens(batch, lp, 0, { tokenizer: tok, extra: { gap: [[0, 0, 0, 0, 0, 0.4]] } });
  assert.deepEqual(s.tokens, ["1", "+", "1", "=", "2"]);
  assert.deepEqual(s.mask, [0, 0, 0, 0, 1]);
  assert.deepEqual(s.values, { logp: [0, 0, 0, 0, -0.25], entropy: [0, 0, 0, 0, 0.7], gap: [0, 0, 0, 0, 0.4] });
  assert.deepEqual(s.topk![4], [
    { token: "2", logp: -0.25 },
    { token: "3", logp: -1.6 },
  ]);
  const html = viz.tokenView(s, { color: "gap", underline: "entropy" }).toMimeBundle()["text/html"] as string;
  assert.match(html, /top-k: &quot;2&quot;:0\.779 &quot;3&quot;:0\.202/);
  assert.deepEqual(viz.topkAt(lp, 0, 5, tok), [
    { token: "2", logp: -0.25 },
    { token: "3", logp: -1.6 },
  ]);
  assert.throws(() => viz.topkAt(lp, 0, 2, tok), /not scored/);
  assert.throws(
    () => viz.logprobTokens(batch, { logp: [[0, 0]], mask: [[0, 0]] }, 0, { tokenizer: tok }),
    /logp is \[1, 2\] but batch.ids is \[1, 6\]/,
  );

  const lab = { name: "ppo", tokenWeights: [[0, 0, 0, 0, 0, -0.5]], logpChange: [[0, 0, 0, 0, 0, 0.1]] };
  const lt = labTokens({ ...batch, responseMask: [[0, 0, 0, 0, 0, 1]] }, lab, 0, { tokenizer: tok });
  assert.deepEqual(lt.tokens, ["2"]);
  assert.deepEqual(lt.values, { push: [0.5], dlogp: [0.1] });
  assert.deepEqual(
    labTokens({ ...batch, responseMask: [[0, 0, 0, 0, 0, 1]] }, lab, 0, { tokenizer: tok, prompt: true }).mask,
    [0, 0, 0, 0, 1],
  );
});

test("klEstimatorStats: means, bias and RMSE against the exact KL over the masked tokens", () => {
  // Two tokens: x = log 2 and x = −log 2; the third is masked out.
  const logp = [[0, Math.log(0.5), 5]],
    refLogp = [[Math.log(0.5), 0, 0]],
    exact = [[0.3, 0.1, 99]],
    mask = [[1, 1, 0]];
  const st = viz.klEstimatorStats({ logp, refLogp, exact, mask });
  const x = Math.log(2);
  assert.equal(st.n, 2);
  close(st.mean.k1, 0);
  close(st.mean.k2, 0.5 * x * x);
  close(st.mean.k3, (0.5 + x - 1 + (2 - x - 1)) / 2, 1e-12);
  close(st.mean.exact, 0.2, 1e-12);
  close(st.bias.k1, -0.2, 1e-12);
  close(st.std.k1, x);
  close(st.rmse.k1, Math.sqrt(((x - 0.3) ** 2 + (-x - 0.1) ** 2) / 2), 1e-12);
  assert.throws(() => viz.klEstimatorStats({ logp, refLogp, exact: [[1, 2]], mask }), /exact must have logp's shape/);
  assert.throws(() => viz.klEstimatorStats({ logp, refLogp, exact, mask: [[0, 0, 0]] }), /selects no tokens/);
  const t = viz.klStatsTable(st).toMimeBundle()["text/plain"];
  assert.match(t, /k1 +0 /);
  assert.match(t, /exact +0\.2 /);
});

test("klEstimatorView charts the three estimators and the exact KL, with a per-token table and the means", () => {
  const v = viz.klEstimatorView({
    tokens: ["a", "b", "c"],
    logp: [0, 0, Math.log(0.5)],
    refLogp: [0, Math.log(0.5), 0],
    exact: [0, 0.2, 0.2],
    mask: [0, 1, 1],
  });
  const b = v.toMimeBundle();
  assert.equal(v.stats.n, 2);
  close(v.stats.mean.k1, 0);
  assert.match(b["text/plain"], /means over 2 tokens: exact 0\.2, k1 0, k2 0\.2402, k3 0\.25/);
  assert.match(b["text/html"] as string, /<td[^>]*>&quot;b&quot;<\/td>/);
  assert.doesNotMatch(b["text/html"] as string, /<td[^>]*>&quot;a&quot;<\/td>/, "masked tokens are left out");
  assert.throws(
    () => viz.klEstimatorView({ tokens: ["a"], logp: [0, 0], refLogp: [0], exact: [0] }),
    /inputs.logp has 2 entries but there are 1 tokens/,
  );
});

test("distributionBars: union of both top-k lists as categories, the sampled token marked; entropyLine drops masked tokens", () => {
  const s = [
    { token: "7", logp: Math.log(0.6) },
    { token: "1", logp: Math.log(0.3) },
  ];
  const t = [
    { token: "1", logp: Math.log(0.9) },
    { token: "2", logp: Math.log(0.05) },
  ];
  const b = viz.distributionBars(s, { other: t, target: "1" }).toMimeBundle();
  const fig = b["application/vnd.plotly.v1+json"] as {
    data: { y: string[]; x: number[]; name: string }[];
    layout: { yaxis: { type: string } };
  };
  assert.equal(fig.layout.yaxis.type, "category");
  assert.deepEqual(fig.data[0].y, ["2", "7", "1 ◀"]); // reversed: the most likely token is drawn on top
  assert.deepEqual(
    fig.data[0].x.map((x) => +x.toFixed(3)),
    [0, 0.6, 0.3],
  );
  assert.deepEqual(
    fig.data[1].x.map((x) => +x.toFixed(3)),
    [0.05, 0, 0.9],
  );
  assert.match(b["text/plain"], /1 ◀: student p=0\.3 teacher p=0\.9/);
  assert.match(b["text/plain"], /7: student p=0\.6 teacher p=—/);
  assert.throws(() => viz.distributionBars([]), /non-empty list of \{token, logp\}/);

  const e = viz
    .entropyLine(["a", "b", "c"], { student: [9, 2, 1], teacher: [9, 0.5, 0.1] }, { mask: [0, 1, 1] })
    .toMimeBundle();
  const ef = e["application/vnd.plotly.v1+json"] as { data: { x: number[]; y: number[] }[] };
  assert.deepEqual(ef.data[0].x, [1, 2]);
  assert.deepEqual(ef.data[0].y, [2, 1]);
  assert.match(e["text/plain"], /student: mean 1\.5 max 2 at #1 "b"/);
  assert.throws(() => viz.entropyLine(["a"], { h: [1, 2] }), /series.h has 2 entries but there are 1 tokens/);
});

test("rewardProbes builds the probe table from a gold answer; the variants depend on the answer's kind", () => {
  const names = viz.rewardProbes("13").map((p) => p.name);
  for (const n of [
    "gold",
    "empty",
    "repeated-tags",
    "gold-substring",
    "gold-decimal",
    "gold-text",
    "over-long",
    "wrong",
    "boxed-gold-last",
    "number-list",
  ])
    assert.ok(names.includes(n), `missing probe ${n}`);
  const frac = viz.rewardProbes("\\frac{3}{4}");
  assert.ok(frac.some((p) => p.name === "gold-dfrac" && p.response.includes("\\dfrac{3}{4}")));
  assert.ok(frac.some((p) => p.name === "gold-decimal" && p.response.includes("\\boxed{0.75}")));
  assert.ok(
    viz
      .rewardProbes("13")
      .find((p) => p.name === "wrong")!
      .response.includes("\\boxed{14}"),
    "wrong = gold + 1 for integers",
  );
  assert.equal(
    viz.rewardProbes("13", { longChars: 500 }).find((p) => p.name === "over-long")!.response.length < 700,
    true,
  );
  assert.ok(!viz.rewardProbes("13", { skip: ["empty"] }).some((p) => p.name === "empty"));
  assert.throws(() => viz.rewardProbes(" "), /gold must be a non-empty answer string/);
});

test("probeReward finds the hacks of a substring reward and of the plain math grader, in plain words", async () => {
  const naive = (r: string, g: unknown) => ({ score: r.includes(String(g)) ? 1 : 0, details: { rule: "substring" } });
  const rep = viz.probeReward(naive, "13");
  assert.deepEqual(rep.hacks.map((h) => h.name).sort(), [
    "boxed-gold-first",
    "boxed-gold-last",
    "gold-in-reasoning",
    "gold-or-wrong",
    "gold-substring",
    "number-list",
    "over-long",
  ]);
  assert.equal(rep.misses.length, 0);
  assert.ok(
    rep.summary.some((s) =>
      s.startsWith("A wrong answer that contains the gold (113) scores 1 (as much as the correct answer, 1)"),
    ),
    rep.summary.join("\n"),
  );
  // a reward that pays for nothing useful: every wrong probe is a hack, and the summary says so first
  const always = viz.probeReward(() => ({ score: 1, details: {} }), "13");
  assert.match(always.summary[0], /does not separate right from wrong/);
  assert.ok(always.summary.some((s) => s.startsWith("An empty response scores 1")));

  const math = viz.probeReward(mathReward, "13");
  assert.deepEqual(
    math.hacks.map((h) => h.name),
    ["boxed-gold-last", "over-long"],
  );
  const gold = math.rows.find((r) => r.name === "gold-substring")!;
  assert.equal(gold.extracted, "113");
  assert.equal(gold.score, 0);
  // a miss: a reward that only accepts the exact boxed string
  const strict = viz.probeReward((r: string) => ({ score: r.includes("\\boxed{13}") ? 1 : 0, details: {} }), "13");
  assert.ok(strict.misses.some((m) => m.name === "gold-phrase"));
  // async rewards and registered names give a Promise of the same report
  const asyncRep = await viz.probeReward(async (r: string, g: unknown) => mathReward(r, g), "13");
  assert.deepEqual(
    asyncRep.hacks.map((h) => h.name),
    ["boxed-gold-last", "over-long"],
  );
  const byName = await viz.probeReward("math", "13");
  assert.equal(byName.name, "math");
  assert.equal(byName.hacks.length, 2);
  assert.throws(() => viz.probeReward(() => ({ score: NaN, details: {} }), "13"), /returned .* for probe "gold"/);
});

test("rewardWorkbench draws one row per probe with HACK / MISS badges; probeChart one bar trace per reward", () => {
  const naive = (r: string, g: unknown) => ({ score: r.includes(String(g)) ? 1 : 0, details: { rule: "substring" } });
  const rep = viz.probeReward(naive, "13");
  const b = rep.toMimeBundle();
  const html = b["text/html"] as string;
  assert.equal((html.match(/data-cellrl-probe="/g) ?? []).length, rep.rows.length);
  assert.equal((html.match(/>HACK</g) ?? []).length, 7);
  assert.match(html, /tex2jax_ignore/, "MathJax must not typeset the responses");
  assert.match(b["text/plain"], /^Reward workbench: naive \(19 probes, 7 hacks, 0 misses\)/);
  // composite rewards: the rule names each part, the extracted answer comes from the part that has one
  const comp = viz.probeReward(
    () => ({
      score: 1,
      details: {
        rule: "weighted-sum",
        components: {
          math: { score: 1, details: { rule: "numeric", extracted: "13" } },
          len: { score: 0, details: { rule: "len" } },
        },
      },
    }),
    "13",
  );
  assert.equal(comp.rows[0].rule, "math:numeric=1 + len=0");
  assert.equal(comp.rows[0].extracted, "13");
  const chart = viz.probeChart([rep, viz.probeReward(mathReward, "13")]).toMimeBundle();
  const fig = chart["application/vnd.plotly.v1+json"] as { data: { name: string; y: number[] }[] };
  assert.equal(fig.data.length, 2);
  assert.match(fig.data[1].name, /2 hacks, 0 misses/);
  assert.match(chart["text/plain"], /naive: 7 hacks/);
});

test("lossLabView: bars per variant, the table, and one token span per token per variant and series", () => {
  const batch = {
    ids: [ids("1+1=2"), ids("1+1=3")],
    responseMask: [
      [0, 0, 0, 0, 1],
      [0, 0, 0, 0, 1],
    ],
    adv: [1, -1],
  };
  const v = (name: string, w: number) => ({
    name,
    loss: 0.5,
    gradNorm: w,
    meanAbsChange: 0.1,
    meanChangePosAdv: 0.1,
    meanChangeNegAdv: -0.1,
    metrics: { "update/clipFrac": 0.25 },
    tokenWeights: [
      [0, 0, 0, 0, -w],
      [0, 0, 0, 0, w],
    ],
    logpChange: [
      [0, 0, 0, 0, 0.2],
      [0, 0, 0, 0, -0.2],
    ],
  });
  const b = viz.lossLabView({ variants: [v("ppo", 0.5), v("pg", 1)] }, batch, { tokenizer: tok }).toMimeBundle();
  const html = b["text/html"] as string;
  // 2 rows (the positive and the negative completion) x 2 variants x 2 series x 1 response token
  assert.equal(spans(html), 8);
  assert.match(html, /completion #0 · advantage 1/);
  assert.match(html, /completion #1 · advantage -1/);
  assert.match(b["text/plain"], /pg push: "2"=1/);
  assert.match(b["text/plain"], /ppo: loss=0\.5 gradNorm=0\.5/);
  assert.throws(
    () => viz.lossLabView({ variants: [] }, batch, { tokenizer: tok }),
    /expected the result of update.compareLosses/,
  );
  assert.throws(
    () => viz.lossLabView({ variants: [v("ppo", 1)] }, batch, { tokenizer: tok, rows: [5] }),
    /options.rows has 5/,
  );

  const rep = {
    before: [
      [0, 0, 0, 0, -1],
      [0, 0, 0, 0, -2],
    ],
    after: [
      [0, 0, 0, 0, -0.5],
      [0, 0, 0, 0, -2.5],
    ],
    delta: [
      [0, 0, 0, 0, 0.5],
      [0, 0, 0, 0, -0.5],
    ],
    meanAbsDelta: 0.5,
    maxAbsDelta: { value: -0.5, sample: 1, token: 4 },
  };
  const r = viz.replayView(rep, batch, { tokenizer: tok }).toMimeBundle();
  assert.equal(spans(r["text/html"] as string), 2);
  assert.match(r["text/plain"], /max \|Δlogp\| -0\.5 at completion #1, token 4; mean \|Δlogp\| 0\.5/);
  assert.match(r["text/plain"], /Δlogp: n=2 mean=0 std=0\.5/);
});

test("stepHistograms overlays a few steps and bins many into a steps x bins heatmap; advantageHeatmap lays out groups", () => {
  const few = viz.stepHistograms({ "0": [0, 1], "1": [1, 1] }, { x: "reward" }).toMimeBundle();
  const ff = few["application/vnd.plotly.v1+json"] as { data: { type: string; name: string }[] };
  assert.deepEqual(
    ff.data.map((d) => [d.type, d.name]),
    [
      ["histogram", "step 0"],
      ["histogram", "step 1"],
    ],
  );
  assert.match(few["text/plain"], /step 1: n=2 mean=1 std=0/);
  const many = viz.stepHistograms([[0, 0], [1], [2], [3], [4, 4, 4]], { bins: 4 }).toMimeBundle();
  const z = (many["application/vnd.plotly.v1+json"] as { data: { type: string; z: number[][] }[] }).data[0];
  assert.equal(z.type, "heatmap");
  // range 0..4 in 4 bins of width 1: value 4 falls in the last bin
  assert.deepEqual(z.z, [
    [2, 0, 0, 0, 0],
    [0, 1, 0, 0, 0],
    [0, 0, 1, 0, 0],
    [0, 0, 0, 1, 3],
  ]);
  assert.throws(() => viz.stepHistograms([]), /one array of values per step/);

  const ro = { group: [0, 0, 1, 1, 1], prompts: ["a", "b"], responses: ["x", "y", "z", "w", "v"] };
  const h = viz.advantageHeatmap(ro, [1, -1, 0, 0, 0]).toMimeBundle();
  const hz = (h["application/vnd.plotly.v1+json"] as { data: { z: number[][]; text: string[][] }[] }).data[0];
  assert.deepEqual(hz.z, [
    [1, -1, NaN],
    [0, 0, 0],
  ]);
  assert.equal(hz.text[1][2], "#4 v");
  assert.match(h["text/plain"], /2 prompts x 3 samples; 1 zero-advantage group/);
  assert.throws(() => viz.advantageHeatmap(ro, [1]), /advantages has 1 entries but the rollout has 5 rows/);
});

test("rolloutGroupCard, table and the 0/1 flag scale of tokenView", () => {
  const ro = {
    group: [0, 0, 1],
    prompts: ["1+1=", "2+2="],
    responses: ["2", "3", "4"],
    responseIds: [[1, 2], [1], [1]],
    finishReason: ["stop", "length", "stop"],
  };
  const card = viz
    .rolloutGroupCard(ro, 0, {
      rewards: [
        { score: 1, details: { extracted: "2" } },
        { score: 0, details: {} },
        { score: 1, details: {} },
      ],
    })
    .toMimeBundle();
  assert.match(
    card["text/html"] as string,
    /answer <code>2<\/code>/,
    "the extracted answer comes from the reward details",
  );
  assert.throws(
    () => viz.rolloutGroupCard(ro, 0, { rewards: [1, 0] }),
    /options.rewards has 2 entries but the rollout has 3 rows/,
  );
  const c = viz.rolloutGroupCard(ro, 0, { rewards: [1, 0, 1], advantages: [1, -1, 0] }).toMimeBundle();
  assert.match(c["text/plain"], /Group 0: G=2, reward mean 0\.5 ± 0\.5/);
  assert.match(c["text/plain"], /#0 reward=1 adv=1 len=2 stop correct/);
  assert.match(c["text/html"] as string, /truncated/);
  const t = viz
    .table(
      [
        { a: 1.23456, b: "x" },
        { a: NaN, b: null },
      ],
      { digits: 2 },
    )
    .toMimeBundle();
  assert.match(t["text/plain"], /1\.2 +x/);
  assert.match(
    t["text/html"] as string,
    /<td style="padding:1px 8px;text-align:right;font-family:monospace;">1\.2<\/td>/,
  );
  const flags = viz.tokenView({ tokens: ["a", "b"], values: { clipped: [0, 0] } }).toMimeBundle()[
    "text/html"
  ] as string;
  assert.match(flags, /clipped: white = 0 … purple = 1/, "flags keep a 0..1 scale even when no token is flagged");
});
