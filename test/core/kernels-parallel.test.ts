import { test } from "node:test";
import assert from "node:assert/strict";
import { isMainThread } from "node:worker_threads";
import * as tf from "@tensorflow/tfjs";
import { fastKernelState, workerGroup, type WorkerContext } from "../../lib/core/kernels/index.js";

// This file is also the worker module: in a worker thread it only provides these functions.

/** Each rank contributes rank+1 (and 10*(rank+1)); the mean is checked by the main thread. */
export function meanOf(_: unknown, ctx: WorkerContext): { values: number[][]; kernels: string[]; tensors: number } {
  const a = tf.fill([2, 3], ctx.rank + 1);
  const b = tf.tensor1d([10 * (ctx.rank + 1), -1]);
  const before = tf.memory().numTensors;
  const out = ctx.allReduce!.mean([a, b]);
  const values = out.map((t) => Array.from(t.dataSync()));
  tf.dispose(out);
  const tensors = tf.memory().numTensors - before;
  tf.dispose([a, b]);
  return { values, kernels: fastKernelState().kernels, tensors };
}

/** Rank 1's values reach every rank. */
export function broadcastOf(_: unknown, ctx: WorkerContext): number[] {
  const x = tf.tensor1d([ctx.rank * 2 + 1, ctx.rank * 3]);
  const [y] = ctx.allReduce!.broadcast([x], 1);
  const v = Array.from(y.dataSync());
  tf.dispose([x, y]);
  return v;
}

/** Rank 1 fails before the exchange: rank 0 must get an error, not wait forever. */
export function failOnOne(_: unknown, ctx: WorkerContext): number {
  if (ctx.rank === 1) throw new Error("boom on rank 1");
  const x = tf.scalar(1);
  try {
    ctx.allReduce!.mean([x]);
  } finally {
    x.dispose();
  }
  return 0;
}

if (isMainThread) {
  test("workerGroup: two wasm workers with fast kernels average and broadcast tensors through shared memory", async () => {
    const g = await workerGroup(__filename, { workers: 2, reduceFloats: 16 });
    try {
      const res = await g.all<ReturnType<typeof meanOf>>("meanOf");
      for (const r of res) {
        assert.deepEqual(r.values, [
          [1.5, 1.5, 1.5, 1.5, 1.5, 1.5],
          [15, -1],
        ]);
        assert.ok(r.kernels.includes("BatchMatMul"));
        assert.equal(r.tensors, 0);
      }
      assert.deepEqual(await g.all("broadcastOf"), [
        [3, 3],
        [3, 3],
      ]);
      await assert.rejects(g.all("failOnOne"), /boom on rank 1|another worker failed/);
    } finally {
      await g.close();
    }
  });

  test("workerGroup: a missing function and a too-large exchange are clear errors", async () => {
    const g = await workerGroup(__filename, { workers: 1, reduceFloats: 2 });
    try {
      await assert.rejects(g.all("nope"), /exports no function "nope"/);
      await assert.rejects(g.all("meanOf"), /exceed the group's capacity 2/);
    } finally {
      await g.close();
    }
  });
}

if (isMainThread) {
  test("ParallelTrainer: 2 workers take the same AdamW steps as one process on the whole batch (token-weighted)", async () => {
    const { LlamaModel } = await import("../../lib/model/llama.js");
    const { AdamW } = await import("../../lib/model/optim.js");
    const { ParallelTrainer, parallelNllLoss } = await import("../../lib/model/parallel.js");
    const { Rng } = await import("../../lib/core/random.js");
    const { useBackend } = await import("../../lib/core/backend.js");
    await useBackend({ force: "wasm" });
    const rng = new Rng(7);
    const B = 5,
      T = 9;
    const batch = {
      ids: Array.from({ length: B }, () => Array.from({ length: T }, () => rng.int(32))),
      // left padding of different lengths: the two halves have different token counts, so weighting matters
      attentionMask: Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => (t >= b ? 1 : 0))),
    };
    const m = new LlamaModel("micro", { rng: new Rng(0) });
    const ref = m.clone({ trainable: true });
    const opt = new AdamW(ref.namedVariables(), { lr: 1e-2 });
    const refLoss: number[] = [];
    for (let s = 0; s < 2; s++) {
      const r = opt.minimize(() => (parallelNllLoss(ref, batch) as { loss: tf.Scalar }).loss);
      refLoss.push(r.loss);
    }
    const pt = await ParallelTrainer.create(m, { workers: 2, optimizer: { lr: 1e-2 } });
    const got: number[] = [];
    try {
      for (let s = 0; s < 2; s++) {
        const r = await pt.step(batch);
        assert.deepEqual(r.rows, [3, 2]);
        got.push(r.loss);
      }
      const sums = await pt.replicaChecksums();
      assert.equal(sums[0], sums[1]); // replicas bit-identical
      await pt.syncTo();
    } finally {
      await pt.close();
    }
    got.forEach((l, i) => assert.ok(Math.abs(l - refLoss[i]) < 1e-5, `loss ${i}: ${l} vs ${refLoss[i]}`));
    const a = m.namedVariables(),
      b = ref.namedVariables();
    let maxDiff = 0,
      moved = 0;
    const init = new LlamaModel("micro", { rng: new Rng(0) }).namedVariables();
    for (const [n, v] of a) {
      const x = v.dataSync(),
        y = b.get(n)!.dataSync(),
        z = init.get(n)!.dataSync();
      for (let i = 0; i < x.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(x[i] - y[i]));
        moved = Math.max(moved, Math.abs(x[i] - z[i]));
      }
    }
    assert.ok(moved > 1e-3, `the weights did not move (${moved})`);
    assert.ok(maxDiff < 2e-5, `parallel and single-process weights differ by ${maxDiff}`);
    opt.dispose?.();
    m.dispose();
    ref.dispose();
  });
}
