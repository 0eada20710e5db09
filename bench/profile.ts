// Where a train step or a generate call spends its time, for BENCHMARKS.md's profile section: cellrl's side from
// tf.profile (wall time of each tfjs kernel, summed by kernel name), PyTorch's from its profiler (self CPU time of
// each aten op, bench/torch_peer.py's "profile" command). Both are sorted into the same groups (matmul, elementwise,
// softmax & reductions, copies & layout, other), and the time outside every kernel (JS, autograd tape, sampling for
// cellrl; python, autograd engine for PyTorch) is the unprofiled step time minus the kernels' sum: profiling adds its
// own bookkeeping between kernels, so the profiled step's wall time would overstate it.
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../lib/core/random.js";
import { generate } from "../lib/model/generate.js";
import { AdamW } from "../lib/model/optim.js";
import type { BenchConfig } from "./configs.js";
import { buildModel, randomIds, trainStep } from "./model.js";

/** The groups both sides' kernels are sorted into. */
export type OpGroup = "matmul" | "elementwise" | "softmax & reductions" | "copies & layout" | "other";

/** The groups in the order the report lists them. */
export const OP_GROUPS: readonly OpGroup[] = [
  "matmul",
  "elementwise",
  "softmax & reductions",
  "copies & layout",
  "other",
];

/** One kernel (tfjs) or op (PyTorch) name's time over the profiled step. */
export interface OpTime {
  name: string;
  /** Milliseconds inside this kernel over the step (tfjs: kernel wall time; PyTorch: self CPU time). */
  ms: number;
  calls: number;
  /** Matmul FLOPs of these calls (2 per multiply-add, from their shapes); 0 for other kernels. */
  flops: number;
}

/** The profile of one step of one side. */
export interface StepProfile {
  side: "cellrl" | "torch";
  /** Kernel threads (cellrl, one process) or intra-op threads (PyTorch). */
  threads: number;
  config: string;
  kind: "train" | "generate";
  /** Median wall ms of the unprofiled steps (the step time the split is shown against). */
  stepMs: number;
  /** Wall ms of the profiled step (larger: the profiler's bookkeeping). */
  profiledMs: number;
  /** Per kernel / op name, most time first. */
  ops: OpTime[];
}

/** A profile split into groups. */
export interface ProfileSplit {
  groups: Record<OpGroup, { ms: number; calls: number; flops: number }>;
  /** Sum of all kernels' time. */
  kernelMs: number;
  /** stepMs - kernelMs, at least 0: JS / tape (cellrl) or python / autograd engine (PyTorch) time. */
  outsideMs: number;
}

// Names per group, matched whole ("(a|b)" alternations allowed inside a name, e.g. "(add|mul)_?").
const names = (...xs: string[]) => new RegExp(`^(${xs.join("|")})$`);

const TFJS_GROUPS: [OpGroup, RegExp][] = [
  ["matmul", names("BatchMatMul", "_FusedMatMul", "MatMul", "Conv2D")],
  [
    "softmax & reductions",
    names("Softmax", "LogSoftmax", "Max", "Min", "Sum", "Mean", "Prod", "ArgMax", "ArgMin", "All", "Any", "Cumsum"),
  ],
  [
    "copies & layout",
    names(
      ...["Transpose", "Slice", "StridedSlice", "Concat", "Reshape", "Identity", "GatherV2", "GatherNd", "ScatterNd"],
      ...["Tile", "Pad", "PadV2", "MirrorPad", "OneHot", "Pack", "Unpack", "SplitV", "Reverse", "BroadcastTo"],
      ...["ExpandDims", "Squeeze", "Fill", "ZerosLike", "OnesLike", "Range"],
    ),
  ],
  [
    "elementwise",
    names(
      ...["Add", "AddN", "Sub", "Multiply", "RealDiv", "Div", "FloorDiv", "Mod", "Exp", "Expm1", "Log", "Log1p"],
      ...["Neg", "Sqrt", "Rsqrt", "Square", "SquaredDifference", "Pow", "Sigmoid", "Softplus", "Relu", "Relu6"],
      ...["Elu", "Prelu", "LeakyRelu", "Maximum", "Minimum", "Cast", "Select", "Where", "Less", "LessEqual"],
      ...["Greater", "GreaterEqual", "Equal", "NotEqual", "LogicalAnd", "LogicalOr", "LogicalNot", "Abs", "Sign"],
      ...["Step", "Cos", "Sin", "Tan", "Tanh", "ClipByValue", "Floor", "Ceil", "Round", "Reciprocal", "IsNan"],
      ...["IsInf", "Erf", "Atan2", "Selu"],
    ),
  ],
];

const TORCH_GROUPS: [OpGroup, RegExp][] = [
  ["matmul", names("mm", "bmm", "addmm", "baddbmm", "addbmm", "mv", "addmv", "dot", "_mkldnn_matmul", "mkldnn_linear")],
  [
    "softmax & reductions",
    names(
      ...["_?softmax", "_softmax_backward_data", "_?log_softmax", "_log_softmax_backward_data", "nll_loss\\w*"],
      ...["cross_entropy_loss", "sum", "mean", "max", "amax", "min", "amin", "argmax", "norm", "linalg_vector_norm"],
      ...["cumsum", "logsumexp"],
    ),
  ],
  [
    "copies & layout",
    names(
      ...["copy_", "clone", "contiguous", "_?cat", "stack", "index", "index_select", "index_put_", "_index_put_impl_"],
      ...["embedding", "embedding_backward", "embedding_dense_backward", "slice", "slice_backward", "narrow"],
      ...["select", "select_backward", "view", "_reshape_alias", "reshape", "transpose", "t", "permute", "expand"],
      ...["as_strided", "unsqueeze", "squeeze", "empty", "empty_like", "empty_strided", "zeros", "zeros_like"],
      ...["ones_like", "new_zeros", "new_empty", "new_empty_strided", "fill_", "zero_", "triu", "full", "arange"],
      ...["resize_", "detach_?", "alias", "_unsafe_view", "unbind", "split", "chunk", "flatten", "lift_fresh"],
      ...["to", "_to_copy", "resolve_conj", "resolve_neg", "masked_fill_", "scatter_add_"],
    ),
  ],
  [
    "elementwise",
    names(
      "_foreach_\\w+",
      "(add|sub|rsub|mul|div|neg|rsqrt|sqrt|pow|silu|sigmoid|exp|log|addcmul|addcdiv|lerp|cos|sin|where)_?(backward)?",
      "(masked_fill|clamp|clamp_min|maximum|minimum|abs|sign|sgn|reciprocal|eq|ne|lt|gt|le|ge|tanh|relu|gelu)_?",
      "(square|silu_backward|sigmoid_backward|tanh_backward|threshold_backward|gelu_backward)",
    ),
  ],
];

/**
 * The group of a tfjs kernel name (as tf.profile reports it).
 * @example kernelGroup("BatchMatMul") // "matmul"
 */
export function kernelGroup(name: string): OpGroup {
  return TFJS_GROUPS.find(([, re]) => re.test(name))?.[0] ?? "other";
}

/**
 * The group of a PyTorch op (torch.profiler event name, "aten::" stripped). Autograd wrappers (MmBackward0,
 * autograd::engine::..., AccumulateGrad), composite ops whose work is in a child op (linear, matmul) and the
 * optimizer's record_function are "other": their self time is framework overhead.
 * @example torchOpGroup("aten::addmm") // "matmul"
 */
export function torchOpGroup(name: string): OpGroup {
  const op = name.replace(/^aten::/, "");
  if (op === name && /::|Backward|AccumulateGrad|#/.test(name)) return "other";
  return TORCH_GROUPS.find(([, re]) => re.test(op))?.[0] ?? "other";
}

/**
 * Matmul FLOPs of one tfjs BatchMatMul / _FusedMatMul call from its shapes, whatever its transposes:
 * output [..., M, N], input a holds batch_a x M x K elements, so K = size(a) / (batch_a x M) and the call does
 * 2 x batch x M x N x K FLOPs (batch from the output).
 * @example matmulFlops([[64, 63, 32], [64, 63, 32]], [64, 63, 63]) // 2 * 64 * 63 * 63 * 32
 */
export function matmulFlops(inputShapes: (number[] | null)[], outputShape: number[]): number {
  const a = inputShapes[0];
  if (!a || a.length < 2 || outputShape.length < 2) return 0;
  const M = outputShape[outputShape.length - 2];
  const N = outputShape[outputShape.length - 1];
  const batchOut = outputShape.slice(0, -2).reduce((p, d) => p * d, 1);
  const batchA = a.slice(0, -2).reduce((p, d) => p * d, 1);
  const K = (a[a.length - 2] * a[a.length - 1]) / M;
  return Number.isFinite(K) ? 2 * batchOut * M * N * K : 0;
}

/**
 * Split a profile into groups (tfjs kernel names for side "cellrl", PyTorch op names for "torch") and the time
 * outside every kernel.
 * @example splitProfile(p).groups.matmul.ms
 */
export function splitProfile(p: StepProfile): ProfileSplit {
  const groupOf = p.side === "cellrl" ? kernelGroup : torchOpGroup;
  const scale = profileScale(p);
  const groups = Object.fromEntries(OP_GROUPS.map((g) => [g, { ms: 0, calls: 0, flops: 0 }])) as ProfileSplit["groups"];
  let kernelMs = 0;
  for (const op of p.ops) {
    const g = groups[groupOf(op.name)];
    g.ms += op.ms * scale;
    g.calls += op.calls;
    g.flops += op.flops;
    kernelMs += op.ms * scale;
  }
  return { groups, kernelMs, outsideMs: Math.max(0, p.stepMs - kernelMs) };
}

/**
 * The factor a profile's op times are multiplied by before they are set against the unprofiled step time. tf.profile
 * times each kernel alone (its bookkeeping falls between kernels), so cellrl's are taken as measured (1).
 * torch.profiler's per-op cost lands inside the ops' self time (a generate call records ~10^5 tiny ops and takes
 * ~2x longer profiled), so PyTorch's split is its profiled shares applied to the unprofiled step:
 * stepMs / profiledMs when the profiled step was slower, else 1.
 * @example profileScale({ side: "torch", stepMs: 250, profiledMs: 500, ... }) // 0.5
 */
export function profileScale(p: StepProfile): number {
  if (p.side === "cellrl" || !(p.profiledMs > p.stepMs) || !(p.stepMs > 0)) return 1;
  return p.stepMs / p.profiledMs;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Profile one cellrl step in this process (its backend already chosen, e.g. with bench/threads.ts): one untimed
 * warm-up step, `steps` unprofiled steps (their median wall time is stepMs), then one step under tf.profile, summed by
 * kernel name. Train = bench/model.ts's step (forward + backward + AdamW); generate = one generate call.
 * @example await profileCellrl(configs.tiny, "train", { steps: 2, threads: 1 })
 */
export async function profileCellrl(
  c: BenchConfig,
  kind: "train" | "generate",
  options: { steps?: number; threads?: number } = {},
): Promise<StepProfile> {
  const { steps = 2, threads = 1 } = options;
  const m = buildModel(c);
  const opt = kind === "train" ? new AdamW(m.namedVariables(), { lr: 1e-3 }) : null;
  const rng = new Rng(3);
  let seed = 0;
  const step = () => {
    if (opt) {
      const ids = randomIds(rng, c.batch, c.seq, c.vocab_size);
      const t0 = performance.now();
      trainStep(m, opt, ids);
      return performance.now() - t0;
    }
    const prompts = randomIds(rng, c.batch, c.prompt_len, c.vocab_size);
    const t0 = performance.now();
    generate(m, prompts, { maxNewTokens: c.new_tokens, ignoreEos: true, temperature: 1, seed: seed++ });
    return performance.now() - t0;
  };
  try {
    step(); // heap growth, JIT, weight packing, Adam moments
    const times = Array.from({ length: Math.max(1, steps) }, step);
    let profiledMs = 0;
    const info = await tf.profile(() => {
      profiledMs = step();
    });
    const byName = new Map<string, OpTime>();
    const backend = tf.getBackend();
    for (const k of info.kernels) {
      // tf.profile also lists custom-gradient scopes ("unnamed scope"): their time contains kernels that are listed
      // on their own, so only registered kernels are summed (the scope's own JS counts as outside the kernels).
      if (!tf.getKernel(k.name, backend)) continue;
      const o = byName.get(k.name) ?? { name: k.name, ms: 0, calls: 0, flops: 0 };
      o.ms += Number(k.kernelTimeMs) || 0;
      o.calls += 1;
      if (kernelGroup(k.name) === "matmul") o.flops += matmulFlops(k.inputShapes, k.outputShapes[0] ?? []);
      byName.set(k.name, o);
    }
    return {
      side: "cellrl",
      threads,
      config: c.name,
      kind,
      stepMs: median(times),
      profiledMs,
      ops: [...byName.values()].sort((a, b) => b.ms - a.ms),
    };
  } finally {
    opt?.dispose?.();
    m.dispose();
  }
}
