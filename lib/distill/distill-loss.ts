// The GKD / on-policy distillation loss: a token-level divergence between the teacher's and the student's next-token
// distributions, averaged over the response mask. Teacher distributions are full [B, T, V] or top-k [B, T, K].
// Top-k approximations (`renormalize`):
// 1. true:  both distributions renormalised on the teacher's top-k set (verl's rkl does this).
// 2. false: the k tokens plus one "tail" bucket holding the remaining mass of each distribution. This is a proper
//    distribution, so every divergence stays ≥ 0 and lower-bounds the full one; when the teacher's top-k mass is 1 it
//    equals verl's kl and jsd values exactly. Temperature ≠ 1 needs renormalisation or full distributions (the tail of
//    a tempered distribution cannot be recovered from top-k log-probs).
// Departure from verl: gradients are autodiff of the stated value (verl's forward-KL backward assumes Σ_K P = 1).
import * as tf from "@tensorflow/tfjs";
import { describe, fail } from "../core/errors.js";
import { lossAggs, type AggFn, type AggOptions } from "../update/registries.js";
import "../update/aggregate.js";
import { gatherColumns } from "../model/logprobs.js";
import { asTensor, checkShape, hostData, maskedMean, type TensorInput } from "../update/tensors.js";
import { divergences, type DivergenceFn } from "./divergence.js";
import { checkTeacherOutput, type TeacherOutput } from "./teacher.js";

/** Inputs of distillLoss. */
export interface DistillLossInputs {
  /** Student logits (or log-probs) [B, T, V], tokens-aligned (row t predicts token t), under the tape. */
  student: tf.Tensor3D;
  /** Teacher distributions from a TeacherSource (same alignment). */
  teacher: TeacherOutput;
  /** 1 on the positions to distil [B, T] (the response tokens). */
  mask: TensorInput;
}

/** Options of distillLoss. */
export interface DistillLossOptions extends AggOptions {
  /** "forward-kl" | "reverse-kl" | "jsd" | a registered name | a function. Defaults to "jsd" (TRL GKDTrainer). */
  divergence?: string | DivergenceFn;
  /** β of JSD(β): 0 = forward KL, 1 = reverse KL (TRL beta). Defaults to 0.5. */
  beta?: number;
  /** Divide student and teacher logits by this before the softmax (TRL temperature). Defaults to 1. */
  temperature?: number;
  /** Top-k teachers only: renormalise both on the top-k set (true) or keep a tail bucket (false). Defaults to false. */
  renormalize?: boolean;
  /** Aggregation over tokens. Defaults to "token-mean" (TRL batchmean over tokens, verl token mean). */
  agg?: string | AggFn;
}
/** Defaults of distillLoss (print them in a cell). */
export const distillDefaults = { divergence: "jsd", beta: 0.5, temperature: 1, renormalize: false, agg: "token-mean" };

const TAIL_FLOOR = 1e-10;

/** log(1 − Σ exp(x)) per row, floored: the log-mass outside the top-k set. */
const logTail = (x: tf.Tensor2D) => tf.log(tf.maximum(tf.sub(1, x.exp().sum(-1, true)), TAIL_FLOOR));

/**
 * Distillation loss: agg over the mask of D(teacher ‖ student) per token.
 * @returns {loss: Scalar, metrics: {"distill/loss", "distill/teacherTopkMass", "distill/studentTopkMass"}}
 * @example const {loss} = distill.distillLoss({student: logits, teacher: await teacher.score(ro), mask}, {divergence: "jsd", beta: 0.5})
 */
export function distillLoss(
  inputs: DistillLossInputs,
  options: DistillLossOptions = {},
): { loss: tf.Scalar; metrics: Record<string, number> } {
  const F = "distill.distillLoss";
  const { divergence, beta, temperature, renormalize, agg, ...aggOpts } = { ...distillDefaults, ...options };
  const div = divergences.get(divergence);
  const aggFn = lossAggs.get(agg);
  if (!(beta >= 0 && beta <= 1))
    fail(
      "invalid_option",
      `${F}: options.beta must be in [0, 1] (got ${describe(beta)}); 0 is forward KL, 1 reverse KL.`,
      { path: ["options", "beta"] },
      distillLoss,
    );
  if (!(temperature > 0) || !Number.isFinite(temperature))
    fail(
      "invalid_option",
      `${F}: options.temperature must be a positive number (got ${describe(temperature)}).`,
      { path: ["options", "temperature"] },
      distillLoss,
    );
  if (!(inputs?.student instanceof tf.Tensor) || inputs.student.rank !== 3)
    fail(
      "invalid_input",
      `${F}: inputs.student must be the student's logits [B, T, V] under the tape (got ${describe(inputs?.student)}).`,
      { path: ["inputs", "student"] },
      distillLoss,
    );
  const [B, T, V] = inputs.student.shape;
  const teacher = checkTeacherOutput(inputs.teacher, B, T, V, F);
  if (teacher.kind === "topk" && !renormalize && temperature !== 1)
    fail(
      "invalid_option",
      `${F}: temperature ${temperature} with a top-k teacher needs renormalize: true (the tempered tail mass is unknown from top-k log-probs). Set renormalize: true, temperature: 1, or use full teacher distributions.`,
      { path: ["options", "temperature"] },
      distillLoss,
    );
  const metrics: Record<string, number> = {};
  const loss = tf.tidy(() => {
    const mask = asTensor(inputs.mask, 2, F, "inputs.mask") as tf.Tensor2D;
    checkShape(mask, [B, T], F, "inputs.mask", "inputs.student's [B, T]");
    const m = hostData(mask);
    let lq = tf.logSoftmax(inputs.student.reshape([B * T, V]).div(temperature)) as tf.Tensor2D; // [N, V]
    let lp: tf.Tensor2D;
    if (teacher.kind === "full") {
      lp = tf.logSoftmax(teacher.logprobs.reshape([B * T, V]).div(temperature)) as tf.Tensor2D;
    } else {
      const { K } = teacher;
      const lqK = gatherColumns(lq, teacher.ids, K); // [N, K]
      const tlp = tf.tensor2d(teacher.logprobs, [B * T, K]);
      metrics["distill/teacherTopkMass"] = maskedMean(hostData(tlp.exp().sum(-1)), m);
      metrics["distill/studentTopkMass"] = maskedMean(hostData(lqK.exp().sum(-1)), m);
      if (renormalize) {
        const tt = tlp.div(temperature);
        lp = tt.sub(tf.logSumExp(tt, -1, true)) as tf.Tensor2D;
        lq = lqK.sub(tf.logSumExp(lqK, -1, true)) as tf.Tensor2D;
      } else {
        lp = tf.concat([tlp, logTail(tlp)], 1) as tf.Tensor2D;
        lq = tf.concat([lqK, logTail(lqK)], 1) as tf.Tensor2D;
      }
    }
    const perRow = div({ teacher: lp, student: lq }, { beta }).reshape([B, T]) as tf.Tensor2D;
    const l = aggFn({ values: perRow, mask }, aggOpts);
    metrics["distill/loss"] = l.dataSync()[0];
    return l;
  });
  return { loss, metrics };
}
