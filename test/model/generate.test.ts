import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { seed, Rng } from "../../lib/core/random.js";
import { generate } from "../../lib/model/generate.js";
import { logprobs } from "../../lib/model/logprobs.js";
import { samplingDistribution } from "../../lib/model/sampling.js";
import type { Tokenizer } from "../../lib/model/tokenizer-types.js";
import { micro, randomModel, setup } from "./model-helpers.js";

before(setup);

/** 24 ids: 0 = <pad>, 1 = <eos>, 2.. = "a".."v". */
function letters(eos?: number): Tokenizer {
  const chr = (id: number) => (id < 2 ? "" : String.fromCharCode(95 + id));
  return {
    vocabSize: 24,
    padTokenId: 0,
    eosTokenId: eos,
    encode: (s) => [...s].map((c) => c.charCodeAt(0) - 95),
    decode: (ids, o) => Array.from(ids, (i) => (i < 2 ? (o?.skipSpecialTokens ? "" : `<${i}>`) : chr(i))).join(""),
  };
}

/** Score a GenerateResult's sequences with one full forward (left-padded), response logprobs per row. */
function rescore(m: ReturnType<typeof randomModel>, out: ReturnType<typeof generate>): number[][] {
  const seqs = out.promptTokenIds.map((p, r) => [...p, ...out.ids[r]]);
  const T = Math.max(...seqs.map((s) => s.length));
  const pad = (s: number[], v: number, x: number) => [...Array(T - s.length).fill(v), ...s.map(() => x)];
  const r = logprobs(m, {
    ids: seqs.map((s) => [...Array(T - s.length).fill(0), ...s]),
    attentionMask: seqs.map((s) => pad(s, 0, 1)),
    responseMask: seqs.map((s, i) => [
      ...Array(T - s.length + out.promptTokenIds[i].length).fill(0),
      ...out.ids[i].map(() => 1),
    ]),
  });
  return r.logp.map((row, i) => row.slice(T - out.ids[i].length));
}

test("the same seed gives the same samples; another seed gives others; seed() drives the default stream", () => {
  const m = randomModel(micro, 1);
  const opts = { n: 4, maxNewTokens: 12, ignoreEos: true };
  const a = generate(m, [[2, 3, 4]], { ...opts, seed: 7 });
  const b = generate(m, [[2, 3, 4]], { ...opts, seed: 7 });
  const c = generate(m, [[2, 3, 4]], { ...opts, seed: 8 });
  assert.deepEqual(a.ids, b.ids);
  assert.deepEqual(a.logprobs, b.logprobs);
  assert.notDeepEqual(a.ids, c.ids);
  assert.notDeepEqual(a.ids[0], a.ids[1], "samples of one group differ");
  seed(3);
  const d = generate(m, [[2, 3, 4]], opts);
  seed(3);
  assert.deepEqual(generate(m, [[2, 3, 4]], opts).ids, d.ids);
  assert.deepEqual(generate(m, [[2, 3, 4]], { ...opts, rng: new Rng(7) }).ids, a.ids);
  m.dispose();
});

test("temperature 0 is greedy: deterministic, and each token is the argmax of the full forward pass", () => {
  const m = randomModel(micro, 2);
  const a = generate(
    m,
    [
      [5, 6],
      [7, 8, 9, 10],
    ],
    { temperature: 0, maxNewTokens: 10, ignoreEos: true, seed: 1 },
  );
  const b = generate(
    m,
    [
      [5, 6],
      [7, 8, 9, 10],
    ],
    { temperature: 0, maxNewTokens: 10, ignoreEos: true, seed: 2 },
  );
  assert.deepEqual(a.ids, b.ids);
  assert.ok(
    a.logprobs.flat().every((x) => x === 0),
    "a point mass has logprob 0",
  );
  for (let r = 0; r < 2; r++) {
    const seq = [...a.promptTokenIds[r], ...a.ids[r]];
    const logits = m.forward({ ids: [seq] }).logits;
    const L = logits.arraySync()[0];
    logits.dispose();
    for (let i = 0; i < a.ids[r].length; i++) {
      const row = L[a.promptTokenIds[r].length + i - 1];
      assert.equal(a.ids[r][i], row.indexOf(Math.max(...row)), `row ${r} token ${i}`);
    }
  }
  m.dispose();
});

test("sampling logprobs match a full forward pass (raw within 1e-4), and filters show in the sampling logprob", () => {
  const m = randomModel(micro, 3);
  const out = generate(
    m,
    [
      [2, 3],
      [4, 5, 6, 7, 8],
    ],
    { n: 3, maxNewTokens: 9, ignoreEos: true, seed: 4 },
  );
  const full = rescore(m, out);
  for (let r = 0; r < out.ids.length; r++)
    for (let i = 0; i < out.ids[r].length; i++) {
      assert.ok(
        Math.abs(out.rawLogprobs[r][i] - full[r][i]) < 1e-4,
        `row ${r} token ${i}: ${out.rawLogprobs[r][i]} vs ${full[r][i]}`,
      );
      assert.ok(Math.abs(out.logprobs[r][i] - out.rawLogprobs[r][i]) < 1e-9, "no filters: sampled = raw");
    }
  const k1 = generate(m, [[2, 3]], { topK: 1, maxNewTokens: 5, ignoreEos: true, seed: 4 });
  assert.ok(k1.logprobs[0].every((x) => Math.abs(x) < 1e-12) && k1.rawLogprobs[0].every((x) => x < 0));
  const hot = generate(m, [[2, 3]], { temperature: 0.5, maxNewTokens: 5, ignoreEos: true, seed: 4 });
  const q = samplingDistribution(m.forward({ ids: [[2, 3]] }, { logits: "last" }).logits.dataSync(), {
    temperature: 0.5,
  });
  assert.ok(Math.abs(hot.logprobs[0][0] - Math.log(q[hot.ids[0][0]])) < 1e-5);
  m.dispose();
});

test("samples follow the filtered distribution (400 draws, top-k 3)", () => {
  const m = randomModel(micro, 5);
  const out = generate(m, [[9, 10, 11]], { n: 400, topK: 3, maxNewTokens: 1, seed: 9 });
  const logits = m.forward({ ids: [[9, 10, 11]] }, { logits: "last" }).logits;
  const q = samplingDistribution(logits.dataSync(), { topK: 3 });
  logits.dispose();
  const counts = new Array(24).fill(0);
  for (const ids of out.ids) counts[ids[0]]++;
  for (let v = 0; v < 24; v++) {
    if (q[v] === 0) assert.equal(counts[v], 0, `token ${v} is outside the top 3`);
    else assert.ok(Math.abs(counts[v] / 400 - q[v]) < 0.08, `token ${v}: ${counts[v] / 400} vs ${q[v]}`);
  }
  m.dispose();
});

test("max_new_tokens, groups, stop ids, EOS and stop strings are honoured", () => {
  const m = randomModel(micro, 6);
  const tok = letters();
  const P = ["ab", "cdef"];
  const opts = { tokenizer: tok, n: 2, maxNewTokens: 8, seed: 5 };
  const base = generate(m, P, { ...opts, ignoreEos: true });
  assert.deepEqual(base.group, [0, 0, 1, 1]);
  assert.deepEqual(base.sample, [0, 1, 0, 1]);
  assert.deepEqual(base.promptTokenIds, [
    [2, 3],
    [2, 3],
    [4, 5, 6, 7],
    [4, 5, 6, 7],
  ]);
  assert.deepEqual(base.lengths, [8, 8, 8, 8]);
  assert.deepEqual(base.finishReason, ["length", "length", "length", "length"]);
  assert.deepEqual(
    base.text,
    base.ids.map((ids) => tok.decode(ids, { skipSpecialTokens: true })),
  );
  const g = base.ids[0]; // row 0's tokens; the same seed replays them until a stop cuts the row
  const text = (k: number) => tok.decode(g.slice(0, k), { skipSpecialTokens: true });

  // a stop id ends the row right after it is sampled, and stays in the ids
  const sid = generate(m, P, { ...opts, ignoreEos: true, stopTokenIds: [g[4]] });
  assert.deepEqual(sid.ids[0], g.slice(0, g.indexOf(g[4]) + 1));
  assert.deepEqual([sid.finishReason[0], sid.stopReason[0]], ["stop", g[4]]);

  // EOS comes from the tokenizer (or config), and ignore_eos turns it off
  const eos = generate(m, P, { ...opts, tokenizer: letters(g[5]) });
  assert.deepEqual(eos.ids[0], g.slice(0, g.indexOf(g[5]) + 1));
  assert.equal(eos.finishReason[0], "stop");
  assert.equal(generate(m, P, { ...opts, tokenizer: letters(g[5]), ignoreEos: true }).lengths[0], 8);

  // a stop string ends the row once its text contains it; the text is cut before it (or after, if asked)
  const s = text(8).slice(-3, -1);
  let k = 1;
  while (!text(k).includes(s)) k++;
  const st = generate(m, P, { ...opts, ignoreEos: true, stop: [s, "@@"] });
  assert.deepEqual(st.ids[0], g.slice(0, k));
  assert.equal(st.text![0], text(k).slice(0, text(k).indexOf(s)));
  assert.deepEqual([st.finishReason[0], st.stopReason[0]], ["stop", s]);
  const keep = generate(m, P, { ...opts, ignoreEos: true, stop: s, includeStopStrInOutput: true });
  assert.equal(keep.text![0], text(k).slice(0, text(k).indexOf(s) + s.length));
  m.dispose();
});

test("generate leaves no tensors behind, and bad options fail with the field", () => {
  const m = randomModel(micro, 7);
  generate(m, [[1, 2]], { maxNewTokens: 2 }); // warm-up
  const n0 = tf.memory().numTensors;
  generate(m, [[1, 2], [3]], { n: 2, maxNewTokens: 6, topP: 0.9, minP: 0.05 });
  assert.equal(tf.memory().numTensors, n0);
  assert.throws(
    () => generate(m, [[1, 2]], { maxNewTokens: 0 }),
    /maxNewTokens is invalid \(got 0; expected an integer >= 1\)/,
  );
  assert.throws(() => generate(m, ["ab"]), /pass options.tokenizer/i);
  assert.throws(() => generate(m, [[1, 2]], { stop: ["x"] }), /stop is invalid .*tokenizer/);
  assert.throws(() => generate(m, [[1, 99]]), /prompts\[0\] is invalid \(got 99/);
  assert.throws(() => generate(m, [[]]), /at least one token/);
  assert.throws(
    () => generate(m, [[1, 2]], { maxNewTokens: 64 }),
    /prompt \+ maxNewTokens <= max_position_embeddings \(64\)/,
  );
  assert.throws(() => generate(m, [[1, 2]], { topP: 1.5 }), /topP is invalid/);
  assert.equal(tf.memory().numTensors, n0);
  m.dispose();
});
