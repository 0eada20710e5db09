// Token-level divergences between a teacher P and the student Q over a common support (log-distributions [N, S]),
// registered by name. P is data; gradients flow through Q. Conventions of the GKD paper (arXiv 2306.13649) and TRL:
//   forward KL  KL(P‖Q) = Σ P (log P − log Q)          (mode covering; supervised KD)
//   reverse KL  KL(Q‖P) = Σ Q (log Q − log P)          (mode seeking)
//   JSD(β)      β·KL(P‖M) + (1 − β)·KL(Q‖M),  M = βP + (1 − β)Q
// TRL special-cases β = 0 as exactly forward KL and β = 1 as exactly reverse KL; so do we. For 0 < β < 1,
// JSD(β)/β → forward KL as β → 0 and JSD(β)/(1 − β) → reverse KL as β → 1.
import * as tf from "@tensorflow/tfjs";
import { registry } from "../core/registry.js";

/** A divergence over a common support: teacher and student log-distributions [N, S] → per-row values [N]. */
export type DivergenceFn = (
  inputs: { teacher: tf.Tensor2D; student: tf.Tensor2D },
  options: { beta: number },
) => tf.Tensor1D;

/** Divergences by name ("forward-kl", "reverse-kl", "jsd"). */
export const divergences = registry<DivergenceFn>("divergence");

/**
 * KL(P‖Q) per row.
 * @example distill.forwardKl({teacher: logP, student: logQ}, {beta: 0}) // [N]
 */
export const forwardKl: DivergenceFn = ({ teacher, student }) =>
  teacher.exp().mul(teacher.sub(student)).sum(-1) as tf.Tensor1D;
/**
 * KL(Q‖P) per row.
 * @example distill.reverseKl({teacher: logP, student: logQ}, {beta: 1}) // [N]
 */
export const reverseKl: DivergenceFn = ({ teacher, student }) =>
  student.exp().mul(student.sub(teacher)).sum(-1) as tf.Tensor1D;
/**
 * Generalised JSD(β) per row (β = 0: forward KL; β = 1: reverse KL).
 * @example distill.jsd({teacher: logP, student: logQ}, {beta: 0.5}) // [N]
 */
export const jsd: DivergenceFn = ({ teacher, student }, { beta }) => {
  if (beta <= 0) return forwardKl({ teacher, student }, { beta });
  if (beta >= 1) return reverseKl({ teacher, student }, { beta });
  // log M = logsumexp(log P + log β, log Q + log(1 − β)): stays finite where P or Q underflows.
  const logM = tf.logSumExp(tf.stack([teacher.add(Math.log(beta)), student.add(Math.log(1 - beta))]), 0);
  const kp = teacher.exp().mul(teacher.sub(logM)).sum(-1);
  const kq = student.exp().mul(student.sub(logM)).sum(-1);
  return kp.mul(beta).add(kq.mul(1 - beta)) as tf.Tensor1D;
};

divergences.add("forward-kl", forwardKl, { paper: "arXiv:2306.13649", summary: "KL(teacher ‖ student)" });
divergences.add("reverse-kl", reverseKl, { paper: "arXiv:2306.13649", summary: "KL(student ‖ teacher)" });
divergences.add("jsd", jsd, { paper: "arXiv:2306.13649", summary: "β·KL(P‖M) + (1−β)·KL(Q‖M), M = βP + (1−β)Q" });
