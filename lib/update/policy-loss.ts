// The policy-loss dispatcher: validates once, broadcasts advantages, runs the variant, aggregates, and adds the KL and
// entropy terms: loss = agg(ℓ_pg) + β·agg(kl) − coef·agg(H). Metrics are plain numbers (verl's actor/* under
// "update/").
import * as tf from "@tensorflow/tfjs";
import { describe, fail } from "../core/errors.js";
import { checkFinite } from "../core/checks.js";
import {
  lossAggs,
  policyLosses,
  type AggFn,
  type AggOptions,
  type KlEstimatorFn,
  type PolicyLossFn,
} from "./registries.js";
import {
  asTensor,
  checkShape,
  detach,
  hostData,
  maskedMax,
  maskedMean,
  maskedMin,
  perToken,
  type TensorInput,
} from "./tensors.js";
import { klEstimators } from "./registries.js";
import "./aggregate.js";
import "./kl.js";
import "./loss/ppo-clip.js";
import "./loss/gspo.js";
import "./loss/cispo.js";
import "./loss/dppo.js";
import "./loss/sapo.js";
import "./loss/gmpo.js";
import "./loss/cov.js";
import "./loss/dro.js";

/** Inputs of policyLoss, all per token [B, T] except `adv`. */
export interface PolicyLossInputs {
  /** log π_θ of the sampled tokens [B, T], computed under the gradient tape. */
  logp: tf.Tensor;
  /** log π_old of the same tokens [B, T] (rollout-time policy). Defaults to logp detached (ratio 1, on-policy). */
  oldLogp?: TensorInput;
  /** Advantage per sequence [B] (broadcast over tokens) or per token [B, T]. */
  adv: TensorInput | ArrayLike<number>;
  /** 1 on response tokens that count, 0 on padding and prompt [B, T]. */
  mask: TensorInput;
  /**
   * The policy's full next-token logits [B, T, V], tokens-aligned, under the tape (update.step with `logits: true`).
   * Needed only by the exact KL (`kl: {estimator: "exact", refLogits}`).
   */
  logits?: tf.Tensor;
  /** log π_ref of the sampled tokens [B, T]: the KL term reads it when options.kl.refLogp is not given. */
  refLogp?: TensorInput;
  /** The reference's full log-distributions [B, T, V]: the exact KL reads it when options.kl.refLogits is not given. */
  refLogits?: tf.Tensor;
  /**
   * Per-token entropy [B, T] under the tape (update.step with `entropy: true`): the bonus reads it when
   * options.entropy.values is not given.
   */
  entropy?: tf.Tensor;
  /**
   * Importance weights of a mismatch correction [B, T] (update.rolloutCorrection(...).weights: TIS, IcePop, OPSM),
   * multiplied into the per-token policy-gradient loss before aggregation, as verl's rollout_is_weights (no gradient).
   * Defaults to none (weight 1).
   */
  isWeights?: TensorInput;
}

/**
 * KL term of the loss (verl use_kl_loss; TRL beta). Sampled-token estimators need `refLogp`; the exact
 * full-vocabulary KL (`estimator: "exact"`) needs `refLogits` here and the policy's `logits` in the inputs.
 */
export interface KlLossOptions {
  /**
   * log π_ref of the sampled tokens [B, T] (a frozen reference model); for "k1" | "abs" | "k2" | "k3" | "k3+".
   * Defaults to inputs.refLogp.
   */
  refLogp?: TensorInput;
  /**
   * The reference's full next-token logits or log-probs [B, T, V], tokens-aligned (model.fullLogprobs(ref, batch)); for
   * "exact". Defaults to inputs.refLogits.
   */
  refLogits?: tf.Tensor;
  /** β, the weight of the KL term (verl kl_loss_coef, TRL beta). Defaults to 0.001. */
  beta?: number;
  /**
   * KL estimator: "k1" | "abs" | "k2" | "k3" | "k3+" | "k3-unbiased" (× π/π_old, reads inputs.oldLogp) | "exact".
   * Defaults to "k3" (verl low_var_kl).
   */
  estimator?: string | KlEstimatorFn;
}

/** Options of policyLoss. */
export interface PolicyLossOptions extends AggOptions {
  /** ε, or [ε_low, ε_high] for clip-higher (verl clip_ratio_low/high; TRL epsilon/epsilon_high). Defaults to 0.2. */
  clip?: number | [number, number];
  /** Dual-clip constant c > 1 for negative advantages (verl clip_ratio_c); null turns it off. Defaults to 3. */
  clipC?: number | null;
  /** Aggregation mode or function. Defaults to "token-mean" ("seq-mean-token-mean" for gspo, as verl). */
  agg?: string | AggFn;
  /** KL-to-reference term, or null for none (the default). */
  kl?: KlLossOptions | null;
  /**
   * Entropy bonus: its coefficient (verl entropy_coeff) and the per-token entropy [B, T] under the tape (defaults to
   * inputs.entropy). Defaults to null.
   */
  entropy?: { values?: tf.Tensor; coef: number } | null;
  /**
   * 80/20 forking tokens (Wang et al., arXiv 2506.01939; TRL top_entropy_quantile): the policy-gradient term is kept
   * only on tokens whose entropy is ≥ the (1 − ρ)-quantile (linear interpolation, as torch.quantile) of the batch's
   * response-token entropies; the others stay in the denominator of the aggregation (TRL). ρ in (0, 1]; reads
   * inputs.entropy (else options.entropy.values). Defaults to 1 (every token; the paper uses 0.2).
   */
  topEntropyQuantile?: number;
  [variantOption: string]: unknown;
}
/** Defaults of policyLoss (verl's) (print them in a cell). */
export const policyLossDefaults = {
  clip: 0.2,
  clipC: 3 as number | null,
  agg: "token-mean",
  klBeta: 0.001,
  klEstimator: "k3",
};

/**
 * Host-side per-token diagnostics of the policy-gradient term, flat [B·T] row-major (shape [B, T]): what viz draws.
 * Off the mask a token is not in the loss: ratio 1, clipped 0, grad 0.
 */
export interface PolicyLossTokens {
  shape: [number, number];
  /** The ratio the variant uses (π/π_old per token; gspo: the sequence ratio). */
  ratio: Float32Array;
  /** 1 where a clip binds (the clip changed the token's term: PPO's both sides, dual-clip, CISPO's weight clip). */
  clipped: Float32Array;
  /** ∂ℓ_t/∂log π_t of the variant's per-token loss ℓ (before aggregation): < 0 means the step raises the token. */
  grad: Float32Array;
  /** The 0/1 mask. */
  mask: Float32Array;
}

/** What policyLoss returns: the scalar to minimise (caller disposes it), metrics as numbers, per-token diagnostics. */
export interface PolicyLossResult {
  loss: tf.Scalar;
  metrics: Record<string, number>;
  /** Per-token diagnostics, when the variant reports them (every built-in one does). */
  tokens?: PolicyLossTokens;
}

function clipBounds(clip: unknown): [number, number] {
  const [lo, hi] =
    typeof clip === "number" ? [clip, clip] : Array.isArray(clip) && clip.length === 2 ? clip : [NaN, NaN];
  if (!(lo >= 0 && lo < 1) || !(hi >= 0 && Number.isFinite(hi)))
    fail(
      "invalid_option",
      `update.policyLoss: options.clip is ${describe(clip)} (expected ε in [0, 1) or [ε_low, ε_high], e.g. ` +
        `[0.2, 0.28]).`,
      { path: ["options", "clip"], got: clip },
      policyLoss,
    );
  return [lo, hi];
}

/**
 * Policy-gradient loss by variant name: "ppo-clip" | "gspo" | "cispo" | "pg" | a registered name | a function.
 * @returns {loss: Scalar, metrics: {"update/pgLoss", "update/clipFrac", "update/ratioMean", "update/approxKl", ...}}
 * @example
 * const {loss} = update.policyLoss("ppo-clip", {logp, oldLogp: old, adv: A, mask: ro.mask}, {
 *   clip: [0.2, 0.28],
 *   agg: "token-mean",
 * })
 */
export function policyLoss(
  name: string | PolicyLossFn,
  inputs: PolicyLossInputs,
  options: PolicyLossOptions = {},
): PolicyLossResult {
  const at = { where: "update.policyLoss", from: policyLoss };
  const fn = policyLosses.get(name);
  const {
    clip = policyLossDefaults.clip,
    clipC = policyLossDefaults.clipC,
    agg,
    kl = null,
    entropy = null,
    topEntropyQuantile = 1,
    tokens,
    seqs,
    scaleFactor,
    ...rest
  } = options;
  const [clipLow, clipHigh] = clipBounds(clip);
  if (clipC !== null && !(typeof clipC === "number" && clipC > 1))
    fail(
      "invalid_option",
      `update.policyLoss: options.clipC must be a number > 1 or null (got ${describe(clipC)}). verl uses 3.`,
      { path: ["options", "clipC"] },
      policyLoss,
    );
  const aggFn = lossAggs.get(agg ?? fn.defaultAgg ?? policyLossDefaults.agg);
  const aggOpts: AggOptions = { tokens, seqs, scaleFactor };
  if (!(inputs?.logp instanceof tf.Tensor))
    fail(
      "invalid_input",
      `update.policyLoss: inputs.logp must be the policy's per-token logprob tensor [B, T] ` +
        `(got ${describe(inputs?.logp)}).`,
      { path: ["inputs", "logp"] },
      policyLoss,
    );
  const metrics: Record<string, number> = {};
  let diag: PolicyLossTokens | undefined;
  const loss = tf.tidy(() => {
    const logp = asTensor(inputs.logp, 2, "update.policyLoss", "inputs.logp") as tf.Tensor2D;
    const shape = logp.shape as [number, number];
    const mask = asTensor(inputs.mask, 2, "update.policyLoss", "inputs.mask") as tf.Tensor2D;
    checkShape(mask, shape, "update.policyLoss", "inputs.mask", "inputs.logp");
    const oldLogp =
      inputs.oldLogp === undefined
        ? detach(logp)
        : (asTensor(inputs.oldLogp, 2, "update.policyLoss", "inputs.oldLogp") as tf.Tensor2D);
    checkShape(oldLogp, shape, "update.policyLoss", "inputs.oldLogp", "inputs.logp");
    const adv = perToken(inputs.adv, shape, "update.policyLoss", "inputs.adv");
    let out = fn({ logp, oldLogp, adv, mask }, { clipLow, clipHigh, clipC, ...rest });
    if (topEntropyQuantile !== 1) out = forkingTokens(out, inputs.entropy ?? entropy?.values, mask, topEntropyQuantile);
    if (inputs.isWeights !== undefined && inputs.isWeights !== null) out = isWeighted(out, inputs.isWeights, shape);
    checkShape(
      out.loss,
      shape,
      "update.policyLoss",
      `the "${typeof name === "string" ? name : fn.name}" variant's loss`,
      "inputs.logp",
    );
    const pgLoss = aggFn({ values: out.loss, mask }, aggOpts);
    Object.assign(metrics, out.metrics ?? {});
    metrics["update/pgLoss"] = pgLoss.dataSync()[0];
    // Ratio statistics from data: ρ = exp(log π − log π_old), approx KL = mean(log π_old − log π) (verl actor/ppo_kl),
    // both from the log-ratio clamped to [−20, 20] as verl does before either.
    const d = hostData(logp.sub(oldLogp)).map((x) => Math.max(-20, Math.min(20, x))),
      m = hostData(mask);
    const ratio = d.map((x) => Math.exp(x));
    if (out.tokens) {
      const t = out.tokens,
        r = t.ratio ?? ratio;
      diag = {
        shape,
        ratio: new Float32Array(m.length),
        clipped: new Float32Array(m.length),
        grad: new Float32Array(m.length),
        mask: m,
      };
      for (let i = 0; i < m.length; i++) {
        const on = m[i] > 0;
        diag.ratio[i] = on ? r[i] : 1;
        diag.clipped[i] = on ? t.clipped[i] : 0;
        diag.grad[i] = on ? t.grad[i] : 0;
      }
    }
    metrics["update/ratioMean"] = maskedMean(ratio, m);
    metrics["update/ratioMax"] = maskedMax(ratio, m);
    metrics["update/ratioMin"] = maskedMin(ratio, m);
    // a variant may report its own (gspo)
    if (out.metrics?.["update/approxKl"] === undefined) metrics["update/approxKl"] = -maskedMean(d, m);
    let total: tf.Scalar = pgLoss;
    if (kl) {
      const beta = kl.beta ?? policyLossDefaults.klBeta;
      checkFinite(at, "options.kl.beta", beta, undefined, ["options", "kl", "beta"]);
      const est = klEstimators.get(kl.estimator ?? policyLossDefaults.klEstimator);
      let klTok: tf.Tensor2D;
      if (est.full) {
        // exact KL: Σ_v π_θ(v)(log π_θ(v) − log π_ref(v)) per position, from the two full distributions
        const full = [inputs.logits, kl.refLogits ?? inputs.refLogits] as const,
          names = ["inputs.logits", "options.kl.refLogits"],
          fix = [
            "the policy's logits under the tape (update.step(..., {logits: true}) passes them as `logits`)",
            "the reference's model.fullLogprobs(ref, batch, {temperature})",
          ];
        for (let i = 0; i < 2; i++) {
          const x = full[i];
          if (!(x instanceof tf.Tensor) || x.rank !== 3 || x.shape[0] !== shape[0] || x.shape[1] !== shape[1])
            fail(
              x instanceof tf.Tensor ? "shape_mismatch" : "invalid_input",
              `update.policyLoss: the exact KL needs ${names[i]} as a [${shape}, V] tensor ` +
                `(got ${x instanceof tf.Tensor ? `shape [${x.shape}]` : describe(x)}). Pass ${fix[i]}.`,
              { path: names[i].split(".") },
              policyLoss,
            );
        }
        const refLogits = full[1]!;
        if (inputs.logits!.shape[2] !== refLogits.shape[2])
          fail(
            "shape_mismatch",
            `update.policyLoss: inputs.logits has vocabulary ${inputs.logits!.shape[2]} but ` +
              `options.kl.refLogits has ${refLogits.shape[2]}; policy and reference must share the tokenizer.`,
            { path: ["options", "kl", "refLogits"] },
            policyLoss,
          );
        klTok = est({ logp, refLogp: logp, logits: inputs.logits, refLogits }) as tf.Tensor2D;
      } else {
        const refLogp = asTensor(kl.refLogp ?? inputs.refLogp, 2, "update.policyLoss", "options.kl.refLogp");
        checkShape(refLogp, shape, "update.policyLoss", "options.kl.refLogp", "inputs.logp");
        klTok = est({ logp, refLogp, oldLogp }) as tf.Tensor2D;
      }
      const klLoss = aggFn({ values: klTok, mask }, aggOpts);
      metrics["update/klLoss"] = klLoss.dataSync()[0];
      metrics["update/klCoef"] = beta;
      total = total.add(klLoss.mul(beta));
    }
    if (entropy) {
      const H = asTensor(
        entropy.values ?? inputs.entropy,
        2,
        "update.policyLoss",
        "options.entropy.values",
      ) as tf.Tensor2D;
      checkShape(H, shape, "update.policyLoss", "options.entropy.values", "inputs.logp");
      checkFinite(at, "options.entropy.coef", entropy.coef, undefined, ["options", "entropy", "coef"]);
      const ent = aggFn({ values: H, mask }, aggOpts);
      metrics["update/entropy"] = ent.dataSync()[0];
      total = total.sub(ent.mul(entropy.coef));
    }
    metrics["update/loss"] = total.dataSync()[0];
    return total;
  });
  return { loss, metrics, tokens: diag };
}

/** Multiply a variant's per-token loss (and its ∂ℓ/∂log π) by the mismatch correction's weights [B, T]. */
function isWeighted(
  out: ReturnType<PolicyLossFn>,
  weights: TensorInput,
  shape: [number, number],
): ReturnType<PolicyLossFn> {
  const w = detach(asTensor(weights, 2, "update.policyLoss", "inputs.isWeights")) as tf.Tensor2D;
  checkShape(w, shape, "update.policyLoss", "inputs.isWeights", "inputs.logp");
  const wd = hostData(w);
  if (!wd.every((v) => Number.isFinite(v) && v >= 0))
    fail(
      "invalid_input",
      `update.policyLoss: inputs.isWeights must be finite and ≥ 0 ` +
        `(got ${describe(wd.find((v) => !(v >= 0) || !Number.isFinite(v)))}). ` +
        `Pass update.rolloutCorrection(...).weights.`,
      { path: ["inputs", "isWeights"] },
      policyLoss,
    );
  const tokens = out.tokens && { ...out.tokens, grad: out.tokens.grad.map((g, i) => g * wd[i]) };
  return { loss: out.loss.mul(w) as tf.Tensor2D, metrics: out.metrics, tokens };
}

/** The q-quantile of xs with linear interpolation between order statistics (torch.quantile's default). */
function quantile(xs: number[], q: number): number {
  const v = xs.slice().sort((a, b) => a - b);
  const pos = q * (v.length - 1),
    lo = Math.floor(pos),
    hi = Math.ceil(pos);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

/**
 * 80/20 forking tokens: keep the variant's per-token loss only where the entropy is ≥ the (1 − ρ)-quantile over the
 * response tokens (the mask comes from data, never from the tape).
 */
function forkingTokens(
  out: ReturnType<PolicyLossFn>,
  values: tf.Tensor | undefined,
  mask: tf.Tensor2D,
  rho: number,
): ReturnType<PolicyLossFn> {
  if (typeof rho !== "number" || !(rho > 0 && rho <= 1))
    fail(
      "invalid_option",
      `update.policyLoss: options.topEntropyQuantile is ${describe(rho)} (expected ρ in (0, 1], e.g. 0.2 for the ` +
        `80/20 rule; 1 keeps every token).`,
      { path: ["options", "topEntropyQuantile"] },
      policyLoss,
    );
  if (!(values instanceof tf.Tensor))
    fail(
      "invalid_input",
      `update.policyLoss: options.topEntropyQuantile needs the per-token entropy [B, T] (got ${describe(values)}). ` +
        `Pass inputs.entropy (update.step with {entropy: true} gives it) or options.entropy.values.`,
      { path: ["inputs", "entropy"] },
      policyLoss,
    );
  checkShape(values, mask.shape, "update.policyLoss", "inputs.entropy", "inputs.logp");
  const H = hostData(values),
    m = hostData(mask);
  const on: number[] = [];
  for (let i = 0; i < m.length; i++) if (m[i] > 0) on.push(H[i]);
  const keep = new Float32Array(m.length);
  if (on.length) {
    const thr = quantile(on, 1 - rho);
    for (let i = 0; i < m.length; i++) keep[i] = m[i] > 0 && H[i] >= thr ? 1 : 0;
  }
  const metrics = {
    ...out.metrics,
    "update/entropyKeepFrac": on.length ? keep.reduce((s, x) => s + x, 0) / on.length : 0,
  };
  const tokens = out.tokens && {
    ...out.tokens,
    grad: out.tokens.grad.map((g, i) => g * keep[i]),
  };
  return { loss: out.loss.mul(tf.tensor2d(keep, mask.shape)) as tf.Tensor2D, metrics, tokens };
}

/**
 * A variant's per-token diagnostics on host data, as [B, T] rows: the ratio it uses, 1 where a clip binds, and
 * ∂ℓ_t/∂log π_t of its per-token loss (0 off the mask). No tensors escape; what viz.lossWeights draws.
 * @example const d = policyLossTokens("ppo-clip", {logp, oldLogp, adv, mask}, {clip: [0.2, 0.28]}); d.grad[0]
 */
export function policyLossTokens(
  name: string | PolicyLossFn,
  inputs: { logp: number[][]; oldLogp: number[][]; adv: ArrayLike<number> | number[][]; mask: number[][] },
  options: PolicyLossOptions = {},
): { ratio: number[][]; clipped: number[][]; grad: number[][] } {
  if (!tf.engine().backendName)
    fail(
      "invalid_input",
      `update.policyLossTokens: no TensorFlow.js backend is ready (the diagnostics come from the loss's own ` +
        `tensors). Run \`await useBackend()\` first.`,
      {},
      policyLossTokens,
    );
  let out: PolicyLossTokens | undefined;
  tf.tidy(() => {
    const r = policyLoss(
      name,
      {
        logp: tf.tensor2d(inputs.logp),
        oldLogp: inputs.oldLogp,
        adv: Array.isArray(inputs.adv[0]) ? (inputs.adv as number[][]) : Array.from(inputs.adv as ArrayLike<number>),
        mask: inputs.mask,
      },
      { ...options, kl: null, entropy: null },
    );
    r.loss.dispose();
    out = r.tokens;
  });
  if (!out)
    fail(
      "invalid_input",
      `update.policyLossTokens: the "${typeof name === "string" ? name : name.name}" variant reports no ` +
        `per-token diagnostics. Return tokens: {clipped, grad} from the variant (see update/loss/ppo-clip.ts).`,
      {},
      policyLossTokens,
    );
  const [B, T] = out.shape;
  const rows = (x: Float32Array) => Array.from({ length: B }, (_, b) => Array.from(x.subarray(b * T, (b + 1) * T)));
  return { ratio: rows(out.ratio), clipped: rows(out.clipped), grad: rows(out.grad) };
}
