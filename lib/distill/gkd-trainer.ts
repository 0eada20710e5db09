// GKD updates on worker threads: a model.ParallelTrainer whose replicas hold the student, so gkdStep can split the
// batch's rows over two (or more) wasm threads. The teacher stays where gkdStep runs it (the main thread, or a server):
// its distributions travel to the workers as plain rows (one Float32Array of [T, V] or [T, K] per sequence), and the
// worker half of this file (`parallelGkdLoss`) runs the same distillLoss the single-process step runs, on its rows.
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { LlamaModel } from "../model/llama.js";
import { logprobTensors, type LogprobsBatch } from "../model/logprobs.js";
import type { AdamWOptions } from "../model/optim.js";
import { checkWorkerOptimizer, ParallelTrainer, type ParallelLossResult } from "../model/parallel.js";
import { maskCount, modelOf, seqCount, type TrainableModel } from "../update/step.js";
import { distillLoss, type DistillLossOptions } from "./distill-loss.js";
import type { TeacherOutput } from "./teacher.js";

/** Options of distill.gkdTrainer. */
export interface GkdTrainerOptions {
  /** Worker threads (one core each on the wasm backend). Defaults to 2. */
  workers?: number;
  /**
   * AdamW options of every replica: plain data only (lr, betas, weightDecay, schedule by name or spec, clipGradNorm).
   */
  optimizer?: AdamWOptions;
}

/** The loss settings a worker needs, as plain data (divergence and agg by name). */
export interface GkdWorkerSettings {
  loss: DistillLossOptions & { divergence: string; agg: string };
  /** Shape of each teacher row: "full" rows are [T, V] log-probs, "topk" rows [T, K] ids and log-probs. */
  teacher: { kind: "full" | "topk"; T: number; width: number };
}

/** A teacher output cut into rows of plain data: what the workers receive with the batch. */
export interface TeacherRows {
  teacherLogp: Float32Array[];
  teacherIds?: Int32Array[];
  teacher: GkdWorkerSettings["teacher"];
}

/** The loss module workers load: this file, compiled (.js) or under tsx (.ts). */
const LOSS_MODULE = path.join(__dirname, `gkd-trainer${path.extname(__filename)}`);
/** The worker loss's export name; gkdStep checks a trainer against it. */
export const GKD_LOSS = "parallelGkdLoss";

/**
 * A data-parallel trainer for gkdStep (pass it as inputs.trainer): `workers` threads, each with a replica of the
 * student's model and its own AdamW. The teacher scores the batch where gkdStep runs; its distributions go to the
 * workers with their rows, gradients are averaged through shared memory, and gkdStep copies the trained weights back
 * into the student. It starts from the student's current weights.
 * @example
 * const trainer = await distill.gkdTrainer(student, { optimizer: { lr: 1e-3 } });
 * await distill.gkdStep({ policy: student, trainer, teacher, prompts });
 * await trainer.close()
 */
export async function gkdTrainer(student: TrainableModel, options: GkdTrainerOptions = {}): Promise<ParallelTrainer> {
  const model = modelOf(student, "distill.gkdTrainer");
  checkWorkerOptimizer(options.optimizer, "distill.gkdTrainer", gkdTrainer);
  return ParallelTrainer.create(model, {
    workers: options.workers,
    optimizer: options.optimizer,
    loss: LOSS_MODULE,
    lossExport: GKD_LOSS,
  });
}

/** A teacher output as one plain row per sequence (copies; the caller still disposes a full output's tensor). */
export function teacherAsRows(out: TeacherOutput): TeacherRows {
  if (out.kind === "full") {
    const [B, T, V] = out.logprobs.shape;
    const data = out.logprobs.dataSync() as Float32Array;
    return {
      teacherLogp: Array.from({ length: B }, (_, b) => data.slice(b * T * V, (b + 1) * T * V)),
      teacher: { kind: "full", T, width: V },
    };
  }
  const per = out.T * out.K;
  return {
    teacherLogp: Array.from({ length: out.B }, (_, b) => out.logprobs.slice(b * per, (b + 1) * per)),
    teacherIds: Array.from({ length: out.B }, (_, b) => out.ids.slice(b * per, (b + 1) * per)),
    teacher: { kind: "topk", T: out.T, width: out.K },
  };
}

/** Worker side: the teacher output of this worker's rows, rebuilt from plain rows. */
function teacherOf(rows: Omit<TeacherRows, "teacher">, shape: GkdWorkerSettings["teacher"]): TeacherOutput {
  const B = rows.teacherLogp.length,
    { T, width } = shape;
  const logp = new Float32Array(B * T * width);
  rows.teacherLogp.forEach((r, b) => logp.set(r, b * T * width));
  if (shape.kind === "full") return { kind: "full", logprobs: tf.tensor3d(logp, [B, T, width]) };
  const ids = new Int32Array(B * T * width);
  rows.teacherIds!.forEach((r, b) => ids.set(r, b * T * width));
  return { kind: "topk", ids, logprobs: logp, B, T, K: width };
}

/**
 * Worker side: distillLoss on this worker's rows (student logits under the tape), weighted by its scored tokens
 * (token-mean) or its rows with a scored token (the seq-mean modes), as update.step weights micro-batches.
 */
export function parallelGkdLoss(
  model: LlamaModel,
  batch: LogprobsBatch & Omit<TeacherRows, "teacher"> & { settings: GkdWorkerSettings },
): ParallelLossResult {
  const s = batch.settings;
  const lt = logprobTensors(model, batch, { logits: true });
  // the rebuilt teacher tensor is made inside the trainer's variableGrads scope, which disposes it after the step
  const out = distillLoss({ student: lt.logits!, teacher: teacherOf(batch, s.teacher), mask: lt.mask }, s.loss);
  const rows = batch.teacherLogp.map((_, i) => i);
  return {
    loss: out.loss,
    weight: Math.max(
      s.loss.agg === "token-mean" ? maskCount(batch.responseMask, rows) : seqCount(batch.responseMask, rows),
      1e-9,
    ),
    metrics: out.metrics,
  };
}
