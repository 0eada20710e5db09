// Matmul micro-benchmark: cellrl's fast kernel vs the stock tfjs-wasm kernel on the shapes a training step uses.
import * as tf from "@tensorflow/tfjs";
import { installFastKernels, uninstallFastKernels } from "../lib/core/kernels/index.js";
import { entry, median, spread, type BenchEntry } from "./stats.js";

/** One matmul case: a [.., M, K] (or [K, M] transposed) times b, named after where it occurs in the model. */
export interface MatmulCase {
  name: string;
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
}

/** The tiny config's matmuls (B*T = 4032 rows, d 128, SwiGLU 320, V 64, 16 heads*batch of 63x32). */
export const tinyCases: MatmulCase[] = [
  { name: "proj_fwd_4032x128x128", a: [4032, 128], b: [128, 128], transposeA: false, transposeB: false },
  { name: "mlp_up_4032x128x320", a: [4032, 128], b: [128, 320], transposeA: false, transposeB: false },
  { name: "dx_NT_4032x320x128", a: [4032, 320], b: [128, 320], transposeA: false, transposeB: true },
  { name: "dW_TN_128x4032x320", a: [4032, 128], b: [4032, 320], transposeA: true, transposeB: false },
  { name: "attn_scores_256x63x63x32", a: [256, 63, 32], b: [256, 63, 32], transposeA: false, transposeB: true },
  { name: "attn_values_256x63x32x63", a: [256, 63, 63], b: [256, 63, 32], transposeA: false, transposeB: false },
  { name: "decode_qk_256x1x40x32", a: [256, 1, 32], b: [256, 40, 32], transposeA: false, transposeB: true },
  { name: "decode_proj_64x128x320", a: [64, 128], b: [128, 320], transposeA: false, transposeB: false },
];

function flops(c: MatmulCase): number {
  const ra = c.a.length;
  const M = c.transposeA ? c.a[ra - 1] : c.a[ra - 2];
  const K = c.transposeA ? c.a[ra - 2] : c.a[ra - 1];
  const N = c.transposeB ? c.b[c.b.length - 2] : c.b[c.b.length - 1];
  const batch = c.a.slice(0, -2).reduce((p, d) => p * d, 1);
  return 2 * batch * M * N * K;
}

// Process CPU time per call (getrusage, microsecond resolution): the kernels run synchronously on this thread, and
// CPU time is far less disturbed than wall time when other processes share the cores.
function timeCase(c: MatmulCase, reps: number): number[] {
  const a = tf.randomNormal(c.a, 0, 1, "float32", 1);
  const b = tf.randomNormal(c.b, 0, 1, "float32", 2);
  tf.matMul(a, b, c.transposeA, c.transposeB).dispose(); // warm-up
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const y = tf.matMul(a, b, c.transposeA, c.transposeB);
    const cu = process.cpuUsage(c0);
    times.push((cu.user + cu.system) / 1000);
    y.dispose();
  }
  a.dispose();
  b.dispose();
  return times;
}

/**
 * GFLOP/s (per CPU-second) of each case with the fast kernel and the stock kernel, and their ratio (medians over
 * `reps` runs).
 * @example matmulBench(tinyCases, { reps: 7 })
 */
export function matmulBench(
  cases: MatmulCase[] = tinyCases,
  options: { reps?: number; stock?: boolean } = {},
): BenchEntry[] {
  const { reps = 7, stock = true } = options;
  const out: BenchEntry[] = [];
  for (const c of cases) {
    installFastKernels();
    const fast = timeCase(c, reps);
    const gf = flops(c) / 1e6 / median(fast);
    out.push(entry(`matmul_gflops/fast/${c.name}`, gf, "GFLOP/s", [spread(fast), fast.length]));
    if (stock) {
      uninstallFastKernels();
      const slow = timeCase(c, Math.max(3, Math.ceil(reps / 2)));
      installFastKernels();
      out.push(
        entry(`matmul_gflops/stock/${c.name}`, flops(c) / 1e6 / median(slow), "GFLOP/s", [spread(slow), slow.length]),
      );
      out.push(entry(`matmul_speedup/${c.name}`, median(slow) / median(fast), "x"));
    }
  }
  return out;
}
