// Step replay: snapshot everything a step depends on (weights, optimizer state, RNG state, the batch), re-run the
// step from that state, and diff the policy's logprobs on the same completions before and after. Same snapshot,
// same step function → the same update, bit for bit (a test checks it).
import * as tf from "@tensorflow/tfjs";
import { describe, fail } from "../core/errors.js";
import type { Rng, RngState } from "../core/random.js";
import type { LlamaModel } from "../model/llama.js";
import { logprobs, type LogprobsBatch } from "../model/logprobs.js";
import type { AdamW, OptimizerState } from "../model/optim.js";
import { modelOf, type TrainableModel } from "./step.js";

/** Everything needed to re-run one step. Holds tensors: call dispose() when done. */
export interface StepSnapshot {
  step: number;
  /** Policy weights in HF layout (copies). */
  weights: Record<string, tf.Tensor>;
  /** Optimizer state (update count and moments), or null when no optimizer was given. */
  optimizer: OptimizerState | null;
  /** RNG state, or null when no rng was given. */
  rng: RngState | null;
  /** The batch the step trained on (a deep copy of plain data), if given. */
  batch: unknown;
  /** Free the tensors. */
  dispose(): void;
}

function deepCopy<T>(x: T): T {
  if (x === null || typeof x !== "object") return x;
  if (x instanceof tf.Tensor) return tf.clone(x) as unknown as T;
  if (ArrayBuffer.isView(x)) return (x as unknown as Float32Array).slice() as unknown as T;
  if (Array.isArray(x)) return x.map(deepCopy) as unknown as T;
  if (typeof (x as { objects?: unknown }).objects === "function") return x; // arquero tables are immutable
  return Object.fromEntries(Object.entries(x as object).map(([k, v]) => [k, deepCopy(v)])) as T;
}

/**
 * Snapshot a step's inputs: weights, optimizer state, RNG state and (a copy of) the batch.
 * @example const snap = update.snapshot({policy, opt, rng, batch: ro, step: 12})
 */
export function snapshot(inputs: {
  policy: TrainableModel;
  opt?: AdamW | null;
  rng?: Rng | null;
  batch?: unknown;
  step?: number;
}): StepSnapshot {
  const model = modelOf(inputs?.policy, "update.snapshot");
  const weights = model.stateDict();
  const optimizer = inputs.opt ? inputs.opt.getState() : null;
  return {
    step: inputs.step ?? 0,
    weights,
    optimizer,
    rng: inputs.rng ? inputs.rng.state() : null,
    batch: deepCopy(inputs.batch),
    dispose() {
      tf.dispose(Object.values(weights));
      if (optimizer) tf.dispose(Object.values(optimizer.tensors));
    },
  };
}

/**
 * Put the policy, optimizer and rng back to a snapshot's state (the snapshot stays usable).
 * @example update.restore(snap, {policy, opt, rng})
 */
export function restore(
  snap: StepSnapshot,
  targets: { policy: TrainableModel; opt?: AdamW | null; rng?: Rng | null },
): void {
  if (!snap || typeof snap.weights !== "object")
    fail(
      "invalid_input",
      `update.restore: expected a snapshot from update.snapshot (got ${describe(snap)}).`,
      {},
      restore,
    );
  const model = modelOf(targets?.policy, "update.restore");
  model.loadStateDict(snap.weights);
  if (targets.opt) {
    if (!snap.optimizer)
      fail(
        "invalid_input",
        `update.restore: the snapshot has no optimizer state (it was taken without opt). Pass opt: null or ` +
          `snapshot with opt.`,
        {},
        restore,
      );
    targets.opt.setState(snap.optimizer);
  }
  if (targets.rng) {
    if (!snap.rng)
      fail("invalid_input", `update.restore: the snapshot has no RNG state (it was taken without rng).`, {}, restore);
    targets.rng.setState(snap.rng);
  }
}

/** What replay reports: the step's output and the per-token logprob change on the snapshot's completions. */
export interface ReplayResult<R> {
  output: R;
  /** log π before / after the re-run step, and after − before, [B, T] (0 off the response mask). */
  before: number[][];
  after: number[][];
  delta: number[][];
  /** Mean |delta| over the mask and the largest |delta| with its sample and token. */
  meanAbsDelta: number;
  maxAbsDelta: { value: number; sample: number; token: number };
}

/**
 * Restore a snapshot and re-run a step on it; diff the policy's logprobs on `scoreBatch` (default: the snapshot batch)
 * before and after. `run` receives the snapshot's batch and must use the same rng / options as the original step.
 * @example
 * const rep = await update.replay(snap, {policy, opt, rng}, (ro) => update.step(policy, opt, ro, loss));
 * rep.maxAbsDelta
 */
export async function replay<R>(
  snap: StepSnapshot,
  targets: { policy: TrainableModel; opt?: AdamW | null; rng?: Rng | null },
  run: (batch: unknown) => R | Promise<R>,
  options: { scoreBatch?: LogprobsBatch; temperature?: number } = {},
): Promise<ReplayResult<R>> {
  const model: LlamaModel = modelOf(targets?.policy, "update.replay");
  if (typeof run !== "function")
    fail(
      "invalid_input",
      `update.replay: run must be a function (batch) => step output (got ${describe(run)}).`,
      {},
      replay,
    );
  restore(snap, targets);
  const sb = (options.scoreBatch ?? snap.batch) as LogprobsBatch;
  if (!sb || !(sb as LogprobsBatch).ids)
    fail(
      "invalid_input",
      `update.replay: no batch to score: the snapshot has none with ids and options.scoreBatch is missing.`,
      {},
      replay,
    );
  const b = logprobs(model, sb, { temperature: options.temperature, entropy: false });
  const output = await run(deepCopy(snap.batch));
  const a = logprobs(model, sb, { temperature: options.temperature, entropy: false });
  const delta = a.logp.map((r, i) => r.map((x, t) => (b.mask[i][t] ? x - b.logp[i][t] : 0)));
  let s = 0,
    n = 0;
  const mx = { value: 0, sample: -1, token: -1 };
  delta.forEach((r, i) =>
    r.forEach((d, t) => {
      if (!b.mask[i][t]) return;
      s += Math.abs(d);
      n++;
      if (Math.abs(d) > Math.abs(mx.value)) Object.assign(mx, { value: d, sample: i, token: t });
    }),
  );
  return { output, before: b.logp, after: a.logp, delta, meanAbsDelta: n ? s / n : 0, maxAbsDelta: mx };
}
