import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../lib/core/random.js";
import { generate } from "../../lib/model/generate.js";
import { LlamaModel } from "../../lib/model/llama.js";
import { logprobTensors } from "../../lib/model/logprobs.js";
import { AdamW } from "../../lib/model/optim.js";
import { CharTokenizer } from "../../lib/model/tokenizer-char.js";
import { sftStep } from "../../lib/update/index.js";
import { setup } from "./model-helpers.js";

before(setup);

/** 20 sums "a+b=" → "c<eos>" in verl's layout (prompt left-padded to P, response right-padded to R) and a fresh model. */
function sumsTask() {
  const tok = CharTokenizer.fromAlphabet("0123456789+=");
  const rng = new Rng(0);
  const pairs = Array.from({ length: 20 }, () => [rng.int(50), rng.int(50)]);
  const prompts = pairs.map(([a, b]) => tok.encode(`${a}+${b}=`));
  const answers = pairs.map(([a, b]) => [...tok.encode(String(a + b)), tok.eosTokenId!]);
  const P = Math.max(...prompts.map((p) => p.length));
  const R = Math.max(...answers.map((a) => a.length));
  const ids: number[][] = [],
    attentionMask: number[][] = [],
    responseMask: number[][] = [];
  for (let i = 0; i < 20; i++) {
    const p = prompts[i],
      a = answers[i];
    ids.push([...Array(P - p.length).fill(0), ...p, ...a, ...Array(R - a.length).fill(0)]);
    attentionMask.push([
      ...Array(P - p.length).fill(0),
      ...p.map(() => 1),
      ...a.map(() => 1),
      ...Array(R - a.length).fill(0),
    ]);
    responseMask.push([...Array(P).fill(0), ...a.map(() => 1), ...Array(R - a.length).fill(0)]);
  }
  const m = new LlamaModel(
    {
      hidden_size: 64,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      intermediate_size: 128,
      vocab_size: tok.vocabSize,
      max_position_embeddings: 32,
    },
    { rng: new Rng(1) },
  );
  return { tok, pairs, prompts, answers, R, m, batch: { ids, attentionMask, responseMask } };
}

function assertMemorised(task: ReturnType<typeof sumsTask>): void {
  const { m, prompts, tok, R, answers, pairs } = task;
  const out = generate(m, prompts, { tokenizer: tok, temperature: 0, maxNewTokens: R + 2 });
  assert.deepEqual(out.ids, answers);
  assert.deepEqual(
    out.text,
    pairs.map(([a, b]) => String(a + b)),
  );
  assert.deepEqual(out.finishReason, Array(20).fill("stop"));
}

// The model alone: its differentiable logprobs + a hand loss + tfjs's own Adam (no cellrl optimizer or update code).
test("the model's logprobs train with a hand masked cross-entropy and tf.train.adam: memorises 20 sums in under 200 steps", (t) => {
  const task = sumsTask();
  const { m, batch } = task;
  const opt = tf.train.adam(3e-3);
  let step = 0;
  let loss = Infinity;
  for (; step < 200 && loss > 0.02; step++) {
    const l = opt.minimize(
      () => {
        const { logp, mask } = logprobTensors(m, batch);
        return tf.neg(tf.div(tf.sum(logp), tf.sum(mask))) as tf.Scalar; // mean NLL per response token
      },
      true,
      m.trainableVariables(),
    )!;
    loss = l.dataSync()[0];
    l.dispose();
  }
  t.diagnostic(`loss ${loss.toFixed(4)} after ${step} steps`);
  assert.ok(loss <= 0.02, `loss ${loss} after ${step} steps`);
  assertMemorised(task);
  opt.dispose();
  m.dispose();
});

// The library's own path: model.AdamW + update.sftStep (update.sftLoss under update.step), as a notebook would write it.
test("SFT through the library (model.AdamW + update.sftStep) memorises the 20 sums in under 200 steps, leaking no tensors", (t) => {
  const task = sumsTask();
  const { m, batch } = task;
  const opt = new AdamW(m.namedVariables(), { lr: 3e-3, weightDecay: 0 });
  let step = 0;
  let loss = Infinity;
  let n0 = 0;
  for (; step < 200 && loss > 0.02; step++) {
    if (step === 1) n0 = tf.memory().numTensors; // after the first step created the optimizer moments
    const met = sftStep({ policy: m, opt, batch });
    loss = met["update/sftLoss"];
    assert.ok(Number.isFinite(met["update/gradNorm"]) && met["update/lr"] === 3e-3);
  }
  assert.equal(tf.memory().numTensors, n0);
  t.diagnostic(`sftStep: loss ${loss.toFixed(4)} after ${step} steps`);
  assert.ok(loss <= 0.02, `loss ${loss} after ${step} steps`);
  assertMemorised(task);
  opt.dispose();
  m.dispose();
});
