// The WebGPU backend (tfjs-backend-webgpu on Dawn) computes what wasm computes: a forward pass, logprobs (read
// synchronously, as cellrl does) and one GRPO step (sampled tokens, metrics and updated weights), within float32
// tolerance, without leaking tensors. On a machine without a GPU it runs on Mesa's llvmpipe through Dawn's OpenGL
// backend. No adapter: the tests skip with the reason, or fail when CELLRL_REQUIRE_WEBGPU=1 (CI).
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/core/backend.js";
import { Rng } from "../../lib/core/random.js";
import { AdamW } from "../../lib/model/optim.js";
import { logprobs } from "../../lib/model/logprobs.js";
import { grpoStep } from "../../lib/update/index.js";
import { digitReward, PROMPTS, TARGETS, tinyModel, tinyPolicy } from "../update/fixture.js";
import { close } from "../update/setup.js";

let unavailable: string | null = null;

async function on<T>(name: "wasm" | "webgpu", f: () => T | Promise<T>): Promise<T> {
  await useBackend({ force: name });
  assert.equal(tf.getBackend(), name);
  return f();
}

describe("webgpu backend vs wasm", () => {
  before(async () => {
    try {
      const info = await useBackend({ force: "webgpu" });
      console.log(`# webgpu: ${info.notes.join("; ")}`);
    } catch (e) {
      unavailable = (e as Error).message;
    }
    await useBackend({ force: "wasm" });
  });
  const need = (t: { skip(m: string): void }): boolean => {
    if (unavailable === null) return true;
    if (process.env.CELLRL_REQUIRE_WEBGPU === "1")
      assert.fail(`CELLRL_REQUIRE_WEBGPU=1 but no WebGPU adapter: ${unavailable}`);
    t.skip(`no WebGPU adapter: ${unavailable}`);
    return false;
  };

  test("a forward pass gives wasm's logits; no tensors leak", async (t) => {
    if (!need(t)) return;
    const ids = [
      [0, 5, 1, 2, 3, 4],
      [5, 4, 3, 2, 1, 0],
    ];
    const attentionMask = [
      [0, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1],
    ];
    const run = async () => {
      const m = tinyModel(7);
      const n0 = tf.memory().numTensors;
      const logits = tf.tidy(() => m.forward({ ids, attentionMask }).logits);
      const out = await logits.data();
      logits.dispose();
      assert.equal(tf.memory().numTensors, n0, "forward leaks no tensors");
      m.dispose();
      return out;
    };
    const want = await on("wasm", run);
    const got = await on("webgpu", run);
    assert.ok(got.some((v) => v !== 0) && got.every(Number.isFinite));
    close(got, want, 1e-4, "logits");
  });

  test("logprobs and entropy (synchronous reads) match wasm", async (t) => {
    if (!need(t)) return;
    const batch = {
      ids: [
        [1, 5, 2, 0, 3],
        [4, 5, 4, 4, 1],
        [2, 5, 3, 1, 0],
      ],
      responseMask: [
        [0, 0, 1, 1, 1],
        [0, 0, 1, 1, 0],
        [0, 0, 1, 1, 1],
      ],
    };
    const run = () => {
      const m = tinyModel(11);
      const n0 = tf.memory().numTensors;
      const r = logprobs(m, batch, { temperature: 0.7, topK: 2 });
      assert.equal(tf.memory().numTensors, n0, "logprobs leaks no tensors");
      m.dispose();
      return r;
    };
    const want = await on("wasm", run);
    const got = await on("webgpu", run);
    for (let i = 0; i < 3; i++) {
      close(got.logp[i], want.logp[i], 1e-4, `logp[${i}]`);
      close(got.entropy![i], want.entropy![i], 1e-4, `entropy[${i}]`);
    }
    assert.ok(want.topK && want.topK.ids[0][2].length === 2, "top-2 ids were reported");
    assert.deepEqual(got.topK!.ids, want.topK.ids, "top-2 token ids");
    for (let i = 0; i < 3; i++) close(got.topK!.logp[i].flat(), want.topK.logp[i].flat(), 1e-4, `topK.logp[${i}]`);
  });

  test("one GRPO step: same samples, metrics and updated weights as wasm; no tensors leak", async (t) => {
    if (!need(t)) return;
    const run = async () => {
      const n0 = tf.memory().numTensors;
      const p = tinyPolicy(3);
      const opt = new AdamW(p.model.namedVariables(), { lr: 1e-2, weightDecay: 0 });
      const r = await grpoStep(
        { policy: p, opt, prompts: PROMPTS, reward: digitReward, columns: { target: TARGETS }, step: 0 },
        {
          n: 4,
          sampling: { maxNewTokens: 3, temperature: 1 },
          thresholds: { truncFrac: null },
          rng: new Rng(5),
          epochs: 1,
          miniBatchSize: 10,
          entropyCoef: 0.01,
        },
      );
      const weights = [...p.model.namedVariables()].map(([name, v]) => [name, v.dataSync().slice()] as const);
      p.model.dispose();
      opt.dispose();
      assert.equal(tf.memory().numTensors, n0, "grpoStep leaks no tensors (model and optimizer state disposed)");
      return { r, weights };
    };
    const want = await on("wasm", run);
    const got = await on("webgpu", run);
    assert.deepEqual(got.r.rollout.responses, want.r.rollout.responses, "the same tokens were sampled");
    assert.deepEqual(Array.from(got.r.rewards), Array.from(want.r.rewards));
    close(got.r.adv, want.r.adv, 1e-5, "advantages");
    const keys = Object.keys(want.r.metrics).filter((k) => !k.startsWith("time/") && !k.startsWith("perf/"));
    assert.deepEqual(
      keys.filter((k) => !(k in got.r.metrics)),
      [],
      "same metric names",
    );
    for (const k of keys) if (Number.isFinite(want.r.metrics[k])) close(got.r.metrics[k], want.r.metrics[k], 2e-3, k);
    assert.ok(want.r.metrics["update/optimizerSteps"] >= 2, "the step updated the weights");
    for (let i = 0; i < want.weights.length; i++) {
      assert.equal(got.weights[i][0], want.weights[i][0]);
      close(got.weights[i][1], want.weights[i][1], 1e-4, got.weights[i][0]);
    }
  });
});
