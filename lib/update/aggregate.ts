// Loss aggregation modes (verl loss_agg_mode): how per-token losses [B, T] become one scalar. The denominators can be
// passed in (tokens, seqs) so mini-batches and micro-batches normalise by the global batch, as verl does. The seq-mean
// modes count only the rows with at least one unmasked token (verl agg_loss's seq_mask): a fully masked row (a
// truncated or filtered sample) neither adds to the sum nor to the denominator.
import * as tf from "@tensorflow/tfjs";
import { fail } from "../core/errors.js";
import { lossAggs, type AggFn, type AggOptions } from "./registries.js";
import { asTensor, checkShape, type TensorInput } from "./tensors.js";

const tokenCount = (mask: tf.Tensor2D, o: AggOptions) =>
  o.tokens !== undefined ? tf.scalar(o.tokens) : tf.maximum(mask.sum(), 1);
// rows with ≥ 1 unmasked token (verl's seq_mask.sum()), at least 1 so an all-masked batch gives 0, not NaN
const seqCount = (mask: tf.Tensor2D, o: AggOptions) =>
  o.seqs !== undefined ? tf.scalar(o.seqs) : tf.maximum(tf.greater(mask.sum(1), 0).toFloat().sum(), 1);

/**
 * token-mean: Σ_i Σ_t m·ℓ / N_tokens (DAPO, verl default).
 * @example update.lossAggs.get("token-mean")({values, mask}, {})
 */
export const tokenMean: AggFn = ({ values, mask }, o) => values.mul(mask).sum().div(tokenCount(mask, o)) as tf.Scalar;
/**
 * seq-mean-token-sum: (1/B') Σ_i Σ_t m·ℓ, B' = rows with ≥ 1 unmasked token (verl).
 * @example update.aggregate({values, mask}, {mode: "seq-mean-token-sum"})
 */
export const seqMeanTokenSum: AggFn = ({ values, mask }, o) =>
  values.mul(mask).sum().div(seqCount(mask, o)) as tf.Scalar;
/**
 * seq-mean-token-mean: (1/B') Σ_i [Σ_t m·ℓ / Σ_t m] (original GRPO), B' = rows with ≥ 1 unmasked token (verl).
 * @example update.aggregate({values, mask}, {mode: "seq-mean-token-mean"})
 */
export const seqMeanTokenMean: AggFn = ({ values, mask }, o) =>
  values
    .mul(mask)
    .sum(1)
    .div(tf.maximum(mask.sum(1), 1))
    .sum()
    .div(seqCount(mask, o)) as tf.Scalar;
/**
 * seq-mean-token-sum-norm: Σ_i Σ_t m·ℓ / (B'·C), C = scaleFactor or T (Dr. GRPO), B' as above (verl HEAD).
 * @example update.aggregate({values, mask}, {mode: "seq-mean-token-sum-norm", scaleFactor: 1024})
 */
export const seqMeanTokenSumNorm: AggFn = ({ values, mask }, o) =>
  values
    .mul(mask)
    .sum()
    .div(seqCount(mask, o).mul(o.scaleFactor ?? mask.shape[1])) as tf.Scalar;

lossAggs.add("token-mean", tokenMean, { summary: "Σ m·ℓ / number of tokens (DAPO; verl default)" });
lossAggs.add("seq-mean-token-sum", seqMeanTokenSum, { summary: "mean over sequences of the token sum" });
lossAggs.add("seq-mean-token-mean", seqMeanTokenMean, {
  paper: "arXiv:2402.03300",
  summary: "mean over sequences of the token mean (GRPO)",
});
lossAggs.add("seq-mean-token-sum-norm", seqMeanTokenSumNorm, {
  paper: "arXiv:2503.20783",
  summary: "Σ m·ℓ / (B · T) (Dr. GRPO)",
});

/**
 * Aggregate per-token values [B, T] under a mask [B, T] into a scalar, by mode name or function.
 * @example update.aggregate({values: perTokenLoss, mask}, {mode: "seq-mean-token-mean"})
 */
export function aggregate(
  inputs: { values: TensorInput; mask: TensorInput },
  options: AggOptions & { mode?: string | AggFn } = {},
): tf.Scalar {
  const { mode = "token-mean", ...agg } = options;
  const fn = lossAggs.get(mode);
  for (const k of ["tokens", "seqs", "scaleFactor"] as const)
    if (agg[k] !== undefined && !(Number(agg[k]) > 0))
      fail(
        "invalid_option",
        `update.aggregate: options.${k} must be a positive number (got ${agg[k]}).`,
        { path: ["options", k] },
        aggregate,
      );
  return tf.tidy(() => {
    const values = asTensor(inputs.values, 2, "update.aggregate", "inputs.values") as tf.Tensor2D;
    const mask = asTensor(inputs.mask, 2, "update.aggregate", "inputs.mask") as tf.Tensor2D;
    checkShape(mask, values.shape, "update.aggregate", "inputs.mask", "inputs.values");
    return fn({ values, mask }, agg);
  });
}
