// On-policy distillation (OPD) as Tinker and verl run it: the student samples, the teacher scores the student's own
// tokens, and the student is trained on a per-token signal from the two log-probabilities. Next to GKD (distillLoss),
// which matches whole next-token distributions, these modes read only the sampled tokens (or the teacher's top-k).
//   "tinker"           A_t = −coef·(log q(y_t) − log π_T(y_t)), q = the sampler; optional discounted future sum
//                      (kl_discount_factor); loss −Σ_t exp(log π_θ(y_t) − log q(y_t))·A_t, Tinker's
//                      "importance_sampling" loss (tinker-cookbook distillation/train_on_policy.py; Thinking Machines,
//                      "On-Policy Distillation", 2025). Extra per-row or per-token advantages (task rewards) add
//                      to A_t.
//   "k1" | "k2" | "k3" verl's estimator modes (verl trainer/distillation/losses.py, PRs #4897 / #5041):
//                      ℓ_t = kl_penalty(log π_θ(y_t), log π_T(y_t)) with update.klEstimators' "k1", "k2", "k3"
//                      (verl's kl_penalty, k3 clamped to ±10), clamped to ±maxClamp (loss_max_clamp) when set, then
//                      backpropagated directly; with `policyGradient: true` (verl use_policy_gradient) A_t = −sg[ℓ_t]
//                      goes through the importance-sampling loss instead.
//   "forward-kl-topk"  verl's `forward_kl_topk`: ℓ_t = Σ_{v ∈ topK_T} p_T(v)(log p_T(v) − log π_θ(v)), no tail and no
//                      renormalisation, both log-probs floored at logProbMinClamp (log_prob_min_clamp) when set, then
//                      clamped at 0 (the top-k sums are not distributions, so ℓ can be negative).
// Departures, on purpose:
// 1. Tinker's discounted sum runs over the whole datum, prompt included (prompt positions get the future KL but are
//    then trained with a 0 mask weight only by accident of their 0 sampling logprob); here it runs over the response
//    tokens only.
// 2. verl's policy-gradient path uses its PPO-clip loss with π_old; here the importance-sampling loss with the
//    sampler's log-probs (the same gradient on the first on-policy step, where π_θ = π_old).
// 3. Tinker sums the loss over tokens; `agg` defaults to "token-mean" (verl), "sum" gives Tinker's value exactly.
import * as tf from "@tensorflow/tfjs";
import { describe, fail } from "../core/errors.js";
import { gatherColumns } from "../model/logprobs.js";
import { lossAggs, klEstimators, type AggFn, type AggOptions } from "../update/registries.js";
import "../update/aggregate.js";
import "../update/kl.js";
import {
  asTensor,
  checkShape,
  detach,
  hostData,
  maskedMax,
  maskedMean,
  maskedMin,
  perToken,
} from "../update/tensors.js";
import type { TensorInput } from "../update/tensors.js";
import type { TeacherOutput, TopkTeacherOutput } from "./teacher.js";

/** The OPD modes: Tinker's reverse-KL advantage, verl's estimator modes, verl's top-k forward KL. */
export type OpdMode = "tinker" | "k1" | "k2" | "k3" | "forward-kl-topk";

/** Inputs of opdLoss: the student's log-probs of its own sampled tokens, and the teacher's view of them. */
export interface OpdLossInputs {
  /** log π_θ(y_t) of the sampled tokens [B, T], under the tape (update.step's `logp`). */
  logp: tf.Tensor2D;
  /** 1 on the tokens to train [B, T] (the response). */
  mask: TensorInput;
  /** log q(y_t) of the sampler that drew the tokens [B, T] (ro.logprobs): the importance ratio's denominator. */
  samplerLogp?: TensorInput;
  /** log π_T(y_t) of the same tokens under the teacher [B, T] ("tinker", "k1", "k2", "k3"). */
  teacherLogp?: TensorInput;
  /** Extra advantages added to the distillation advantage ("tinker", policy-gradient modes): [B] or [B, T]. */
  adv?: TensorInput | ArrayLike<number>;
  /** The student's tokens-aligned logits [B, T, V] under the tape ("forward-kl-topk"; update.step `{logits: true}`). */
  logits?: tf.Tensor3D;
  /** The teacher's top-k per position ("forward-kl-topk"; teacher.score(ro, {topK})). */
  teacher?: TeacherOutput;
}

/** Options of opdLoss. */
export interface OpdLossOptions extends AggOptions {
  /** "tinker" | "k1" | "k2" | "k3" | "forward-kl-topk". Defaults to "tinker". */
  mode?: OpdMode;
  /** Tinker's kl_penalty_coef: A_t = −coef·(log q − log π_T). Defaults to 1. */
  coef?: number;
  /** Tinker's kl_discount_factor γ: A_t ← Σ_{s ≥ t} γ^{s−t} a_s over the response. Defaults to 0 (no discount). */
  discount?: number;
  /** "k1" | "k2" | "k3": train with A_t = −sg[ℓ_t] and the IS loss (verl use_policy_gradient). Defaults to false. */
  policyGradient?: boolean;
  /** Clamp ℓ_t to [−c, c] before use (verl loss_max_clamp; k1 can be negative). Defaults to null (off). */
  maxClamp?: number | null;
  /** "forward-kl-topk": floor both top-k log-probs at this (verl log_prob_min_clamp). Defaults to null (off). */
  logProbMinClamp?: number | null;
  /** Aggregation: a lossAggs name, a function, or "sum" (Tinker's Σ over tokens). Defaults to "token-mean". */
  agg?: string | AggFn;
}
/** Defaults of opdLoss (print them in a cell). */
export const opdDefaults = {
  mode: "tinker" as OpdMode,
  coef: 1,
  discount: 0,
  policyGradient: false,
  maxClamp: null as number | null,
  logProbMinClamp: null as number | null,
  agg: "token-mean" as string | AggFn,
};

const MODES: OpdMode[] = ["tinker", "k1", "k2", "k3", "forward-kl-topk"];

/**
 * Tinker's distillation advantage on host numbers: a_t = −coef·(log q(y_t) − log π_T(y_t))·m_t, then (γ > 0) the
 * discounted future sum over each row's masked positions, plus any extra advantage.
 * @example opdAdvantages([[-1, -2]], [[-1.5, -1]], [[1, 1]], {coef: 1, discount: 0}) // [[-0.5, 1]]
 */
export function opdAdvantages(
  samplerLogp: ArrayLike<number>[],
  teacherLogp: ArrayLike<number>[],
  mask: ArrayLike<number>[],
  options: { coef: number; discount: number },
): number[][] {
  return mask.map((m, b) => {
    const T = m.length;
    const a = new Array<number>(T).fill(0);
    for (let t = 0; t < T; t++) if (m[t] > 0) a[t] = -options.coef * (samplerLogp[b][t] - teacherLogp[b][t]) * m[t];
    if (options.discount > 0) {
      let acc = 0;
      for (let t = T - 1; t >= 0; t--) {
        if (!(m[t] > 0)) continue;
        acc = a[t] + options.discount * acc;
        a[t] = acc;
      }
    }
    return a;
  });
}

function rows2(x: tf.Tensor): number[][] {
  return x.arraySync() as number[][];
}

function checkNumber(v: unknown, name: string, min: number, allowNull: boolean): void {
  if (allowNull && (v === null || v === undefined)) return;
  if (typeof v !== "number" || !Number.isFinite(v) || v < min)
    fail(
      "invalid_option",
      `distill.opdLoss: options.${name} must be a finite number >= ${min}${allowNull ? " or null" : ""} ` +
        `(got ${describe(v)}).`,
      { path: ["options", name], got: v },
      opdLoss,
    );
}

/** The teacher's top-k as [N, K] tensors (ids host-side) for forward-kl-topk. */
function topkOf(t: TeacherOutput | undefined, B: number, T: number): TopkTeacherOutput {
  if (!t || t.kind !== "topk" || t.B !== B || t.T !== T || t.ids.length !== B * T * t.K)
    fail(
      "invalid_input",
      `distill.opdLoss: mode "forward-kl-topk" needs inputs.teacher as top-k log-probs for [${B}, ${T}] ` +
        `(got ${describe(t?.kind ?? t)}${t?.kind === "topk" ? ` B=${t.B}, T=${t.T}` : ""}). Score with ` +
        `teacher.score(ro, {topK: k}).`,
      { path: ["inputs", "teacher"] },
      opdLoss,
    );
  return t;
}

/**
 * On-policy distillation loss on the student's own samples: Tinker's reverse-KL advantage with the importance-
 * sampling loss, verl's k1 / k2 / k3 estimator modes, or verl's top-k forward KL (see the modes above).
 * tinker: L = agg(−exp(log π_θ − log q)·A), A_t = −coef·(log q − log π_T) (+ adv);
 * k-modes: L = agg(k(log π_θ, log π_T));
 * forward-kl-topk: L = agg(max(0, Σ_K p_T (log p_T − log π_θ))).
 * @returns {loss: Scalar, metrics: {"distill/loss", "distill/teacherKl", "distill/absLoss", "distill/lossMin",
 *   "distill/lossMax", ...}, tokens: {adv, ratio} per token [B·T] (host, masked)}
 * @example
 * const lossFn = (mb) => distill.opdLoss({logp: mb.logp, mask: mb.mask, samplerLogp: mb.samplerLogp,
 *   teacherLogp: mb.teacherLogp}, {mode: "tinker"})
 */
export function opdLoss(
  inputs: OpdLossInputs,
  options: OpdLossOptions = {},
): { loss: tf.Scalar; metrics: Record<string, number>; tokens: { adv: Float32Array; ratio: Float32Array } } {
  const F = "distill.opdLoss";
  const { mode, coef, discount, policyGradient, maxClamp, logProbMinClamp, agg, ...aggOpts } = {
    ...opdDefaults,
    ...options,
  };
  if (!MODES.includes(mode))
    fail(
      "invalid_option",
      `${F}: options.mode is ${describe(mode)} (expected one of ${MODES.map((m) => `"${m}"`).join(", ")}).`,
      { path: ["options", "mode"] },
      opdLoss,
    );
  checkNumber(coef, "coef", 0, false);
  checkNumber(discount, "discount", 0, false);
  if (discount > 1)
    fail(
      "invalid_option",
      `${F}: options.discount is Tinker's kl_discount_factor γ in [0, 1] (got ${discount}).`,
      { path: ["options", "discount"], got: discount },
      opdLoss,
    );
  checkNumber(maxClamp, "maxClamp", 0, true);
  checkNumber(logProbMinClamp, "logProbMinClamp", -Infinity, true);
  if (mode === "tinker" && options.policyGradient === false)
    fail(
      "invalid_option",
      `${F}: mode "tinker" is a policy-gradient loss; options.policyGradient: false does not apply. Drop it, or ` +
        `use mode "k1" for the direct (supervised) k1 loss.`,
      { path: ["options", "policyGradient"] },
      opdLoss,
    );
  if (mode === "forward-kl-topk" && options.policyGradient)
    fail(
      "invalid_option",
      `${F}: mode "forward-kl-topk" is a supervised loss over the teacher's top-k; policyGradient does not apply.`,
      { path: ["options", "policyGradient"] },
      opdLoss,
    );
  if (mode !== "tinker" && (options.coef !== undefined || options.discount !== undefined))
    fail(
      "invalid_option",
      `${F}: options.coef and options.discount are Tinker's (mode "tinker"); mode "${mode}" does not use them.`,
      { path: ["options", options.coef !== undefined ? "coef" : "discount"] },
      opdLoss,
    );
  const sum = agg === "sum";
  const aggFn = sum ? null : lossAggs.get(agg);
  if (!(inputs?.logp instanceof tf.Tensor) || inputs.logp.rank !== 2)
    fail(
      "invalid_input",
      `${F}: inputs.logp must be the student's log-probs [B, T] under the tape (got ${describe(inputs?.logp)}).`,
      { path: ["inputs", "logp"] },
      opdLoss,
    );
  const [B, T] = inputs.logp.shape;
  const pg = mode === "tinker" || (policyGradient && mode !== "forward-kl-topk");
  const metrics: Record<string, number> = {};
  let advHost: Float32Array = new Float32Array(B * T),
    ratioHost: Float32Array = new Float32Array(B * T).fill(1);
  const loss = tf.tidy(() => {
    const mask = asTensor(inputs.mask, 2, F, "inputs.mask").toFloat() as tf.Tensor2D;
    checkShape(mask, [B, T], F, "inputs.mask", "inputs.logp [B, T]");
    const m = hostData(mask);
    const aggregate = (values: tf.Tensor2D) =>
      sum ? (values.mul(mask).sum() as tf.Scalar) : aggFn!({ values, mask }, aggOpts);
    const logp = inputs.logp;
    let perTok: tf.Tensor2D; // the per-token loss before aggregation
    let lossVals: tf.Tensor2D | null = null; // ℓ_t of the k / top-k modes (for metrics)
    if (mode === "forward-kl-topk") {
      if (!(inputs.logits instanceof tf.Tensor) || inputs.logits.rank !== 3)
        fail(
          "invalid_input",
          `${F}: mode "forward-kl-topk" needs inputs.logits [B, T, V] under the tape (got ` +
            `${describe(inputs.logits)}). Pass update.step(..., {logits: true})'s logits.`,
          { path: ["inputs", "logits"] },
          opdLoss,
        );
      const [lb, lt, V] = inputs.logits.shape;
      if (lb !== B || lt !== T)
        fail(
          "shape_mismatch",
          `${F}: inputs.logits is [${inputs.logits.shape}] (expected [${B}, ${T}, V], like inputs.logp).`,
          { path: ["inputs", "logits"] },
          opdLoss,
        );
      const t = topkOf(inputs.teacher, B, T);
      for (let i = 0; i < t.ids.length; i++)
        if (!(t.ids[i] >= 0 && t.ids[i] < V))
          fail(
            "invalid_input",
            `${F}: teacher top-k id ${t.ids[i]} at flat index ${i} is outside the student vocabulary [0, ${V}).`,
            { path: ["inputs", "teacher", "ids"] },
            opdLoss,
          );
      const lq = tf.logSoftmax(inputs.logits.reshape([B * T, V])) as tf.Tensor2D;
      let lqK = gatherColumns(lq, t.ids, t.K); // [N, K]
      let tlp: tf.Tensor2D = tf.tensor2d(t.logprobs, [B * T, t.K]);
      metrics["distill/teacherTopkMass"] = maskedMean(hostData(tlp.exp().sum(-1)), m);
      metrics["distill/studentTopkMass"] = maskedMean(hostData(lqK.exp().sum(-1)), m);
      if (logProbMinClamp !== null && logProbMinClamp !== undefined) {
        lqK = tf.maximum(lqK, logProbMinClamp);
        tlp = tf.maximum(tlp, logProbMinClamp);
      }
      const kl = tlp.exp().mul(tlp.sub(lqK)).sum(-1).reshape([B, T]) as tf.Tensor2D;
      lossVals = tf.maximum(kl, 0) as tf.Tensor2D;
      perTok = lossVals;
    } else {
      const tLogp = asTensor(inputs.teacherLogp, 2, F, "inputs.teacherLogp").toFloat() as tf.Tensor2D;
      checkShape(tLogp, [B, T], F, "inputs.teacherLogp", "inputs.logp [B, T]");
      let adv: tf.Tensor2D;
      if (mode === "tinker") {
        const q = asTensor(inputs.samplerLogp, 2, F, "inputs.samplerLogp").toFloat() as tf.Tensor2D;
        checkShape(q, [B, T], F, "inputs.samplerLogp", "inputs.logp [B, T]");
        const a = opdAdvantages(rows2(q), rows2(tLogp), rows2(mask), { coef, discount });
        adv = tf.tensor2d(a, [B, T]);
        metrics["distill/teacherKl"] = maskedMean(hostData(q.sub(tLogp)), m);
      } else {
        let l = klEstimators.get(mode)({ logp, refLogp: tLogp }) as tf.Tensor2D;
        if (maxClamp !== null && maxClamp !== undefined) l = tf.clipByValue(l, -maxClamp, maxClamp);
        lossVals = l;
        metrics["distill/teacherKl"] = maskedMean(hostData(logp.sub(tLogp)), m);
        adv = pg ? (detach(l).neg() as tf.Tensor2D) : tf.zeros([B, T]);
      }
      if (pg) {
        if (inputs.adv !== undefined) adv = adv.add(perToken(inputs.adv as TensorInput, [B, T], F, "inputs.adv"));
        const q = asTensor(inputs.samplerLogp, 2, F, "inputs.samplerLogp").toFloat() as tf.Tensor2D;
        checkShape(q, [B, T], F, "inputs.samplerLogp", "inputs.logp [B, T]");
        const ratio = logp.sub(q).exp();
        perTok = ratio.mul(adv).neg() as tf.Tensor2D;
        advHost = hostData(adv.mul(mask));
        ratioHost = hostData(ratio.mul(mask));
        metrics["distill/ratioMean"] = maskedMean(ratioHost, m);
        metrics["distill/advMean"] = maskedMean(advHost, m);
      } else {
        if (inputs.adv !== undefined)
          fail(
            "invalid_option",
            `${F}: inputs.adv is added to a policy-gradient advantage; mode "${mode}" without policyGradient is a ` +
              `direct loss. Set policyGradient: true or drop inputs.adv.`,
            { path: ["inputs", "adv"] },
            opdLoss,
          );
        perTok = lossVals!;
      }
    }
    if (lossVals) {
      const lv = hostData(lossVals);
      const absV = lv.map(Math.abs);
      metrics["distill/absLoss"] = maskedMean(absV, m);
      metrics["distill/lossMin"] = maskedMin(lv, m);
      metrics["distill/lossMax"] = maskedMax(lv, m);
      if (!pg) advHost = hostData(lossVals.neg().mul(mask));
    }
    const l = aggregate(perTok);
    metrics["distill/loss"] = l.dataSync()[0];
    return l;
  });
  return { loss, metrics, tokens: { adv: advHost, ratio: ratioHost } };
}
