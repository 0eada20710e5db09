// Global gradient-norm clipping as torch.nn.utils.clip_grad_norm_: norm = sqrt(sum_i ||g_i||^2) over all tensors;
// when norm > maxNorm every gradient is scaled by maxNorm / (norm + 1e-6).
import * as tf from "@tensorflow/tfjs";
import { mustBe } from "../core/checks.js";

/**
 * The global L2 norm of a set of gradients, as a number (one host read).
 * @example globalNorm({w: tf.tensor([3, 4])}) // 5
 */
export function globalNorm(grads: Record<string, tf.Tensor>): number {
  const list = Object.values(grads);
  if (list.length === 0) return 0;
  return tf.tidy(() => tf.sqrt(tf.addN(list.map((g) => tf.sum(tf.square(g))))).dataSync()[0]);
}

/**
 * Scale gradients so their global norm is at most maxNorm; returns new tensors (caller disposes) and the pre-clip norm.
 * @example const {grads, norm} = clipGradNorm(g, 1.0)
 */
export function clipGradNorm(
  grads: Record<string, tf.Tensor>,
  maxNorm: number,
): { grads: Record<string, tf.Tensor>; norm: number; scale: number } {
  if (!(maxNorm > 0))
    mustBe(
      { where: "model.clipGradNorm", from: clipGradNorm },
      "maxNorm",
      "must be > 0",
      maxNorm,
      "Use null in the optimizer options to turn clipping off.",
    );
  const norm = globalNorm(grads);
  const scale = Number.isFinite(norm) && norm > maxNorm ? maxNorm / (norm + 1e-6) : 1;
  const out: Record<string, tf.Tensor> = {};
  for (const [k, g] of Object.entries(grads)) out[k] = scale === 1 ? g.clone() : tf.tidy(() => tf.mul(g, scale));
  return { grads: out, norm, scale };
}
