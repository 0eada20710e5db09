import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../../lib/core/backend.js";
import { fastKernelState, installFastKernels, uninstallFastKernels } from "../../lib/core/kernels/index.js";

// Deterministic inputs without tf's RNG: a fixed integer hash mapped to [-1, 1).
function values(n: number, salt: number): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let h = Math.imul(i + 1, 0x9e3779b1) ^ Math.imul(salt + 7, 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
    v[i] = ((h >>> 8) / (1 << 24)) * 2 - 1;
  }
  return v;
}

// The oracle: a plain triple loop in float64 with explicit index arithmetic, batch dims broadcast numpy-style.
function naiveMatmul(
  a: Float32Array,
  sa: number[],
  b: Float32Array,
  sb: number[],
  ta: boolean,
  tb: boolean,
): { v: Float64Array; shape: number[] } {
  const ra = sa.length,
    rb = sb.length;
  const M = ta ? sa[ra - 1] : sa[ra - 2],
    K = ta ? sa[ra - 2] : sa[ra - 1];
  const N = tb ? sb[rb - 2] : sb[rb - 1];
  const oa = sa.slice(0, -2),
    ob = sb.slice(0, -2);
  const r = Math.max(oa.length, ob.length);
  const pa = [...new Array(r - oa.length).fill(1), ...oa],
    pb = [...new Array(r - ob.length).fill(1), ...ob];
  const outer = pa.map((d, i) => Math.max(d, pb[i]));
  const batch = outer.reduce((p, d) => p * d, 1);
  const v = new Float64Array(batch * M * N);
  for (let t = 0; t < batch; t++) {
    let rem = t,
      ia = 0,
      ib = 0,
      mulA = 1,
      mulB = 1;
    for (let d = r - 1; d >= 0; d--) {
      const idx = rem % outer[d];
      rem = Math.floor(rem / outer[d]);
      ia += (pa[d] === 1 ? 0 : idx) * mulA;
      ib += (pb[d] === 1 ? 0 : idx) * mulB;
      mulA *= pa[d];
      mulB *= pb[d];
    }
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const x = a[ia * M * K + (ta ? k * M + i : i * K + k)];
          const y = b[ib * K * N + (tb ? j * K + k : k * N + j)];
          s += x * y;
        }
        v[t * M * N + i * N + j] = s;
      }
  }
  return { v, shape: [...outer, M, N] };
}

type Case = [number[], number[], boolean, boolean];
const CASES: Case[] = [
  [[5, 7], [7, 9], false, false], // odd everything
  [[7, 5], [7, 9], true, false],
  [[5, 7], [9, 7], false, true],
  [[7, 5], [9, 7], true, true],
  [[16, 32], [32, 24], false, false], // exact multiples of the 4x8 tile
  [[1, 33], [33, 17], false, false], // M = 1 (decode, axpy path)
  [[3, 33], [19, 33], false, true], // M = 3 (decode, dot path), K not a multiple of 4
  [[9, 2], [5, 9], true, true], // M < 4 with both transposed (packed path)
  [[3, 1, 32], [3, 20, 32], false, true], // batched decode q @ K^T
  [[3, 1, 20], [3, 20, 32], false, false], // batched decode attn @ V
  [[6, 13, 8], [6, 13, 8], false, true], // batched attention scores
  [[6, 13, 13], [6, 13, 8], false, false],
  [[6, 13, 13], [6, 13, 8], true, false], // attention backward shapes
  [[6, 13, 8], [6, 13, 13], true, false],
  [[37, 700], [700, 11], false, false], // K > 512: K-blocked
  [[700, 10], [700, 21], true, false], // a^T @ dy with K = B*T
  [[9, 600], [14, 600], false, true],
  [[2, 3, 9, 10], [10, 12], false, false], // shared B, folded batch
  [[2, 3, 10, 9], [10, 12], true, false], // shared B with transposed A
  [[9, 10], [4, 10, 12], false, false], // shared A
  [[2, 1, 5, 6], [1, 3, 6, 4], false, false], // general broadcast
  [[40, 260], [260, 1030], false, false], // N over one pack block
  [[0, 5], [5, 3], false, false], // empty output
  [[3, 0], [0, 4], false, false], // K = 0 gives zeros
];

async function fastOn(build: "fma" | "simd" = "fma"): Promise<void> {
  await useBackend({ force: "wasm" });
  installFastKernels({ build });
}

function checkCase([sa, sb, ta, tb]: Case, label: string): void {
  const av = values(
    sa.reduce((p, d) => p * d, 1),
    1,
  );
  const bv = values(
    sb.reduce((p, d) => p * d, 1),
    2,
  );
  const ref = naiveMatmul(av, sa, bv, sb, ta, tb);
  const before = tf.memory().numTensors;
  const got = tf.tidy(() => tf.matMul(tf.tensor(av, sa), tf.tensor(bv, sb), ta, tb));
  assert.deepEqual(got.shape, ref.shape, `${label} shape for [${sa}]${ta ? "^T" : ""} @ [${sb}]${tb ? "^T" : ""}`);
  const g = got.dataSync();
  const K = ta ? sa[sa.length - 2] : sa[sa.length - 1];
  const tol = 1e-5 * Math.sqrt(Math.max(K, 1)) * 4;
  for (let i = 0; i < g.length; i++)
    assert.ok(
      Math.abs(g[i] - ref.v[i]) <= tol,
      `${label} [${sa}]${ta ? "^T" : ""} @ [${sb}]${tb ? "^T" : ""} at ${i}: ${g[i]} vs ${ref.v[i]}`,
    );
  got.dispose();
  assert.equal(tf.memory().numTensors, before);
}

test("fast matmul matches a naive float64 matmul on every shape class (fma and plain SIMD builds)", async () => {
  for (const build of ["fma", "simd"] as const) {
    await fastOn(build);
    for (const c of CASES) checkCase(c, build);
  }
});

test("the stock kernel agrees with the oracle too (so the oracle is not wrong the same way)", async () => {
  await useBackend({ force: "wasm", fastKernels: false });
  assert.deepEqual(fastKernelState().kernels, []);
  for (const c of CASES.filter((c) => c[0].length === c[1].length && c[0].length <= 3 && !c[0].includes(0)))
    checkCase(c, "stock");
});

test("useBackend() installs the fast kernels and useBackend({fastKernels: false}) restores the stock ones", async () => {
  const info = await useBackend({ force: "wasm" });
  assert.ok(
    info.notes.some((n) => n.startsWith("fast kernels: BatchMatMul")),
    info.notes.join("; "),
  );
  const fast = tf.getKernel("BatchMatMul", "wasm").kernelFunc;
  assert.deepEqual(fastKernelState().kernels.slice(0, 4), ["BatchMatMul", "_FusedMatMul", "Identity", "Slice"]);
  assert.ok(fastKernelState().kernels.includes("Multiply") && fastKernelState().kernels.includes("Exp"));
  await useBackend({ force: "wasm", fastKernels: false });
  const stock = tf.getKernel("BatchMatMul", "wasm").kernelFunc;
  assert.notEqual(stock, fast);
  assert.equal(fastKernelState().build, null);
  await useBackend({ force: "wasm" });
  assert.notEqual(tf.getKernel("BatchMatMul", "wasm").kernelFunc, stock);
  assert.ok(fastKernelState().build === "fma" || fastKernelState().build === "simd");
});

test("gradients of a matmul chain equal the stock kernel's (autodiff hits NT and TN shapes)", async () => {
  const x = values(37 * 20, 3),
    w1 = values(20 * 24, 4),
    w2 = values(11 * 24, 5),
    e = values(6 * 11, 6);
  const run = () => {
    const xs = tf.tensor(x, [37, 20]);
    const ps = [tf.tensor(w1, [20, 24]), tf.tensor(w2, [11, 24]), tf.tensor(e, [6, 11])];
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => {
      const h = tf.relu(tf.matMul(xs, a)); // [37, 24]
      const z = tf.matMul(h, b, false, true); // [37, 11]
      const q = tf.reshape(z, [1, 37, 11]).tile([2, 1, 1]); // batched: [2, 37, 11]
      const att = tf.matMul(q, q, false, true); // [2, 37, 37]
      const logits = tf.matMul(z, c, false, true); // tied-head style [37, 6]
      return tf.add(tf.mean(tf.square(logits)), tf.mul(tf.mean(att), 0.01)) as tf.Scalar;
    })(ps);
    const out = g.map((t) => t.dataSync().slice());
    tf.dispose([xs, ...ps, ...g]);
    return out;
  };
  await fastOn();
  const before = tf.memory().numTensors;
  const fast = run();
  assert.equal(tf.memory().numTensors, before);
  await useBackend({ force: "wasm", fastKernels: false });
  const stock = run();
  for (let p = 0; p < 3; p++)
    for (let i = 0; i < stock[p].length; i++)
      assert.ok(
        Math.abs(fast[p][i] - stock[p][i]) <= 1e-5 + 1e-4 * Math.abs(stock[p][i]),
        `grad ${p}[${i}]: ${fast[p][i]} vs ${stock[p][i]}`,
      );
});

test("fused matMul with bias and activations matches matMul + add + activation", async () => {
  await fastOn();
  const a = tf.tensor(values(5 * 9, 7), [5, 9]),
    b = tf.tensor(values(6 * 9, 8), [6, 9]),
    bias = tf.tensor(values(6, 9), [6]);
  const before = tf.memory().numTensors;
  for (const activation of ["linear", "relu", "sigmoid", "elu", "leakyrelu"] as const) {
    const got = tf.fused.matMul({ a, b, transposeB: true, bias, activation, leakyreluAlpha: 0.1 });
    const want = tf.tidy(() => {
      const lin = tf.add(tf.matMul(a, b, false, true), bias);
      return activation === "linear"
        ? lin
        : activation === "relu"
          ? tf.relu(lin)
          : activation === "sigmoid"
            ? tf.sigmoid(lin)
            : activation === "elu"
              ? tf.elu(lin)
              : tf.leakyRelu(lin, 0.1);
    });
    const g = got.dataSync(),
      w = want.dataSync();
    for (let i = 0; i < w.length; i++) assert.ok(Math.abs(g[i] - w[i]) < 1e-5, `${activation}[${i}]`);
    tf.dispose([got, want]);
  }
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([a, b, bias]);
});

test("Identity shares data without copying, and the data outlives the original", async () => {
  await fastOn();
  const before = tf.memory().numTensors;
  const x = tf.tensor([1.5, -2, 3], [3]);
  const y = tf.clone(x);
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()), [1.5, -2, 3]);
  y.dispose();
  const ints = tf.tensor([4, 5], [2], "int32");
  const yi = tf.clone(ints);
  assert.equal(yi.dtype, "int32");
  assert.deepEqual(Array.from(yi.dataSync()), [4, 5]);
  tf.dispose([ints, yi]);
  assert.equal(tf.memory().numTensors, before);
  // The backend freed the shared buffer exactly once: no data ids left behind.
  assert.equal((tf.backend() as unknown as { numDataIds(): number }).numDataIds(), tf.memory().numTensors);
});

// Oracle for slice: index arithmetic over the flat input.
function naiveSlice(v: ArrayLike<number>, shape: number[], begin: number[], size: number[]): number[] {
  const out: number[] = [];
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((p, x) => p * x, 1));
  const n = size.reduce((p, d) => p * d, 1);
  for (let f = 0; f < n; f++) {
    let rem = f,
      off = 0;
    for (let d = shape.length - 1; d >= 0; d--) {
      off += (begin[d] + (rem % size[d])) * strides[d];
      rem = Math.floor(rem / size[d]);
    }
    out.push(v[off]);
  }
  return out;
}

test("Slice gives the same values as index arithmetic for contiguous and strided slices of every dtype", async () => {
  await fastOn();
  const cases: [number[], number[], number[]][] = [
    [[10], [3], [4]],
    [
      [4, 6],
      [1, 0],
      [2, 6],
    ], // contiguous rows
    [
      [4, 6],
      [0, 2],
      [4, 3],
    ], // column block
    [
      [3, 4, 5],
      [1, 1, 0],
      [2, 2, 5],
    ], // trailing dim whole
    [
      [3, 4, 5],
      [0, 0, 1],
      [3, 4, 2],
    ],
    [
      [2, 3, 4, 6],
      [0, 1, 0, 3],
      [2, 2, 4, 3],
    ], // RoPE-style half split
    [
      [2, 3, 2, 2, 3],
      [1, 0, 1, 0, 0],
      [1, 3, 1, 2, 3],
    ], // rank 5
    [
      [4, 6],
      [1, 1],
      [0, 3],
    ], // empty
  ];
  const before = tf.memory().numTensors;
  for (const [shape, begin, size] of cases) {
    const n = shape.reduce((p, d) => p * d, 1);
    const f = Float32Array.from({ length: n }, (_, i) => i * 0.5 - 3);
    for (const dtype of ["float32", "int32", "bool"] as const) {
      const src =
        dtype === "bool" ? f.map((x) => (x > 0 ? 1 : 0)) : dtype === "int32" ? f.map((x) => Math.round(x * 2)) : f;
      const x = tf.tensor(src, shape, dtype);
      const y = tf.slice(x, begin, size);
      assert.deepEqual(y.shape, size);
      assert.equal(y.dtype, dtype);
      assert.deepEqual(
        Array.from(y.dataSync()),
        naiveSlice(src, shape, begin, size),
        `${dtype} [${shape}] begin [${begin}] size [${size}]`,
      );
      tf.dispose([x, y]);
    }
  }
  const s = tf.tensor(["a", "b", "c"]);
  const ss = tf.slice(s, [1], [2]);
  assert.deepEqual(ss.arraySync(), ["b", "c"]); // strings go to the stock kernel
  tf.dispose([s, ss]);
  assert.equal(tf.memory().numTensors, before);
});

test("split/concat built on Slice keep their values and gradients", async () => {
  await fastOn();
  const x = tf.tensor(values(2 * 3 * 8, 11), [2, 3, 8]);
  const [lo, hi] = tf.split(x, 2, -1);
  const back = tf.concat([lo, hi], -1);
  assert.deepEqual(Array.from(back.dataSync()), Array.from(x.dataSync()));
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.split(t, 2, -1)[1], 3)))(x);
  const gv = g.dataSync();
  for (let i = 0; i < gv.length; i++) assert.equal(gv[i], i % 8 >= 4 ? 3 : 0);
  tf.dispose([x, lo, hi, back, g]);
  uninstallFastKernels();
});
