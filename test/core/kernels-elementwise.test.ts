import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/core/backend.js";

// Deterministic inputs: a fixed integer hash mapped to [-scale, scale).
function values(n: number, salt: number, scale = 3): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let h = Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(salt + 7, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
    v[i] = (((h >>> 8) / (1 << 24)) * 2 - 1) * scale;
  }
  return v;
}

const size = (s: number[]) => s.reduce((p, d) => p * d, 1);

/** Run f on fresh tensors with the fast kernels, then with the stock ones; compare element by element. */
async function sameAsStock(
  label: string,
  shapes: number[][],
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  rtol = 2e-6,
): Promise<void> {
  const data = shapes.map((s, i) => values(size(s), i + 1));
  const run = () => {
    const before = tf.memory().numTensors;
    const xs = shapes.map((s, i) => tf.tensor(data[i], s));
    const y = tf.tidy(() => f(...xs));
    const out = { shape: y.shape, dtype: y.dtype, v: Array.from(y.dataSync()) };
    tf.dispose([...xs, y]);
    assert.equal(tf.memory().numTensors, before, `${label}: tensors leaked`);
    return out;
  };
  await useBackend({ force: "wasm" });
  const fast = run();
  await useBackend({ force: "wasm", fastKernels: false });
  const stock = run();
  assert.deepEqual(fast.shape, stock.shape, `${label}: shape`);
  assert.equal(fast.dtype, stock.dtype, `${label}: dtype`);
  for (let i = 0; i < stock.v.length; i++) {
    const [a, b] = [fast.v[i], stock.v[i]];
    assert.ok(a === b || Math.abs(a - b) <= rtol * Math.max(1, Math.abs(b)), `${label}[${i}]: fast ${a} vs stock ${b}`);
  }
}

test("Add/Sub/Multiply/RealDiv: same shape, scalar, suffix-vector and column broadcasts match the stock kernels", async () => {
  const pairs: [number[], number[]][] = [
    [
      [7, 13],
      [7, 13],
    ], // same shape, odd sizes (SIMD tail)
    [[5, 6], []], // scalar right
    [[], [5, 6]], // scalar left (order matters for Sub/RealDiv)
    [[9, 12], [12]], // row vector (RMSNorm weight)
    [[12], [9, 12]],
    [
      [3, 4, 5, 8],
      [5, 8],
    ], // RoPE tables against [B, H, T, hd]
    [
      [9, 12],
      [9, 1],
    ], // column (per-row scale)
    [
      [9, 1],
      [9, 12],
    ],
    [
      [2, 3, 5, 7],
      [2, 3, 5, 1],
    ],
    [[9, 1], [12]], // column against row vector: an outer product layout
    [
      [2, 1, 5],
      [3, 1],
    ], // outer product in the middle
    [
      [1, 6],
      [4, 6],
    ],
    [
      [6, 4, 5],
      [6, 1, 5],
    ], // middle axis: RoPE tables [B*T, 1, hd] against [B*T, H, hd]
    [
      [3, 1, 4, 7],
      [3, 2, 4, 7],
    ], // attention mask [B, 1, T, S] against [B, H, T, S]
    [
      [2, 1, 3, 1, 5],
      [1, 4, 1, 6, 1],
    ], // 5 alternating dims: more than 3 after merging, stock path
    [[1], [1]],
  ];
  for (const [sa, sb] of pairs) {
    await sameAsStock(`add [${sa}]+[${sb}]`, [sa, sb], (a, b) => tf.add(a, b));
    await sameAsStock(`sub [${sa}]-[${sb}]`, [sa, sb], (a, b) => tf.sub(a, b));
    await sameAsStock(`mul [${sa}]*[${sb}]`, [sa, sb], (a, b) => tf.mul(a, b));
    await sameAsStock(`div [${sa}]/[${sb}]`, [sa, sb], (a, b) => tf.div(a, b), 1e-5);
  }
});

test("binary ops keep int32 semantics (handed to the stock kernel)", async () => {
  await useBackend({ force: "wasm" });
  const a = tf.tensor1d([7, -3, 5], "int32");
  const b = tf.tensor1d([2, 2, 2], "int32");
  const s = tf.add(a, b);
  assert.equal(s.dtype, "int32");
  assert.deepEqual(Array.from(s.dataSync()), [9, -1, 7]);
  tf.dispose([a, b, s]);
});

test("Exp matches the stock kernel and handles the extremes exactly", async () => {
  for (const shape of [[3], [7, 13], [2, 5, 33]]) await sameAsStock(`exp [${shape}]`, [shape], (x) => tf.exp(x));
  await useBackend({ force: "wasm" });
  const x = tf.tensor1d([-1e9, -100, 0, 1, 88, 100, 1e9, NaN, -50, 10]);
  const y = tf.exp(x);
  const e = Array.from(y.dataSync());
  assert.equal(e[0], 0); // a -1e9 attention mask must give exactly 0
  assert.equal(e[1], 0); // far below: 0, not a slow denormal
  assert.equal(e[2], 1);
  assert.ok(Math.abs(e[3] - Math.E) < 1e-6);
  assert.ok(Math.abs(e[4] / Math.exp(88) - 1) < 1e-6);
  assert.equal(e[5], Infinity);
  assert.equal(e[6], Infinity);
  assert.ok(Number.isNaN(e[7]));
  assert.ok(Math.abs(e[8] / Math.exp(-50) - 1) < 1e-6);
  assert.ok(Math.abs(e[9] / Math.exp(10) - 1) < 1e-6);
  tf.dispose([x, y]);
});

test("Softmax (stock kernel) still gives exact zeros for -1e9 masked entries", async () => {
  await sameAsStock("masked softmax", [[4, 9]], (x) =>
    tf.softmax(tf.add(x, tf.tensor2d([[0, 0, -1e9, 0, -1e9, 0, 0, 0, -1e9]]))),
  );
  await useBackend({ force: "wasm" });
  const p = tf.softmax(tf.tensor2d([[1, 2, 3, -1e9]]));
  const v = Array.from(p.dataSync());
  const z = Math.exp(1) + Math.exp(2) + Math.exp(3);
  [Math.exp(1) / z, Math.exp(2) / z, Math.exp(3) / z, 0].forEach((w, i) =>
    assert.ok(Math.abs(v[i] - w) < 1e-7, `p[${i}]`),
  );
  p.dispose();
});

test("Sum/Mean over trailing, leading, all and middle axes match the stock kernels", async () => {
  const cases: [number[], number | number[], boolean][] = [
    [[6, 13], -1, false],
    [[6, 13], 1, true],
    [[2, 3, 7], [1, 2], false], // trailing pair
    [[9, 12], 0, false], // bias gradient
    [[2, 3, 7], [0, 1], true],
    [[5, 7], [0, 1], false], // all
    [[2, 3, 7], 1, false], // middle axis: stock path
  ];
  for (const [shape, axis, keep] of cases) {
    await sameAsStock(`sum [${shape}] ${axis}`, [shape], (x) => tf.sum(x, axis, keep), 1e-5);
    await sameAsStock(`mean [${shape}] ${axis}`, [shape], (x) => tf.mean(x, axis, keep), 1e-5);
  }
  await useBackend({ force: "wasm" });
  const m = tf.mean(
    tf.tensor2d([
      [1, 2, 3, 4],
      [10, 20, 30, 40],
    ]),
    -1,
  );
  assert.deepEqual(Array.from(m.dataSync()), [2.5, 25]);
  const c = tf.sum(
    tf.tensor2d([
      [1, 2],
      [10, 20],
      [100, 200],
    ]),
    0,
  );
  assert.deepEqual(Array.from(c.dataSync()), [111, 222]);
  tf.dispose([m, c]);
});

test("gradients through softmax, exp, mean and broadcast multiply equal the stock kernels'", async () => {
  const loss = (x: tf.Tensor, w: tf.Tensor) =>
    tf.grads(
      (a: tf.Tensor, b: tf.Tensor) => tf.mean(tf.mul(tf.softmax(tf.mul(a, b)), tf.exp(tf.mul(a, 0.3)))) as tf.Scalar,
    )([x, w]);
  const xs = values(8 * 11, 5),
    ws = values(11, 6);
  const run = () => {
    const x = tf.tensor2d(xs, [8, 11]),
      w = tf.tensor1d(ws);
    const g = loss(x, w);
    const out = g.map((t) => Array.from(t.dataSync()));
    tf.dispose([x, w, ...g]);
    return out;
  };
  await useBackend({ force: "wasm" });
  const fast = run();
  await useBackend({ force: "wasm", fastKernels: false });
  const stock = run();
  await useBackend({ force: "wasm" });
  for (let p = 0; p < 2; p++)
    for (let i = 0; i < stock[p].length; i++)
      assert.ok(Math.abs(fast[p][i] - stock[p][i]) <= 1e-7 + 1e-5 * Math.abs(stock[p][i]), `grad ${p}[${i}]`);
});

// Oracle for transpose: out[idx] = x[idx permuted back], by index arithmetic.
function naiveTranspose(v: ArrayLike<number>, shape: number[], perm: number[]): number[] {
  const out: number[] = [];
  const os = perm.map((p) => shape[p]);
  const xs = shape.map((_, d) => shape.slice(d + 1).reduce((p, x) => p * x, 1));
  for (let f = 0; f < size(os); f++) {
    let rem = f,
      off = 0;
    for (let d = os.length - 1; d >= 0; d--) {
      off += (rem % os[d]) * xs[perm[d]];
      rem = Math.floor(rem / os[d]);
    }
    out.push(v[off]);
  }
  return out;
}

test("Transpose keeping the last axis (head split/merge) gives index-arithmetic values, int32 included", async () => {
  await useBackend({ force: "wasm" });
  const cases: [number[], number[]][] = [
    [
      [2, 5, 3, 8],
      [0, 2, 1, 3],
    ], // [B, T, H, hd] -> [B, H, T, hd]
    [
      [2, 3, 5, 6],
      [0, 2, 1, 3],
    ],
    [
      [3, 4, 5, 4],
      [2, 0, 1, 3],
    ],
    [
      [4, 6, 5],
      [1, 0, 2],
    ],
    [
      [6, 7],
      [0, 1],
    ],
    [
      [3, 5, 2],
      [1, 0, 2],
    ], // run of 2 floats: stock path
    [
      [3, 4],
      [1, 0],
    ], // last axis moves: stock path
  ];
  const before = tf.memory().numTensors;
  for (const [shape, perm] of cases)
    for (const dtype of ["float32", "int32"] as const) {
      const v = Array.from({ length: size(shape) }, (_, i) => (dtype === "int32" ? i * 3 - 7 : i * 0.25 - 1));
      const x = tf.tensor(v, shape, dtype);
      const y = tf.transpose(x, perm);
      assert.deepEqual(
        y.shape,
        perm.map((p) => shape[p]),
      );
      assert.equal(y.dtype, dtype);
      assert.deepEqual(Array.from(y.dataSync()), naiveTranspose(v, shape, perm), `${dtype} [${shape}] perm [${perm}]`);
      tf.dispose([x, y]);
    }
  const x = tf.tensor(values(2 * 3 * 4 * 8, 9), [2, 3, 4, 8]);
  const w = tf.tensor(values(2 * 4 * 3 * 8, 10), [2, 4, 3, 8]);
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.transpose(t, [0, 2, 1, 3]), w)))(x);
  assert.deepEqual(Array.from(g.dataSync()), naiveTranspose(Array.from(w.dataSync()), [2, 4, 3, 8], [0, 2, 1, 3]));
  tf.dispose([x, w, g]);
  assert.equal(tf.memory().numTensors, before);
});
