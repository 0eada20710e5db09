import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/core/backend.js";
import { Rng } from "../../lib/core/random.js";
import { kernelThreadCount, setKernelThreads } from "../../lib/core/kernels/index.js";
import { withSharedMemory } from "../../lib/core/kernels/shared-memory.js";
import { kernelThreadSplits, runParts, splitRange } from "../../lib/core/kernels/threads.js";
import { kernelInstance, scratch, type WasmBackendInternals } from "../../lib/core/kernels/wasm-backend.js";
import { generate } from "../../lib/model/generate.js";
import { LlamaModel } from "../../lib/model/llama.js";
import { logprobTensors } from "../../lib/model/logprobs.js";
import { AdamW } from "../../lib/model/optim.js";

// Kernel threads must change speed only: every op is cut so each output element is computed by the same instructions
// in the same order as on one thread. These tests compare bits, not tolerances.

const bits = (t: tf.Tensor) => Array.from(new Uint32Array(new Float32Array(t.dataSync()).buffer));

/** Run `f` at 1 and at 2 kernel threads and return both results as raw float bits. */
async function atOneAndTwo(f: () => tf.Tensor | tf.Tensor[]): Promise<[number[][], number[][]]> {
  const out: number[][][] = [];
  for (const n of [1, 2]) {
    await setKernelThreads(n);
    assert.equal(kernelThreadCount(), n);
    const r = tf.tidy(f);
    const list = Array.isArray(r) ? r : [r];
    out.push(list.map(bits));
    tf.dispose(list);
  }
  return [out[0], out[1]];
}

test("useBackend({threads}) starts kernel threads on a shared tfjs heap and says so", async () => {
  const info = await useBackend({ threads: 2 });
  assert.ok(info.notes.includes("kernel threads: 2 (matmul, elementwise, exp, sums and transposes split per op)"));
  const be = tf.backend() as unknown as WasmBackendInternals;
  assert.ok(be.wasm.asm.memory.buffer instanceof SharedArrayBuffer, "the heap is a SharedArrayBuffer");
  assert.equal(kernelThreadCount(), 2);
  assert.equal(info.threads, 2);
  const one = await useBackend({ threads: 1 });
  assert.equal(one.threads, 1);
  assert.ok(one.notes.includes("kernel threads: 1"));
  assert.equal(kernelThreadCount(), 1);
});

test("a bad thread count is a clear error naming the option", async () => {
  await assert.rejects(() => useBackend({ threads: 0 }), /threads must be an integer from 1 to 64 \(got 0\)/);
  await assert.rejects(() => useBackend({ threads: 2.5 }), /threads must be an integer/);
});

test("matmul at 2 threads equals 1 thread bit for bit, for every path and cut", async () => {
  await useBackend({ threads: 2 });
  const rng = new Rng(7);
  const r = (shape: number[]) => tf.tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape); // prettier-ignore
  const cases: [number[], number[], boolean, boolean][] = [
    [[300, 64], [64, 90], false, false], // rows cut (M >= N)
    [[40, 64], [300, 64], false, true], // columns cut (N > M), transposed B
    [[700, 37], [700, 45], true, false], // transposed A, K > 512 (blocked)
    [[6, 33, 16], [6, 16, 29], false, false], // batch cut
    [[3, 40, 64], [64, 50], false, false], // shared B: batch folded into rows
    [[2, 64, 40], [1, 64, 50], true, false], // shared B with transposed A
    [[1, 40, 64], [3, 64, 50], false, false], // shared A
    [[2, 1, 40, 32], [1, 3, 32, 30], false, false], // general broadcast of batch dims
    [[3, 600], [600, 700], false, false], // M < 4, B as stored: columns cut in fours
    [[2, 600], [700, 600], false, true], // M < 4, B transposed: decode q @ K^T
    [[64, 0], [0, 300], false, false], // K = 0 gives zeros
  ];
  for (const [sa, sb, ta, tb] of cases) {
    const a = r(sa);
    const b = r(sb);
    const [one, two] = await atOneAndTwo(() => tf.matMul(a, b, ta, tb));
    assert.deepEqual(two, one, `matMul ${sa} x ${sb} transposeA=${ta} transposeB=${tb}`);
    tf.dispose([a, b]);
  }
});

test("elementwise ops, exp, sums and transposes at 2 threads equal 1 thread bit for bit", async () => {
  await useBackend({ threads: 2 });
  const rng = new Rng(8);
  const r = (shape: number[]) => tf.tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape); // prettier-ignore
  const x = r([33, 40, 31]);
  const y = r([33, 1, 31]);
  const z = r([40, 31]);
  const flat = r([100003]);
  const heads = r([1, 300, 4, 16]);
  const heads4 = r([4, 256, 8, 16]); // outer dims 4 x 8: fewer than the chunks, so the cut must not go inside them
  const few = r([3, 400, 31]);
  const fewCol = r([3, 1, 31]);
  const [one, two] = await atOneAndTwo(() => [
    tf.add(x, y),
    tf.sub(x, z),
    tf.mul(x, x),
    tf.div(x, tf.abs(y).add(1)),
    tf.mul(flat, flat),
    tf.exp(x),
    tf.exp(flat),
    tf.sum(x, -1),
    tf.mean(x, [1, 2]),
    tf.sum(x, 0),
    tf.mean(x.reshape([33 * 40, 31]), 0),
    tf.transpose(x.reshape([33, 40, 1, 31]), [0, 2, 1, 3]),
    tf.transpose(heads, [0, 2, 1, 3]),
    tf.transpose(heads4, [0, 2, 1, 3]),
    tf.add(few, fewCol),
    tf.mul(few, few),
  ]);
  assert.deepEqual(two, one);
  tf.dispose([x, y, z, flat, heads, heads4, few, fewCol]);
});

test("a seeded model replays exactly at 1 and 2 threads: samples, log-probs, one AdamW step; no tensor leaks", async () => {
  await useBackend({ threads: 2 });
  const config = {
    hidden_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    intermediate_size: 160,
    vocab_size: 48,
    max_position_embeddings: 64,
  };
  const runs: { samples: number[][]; logp: number[]; weights: number[] }[] = [];
  for (const n of [1, 2]) {
    await setKernelThreads(n);
    const model = new LlamaModel(config, { rng: new Rng(3) });
    const before = tf.memory().numTensors;
    const splits = kernelThreadSplits();
    const out = generate(
      model,
      [
        [1, 2, 3],
        [4, 5],
      ],
      { n: 4, maxNewTokens: 12, temperature: 1, seed: 11 },
    );
    const ids = out.ids;
    const opt = new AdamW(model.namedVariables(), { lr: 1e-2 });
    const batch = ids.map((row) => row.slice(0, 10).concat(new Array(Math.max(0, 10 - row.length)).fill(0)));
    const lp = tf.tidy(() => logprobTensors(model, { ids: batch }).logp);
    const logp = bits(lp);
    lp.dispose();
    opt.minimize(() => {
      const { logp, mask } = logprobTensors(model, { ids: batch });
      return tf.neg(tf.div(tf.sum(logp), tf.sum(mask))) as tf.Scalar;
    });
    const weights = [...model.namedVariables().values()].flatMap((v) => bits(v));
    runs.push({ samples: ids, logp, weights });
    if (n === 2) assert.ok(kernelThreadSplits() - splits >= 20, "ops were really split over the threads");
    opt.dispose();
    assert.equal(tf.memory().numTensors - before, 0, `tensors after a step at ${n} thread(s)`);
    model.dispose();
  }
  assert.deepEqual(runs[1].samples, runs[0].samples, "same seed, same samples");
  assert.deepEqual(runs[1].logp, runs[0].logp, "same log-probs, bit for bit");
  assert.deepEqual(runs[1].weights, runs[0].weights, "same weights after one AdamW step, bit for bit");
});

test("a failing kernel thread is an error naming the op, not a hang, and the pool keeps working", async () => {
  await useBackend({ threads: 2 });
  const be = tf.backend() as unknown as WasmBackendInternals;
  const inst = kernelInstance(be);
  const out = scratch(be, inst, 4096);
  const beyond = be.wasm.asm.memory.buffer.byteLength + 65536; // past the heap: the worker's read traps
  assert.throws(
    () =>
      runParts(inst.exports, "expf", [
        [out, out, 16],
        [beyond, out + 64, 16],
      ]),
    /kernel thread failed in expf: chunk 1 on (kernel thread 1|the calling thread): .*memory access out of bounds/,
  );
  const x = tf.ones([1 << 16]);
  const y = tf.exp(x);
  const e = y.dataSync()[0];
  assert.ok(Math.abs(e - Math.E) < 1e-6 && y.dataSync().every((v) => v === e), "exp(1) everywhere, both halves");
  tf.dispose([x, y]);
});

test("splitRange cuts on aligned boundaries and drops empty parts", () => {
  assert.deepEqual(splitRange(10, 2, 4), [
    [0, 8],
    [8, 10],
  ]);
  assert.deepEqual(splitRange(3, 4, 1), [
    [0, 1],
    [1, 2],
    [2, 3],
  ]);
  assert.deepEqual(splitRange(7, 2, 8), [[0, 7]]);
  assert.deepEqual(splitRange(16, 2, 4), [
    [0, 8],
    [8, 16],
  ]);
});

test("withSharedMemory marks defined and imported memories shared and refuses non-wasm bytes", () => {
  // (module (memory 1 10)) and (module (import "env" "memory" (memory 0)))
  const defines = Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0, 5, 4, 1, 1, 1, 10]);
  const imports = Uint8Array.from([0, 97, 115, 109, 1, 0, 0, 0, 2, 15, 1, 3, 101, 110, 118, 6, 109, 101, 109, 111, 114, 121, 2, 0, 0]); // prettier-ignore
  assert.deepEqual(Array.from(withSharedMemory(defines)), [0, 97, 115, 109, 1, 0, 0, 0, 5, 4, 1, 3, 1, 10]);
  const WA = (globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean; Memory: new (d: object) => { buffer: ArrayBuffer } } }).WebAssembly; // prettier-ignore
  const patched = withSharedMemory(imports);
  assert.ok(WA.validate(patched));
  assert.deepEqual(Array.from(patched.slice(22)), [2, 3, 0, 0x80, 0x80, 0x04]);
  assert.throws(() => withSharedMemory(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8])), /not a WebAssembly binary/);
});
