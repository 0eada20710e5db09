// GRPO-family updates on worker threads: a model.ParallelTrainer whose loss is update.policyLoss, so grpoStep can
// split each mini-batch's rows over two (or more) wasm threads. Functions cannot cross into a worker, so the loss is
// named (a policyLosses / lossAggs / klEstimators registry key) and its options travel as plain data; the worker
// half of this file (`parallelPolicyLoss`) rebuilds the same policyLoss call on its rows.
import * as path from "node:path";
import type { LlamaModel } from "../model/llama.js";
import { logprobTensors, type LogprobsBatch } from "../model/logprobs.js";
import type { AdamWOptions } from "../model/optim.js";
import { checkWorkerOptimizer, ParallelTrainer, type ParallelLossResult } from "../model/parallel.js";
import { policyLoss } from "./policy-loss.js";
import { maskCount, modelOf, seqCount, type TrainableModel } from "./step.js";

/** Options of update.parallelTrainer. */
export interface ParallelPolicyTrainerOptions {
  /** Worker threads (one core each on the wasm backend). Defaults to 2. */
  workers?: number;
  /**
   * AdamW options of every replica: plain data only (lr, betas, weightDecay, schedule by name or spec, clipGradNorm).
   */
  optimizer?: AdamWOptions;
}

/** The policy-loss settings a worker needs, as plain data (what grpoStep sends with every mini-batch). */
export interface ParallelLossSettings {
  loss: string;
  clip: number | [number, number];
  clipC: number | null;
  agg: string;
  temperature: number;
  entropyCoef: number;
  kl: { beta?: number; estimator?: string } | null;
}

/** The batch a worker receives: rows of the mini-batch plus the shared settings. */
export interface ParallelPolicyBatch {
  ids: number[][];
  attentionMask: number[][];
  responseMask: number[][];
  oldLogp: number[][];
  adv: ArrayLike<number>;
  refLogp?: number[][] | null;
  settings: ParallelLossSettings;
}

/** The worker loss's export name; grpoStep checks a trainer against it. */
export const POLICY_LOSS = "parallelPolicyLoss";

/** The loss module workers load: this file, compiled (.js) or under tsx (.ts). */
const LOSS_MODULE = path.join(__dirname, `parallel${path.extname(__filename)}`);

/**
 * A data-parallel trainer for grpoStep (pass it as inputs.trainer): replicas of the policy's model with their own AdamW
 * on `workers` threads. It starts from the model's current weights; grpoStep syncs the trained weights back.
 * @example
 * const trainer = await update.parallelTrainer(policy, { optimizer: { lr: 1e-3 } });
 * await update.grpoStep({ policy, trainer, prompts, reward });
 * await trainer.close()
 */
export async function parallelTrainer(
  policy: TrainableModel,
  options: ParallelPolicyTrainerOptions = {},
): Promise<ParallelTrainer> {
  const model = modelOf(policy, "update.parallelTrainer");
  checkWorkerOptimizer(options.optimizer, "update.parallelTrainer", parallelTrainer);
  return ParallelTrainer.create(model, {
    workers: options.workers,
    optimizer: options.optimizer,
    loss: LOSS_MODULE,
    lossExport: POLICY_LOSS,
  });
}

/**
 * Worker side: update.policyLoss on this worker's rows, weighted by its tokens (token-mean) or its rows with a scored
 * token (the seq-mean modes' denominator).
 */
export function parallelPolicyLoss(model: LlamaModel, batch: ParallelPolicyBatch): ParallelLossResult {
  const s = batch.settings;
  const lt = logprobTensors(model, batch as unknown as LogprobsBatch, {
    temperature: s.temperature,
    entropy: s.entropyCoef > 0,
  });
  const out = policyLoss(
    s.loss,
    { logp: lt.logp, mask: lt.mask, oldLogp: batch.oldLogp, adv: batch.adv },
    {
      clip: s.clip,
      clipC: s.clipC,
      agg: s.agg,
      kl: s.kl && batch.refLogp ? { refLogp: batch.refLogp, beta: s.kl.beta, estimator: s.kl.estimator } : null,
      entropy: s.entropyCoef && lt.entropy ? { values: lt.entropy, coef: s.entropyCoef } : null,
    },
  );
  const rows = batch.ids.map((_, i) => i);
  return {
    loss: out.loss,
    weight: Math.max(
      s.agg === "token-mean" ? maskCount(batch.responseMask, rows) : seqCount(batch.responseMask, rows),
      1e-9,
    ),
    metrics: out.metrics,
  };
}
