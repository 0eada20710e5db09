// FlowRL updates on worker threads: a model.ParallelTrainer whose replicas hold the policy's model and a copy of the
// log Z head (its `extra` state), so flowrlStep can split each mini-batch's rows over two (or more) wasm threads. The
// head is rebuilt in each worker from plain data (hidden size, layers, dropout, weights), the loss options travel as
// plain data with every mini-batch, and the worker half of this file (`parallelFlowrlLoss`) runs the same
// flowrlHeadLoss the single-process step runs, on its rows.
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { describe, fail } from "../../core/errors.js";
import { Rng } from "../../core/random.js";
import type { WorkerContext } from "../../core/kernels/index.js";
import type { LlamaModel } from "../../model/llama.js";
import { logprobTensors, type LogprobsBatch } from "../../model/logprobs.js";
import type { AdamWOptions } from "../../model/optim.js";
import {
  checkWorkerOptimizer,
  ParallelTrainer,
  type ParallelExtra,
  type ParallelLossResult,
} from "../../model/parallel.js";
import { maskCount, modelOf, type TrainableModel } from "../step.js";
import { flowrlHeadLoss, type FlowrlLossOptions } from "./flowrl-loss.js";
import { createLogZHead, type LogZHead } from "./logz-head.js";

/** Options of update.flowrlTrainer. */
export interface FlowrlTrainerOptions {
  /** Worker threads (one core each on the wasm backend). Defaults to 2. */
  workers?: number;
  /**
   * AdamW options of every replica (policy and head together, as update.flowrlParams in one process): plain data only
   * (lr, betas, weightDecay, schedule by name or spec, clipGradNorm).
   */
  optimizer?: AdamWOptions;
}

/** The FlowRL settings a worker needs with every mini-batch, as plain data. */
export interface FlowrlWorkerSettings {
  temperature: number;
  loss: Required<FlowrlLossOptions>;
  /** Seed of the head's dropout on this mini-batch (null when the head has no dropout). */
  dropoutSeed: number | null;
}

/** What each worker builds the head from: its shape, its weights and the main thread's variable names. */
interface HeadSpec {
  hiddenSize: number;
  layers: number;
  dropout: number;
  weights: { name: string; values: Float32Array }[];
  names: string[];
}

/** The worker's replica of the head, with its rank (each worker draws its own dropout masks). */
interface HeadReplica extends ParallelExtra {
  head: LogZHead;
  rank: number;
}

/** The one per-token FlowRL metric (the others are per row). */
export const MASKED = "update/isMaskedFrac";

/** The loss module workers load: this file, compiled (.js) or under tsx (.ts). */
const LOSS_MODULE = path.join(__dirname, `flowrl-trainer${path.extname(__filename)}`);
/** The worker loss's export name; flowrlStep checks a trainer against it. */
export const FLOWRL_LOSS = "parallelFlowrlLoss";

/** The head's variables by their names, the keys the trainer syncs them back under. */
export function headVariables(head: LogZHead): Map<string, tf.Variable> {
  return new Map(head.variables.map((v) => [v.name, v]));
}

/**
 * A data-parallel trainer for flowrlStep (pass it as inputs.trainer): `workers` threads, each with a replica of the
 * policy's model and of the log Z head and their own AdamW over both. Each mini-batch's rows are split over the
 * workers, gradients averaged through shared memory, and flowrlStep copies the trained weights back into policy.model
 * and the head. It starts from their current weights.
 * @example
 * const head = update.createLogZHead(policy.model.config.hidden_size);
 * const trainer = await update.flowrlTrainer(policy, head, { optimizer: { lr: 1e-3 } });
 * await update.flowrlStep({ policy, trainer, head, ref, prompts, reward });
 * await trainer.close()
 */
export async function flowrlTrainer(
  policy: TrainableModel,
  head: LogZHead,
  options: FlowrlTrainerOptions = {},
): Promise<ParallelTrainer> {
  const model = modelOf(policy, "update.flowrlTrainer");
  if (!head || typeof head.getWeights !== "function" || !(head.layers! >= 1) || !(head.dropout! >= 0))
    fail(
      "invalid_input",
      `update.flowrlTrainer: head must be a log Z head made by update.createLogZHead (got ${describe(head)}); ` +
        `the workers rebuild it from its hidden size, layers, dropout and weights.`,
      { path: ["head"] },
      flowrlTrainer,
    );
  if (head.hiddenSize !== model.config.hidden_size)
    fail(
      "shape_mismatch",
      `update.flowrlTrainer: the head's hidden size is ${head.hiddenSize} but the policy's is ` +
        `${model.config.hidden_size}. Create it with update.createLogZHead(policy.model.config.hidden_size).`,
      { path: ["head"] },
      flowrlTrainer,
    );
  checkWorkerOptimizer(options.optimizer, "update.flowrlTrainer", flowrlTrainer);
  const spec: HeadSpec = {
    hiddenSize: head.hiddenSize,
    layers: head.layers!,
    dropout: head.dropout!,
    weights: head.getWeights().map(({ name, values }) => ({ name, values })),
    names: head.variables.map((v) => v.name),
  };
  return ParallelTrainer.create(model, {
    workers: options.workers,
    optimizer: options.optimizer,
    loss: LOSS_MODULE,
    lossExport: FLOWRL_LOSS,
    extra: {
      export: "parallelLogZHead",
      arg: spec,
      floats: head.variables.reduce((s, v) => s + v.size, 0),
    },
  });
}

/** Worker side: the head's replica, keyed by the main thread's variable names. */
export function parallelLogZHead(_model: LlamaModel, spec: HeadSpec, ctx: WorkerContext): HeadReplica {
  // the initial weights are overwritten at once; a fixed seed keeps the main thread's stream untouched
  const head = createLogZHead(spec.hiddenSize, { layers: spec.layers, dropout: spec.dropout, rng: new Rng(0) });
  head.setWeights(spec.weights);
  return { head, rank: ctx.rank, variables: new Map(head.variables.map((v, i) => [spec.names[i], v])) };
}

/**
 * Worker side: flowrlHeadLoss on this worker's rows. The loss is a mean over rows, so the weight is the row count
 * and the workers' weighted mean is the whole mini-batch's loss.
 */
export function parallelFlowrlLoss(
  model: LlamaModel,
  batch: LogprobsBatch & {
    oldLogp: number[][];
    refLogp: number[][];
    reward: ArrayLike<number>;
    promptMask: number[][];
    settings: FlowrlWorkerSettings;
  },
  extra: HeadReplica,
): ParallelLossResult {
  const s = batch.settings;
  const lt = logprobTensors(model, batch, { temperature: s.temperature, hidden: true });
  const rng = s.dropoutSeed === null ? undefined : new Rng(`${s.dropoutSeed}/${extra.rank}`);
  const out = flowrlHeadLoss(
    extra.head,
    {
      logp: lt.logp,
      mask: lt.mask,
      hidden: lt.hidden,
      oldLogp: batch.oldLogp,
      refLogp: batch.refLogp,
      reward: batch.reward,
      promptMask: batch.promptMask,
    },
    s.loss,
    rng,
  );
  const rows = batch.oldLogp.length;
  const metrics = { ...out.metrics };
  // The masked fraction is per token, the merge over workers per row: report masked tokens per row here, and
  // flowrlStep divides the merged value by the mini-batch's tokens per row, so it equals the one-process fraction.
  if (MASKED in metrics)
    metrics[MASKED] *=
      maskCount(
        batch.responseMask,
        Array.from({ length: rows }, (_, i) => i),
      ) / rows;
  return { loss: out.loss, weight: rows, metrics };
}
