import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../lib/core/random.js";
import { generate } from "../../lib/model/generate.js";
import { LlamaModel } from "../../lib/model/llama.js";
import { logprobTensors } from "../../lib/model/logprobs.js";
import { CharTokenizer } from "../../lib/model/tokenizer-char.js";
import { setup } from "./model-helpers.js";

before(setup);

test("SFT (masked cross-entropy + Adam) memorises 20 sums in under 200 steps; greedy decoding reproduces them", (t) => {
  const tok = CharTokenizer.fromAlphabet("0123456789+=");
  const rng = new Rng(0);
  const pairs = Array.from({ length: 20 }, () => [rng.int(50), rng.int(50)]);
  const prompts = pairs.map(([a, b]) => tok.encode(`${a}+${b}=`));
  const answers = pairs.map(([a, b]) => [...tok.encode(String(a + b)), tok.eosTokenId!]);
  // verl layout: prompt left-padded to P, response right-padded to R
  const P = Math.max(...prompts.map((p) => p.length));
  const R = Math.max(...answers.map((a) => a.length));
  const ids: number[][] = [], attentionMask: number[][] = [], responseMask: number[][] = [];
  for (let i = 0; i < 20; i++) {
    const p = prompts[i], a = answers[i];
    ids.push([...Array(P - p.length).fill(0), ...p, ...a, ...Array(R - a.length).fill(0)]);
    attentionMask.push([...Array(P - p.length).fill(0), ...p.map(() => 1), ...a.map(() => 1), ...Array(R - a.length).fill(0)]);
    responseMask.push([...Array(P).fill(0), ...a.map(() => 1), ...Array(R - a.length).fill(0)]);
  }
  const m = new LlamaModel(
    { hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 128, vocab_size: tok.vocabSize, max_position_embeddings: 32 },
    { rng: new Rng(1) },
  );
  const opt = tf.train.adam(3e-3);
  const batch = { ids, attentionMask, responseMask };
  let step = 0;
  let loss = Infinity;
  for (; step < 200 && loss > 0.02; step++) {
    const l = opt.minimize(() => {
      const { logp, mask } = logprobTensors(m, batch);
      return tf.neg(tf.div(tf.sum(logp), tf.sum(mask))) as tf.Scalar; // mean NLL per response token
    }, true, m.trainableVariables())!;
    loss = l.dataSync()[0];
    l.dispose();
  }
  t.diagnostic(`loss ${loss.toFixed(4)} after ${step} steps`);
  assert.ok(loss <= 0.02, `loss ${loss} after ${step} steps`);
  const out = generate(m, prompts, { tokenizer: tok, temperature: 0, max_new_tokens: R + 2 });
  assert.deepEqual(out.ids, answers);
  assert.deepEqual(out.text, pairs.map(([a, b]) => String(a + b)));
  assert.deepEqual(out.finishReason, Array(20).fill("stop"));
  opt.dispose();
  m.dispose();
});
