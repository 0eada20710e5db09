// The bench's profile section, thread detection and load figure are pure functions of their inputs (bench/profile.ts,
// bench/threads.ts, bench/load.ts, bench/report.ts): fed made-up profiles, notes and /proc/stat text, nothing is timed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { othersCores, parseProcStat } from "../../bench/load.js";
import {
  kernelGroup,
  matmulFlops,
  profileScale,
  splitProfile,
  torchOpGroup,
  type StepProfile,
} from "../../bench/profile.js";
import { goalSummary, headlineTable, profileSection, type HeadlineRow } from "../../bench/report.js";
import { threadsFromNotes } from "../../bench/threads.js";

test("threadsFromNotes reads the kernel threads a backend runs from its notes", () => {
  assert.equal(threadsFromNotes(["SIMD on; threads off (tfjs-wasm has none in Node)"]), 1);
  // Today's backend keeps a note about tfjs-wasm's own threads and adds one about cellrl's kernel threads.
  const two = [
    "SIMD on; tfjs-wasm's own threads off (it has none in Node)",
    "kernel threads: 2 (matmul, elementwise, exp, sums and transposes split per op)",
  ];
  assert.equal(threadsFromNotes(two), 2);
  assert.equal(threadsFromNotes(["kernel threads: 1 (the tfjs-wasm heap is not shared)"]), 1);
  assert.equal(threadsFromNotes(["SIMD on", "4 kernel threads"]), 4);
  assert.equal(threadsFromNotes(["fast kernels: BatchMatMul, Add"]), null);
});

test("kernels and ops fall into the same groups on both sides", () => {
  assert.equal(kernelGroup("BatchMatMul"), "matmul");
  assert.equal(kernelGroup("_FusedMatMul"), "matmul");
  assert.equal(kernelGroup("Multiply"), "elementwise");
  assert.equal(kernelGroup("Softmax"), "softmax & reductions");
  assert.equal(kernelGroup("Transpose"), "copies & layout");
  assert.equal(kernelGroup("SomethingNew"), "other");
  assert.equal(torchOpGroup("aten::addmm"), "matmul");
  assert.equal(torchOpGroup("aten::bmm"), "matmul");
  assert.equal(torchOpGroup("aten::mul_"), "elementwise");
  assert.equal(torchOpGroup("aten::silu_backward"), "elementwise");
  assert.equal(torchOpGroup("aten::_softmax_backward_data"), "softmax & reductions");
  assert.equal(torchOpGroup("aten::copy_"), "copies & layout");
  // Framework wrappers: their self time is overhead, not work.
  assert.equal(torchOpGroup("MmBackward0"), "other");
  assert.equal(torchOpGroup("autograd::engine::evaluate_function: MmBackward0"), "other");
  assert.equal(torchOpGroup("Optimizer.step#AdamW.step"), "other");
  assert.equal(torchOpGroup("aten::linear"), "other");
});

test("matmulFlops counts 2·batch·M·N·K whatever the transposes", () => {
  // [4032, 128] x [128, 320]
  assert.equal(
    matmulFlops(
      [
        [4032, 128],
        [128, 320],
      ],
      [4032, 320],
    ),
    2 * 4032 * 320 * 128,
  );
  // dW = x^T dy: a [4032, 128] transposed, out [128, 320], K = 4032
  assert.equal(
    matmulFlops(
      [
        [4032, 128],
        [4032, 320],
      ],
      [128, 320],
    ),
    2 * 128 * 320 * 4032,
  );
  // batched attention scores q k^T: [256, 63, 32] x [256, 63, 32]^T
  assert.equal(
    matmulFlops(
      [
        [256, 63, 32],
        [256, 63, 32],
      ],
      [256, 63, 63],
    ),
    2 * 256 * 63 * 63 * 32,
  );
  assert.equal(matmulFlops([null, [2, 2]], [2, 2]), 0);
});

function prof(
  side: "cellrl" | "torch",
  threads: number,
  stepMs: number,
  ops: [string, number, number][],
  profiledMs = stepMs,
): StepProfile {
  return {
    side,
    threads,
    config: "tiny",
    kind: "train",
    stepMs,
    profiledMs,
    ops: ops.map(([name, ms, calls]) => ({ name, ms, calls, flops: /MatMul|mm$/.test(name) ? 12e9 : 0 })),
  };
}

// cellrl 1 thread: 1000 ms, matmul 600 (20 GFLOP/s), elementwise 100, 300 outside; 2 threads: 700 ms.
// PyTorch 1 thread: 500 ms, profiled slower (1000 ms) so its op times are halved: mm 300, mul 50, 150 outside.
const c1 = prof("cellrl", 1, 1000, [
  ["BatchMatMul", 600, 100],
  ["Multiply", 100, 500],
]);
const c2 = prof("cellrl", 2, 700, [
  ["BatchMatMul", 320, 100],
  ["Multiply", 80, 500],
]);
const t1 = prof(
  "torch",
  1,
  500,
  [
    ["aten::mm", 600, 90],
    ["aten::mul", 100, 200],
  ],
  1000,
);

test("splitProfile sums groups, puts the rest of the unprofiled step outside kernels, and scales PyTorch's ops", () => {
  const s = splitProfile(c1);
  assert.equal(s.groups.matmul.ms, 600);
  assert.equal(s.groups.elementwise.calls, 500);
  assert.equal(s.outsideMs, 300);
  assert.equal(profileScale(c1), 1);
  assert.equal(profileScale(t1), 0.5);
  const t = splitProfile(t1);
  assert.equal(t.groups.matmul.ms, 300);
  assert.equal(t.outsideMs, 150);
});

test("profileSection derives the goal, the gap by group, the matmul rates and the thread speed-ups from the numbers", () => {
  const md = profileSection({ profiles: [c1, c2, t1], blasGflops: 80 }, []).join("\n");
  assert.match(md, /### tiny train/);
  // Goal 1.0x: <= 500 ms; the 2-thread step (700 ms) is the best, 200 ms to cut.
  assert.match(md, /≤ 500 ms per step: 200 ms \(29% of the 2 kernel threads step\) remain to be cut/);
  // matmul at 2 threads: 320 ms; cellrl's rate 20 GFLOP/s at 1 thread, 37.5 at 2; PyTorch 600 ms of ops scaled to 300
  // at 12e9/300ms = 40 GFLOP/s.
  assert.match(md, /Matmul: 320 ms, 46% of cellrl's 2 kernel threads step, at 37\.5 GFLOP\/s/);
  assert.match(md, /PyTorch's matmul ops: 300 ms at 40\.0 GFLOP\/s \(its BLAS's 256³ probe: 80 GFLOP\/s/);
  // by group (2 threads - PyTorch): outside 300 - 150 = +150, elementwise 80 - 50 = +30, matmul 320 - 300 = +20.
  assert.match(md, /outside kernels \+150 ms .*; elementwise \+30 ms .*; matmul \+20 ms/);
  assert.match(
    md,
    /2 kernel threads vs 1: the step ×1\.43; matmul ×1\.88, elementwise ×1\.25; outside kernels 300 → 300 ms/,
  );
  // ceiling: 300 outside + 700 kernels / 2 = 650 ms -> 500 / 650 = 0.77x
  assert.match(md, /would take 650 ms: 0\.77x PyTorch 1 thread, short of the goal \(measured: 700 ms\)/);

  const none = profileSection({ profiles: [c1], threadsMissing: "asked for 2 kernel threads, the backend runs 1" });
  assert.match(
    none.join("\n"),
    /No one-process 2-kernel-thread profile: asked for 2 kernel threads, the backend runs 1/,
  );
  assert.match(none.join("\n"), /No PyTorch profile ran, so no gap is shown/);
});

test("headlineTable holds only the one-process rows to the goals and shows the other load", () => {
  const row = (workload: string, kind: "train" | "generate", workers: number, ratio: number): HeadlineRow => ({
    workload,
    config: "tiny",
    kind,
    workers,
    threads: 1,
    tfjs: 100 * ratio,
    tfjsSpread: 0,
    torch1: 100,
    torch1Spread: 0,
    torch2: 150,
    ratio,
    cpuRatio: null,
    othersCores: 0.04,
  });
  const md = headlineTable([
    row("tiny train, one process, 1 thread", "train", 1, 1.05),
    row("tiny generate, one process, 1 thread", "generate", 1, 1.2),
    row("tiny train, 2 workers", "train", 2, 1.5),
  ]).join("\n");
  assert.match(
    md,
    /one process, 1 thread \| 105 ±0% \| 100 ±0% \| 150 \| \*\*1\.05x\*\* \| 0\.70x \|.*≥ 1\.0x: \*\*met\*\*.*\| 0\.04 \|/,
  );
  assert.match(md, /tiny generate, one process, 1 thread .*≥ 1\.3x: missed/);
  assert.match(md, /tiny train, 2 workers \|.*\| – \|.*\| 0\.04 \|/);
});

test("othersCores is the machine's busy time minus the bench's own, in cores", () => {
  const a = parseProcStat("cpu  100 0 50 800 10 0 0 0 0 0\ncpu0 50 0 25 400 5 0 0 0 0 0\n");
  assert.deepEqual(a, { busy: 150, total: 960 });
  const b = { busy: a!.busy + 150, total: a!.total + 200 }; // 75% of 2 cores busy = 1.5 cores
  assert.equal(othersCores(a, b, 1, 1, 2), 0.5);
  assert.equal(othersCores(a, b, 2, 1, 2), 0); // rounding never goes below 0
  assert.equal(othersCores(null, b, 1, 1, 2), null);
  assert.equal(parseProcStat("no cpu line"), null);
});

test("goalSummary says per config which goals are met and, from the profile, what most of a missed one's gap is", () => {
  const row = (kind: "train" | "generate", threads: number, ratio: number): HeadlineRow => ({
    workload: `tiny ${kind}, one process, ${threads}`,
    config: "tiny",
    kind,
    workers: 1,
    threads,
    tfjs: 100 * ratio,
    tfjsSpread: 0,
    torch1: 100,
    torch1Spread: 0,
    torch2: null,
    ratio,
    cpuRatio: null,
  });
  const rows = [row("train", 1, 0.5), row("train", 2, 0.8), row("generate", 1, 1.4)];
  const md = goalSummary(rows, { profiles: [c1, c2, t1] }).join("\n");
  // best train row: 0.8x at 2 threads -> needs 25% more; its profile (c2 vs t1): outside +150, elementwise +30.
  assert.match(
    md,
    /tiny train: goal ≥ 1\.0x missed \(0\.50x at 1 thread, 0\.80x at 2 kernel threads\): needs 25% more/,
  );
  assert.match(md, /most of the gap to PyTorch is outside kernels \+150 ms .* and elementwise \+30 ms/);
  assert.match(md, /tiny generate: goal ≥ 1\.3x \*\*met\*\* \(1\.40x at 1 thread\)/);
  assert.match(goalSummary([row("train", 1, 0.5)]).join("\n"), /no profile of this config ran/);
});
