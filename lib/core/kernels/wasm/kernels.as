// AssemblyScript source of cellrl's f32 kernels: matmul, elementwise ops, exp, sum reductions (compiled by
// build-wasm.mjs to kernels-simd.wasm and kernels-fma.wasm; the extension is .as so the library's tsc never sees it).
//
// The module imports the tfjs-wasm backend's memory and works on tensors in place: every pointer below is a byte
// offset into that heap. It must contain no data segment and no globals with initialisers (instantiating it would
// otherwise write into the tfjs heap), so all state arrives as arguments and scratch space is malloc'd by the caller.
//
// Element addressing (strides in elements):
//   A(i, k) = a[i * rsA + k * ksA]   (A stored [M,K]: rsA = K, ksA = 1; transposed [K,M]: rsA = 1, ksA = M)
//   B(k, j) = b[k * ksB + j * nsB]   (B stored [K,N]: ksB = N, nsB = 1; transposed [N,K]: ksB = 1, nsB = K)
//   C(i, j) = c[i * N + j]           (always row-major [M,N])

// a * b + c: one fused multiply-add in the relaxed-SIMD build, mul + add otherwise.
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

// @ts-ignore: decorator
@inline function imin(a: i32, b: i32): i32 {
  return a < b ? a : b;
}

// Copy B(k0..k0+kc, j0..j0+nc) into zero-padded panels [ceil(nc/8)][kc][8] at dst, which makes every inner-loop read
// of B one contiguous 32-byte row whatever the original layout (this is where transposeB is absorbed).
function packB(b: usize, ksB: i32, nsB: i32, k0: i32, kc: i32, j0: i32, nc: i32, dst: usize): void {
  const panels = (nc + 7) >> 3;
  for (let p = 0; p < panels; p++) {
    const jb = j0 + (p << 3);
    const w = imin(8, j0 + nc - jb);
    const dp = dst + (<usize>(p * kc) << 5);
    if (nsB == 1 && w == 8) {
      let src = b + ((<usize>k0 * <usize>ksB + <usize>jb) << 2);
      const step = <usize>ksB << 2;
      for (let k = 0; k < kc; k++) {
        const d = dp + (<usize>k << 5);
        v128.store(d, v128.load(src));
        v128.store(d, v128.load(src, 16), 16);
        src += step;
      }
    } else if (ksB == 1 && w == 8) {
      // Transposed B: each column is contiguous along k; read 4 k of 4 columns and transpose in registers.
      const col = <usize>nsB << 2;
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        for (let h = 0; h < 2; h++) {
          const s0 = b + ((<usize>(jb + (h << 2)) * <usize>nsB + <usize>(k0 + k)) << 2);
          const r0 = v128.load(s0);
          const r1 = v128.load(s0 + col);
          const r2 = v128.load(s0 + 2 * col);
          const r3 = v128.load(s0 + 3 * col);
          // r_c holds column c at k..k+3; out row k+t needs lane t of r0..r3.
          const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5);
          const t1 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
          const t2 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
          const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
          const d = dp + (<usize>k << 5) + (<usize>h << 4);
          v128.store(d, i64x2.shuffle(t0, t1, 0, 2));
          v128.store(d, i64x2.shuffle(t0, t1, 1, 3), 32);
          v128.store(d, i64x2.shuffle(t2, t3, 0, 2), 64);
          v128.store(d, i64x2.shuffle(t2, t3, 1, 3), 96);
        }
      }
      for (; k < kc; k++) {
        const d = dp + (<usize>k << 5);
        for (let jj = 0; jj < 8; jj++) {
          store<f32>(d + (<usize>jj << 2), load<f32>(b + ((<usize>(jb + jj) * <usize>nsB + <usize>(k0 + k)) << 2)));
        }
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const d = dp + (<usize>k << 5);
        v128.store(d, i32x4.splat(0));
        v128.store(d, i32x4.splat(0), 16);
        const row = b + (<usize>(k0 + k) * <usize>ksB << 2);
        for (let jj = 0; jj < w; jj++) {
          store<f32>(d + (<usize>jj << 2), load<f32>(row + (<usize>(jb + jj) * <usize>nsB << 2)));
        }
      }
    }
  }
}

// Write (or add, when not the first K block) an 8-wide row of the tile; w < 8 only on the last, padded panel.
// @ts-ignore: decorator
@inline function putRow(cp: usize, lo: v128, hi: v128, w: i32, first: bool): void {
  if (w == 8) {
    if (first) {
      v128.store(cp, lo);
      v128.store(cp, hi, 16);
    } else {
      v128.store(cp, f32x4.add(v128.load(cp), lo));
      v128.store(cp, f32x4.add(v128.load(cp, 16), hi), 16);
    }
    return;
  }
  for (let j = 0; j < w; j++) {
    let v: f32;
    switch (j) {
      case 0: v = f32x4.extract_lane(lo, 0); break;
      case 1: v = f32x4.extract_lane(lo, 1); break;
      case 2: v = f32x4.extract_lane(lo, 2); break;
      case 3: v = f32x4.extract_lane(lo, 3); break;
      case 4: v = f32x4.extract_lane(hi, 0); break;
      case 5: v = f32x4.extract_lane(hi, 1); break;
      default: v = f32x4.extract_lane(hi, 2); break;
    }
    const p = cp + (<usize>j << 2);
    store<f32>(p, first ? v : load<f32>(p) + v);
  }
}

// 4x8 register tile: 8 f32x4 accumulators, A broadcast from memory (strides absorb transposeA), B from a packed panel.
function tile4x8(ap: usize, rs: usize, ks: usize, bp: usize, kc: i32, cp: usize, ldc: usize, w: i32, first: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let a0 = ap;
  const rs2 = rs << 1;
  const rs3 = rs2 + rs;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let x = v128.load32_splat(a0);
    c00 = madd(x, b0, c00);
    c01 = madd(x, b1, c01);
    x = v128.load32_splat(a0 + rs);
    c10 = madd(x, b0, c10);
    c11 = madd(x, b1, c11);
    x = v128.load32_splat(a0 + rs2);
    c20 = madd(x, b0, c20);
    c21 = madd(x, b1, c21);
    x = v128.load32_splat(a0 + rs3);
    c30 = madd(x, b0, c30);
    c31 = madd(x, b1, c31);
    a0 += ks;
    bp += 32;
  }
  putRow(cp, c00, c01, w, first);
  putRow(cp + ldc, c10, c11, w, first);
  putRow(cp + 2 * ldc, c20, c21, w, first);
  putRow(cp + 3 * ldc, c30, c31, w, first);
}

// 1x8 tile for the M % 4 leftover rows.
function tile1x8(ap: usize, ks: usize, bp: usize, kc: i32, cp: usize, w: i32, first: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const x = v128.load32_splat(ap);
    c0 = madd(x, v128.load(bp), c0);
    c1 = madd(x, v128.load(bp, 16), c1);
    ap += ks;
    bp += 32;
  }
  putRow(cp, c0, c1, w, first);
}

// Packed GEMM for one matrix: K blocked by kcMax, N blocked by ncMax (so the packed block stays in L2), 4-row strips
// of A outer (they stay in L1 while the panels stream by). Computes the columns [jStart, jEnd) of all M rows; every
// element's sum runs over k in the same order whatever the column range, so a split gives the same bits.
function gemmPacked(
  a: usize, b: usize, c: usize, M: i32, N: i32, K: i32,
  rsA: i32, ksA: i32, ksB: i32, nsB: i32, scratch: usize, kcMax: i32, ncMax: i32, jStart: i32, jEnd: i32,
): void {
  const rs = <usize>rsA << 2;
  const ks = <usize>ksA << 2;
  const ldc = <usize>N << 2;
  for (let k0 = 0; k0 < K; k0 += kcMax) {
    const kc = imin(kcMax, K - k0);
    const first = k0 == 0;
    for (let j0 = jStart; j0 < jEnd; j0 += ncMax) {
      const nc = imin(ncMax, jEnd - j0);
      packB(b, ksB, nsB, k0, kc, j0, nc, scratch);
      const panels = (nc + 7) >> 3;
      const panelBytes = <usize>kc << 5;
      let i = 0;
      for (; i + 4 <= M; i += 4) {
        const ap = a + <usize>i * rs + <usize>k0 * ks;
        const cRow = c + <usize>i * ldc + (<usize>j0 << 2);
        for (let p = 0; p < panels; p++) {
          const w = imin(8, nc - (p << 3));
          tile4x8(ap, rs, ks, scratch + <usize>p * panelBytes, kc, cRow + (<usize>p << 5), ldc, w, first);
        }
      }
      for (; i < M; i++) {
        const ap = a + <usize>i * rs + <usize>k0 * ks;
        const cRow = c + <usize>i * ldc + (<usize>j0 << 2);
        for (let p = 0; p < panels; p++) {
          const w = imin(8, nc - (p << 3));
          tile1x8(ap, ks, scratch + <usize>p * panelBytes, kc, cRow + (<usize>p << 5), w, first);
        }
      }
    }
  }
}

// C row i = A row i . B^T rows, for a contiguous A row and B stored [N,K] (decode q @ K^T): 4 dot products at a time.
function rowsDotNT(a: usize, b: usize, c: usize, M: i32, N: i32, K: i32, rsA: i32, jStart: i32, jEnd: i32): void {
  const K4 = K & ~3;
  const kb = <usize>K << 2;
  for (let i = 0; i < M; i++) {
    const ar = a + (<usize>i * <usize>rsA << 2);
    const cr = c + (<usize>i * <usize>N << 2);
    let j = jStart;
    for (; j + 4 <= jEnd; j += 4) {
      const b0 = b + (<usize>j * <usize>K << 2);
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      for (let k = 0; k < K4; k += 4) {
        const off = <usize>k << 2;
        const x = v128.load(ar + off);
        s0 = madd(x, v128.load(b0 + off), s0);
        s1 = madd(x, v128.load(b0 + kb + off), s1);
        s2 = madd(x, v128.load(b0 + 2 * kb + off), s2);
        s3 = madd(x, v128.load(b0 + 3 * kb + off), s3);
      }
      // Horizontal sums of the four accumulators into one vector [sum s0, sum s1, sum s2, sum s3].
      const u0 = f32x4.add(i32x4.shuffle(s0, s1, 0, 1, 4, 5), i32x4.shuffle(s0, s1, 2, 3, 6, 7));
      const u1 = f32x4.add(i32x4.shuffle(s2, s3, 0, 1, 4, 5), i32x4.shuffle(s2, s3, 2, 3, 6, 7));
      let r = f32x4.add(i32x4.shuffle(u0, u1, 0, 2, 4, 6), i32x4.shuffle(u0, u1, 1, 3, 5, 7));
      for (let k = K4; k < K; k++) {
        const x = f32x4.splat(load<f32>(ar + (<usize>k << 2)));
        const off = <usize>k << 2;
        const col = f32x4(load<f32>(b0 + off), load<f32>(b0 + kb + off), load<f32>(b0 + 2 * kb + off), load<f32>(b0 + 3 * kb + off));
        r = madd(x, col, r);
      }
      v128.store(cr + (<usize>j << 2), r);
    }
    for (; j < jEnd; j++) {
      const bj = b + (<usize>j * <usize>K << 2);
      let s = f32x4.splat(0);
      for (let k = 0; k < K4; k += 4) {
        const off = <usize>k << 2;
        s = madd(v128.load(ar + off), v128.load(bj + off), s);
      }
      let t: f32 = f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3);
      for (let k = K4; k < K; k++) t += load<f32>(ar + (<usize>k << 2)) * load<f32>(bj + (<usize>k << 2));
      store<f32>(cr + (<usize>j << 2), t);
    }
  }
}

// C row i = sum_k A(i,k) * B row k, for B stored [K,N] (decode attn @ V and 1-row projections): 16 columns at a time.
function rowsAxpyNN(
  a: usize, b: usize, c: usize, M: i32, N: i32, K: i32, rsA: i32, ksA: i32, jStart: i32, jEnd: i32,
): void {
  const ldb = <usize>N << 2;
  for (let i = 0; i < M; i++) {
    const ar = a + (<usize>i * <usize>rsA << 2);
    const ks = <usize>ksA << 2;
    const cr = c + (<usize>i * <usize>N << 2);
    let j = jStart;
    for (; j + 16 <= jEnd; j += 16) {
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
      let bp = b + (<usize>j << 2);
      let ap = ar;
      for (let k = 0; k < K; k++) {
        const x = v128.load32_splat(ap);
        s0 = madd(x, v128.load(bp), s0);
        s1 = madd(x, v128.load(bp, 16), s1);
        s2 = madd(x, v128.load(bp, 32), s2);
        s3 = madd(x, v128.load(bp, 48), s3);
        ap += ks;
        bp += ldb;
      }
      const cp = cr + (<usize>j << 2);
      v128.store(cp, s0);
      v128.store(cp, s1, 16);
      v128.store(cp, s2, 32);
      v128.store(cp, s3, 48);
    }
    for (; j + 4 <= jEnd; j += 4) {
      let s0 = f32x4.splat(0);
      let bp = b + (<usize>j << 2);
      let ap = ar;
      for (let k = 0; k < K; k++) {
        s0 = madd(v128.load32_splat(ap), v128.load(bp), s0);
        ap += ks;
        bp += ldb;
      }
      v128.store(cr + (<usize>j << 2), s0);
    }
    for (; j < jEnd; j++) {
      let t: f32 = 0;
      for (let k = 0; k < K; k++) t += load<f32>(ar + <usize>k * ks) * load<f32>(b + <usize>k * ldb + (<usize>j << 2));
      store<f32>(cr + (<usize>j << 2), t);
    }
  }
}

/**
 * C[t] = op(A[t]) @ op(B[t]) for t in [t0, t1), restricted to the output rows [i0, i1) and columns [j0, j1) (the
 * whole problem is t0 = i0 = j0 = 0, t1 = batch, i1 = M, j1 = N; kernel threads each take a part). strideA / strideB
 * are the per-batch element offsets (0 broadcasts). transA / transB are 0 or 1. scratch must hold
 * kcMax * roundUp8(min(N, ncMax)) floats (unused on the M < 4 paths). The path is chosen from the full M, and each
 * element is summed in the same order whatever the part, so parts split on multiples of 4 rows or 8 columns give
 * exactly the bits of the whole call.
 */
export function bmm(
  a: usize, b: usize, c: usize, M: i32, N: i32, K: i32, transA: i32, transB: i32,
  strideA: i32, strideB: i32, scratch: usize, kcMax: i32, ncMax: i32,
  t0: i32, t1: i32, i0: i32, i1: i32, j0: i32, j1: i32,
): void {
  const rsA = transA ? 1 : K;
  const ksA = transA ? M : 1;
  const ksB = transB ? 1 : N;
  const nsB = transB ? K : 1;
  const cStride = <usize>M * <usize>N << 2;
  const rows = i1 - i0;
  for (let t = t0; t < t1; t++) {
    const at = a + (<usize>t * <usize>strideA << 2) + (<usize>i0 * <usize>rsA << 2);
    const bt = b + (<usize>t * <usize>strideB << 2);
    const ct = c + <usize>t * cStride + (<usize>i0 * <usize>N << 2);
    if (K == 0) {
      for (let i = 0; i < rows; i++) memory.fill(ct + (<usize>(i * N + j0) << 2), 0, <usize>(j1 - j0) << 2);
    } else if (M < 4 && transB && !transA) {
      rowsDotNT(at, bt, ct, rows, N, K, rsA, j0, j1);
    } else if (M < 4 && !transB) {
      rowsAxpyNN(at, bt, ct, rows, N, K, rsA, ksA, j0, j1);
    } else {
      gemmPacked(at, bt, ct, rows, N, K, rsA, ksA, ksB, nsB, scratch, kcMax, ncMax, j0, j1);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Elementwise ops, exp and sum reductions. The stock tfjs-wasm kernels for these cost 5-10 us of fixed overhead per call
// (shape arrays marshalled through cwrap) and use scalar libm exp; these take raw pointers and vectorise.

// @ts-ignore: decorator
@inline function binop(op: i32, x: v128, y: v128): v128 {
  if (op == 0) return f32x4.add(x, y);
  if (op == 1) return f32x4.sub(x, y);
  if (op == 2) return f32x4.mul(x, y);
  return f32x4.div(x, y);
}

// @ts-ignore: decorator
@inline function binopS(op: i32, x: f32, y: f32): f32 {
  if (op == 0) return x + y;
  if (op == 1) return x - y;
  if (op == 2) return x * y;
  return x / y;
}

// out[i0, i1, i2] = x[i0*xs0 + i1*xs1 + i2*xs2] op y[i0*ys0 + i1*ys1 + i2*ys2] for an output [d0, d1, d2]: any
// broadcast of rank <= 3 after merging dims (a stride of 0 repeats the operand along that dim). xs2 / ys2 are 0 or 1,
// so the inner loop is vector-vector, splat-vector or vector-splat. Inlined once per op so `op` is a constant.
// @ts-ignore: decorator
@inline function binaryLoop(
  op: i32, x: usize, y: usize, out: usize, d0: i32, d1: i32, d2: i32,
  xs0: i32, xs1: i32, xs2: i32, ys0: i32, ys1: i32, ys2: i32,
): void {
  let o = out;
  for (let i0 = 0; i0 < d0; i0++) {
    for (let i1 = 0; i1 < d1; i1++) {
      const xr = x + (<usize>(i0 * xs0 + i1 * xs1) << 2);
      const yr = y + (<usize>(i0 * ys0 + i1 * ys1) << 2);
      let j = 0;
      if (xs2 == 1 && ys2 == 1) {
        for (; j + 4 <= d2; j += 4) {
          const b = <usize>j << 2;
          v128.store(o + b, binop(op, v128.load(xr + b), v128.load(yr + b)));
        }
        for (; j < d2; j++) {
          const b = <usize>j << 2;
          store<f32>(o + b, binopS(op, load<f32>(xr + b), load<f32>(yr + b)));
        }
      } else if (ys2 == 1) {
        const s = load<f32>(xr);
        const sv = f32x4.splat(s);
        for (; j + 4 <= d2; j += 4) v128.store(o + (<usize>j << 2), binop(op, sv, v128.load(yr + (<usize>j << 2))));
        for (; j < d2; j++) store<f32>(o + (<usize>j << 2), binopS(op, s, load<f32>(yr + (<usize>j << 2))));
      } else if (xs2 == 1) {
        const s = load<f32>(yr);
        const sv = f32x4.splat(s);
        for (; j + 4 <= d2; j += 4) v128.store(o + (<usize>j << 2), binop(op, v128.load(xr + (<usize>j << 2)), sv));
        for (; j < d2; j++) store<f32>(o + (<usize>j << 2), binopS(op, load<f32>(xr + (<usize>j << 2)), s));
      } else {
        const v = binopS(op, load<f32>(xr), load<f32>(yr));
        for (; j < d2; j++) store<f32>(o + (<usize>j << 2), v);
      }
      o += <usize>d2 << 2;
    }
  }
}

/** out = x op y (op 0 add, 1 sub, 2 mul, 3 div) over an output [d0, d1, d2] with the strides of binaryLoop. */
export function binary(
  op: i32, x: usize, y: usize, out: usize, d0: i32, d1: i32, d2: i32,
  xs0: i32, xs1: i32, xs2: i32, ys0: i32, ys1: i32, ys2: i32,
): void {
  if (op == 0) binaryLoop(0, x, y, out, d0, d1, d2, xs0, xs1, xs2, ys0, ys1, ys2);
  else if (op == 1) binaryLoop(1, x, y, out, d0, d1, d2, xs0, xs1, xs2, ys0, ys1, ys2);
  else if (op == 2) binaryLoop(2, x, y, out, d0, d1, d2, xs0, xs1, xs2, ys0, ys1, ys2);
  else binaryLoop(3, x, y, out, d0, d1, d2, xs0, xs1, xs2, ys0, ys1, ys2);
}

// exp for 4 lanes: Cephes expf (range reduction by ln 2, degree-5 polynomial, ~1 ulp) with cheap lane ops only
// (pmin/pmax, the 1.5*2^23 rounding trick instead of nearest + trunc_sat, which V8 expands to long sequences).
// Exact 0 below -86.5 (where the result would be < 3e-38; the stock kernel returns slow denormals down to -103),
// +inf above 88.72, NaN in -> NaN out.
// @ts-ignore: decorator
@inline function exp4(x: v128): v128 {
  const hi = f32x4.splat(88.7228391);
  const lo = f32x4.splat(-86.5);
  const magic = f32x4.splat(12582912.0); // 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits
  const xc = f32x4.pmax(f32x4.pmin(x, hi), lo);
  const t = f32x4.add(f32x4.mul(xc, f32x4.splat(1.44269504088896341)), magic);
  const n = f32x4.sub(t, magic);
  const ni = i32x4.sub(t, magic); // the integer n, from the bit patterns
  let r = f32x4.sub(xc, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = madd(p, r, f32x4.splat(1.3981999507e-3));
  p = madd(p, r, f32x4.splat(8.3334519073e-3));
  p = madd(p, r, f32x4.splat(4.1665795894e-2));
  p = madd(p, r, f32x4.splat(1.6666665459e-1));
  p = madd(p, r, f32x4.splat(5.0000001201e-1));
  p = madd(p, f32x4.mul(r, r), f32x4.add(r, f32x4.splat(1)));
  // 2^n as 2^(n-1) * 2: n is in [-125, 128] after the clamp, so n - 1 always has a normal exponent.
  const scale = i32x4.shl(i32x4.add(ni, i32x4.splat(126)), 23);
  let y = f32x4.mul(f32x4.mul(p, scale), f32x4.splat(2));
  y = v128.bitselect(f32x4.splat(0), y, f32x4.lt(x, lo));
  return v128.bitselect(f32x4.splat(Infinity), y, f32x4.gt(x, hi)); // NaN: both compares false, NaN came through
}

// @ts-ignore: decorator
@inline function exp1(x: f32): f32 {
  return f32x4.extract_lane(exp4(f32x4.splat(x)), 0);
}

/** out = exp(x) over n floats (sigmoid and softmax stay on XNNPACK's kernels, measured faster). */
export function expf(x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, exp4(v128.load(x + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, exp1(load<f32>(x + o)));
  }
}

/** Per row of `cols` floats: out[r] = scale * sum of the row. */
export function rowSum(x: usize, out: usize, rows: i32, cols: i32, scale: f32): void {
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>(r * cols) << 2);
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
    let j = 0;
    for (; j + 8 <= cols; j += 8) {
      a0 = f32x4.add(a0, v128.load(xr + (<usize>j << 2)));
      a1 = f32x4.add(a1, v128.load(xr + (<usize>j << 2), 16));
    }
    for (; j + 4 <= cols; j += 4) a0 = f32x4.add(a0, v128.load(xr + (<usize>j << 2)));
    a0 = f32x4.add(a0, a1);
    let s: f32 = f32x4.extract_lane(a0, 0) + f32x4.extract_lane(a0, 1) + f32x4.extract_lane(a0, 2) + f32x4.extract_lane(a0, 3);
    for (; j < cols; j++) s += load<f32>(xr + (<usize>j << 2));
    store<f32>(out + (<usize>r << 2), s * scale);
  }
}

/**
 * out[j] = scale * sum over rows of x[r * ld + j] for j < cols (a reduction over leading axes, e.g. a bias gradient;
 * ld = cols for a whole matrix, larger for a column range of one).
 */
export function colSum(x: usize, out: usize, rows: i32, cols: i32, ld: i32, scale: f32): void {
  memory.fill(out, 0, <usize>cols << 2);
  for (let r = 0; r < rows; r++) {
    const xr = x + (<usize>r * <usize>ld << 2);
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = <usize>j << 2;
      v128.store(out + o, f32x4.add(v128.load(out + o), v128.load(xr + o)));
    }
    for (; j < cols; j++) store<f32>(out + (<usize>j << 2), load<f32>(out + (<usize>j << 2)) + load<f32>(xr + (<usize>j << 2)));
  }
  if (scale != 1) {
    for (let j = 0; j < cols; j++) store<f32>(out + (<usize>j << 2), load<f32>(out + (<usize>j << 2)) * scale);
  }
}

/**
 * Transpose that keeps the last axis in place: out[i0, i1, i2, :] = x[i0*s0 + i1*s1 + i2*s2 + (0..run)], with the
 * strides s counted in floats; copies `run` contiguous floats at a time (e.g. [B, T, H, hd] -> [B, H, T, hd]).
 */
export function transposeRuns(x: usize, out: usize, d0: i32, d1: i32, d2: i32, s0: i32, s1: i32, s2: i32, run: i32): void {
  let o = out;
  const bytes = <usize>run << 2;
  for (let i0 = 0; i0 < d0; i0++) {
    for (let i1 = 0; i1 < d1; i1++) {
      let src = x + (<usize>(i0 * s0 + i1 * s1) << 2);
      const step = <usize>s2 << 2;
      for (let i2 = 0; i2 < d2; i2++) {
        let j: usize = 0;
        for (; j + 16 <= bytes; j += 16) v128.store(o + j, v128.load(src + j));
        for (; j < bytes; j += 4) store<f32>(o + j, load<f32>(src + j));
        o += bytes;
        src += step;
      }
    }
  }
}
