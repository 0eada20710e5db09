// Supervised fine-tuning: masked token cross-entropy on the response tokens (warm starts, baselines, sequence-level
// KD).
import * as tf from "@tensorflow/tfjs";
import { describe, fail } from "../core/errors.js";
import { lossAggs, type AggFn, type AggOptions } from "./registries.js";
import { asTensor, checkShape, type TensorInput } from "./tensors.js";
import "./aggregate.js";

/** Options of sftLoss. */
export interface SftLossOptions extends AggOptions {
  /** Aggregation mode. Defaults to "token-mean" (mean negative log-likelihood per response token). */
  agg?: string | AggFn;
}

/**
 * SFT loss: agg(−log π(y_t)) over the response mask. With token-mean this is the mean NLL per token (exp(loss) =
 * perplexity).
 * @param inputs.logp log π of the target tokens [B, T] (under the tape)   @param inputs.mask response mask [B, T]
 * @example const {loss} = update.sftLoss({logp, mask: batch.mask})
 */
export function sftLoss(
  inputs: { logp: tf.Tensor; mask: TensorInput },
  options: SftLossOptions = {},
): { loss: tf.Scalar; metrics: Record<string, number> } {
  if (!(inputs?.logp instanceof tf.Tensor))
    fail(
      "invalid_input",
      `update.sftLoss: inputs.logp must be the per-token logprob tensor [B, T] (got ${describe(inputs?.logp)}).`,
      { path: ["inputs", "logp"] },
      sftLoss,
    );
  const { agg = "token-mean", ...aggOpts } = options;
  const fn = lossAggs.get(agg);
  const metrics: Record<string, number> = {};
  const loss = tf.tidy(() => {
    const logp = asTensor(inputs.logp, 2, "update.sftLoss", "inputs.logp") as tf.Tensor2D;
    const mask = asTensor(inputs.mask, 2, "update.sftLoss", "inputs.mask") as tf.Tensor2D;
    checkShape(mask, logp.shape, "update.sftLoss", "inputs.mask", "inputs.logp");
    const l = fn({ values: logp.neg() as tf.Tensor2D, mask }, aggOpts);
    metrics["update/sftLoss"] = l.dataSync()[0];
    return l;
  });
  return { loss, metrics };
}
