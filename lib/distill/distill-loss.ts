// The GKD / on-policy distillation loss: a token-level divergence between the teacher's and the student's next-token
// distributions, averaged over the response mask. Teacher distributions are full [B, T, V] or top-k [B, T, K].
// Top-k approximations (`renormalize`):
// 1. true:  both distributions renormalised on the teacher's top-k set (verl's rkl does this).
// 2. false: the k tokens plus one "tail" bucket holding the remaining mass of each distribution. This is a proper
//    distribution, so every divergence stays ≥ 0 and lower-bounds the full one; when the teacher's top-k mass is 1 it
//    equals verl's kl and jsd values exactly. Temperature ≠ 1 needs renormalisation or full distributions (the tail of
//    a tempered distribution cannot be recovered from top-k log-probs).
// 3. `topkTail: "verl"` instead of the tail bucket: verl recipe gkd/megatron's losses exactly. "forward-kl" (verl `kl`)
//    is Σ_K P (log P − log Q) with no tail, and its gradient w.r.t. the student logits is verl's Q − P_K (verl assumes
//    Σ_K P = 1; the value's own gradient would be (Σ_K P)·Q − P_K); "jsd" treats the teacher as 0 outside the top-k
//    (M = (1 − β)Q there, an analytic rest term, β clamped to [1e-6, 1 − 1e-6]); "reverse-kl" (verl `rkl`) is
//    renormalised on the top-k set.
// Departure from verl by default: gradients are autodiff of the stated value.
import * as tf from "@tensorflow/tfjs";
import { describe, fail } from "../core/errors.js";
import { lossAggs, type AggFn, type AggOptions } from "../update/registries.js";
import "../update/aggregate.js";
import { gatherColumns } from "../model/logprobs.js";
import { asTensor, checkShape, detach, hostData, maskedMean, type TensorInput } from "../update/tensors.js";
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
  /**
   * Top-k teachers without renormalisation: "bucket" adds one tail bucket with each distribution's mass outside the
   * top-k (a proper distribution, divergence ≥ 0); "verl" reproduces verl's GKD recipe (`kl` has no tail, `jsd` treats
   * the teacher as 0 outside the top-k, `rkl` renormalises). Defaults to "bucket".
   */
  topkTail?: "bucket" | "verl";
}
/** Defaults of distillLoss (print them in a cell). */
export const distillDefaults = {
  divergence: "jsd",
  beta: 0.5,
  temperature: 1,
  renormalize: false,
  agg: "token-mean",
  topkTail: "bucket" as "bucket" | "verl",
};

const TAIL_FLOOR = 1e-10;

/** log(1 − Σ exp(x)) per row, floored: the log-mass outside the top-k set. */
const logTail = (x: tf.Tensor2D) => tf.log(tf.maximum(tf.sub(1, x.exp().sum(-1, true)), TAIL_FLOOR));

const VERL_DIVERGENCE: Record<string, "kl" | "jsd" | "rkl"> = { "forward-kl": "kl", jsd: "jsd", "reverse-kl": "rkl" };

/**
 * verl recipe gkd/megatron's top-k `kl` and `jsd` per row, from the teacher's top-k log-probs [N, K], the student's
 * log-probs at those ids [N, K] and the student's logits [N, V] (for `kl`'s gradient).
 * kl:  Σ_K P (log P − log Q), gradient Q − P_K (the value's own plus (1 − Σ_K P)·∂logsumexp(z), a zero-valued term).
 * jsd: β Σ_K P log(P/M) + (1 − β)[Σ_K Q log(Q/M) − (1 − Σ_K Q) log(1 − β)], M = βP + (1 − β)Q on K,
 * β ∈ [1e-6, 1 − 1e-6].
 * @example verlTopk("kl", teacherTopk, studentTopk, logits, 0.5) // [N]
 */
export function verlTopk(
  name: "kl" | "jsd",
  tlp: tf.Tensor2D,
  lqK: tf.Tensor2D,
  z: tf.Tensor2D,
  beta: number,
): tf.Tensor1D {
  const P = tlp.exp();
  if (name === "kl") {
    const value = P.mul(tlp.sub(lqK)).sum(-1);
    const lse = tf.logSumExp(z, -1);
    const rest = tf.sub(1, P.sum(-1)); // data: the teacher is not under the tape
    return value.add(rest.mul(lse.sub(detach(lse)))) as tf.Tensor1D;
  }
  const b = Math.min(Math.max(beta, 1e-6), 1 - 1e-6);
  const lM = tf.logSumExp(tf.stack([tlp.add(Math.log(b)), lqK.add(Math.log(1 - b))]), 0);
  const kp = P.mul(tlp.sub(lM)).sum(-1);
  const Q = lqK.exp();
  const kq = Q.mul(lqK.sub(lM))
    .sum(-1)
    .add(tf.sub(1, Q.sum(-1)).mul(-Math.log(1 - b)));
  return kp.mul(b).add(kq.mul(1 - b)) as tf.Tensor1D;
}

/**
 * Distillation loss: agg over the mask of D(teacher ‖ student) per token.
 * @returns {loss: Scalar, metrics: {"distill/loss", "distill/teacherTopkMass", "distill/studentTopkMass"}}
 * @example
 * const teacherOut = await teacher.score(ro);
 * const {loss} = distill.distillLoss({student: logits, teacher: teacherOut, mask}, {divergence: "jsd", beta: 0.5})
 */
export function distillLoss(
  inputs: DistillLossInputs,
  options: DistillLossOptions = {},
): { loss: tf.Scalar; metrics: Record<string, number> } {
  const F = "distill.distillLoss";
  const { divergence, beta, temperature, renormalize, agg, topkTail, ...aggOpts } = { ...distillDefaults, ...options };
  const div = divergences.get(divergence);
  if (topkTail !== "bucket" && topkTail !== "verl")
    fail(
      "invalid_option",
      `${F}: options.topkTail must be "bucket" or "verl" (got ${describe(topkTail)}).`,
      { path: ["options", "topkTail"] },
      distillLoss,
    );
  const verlName = topkTail === "verl" && typeof divergence === "string" ? VERL_DIVERGENCE[divergence] : undefined;
  if (topkTail === "verl" && !verlName)
    fail(
      "invalid_option",
      `${F}: topkTail "verl" reproduces verl's kl, jsd and rkl; options.divergence is ${describe(divergence)} ` +
        `(expected "forward-kl", "jsd" or "reverse-kl").`,
      { path: ["options", "divergence"] },
      distillLoss,
    );
  if (topkTail === "verl" && renormalize && verlName !== "rkl")
    fail(
      "invalid_option",
      `${F}: renormalize: true with topkTail "verl" and "${divergence}": verl's ${verlName} does not ` +
        `renormalise. Drop one of the two.`,
      { path: ["options", "renormalize"] },
      distillLoss,
    );
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
  if (teacher.kind === "topk" && !renormalize && verlName !== "rkl" && temperature !== 1)
    fail(
      "invalid_option",
      `${F}: temperature ${temperature} with a top-k teacher needs renormalize: true (the tempered tail mass ` +
        `is unknown from top-k log-probs). Set renormalize: true, temperature: 1, or use full teacher ` +
        `distributions.`,
      { path: ["options", "temperature"] },
      distillLoss,
    );
  const metrics: Record<string, number> = {};
  const loss = tf.tidy(() => {
    const mask = asTensor(inputs.mask, 2, F, "inputs.mask") as tf.Tensor2D;
    checkShape(mask, [B, T], F, "inputs.mask", "inputs.student's [B, T]");
    const m = hostData(mask);
    const z = inputs.student.reshape([B * T, V]).div(temperature) as tf.Tensor2D;
    let lq = tf.logSoftmax(z) as tf.Tensor2D; // [N, V]
    let lp: tf.Tensor2D;
    let perRowVerl: tf.Tensor1D | null = null;
    if (teacher.kind === "full") {
      lp = tf.logSoftmax(teacher.logprobs.reshape([B * T, V]).div(temperature)) as tf.Tensor2D;
    } else {
      const { K } = teacher;
      const lqK = gatherColumns(lq, teacher.ids, K); // [N, K]
      const tlp = tf.tensor2d(teacher.logprobs, [B * T, K]);
      metrics["distill/teacherTopkMass"] = maskedMean(hostData(tlp.exp().sum(-1)), m);
      metrics["distill/studentTopkMass"] = maskedMean(hostData(lqK.exp().sum(-1)), m);
      if (verlName === "kl" || verlName === "jsd") {
        perRowVerl = verlTopk(verlName, tlp, lqK, z, beta);
      } else if (renormalize || verlName === "rkl") {
        const tt = tlp.div(temperature);
        lp = tt.sub(tf.logSumExp(tt, -1, true)) as tf.Tensor2D;
        lq = lqK.sub(tf.logSumExp(lqK, -1, true)) as tf.Tensor2D;
      } else {
        lp = tf.concat([tlp, logTail(tlp)], 1) as tf.Tensor2D;
        lq = tf.concat([lqK, logTail(lqK)], 1) as tf.Tensor2D;
      }
    }
    const perRow = (perRowVerl ?? div({ teacher: lp!, student: lq }, { beta })).reshape([B, T]) as tf.Tensor2D;
    const l = aggFn({ values: perRow, mask }, aggOpts);
    metrics["distill/loss"] = l.dataSync()[0];
    return l;
  });
  return { loss, metrics };
}
