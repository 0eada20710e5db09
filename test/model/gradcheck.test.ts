import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../../lib/core/random.js";
import { logprobTensors } from "../../lib/model/logprobs.js";
import type { LlamaConfigInput } from "../../lib/model/config.js";
import { micro, randomModel, setup } from "./model-helpers.js";

before(setup);

const batch = {
  ids: [
    [0, 3, 9, 4, 17, 2, 11],
    [5, 6, 7, 8, 1, 20, 0],
  ],
  attentionMask: [
    [0, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 1, 0],
  ],
  responseMask: [
    [0, 0, 0, 1, 1, 1, 1],
    [0, 0, 1, 1, 1, 1, 0],
  ],
};

/**
 * Central differences (float32 model, step h = 1e-2 on O(0.1-1) weights) against tf.variableGrads on a loss that uses
 * every output of the differentiable path: token logprobs, entropy and hidden states, at temperature 0.9.
 * Tolerance |fd - grad| <= 2e-3 + 2e-2 |grad|: float32 rounding of the loss (~1e-6) over 2h gives ~1e-4 noise, and
 * the O(h^2) truncation term is ~1e-4 here; a wrong gradient term is off by far more (dropping the mean term of the RMSNorm gradient fails every case here).
 */
function gradCheck(cfg: LlamaConfigInput, names: string[]): number {
  const m = randomModel(cfg, 21);
  const rng = new Rng(5);
  const coef = tf.tensor2d(
    Float32Array.from({ length: 14 }, () => rng.normal()),
    [2, 7],
  );
  // Hidden states at padding positions are meaningless (and their float32 forward is flat): weight real tokens only.
  const real = batch.attentionMask.flat().flatMap((a) => new Array(32).fill(a));
  const hcoef = tf.tensor3d(
    Float32Array.from(real, (a) => a * rng.normal() * 0.1),
    [2, 7, 32],
  );
  const loss = () =>
    tf.tidy(() => {
      const { logp, entropy, hidden } = logprobTensors(m, batch, { entropy: true, hidden: true, temperature: 0.9 });
      return tf.addN([
        tf.mean(tf.mul(logp, coef)),
        tf.mul(0.1, tf.mean(entropy!)),
        tf.sum(tf.mul(hidden!, hcoef)).div(20),
      ]) as tf.Scalar;
    });
  const vars = m.namedVariables();
  const { value, grads } = tf.variableGrads(
    loss,
    names.map((n) => vars.get(n)!),
  );
  value.dispose();
  let worst = 0;
  for (const name of names) {
    const v = vars.get(name)!;
    const g = grads[v.name].dataSync();
    const base = Float32Array.from(v.dataSync());
    for (let j = 0; j < 3; j++) {
      const i = rng.int(base.length);
      const at = (delta: number) => {
        const x = base.slice();
        x[i] += delta;
        const t = tf.tensor(x, v.shape);
        v.assign(t);
        t.dispose();
        const l = loss();
        const y = l.dataSync()[0];
        l.dispose();
        return y;
      };
      const h = 1e-2;
      const fd = (at(h) - at(-h)) / (2 * h);
      const t0 = tf.tensor(base, v.shape);
      v.assign(t0);
      t0.dispose();
      const err = Math.abs(fd - g[i]) / (2e-3 + 2e-2 * Math.abs(g[i]));
      worst = Math.max(worst, err);
      assert.ok(err <= 1, `${name}[${i}]: finite difference ${fd} vs gradient ${g[i]}`);
    }
  }
  tf.dispose([coef, hcoef, ...Object.values(grads)]);
  m.dispose();
  return worst;
}

test("gradients match central finite differences (Qwen2: GQA, q/k/v bias, untied head)", () => {
  gradCheck({ ...micro, model_type: "qwen2" }, [
    "model.embed_tokens.weight",
    "model.layers.0.self_attn.q_proj.weight",
    "model.layers.0.self_attn.q_proj.bias",
    "model.layers.0.self_attn.k_proj.weight",
    "model.layers.1.self_attn.k_proj.bias",
    "model.layers.0.self_attn.v_proj.weight",
    "model.layers.1.self_attn.o_proj.weight",
    "model.layers.0.mlp.gate_proj.weight",
    "model.layers.1.mlp.up_proj.weight",
    "model.layers.0.mlp.down_proj.weight",
    "model.layers.0.input_layernorm.weight",
    "model.layers.1.post_attention_layernorm.weight",
    "model.norm.weight",
    "lm_head.weight",
  ]);
});

test("gradients match finite differences with a tied head (embedding used twice)", () => {
  gradCheck({ ...micro, tie_word_embeddings: true }, [
    "model.embed_tokens.weight",
    "model.layers.1.input_layernorm.weight",
  ]);
});

test("a large vocabulary uses the gather/scatterND embedding and logprob paths, with the same gradients", () => {
  gradCheck({ ...micro, vocab_size: 2100 }, [
    "model.embed_tokens.weight",
    "lm_head.weight",
    "model.layers.0.self_attn.q_proj.weight",
  ]);
});

test("one gradient step leaves no tensors behind", () => {
  const m = randomModel(micro, 2);
  const opt = tf.train.adam(1e-3);
  const step = () =>
    tf.tidy(() => {
      opt.minimize(
        () => {
          const { logp, mask } = logprobTensors(m, batch);
          return tf.neg(tf.div(tf.sum(logp), tf.sum(mask))) as tf.Scalar;
        },
        false,
        m.trainableVariables(),
      );
    });
  step(); // Adam creates its moment variables on the first step
  const n0 = tf.memory().numTensors;
  step();
  step();
  assert.equal(tf.memory().numTensors, n0);
  opt.dispose();
  m.dispose();
});
