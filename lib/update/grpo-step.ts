// One GRPO-family step built only from the pieces: rollout → reward → advantage → old/ref logprobs → epochs ×
// mini-batches of update.step(policyLoss) → metrics and alerts. Swapping "grpo" for "rloo" or "ppo-clip" for "gspo"
// is an option. Megatron's example (one optimizer step per rollout batch, ratio ≡ 1) is epochs: 1, miniBatchSize: B.
import * as tf from "@tensorflow/tfjs";
import { CellrlError, describe, fail } from "../core/errors.js";
import { globalRng, type Rng } from "../core/random.js";
import { fullLogprobs, logprobs } from "../model/logprobs.js";
import type { LlamaModel } from "../model/llama.js";
import type { AdamW } from "../model/optim.js";
import { checkTrainerFor, trainerStepMetrics, type ParallelTrainer } from "../model/parallel.js";
import type { Policy } from "../rollout/policy.js";
import { sample, type Rollout, type RolloutOptions, type SampleInput } from "../rollout/rollout.js";
import { dynamicSample, maskTruncated, type DynamicSampleOptions } from "../rollout/dynamic-sampling.js";
import { advantage, type AdvantageOptions } from "./advantage.js";
import { checkAlerts, findNonFinite, type Alert, type AlertThresholds, type NonFinite } from "./alerts.js";
import { isFullKl, klReward } from "./kl.js";
import { advantageMetrics, matrixMean, rewardMetrics, timer } from "./metrics.js";
import { policyLoss } from "./policy-loss.js";
import { advantages, type AdvantageFn, type AggFn, type KlEstimatorFn, type PolicyLossFn } from "./registries.js";
import { collectRewards, type RewardSource } from "./rollout-reward.js";
import {
  rolloutCorrection,
  type RolloutCorrectionFn,
  type RolloutCorrectionOptions,
  type RolloutCorrectionResult,
} from "./rollout-correction.js";
import { POLICY_LOSS, type ParallelLossSettings } from "./parallel.js";
import { miniBatches, take } from "./rows.js";
import { modelOf, step as optimizerStep } from "./step.js";

/** A policy the step can sample from and train: rollout.LocalPolicy. */
export type TrainablePolicy = Policy & { model: LlamaModel };

/** Inputs of grpoStep. */
export interface GrpoStepInputs {
  /** The policy to sample from and update (rollout.LocalPolicy). */
  policy: TrainablePolicy;
  /**
   * Sample from this policy instead (a stale or rounded copy, another engine: the async / mismatch setting); the
   * trainer still recomputes π_old with `policy`, and ro.logprobs are the sampler's μ for options.rolloutCorrection.
   * It must share policy's tokenizer. Defaults to `policy`.
   */
  sampler?: Policy | null;
  /** Its optimizer (model.AdamW over policy.model.namedVariables()); not used when `trainer` is given. */
  opt?: AdamW;
  /**
   * Train on worker threads instead (update.parallelTrainer: replicas with their own AdamW). Each mini-batch's rows
   * are split over the workers and the trained weights are copied back into policy.model before the step returns.
   */
  trainer?: ParallelTrainer | null;
  /** Prompts of this step: verl records (chat template applied), texts or token ids; each gets `n` completions. */
  prompts: SampleInput;
  /** Rewards of the rollout, (ro) => [B]. Defaults to reward.score(ro) (rows routed by their records' data_source). */
  reward?: RewardSource;
  /** Frozen reference model for the KL term (policy.model.clone()); required when kl is set. */
  ref?: LlamaModel | null;
  /** Per-prompt columns for the rollout table (e.g. {ground_truth: [...]}). */
  columns?: Record<string, unknown[]>;
  /** Step number, for alerts and logs. Defaults to 0. */
  step?: number;
  /** Metrics of previous steps (for relative-spike alerts). */
  history?: Record<string, number>[];
}

/** Options of grpoStep (verl / TRL names in the comments). */
export interface GrpoStepOptions {
  /** Completions per prompt, G (verl rollout.n, TRL num_generations). Defaults to 8. */
  n?: number;
  /**
   * Sampling options for the rollout (temperature, topP, maxNewTokens, stop, ...).
   * Defaults to temperature 1, 64 tokens.
   */
  sampling?: Omit<RolloutOptions, "n" | "columns" | "promptIds" | "rng">;
  /** Advantage estimator (verl adv_estimator). Defaults to "grpo". */
  advantage?: string | AdvantageFn;
  /** Options of the estimator and multi-reward aggregation (e.g. {std: "population", eps: 1e-4}). */
  advantageOptions?: AdvantageOptions;
  /** Policy loss (verl policy_loss.loss_mode). Defaults to "ppo-clip". */
  loss?: string | PolicyLossFn;
  /** ε or [ε_low, ε_high] (verl clip_ratio_low/high). Defaults to [0.2, 0.28] (DAPO clip-higher, Megatron example). */
  clip?: number | [number, number];
  /** Dual-clip c (verl clip_ratio_c) or null. Defaults to 3. */
  clipC?: number | null;
  /** Loss aggregation (verl loss_agg_mode). Defaults to "token-mean". */
  agg?: string | AggFn;
  /**
   * The policy-loss variant's own options, passed to update.policyLoss: e.g. {klTau: 1e-3} for "dppo-tv",
   * {tauPos, tauNeg} for "sapo", {droBeta} for "dro", {topEntropyQuantile: 0.2} (80/20 forking tokens; the step then
   * computes the per-token entropy). Defaults to {}.
   */
  lossOptions?: Record<string, unknown>;
  /**
   * KL to the reference: in the loss (verl use_kl_loss) or the reward (use_kl_in_reward), or null. Defaults to null.
   * `estimator: "exact"` is the full-vocabulary KL: in the loss it differentiates Σ_v π_θ(log π_θ − log π_ref) through
   * the policy's logits; in the reward it uses the old policy's and the reference's full distributions.
   */
  kl?: { beta?: number; estimator?: string | KlEstimatorFn; in?: "loss" | "reward" } | null;
  /** Entropy bonus coefficient (verl entropy_coeff). Defaults to 0. */
  entropyCoef?: number;
  /** Passes over the rollout batch (verl ppo_epochs). Defaults to 1. */
  epochs?: number;
  /** Sequences per optimizer step (verl ppo_mini_batch_size × n). Defaults to all (one step per batch). */
  miniBatchSize?: number;
  /** Sequences per forward/backward pass (gradient accumulation). Defaults to the mini-batch. */
  microBatch?: number;
  /**
   * Old logprobs: "recompute" with the policy before updating (verl), or the sampler's "rollout" logprobs.
   * Defaults to "recompute".
   */
  oldLogp?: "recompute" | "rollout";
  /**
   * Train/inference mismatch correction (verl algorithm.rollout_correction) from the trainer's π_old and the sampler's
   * μ = ro.logprobs: a name of update.rolloutCorrections ("token-is", "seq-is", "token-icepop", "seq-is-rs",
   * "geo-rs", "opsm", ...), an options object ({level, threshold, reject, rejectThreshold, opsm}), or null. Its
   * weights multiply the per-token policy-gradient loss, its mask replaces the response mask, and its "mismatch/*"
   * metrics join the step's. Defaults to null (verl: no correction).
   */
  rolloutCorrection?: string | RolloutCorrectionFn | RolloutCorrectionOptions | null;
  /**
   * DAPO dynamic sampling (verl algorithm.filter_groups): draw `drawSize` prompts at a time from `prompts` (a pool) and
   * keep only groups whose rewards differ until `batchSize` groups are kept (rollout.dynamicSample; the kept rows are
   * scored again for the step). Defaults to null (off).
   */
  dynamicSampling?: Pick<DynamicSampleOptions, "batchSize" | "drawSize" | "maxDraws" | "onCap"> | null;
  /** Exclude rows cut at maxNewTokens (finish reason "length") from the loss (TRL mask_truncated_completions). */
  maskTruncated?: boolean;
  /** Random stream for sampling and shuffling. Defaults to globalRng(). */
  rng?: Rng;
  /** Alert thresholds. */
  thresholds?: AlertThresholds;
}
/** Defaults of grpoStep (print them in a cell). */
export const grpoStepDefaults = {
  n: 8,
  advantage: "grpo",
  loss: "ppo-clip",
  clip: [0.2, 0.28] as [number, number],
  clipC: 3,
  agg: "token-mean",
  entropyCoef: 0,
  epochs: 1,
  oldLogp: "recompute" as const,
  rolloutCorrection: null as string | RolloutCorrectionFn | RolloutCorrectionOptions | null,
};

/** Result of one algorithm step: plain numbers and data for logging and views. */
export interface StepResult {
  step: number;
  metrics: Record<string, number>;
  alerts: Alert[];
  rollout: Rollout;
  /** One scalar reward per completion (after multi-reward sum and KL-in-reward). */
  rewards: Float32Array;
  /** Advantage per completion [B] (token-level estimators such as "reinforce-pp-token": per token, flat [B·T]). */
  adv: Float32Array;
  /** Metrics of each optimizer step (epoch × mini-batch), in order; `metrics` merges them. */
  updates: Record<string, number>[];
  /** The mismatch correction applied (weights, mask, per-token diagnostics), when options.rolloutCorrection is set. */
  correction?: RolloutCorrectionResult;
}

/**
 * Mean over mini-batches, except "*Max" (max) and "*Min" (min).
 * @example update.mergeMetrics(result.updates)
 */
export function mergeMetrics(list: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  const keys = new Set(list.flatMap((m) => Object.keys(m)));
  for (const k of keys) {
    const v = list.map((m) => m[k]).filter((x) => x !== undefined);
    out[k] = k.endsWith("Max")
      ? Math.max(...v)
      : k.endsWith("Min")
        ? Math.min(...v)
        : v.reduce((a, b) => a + b, 0) / v.length;
  }
  return out;
}

/** Options that cannot cross into a worker thread (functions) or that workers do not split. */
function checkParallel(o: GrpoStepOptions): void {
  for (const k of ["loss", "agg"] as const)
    if (typeof o[k] !== "string")
      fail(
        "invalid_option",
        `update.grpoStep: options.${k} is a function, which cannot be sent to the trainer's workers. Register ` +
          `it (update.policyLosses / update.lossAggs) in a module and pass its name, or train without ` +
          `inputs.trainer.`,
        { path: ["options", k] },
        grpoStep,
      );
  if (o.kl && isFullKl(o.kl.estimator) && (o.kl.in ?? "loss") === "loss")
    fail(
      "invalid_option",
      `update.grpoStep: options.kl.estimator "exact" in the loss is not supported with inputs.trainer (the ` +
        `workers score sampled tokens only and the reference's [B, T, V] distributions are not sent to them). ` +
        `Use kl: {estimator: "exact", in: "reward"}, a sampled estimator ("k3"), or train without inputs.trainer.`,
      { path: ["options", "kl", "estimator"] },
      grpoStep,
    );
  if (o.kl && typeof o.kl.estimator === "function")
    fail(
      "invalid_option",
      `update.grpoStep: options.kl.estimator is a function, which cannot be sent to the trainer's workers. ` +
        `Pass an estimator name ("k1", "k2", "k3", ...).`,
      { path: ["options", "kl", "estimator"] },
      grpoStep,
    );
  if (o.lossOptions && Object.keys(o.lossOptions).length > 0)
    fail(
      "invalid_option",
      `update.grpoStep: options.lossOptions (${Object.keys(o.lossOptions).join(", ")}) is not supported with ` +
        "inputs.trainer (the workers run the loss with clip, clipC, agg, kl and entropy only). Train without " +
        "inputs.trainer, or drop the variant options.",
      { path: ["options", "lossOptions"] },
      grpoStep,
    );
  if (o.rolloutCorrection)
    fail(
      "invalid_option",
      `update.grpoStep: options.rolloutCorrection is not supported with inputs.trainer (the workers take no ` +
        `per-token IS weights). Train without inputs.trainer, or drop the correction.`,
      { path: ["options", "rolloutCorrection"] },
      grpoStep,
    );
}

/** True when log π_old can be read from the update's own forward pass (see grpoStep, step 3). */
function onPolicyOld(o: GrpoStepOptions, trainer: ParallelTrainer | null, B: number): boolean {
  return (
    (o.oldLogp ?? "recompute") === "recompute" &&
    !trainer &&
    (o.epochs ?? 1) === 1 &&
    (o.miniBatchSize ?? B) >= B &&
    (o.microBatch ?? B) >= B &&
    !o.rolloutCorrection && // needs π_old before the update
    !(o.kl && (o.kl.in === "reward" || isFullKl(o.kl.estimator))) // the KL reward and the exact KL read π_old first
  );
}

/**
 * The fused step's loss inputs: log π_old is the forward's own log π as a constant (the values a no-grad pass gives),
 * also kept on the host (`old`, with the entropy) for the metrics; the entropy reaches the loss only if it asked for
 * it. Null when log π_old is not finite on the mask (old.bad says where).
 */
function onPolicyInputs<M extends { logp: tf.Tensor2D; mask: tf.Tensor2D; entropy?: tf.Tensor2D; rows: number[] }>(
  mb: M,
  old: { logp: number[][]; entropy?: number[][]; bad?: NonFinite | null },
  wantEntropy: boolean,
  ro: Rollout,
): (M & { oldLogp: tf.Tensor2D }) | null {
  const [B, T] = mb.logp.shape;
  const mask = mb.mask.dataSync();
  // 0 (not the tape's −0) outside the mask, as the no-grad pass reports
  const onMask = (x: ArrayLike<number>) => Float32Array.from(x, (v, i) => (mask[i] > 0 ? v : 0));
  // host rows in the rollout's order (the one mini-batch holds every row, in order)
  const rows = (x: Float32Array) => {
    const out: number[][] = new Array(ro.size);
    for (let i = 0; i < B; i++) out[mb.rows[i]] = Array.from(x.subarray(i * T, (i + 1) * T));
    return out;
  };
  const lp = onMask(mb.logp.dataSync());
  old.logp = rows(lp);
  if (mb.entropy) old.entropy = rows(onMask(mb.entropy.dataSync()));
  old.bad = findNonFinite("the old logprob", old.logp, ro.responseMask, ro.promptLength);
  if (old.bad) return null;
  return { ...mb, entropy: wantEntropy ? mb.entropy : undefined, oldLogp: tf.tensor2d(lp, [B, T]) };
}

/** Sum the named components into one reward (weights from options.weights), for logging. */
function scalarRewards(r: unknown, weights?: Record<string, number>): Float32Array {
  if (r && typeof (r as ArrayLike<number>).length === "number") return Float32Array.from(r as ArrayLike<number>);
  const comps = Object.entries(r as Record<string, ArrayLike<number>>);
  const out = new Float32Array(comps[0][1].length);
  for (const [k, v] of comps) for (let i = 0; i < out.length; i++) out[i] += (weights?.[k] ?? 1) * v[i];
  return out;
}

/**
 * One GRPO step (DeepSeekMath, arXiv 2402.03300) from the pieces: sample G completions per prompt, score, group-
 * normalise, clipped policy updates over epochs × mini-batches, with verl-named metrics and plain-word alerts.
 * @example
 * const r = await update.grpoStep({policy, opt, prompts, reward, step}, {n: 8, clip: [0.2, 0.28]});
 * r.metrics["reward/mean"]
 */
export async function grpoStep(inputs: GrpoStepInputs, options: GrpoStepOptions = {}): Promise<StepResult> {
  const o = { ...grpoStepDefaults, ...options };
  const {
    policy,
    opt,
    trainer = null,
    prompts,
    reward,
    ref = null,
    columns,
    step = 0,
    history,
    sampler = null,
  } = inputs ?? ({} as GrpoStepInputs);
  const model = modelOf(policy, "update.grpoStep");
  if (!trainer && !opt)
    fail(
      "invalid_input",
      `update.grpoStep: inputs.opt is missing. Pass opt: new model.AdamW(policy.model.namedVariables(), ` +
        `{lr}), or trainer: await update.parallelTrainer(policy).`,
      { path: ["inputs", "opt"] },
      grpoStep,
    );
  if (trainer) {
    checkParallel(o);
    const use = { where: "update.grpoStep", loss: POLICY_LOSS, lossLabel: "the policy loss", share: "mini-batch" };
    checkTrainerFor(trainer, o, { ...use, create: "update.parallelTrainer(policy)" }, grpoStep);
  }
  if (typeof policy?.generate !== "function")
    fail(
      "invalid_input",
      `update.grpoStep: inputs.policy must sample (a rollout.LocalPolicy; got ${describe(policy)}). Use new ` +
        `rollout.LocalPolicy(model, tokenizer).`,
      { path: ["inputs", "policy"] },
      grpoStep,
    );
  if (o.kl && !ref)
    fail(
      "invalid_input",
      `update.grpoStep: options.kl is set but inputs.ref is missing. Pass ref: policy.model.clone() (frozen), ` +
        `or kl: null.`,
      { path: ["inputs", "ref"] },
      grpoStep,
    );
  const rng = o.rng ?? globalRng();
  const tm = timer();
  const temperature = o.sampling?.temperature ?? 1;

  // 1. o_1..o_G ~ π_old(·|q) for every prompt q
  if (sampler && (typeof sampler.generate !== "function" || sampler.tokenizer !== policy.tokenizer))
    fail(
      "invalid_input",
      `update.grpoStep: inputs.sampler must be a rollout.Policy with the trained policy's tokenizer (got ` +
        `${describe(sampler)}${sampler && typeof sampler.generate === "function" ? " with another tokenizer" : ""}). ` +
        `Use new rollout.LocalPolicy(staleModel, policy.tokenizer).`,
      { path: ["inputs", "sampler"] },
      grpoStep,
    );
  // (DAPO dynamic sampling: only groups whose rewards differ, drawn until the batch is full)
  const dyn = o.dynamicSampling
    ? await tm.phaseAsync("rollout", () =>
        dynamicSample(sampler ?? policy, prompts, {
          ...o.sampling,
          ...o.dynamicSampling,
          n: o.n,
          columns,
          rng,
          reward: async (r) =>
            scalarRewards(await collectRewards(reward, r, "update.grpoStep"), o.advantageOptions?.weights),
        }),
      )
    : null;
  let ro =
    dyn?.rollout ??
    (await tm.phaseAsync("rollout", () => sample(sampler ?? policy, prompts, { ...o.sampling, n: o.n, columns, rng })));
  // 2. r_i
  const raw = await tm.phaseAsync("reward", () => collectRewards(reward, ro, "update.grpoStep"));
  if (o.maskTruncated) ro = maskTruncated(ro); // rewards and advantages keep the row; the loss does not
  // 3. log π_old and log π_ref on the sampled tokens (no gradient)
  // With a trainer the workers hold the same weights as the policy, so they split this no-grad pass too.
  // On-policy (one epoch, one mini-batch, one pass, π_old recomputed by the trained policy itself): π_old is π_θ
  // before its only update, so the update's own forward pass gives log π_old and its entropy, the same numbers a
  // separate no-grad pass computes (verl's actor: on_policy → old_log_prob = log_prob.detach()). Saves one forward.
  const fused = onPolicyOld(o, trainer, ro.size);
  const old: { logp: number[][]; entropy?: number[][]; bad?: NonFinite | null } = fused
    ? { logp: [] }
    : o.oldLogp === "rollout"
      ? { logp: ro.logprobs, entropy: undefined as number[][] | undefined }
      : trainer
        ? await tm.phaseAsync("logprob", () =>
            trainer.logprobs(
              { ids: ro.ids, attentionMask: ro.attentionMask, responseMask: ro.responseMask },
              { temperature },
            ),
          )
        : tm.phase("logprob", () => logprobs(model, ro, { temperature }));
  // (fused: the key stays where the pass would have been timed, at 0 s below; the update's time includes it)
  if (fused) tm.phase("logprob", () => undefined);
  const refLp = ref ? tm.phase("logprob", () => logprobs(ref, ro, { temperature, entropy: false }).logp) : null;
  const metrics: Record<string, number> = { ...dyn?.metrics, ...ro.metrics };
  const nonFinite = [
    fused ? null : findNonFinite("the old logprob", old.logp, ro.responseMask, ro.promptLength),
    refLp ? findNonFinite("the reference logprob", refLp, ro.responseMask, ro.promptLength) : null,
  ];
  if (old.entropy) metrics["rollout/entropy"] = matrixMean(old.entropy, ro.responseMask);
  else if (fused) metrics["rollout/entropy"] = NaN; // filled from the update's forward pass (keeps the key order)
  // 4. advantages Â_i (KL in the reward first, if asked)
  let rewardsIn = raw;
  const fullKl = !!o.kl && isFullKl(o.kl.estimator);
  if (o.kl && o.kl.in === "reward" && refLp) {
    // exact KL in the reward: the old policy's and the reference's full distributions (no gradient)
    const full = fullKl
      ? tm.phase("logprob", () => [fullLogprobs(model, ro, { temperature }), fullLogprobs(ref!, ro, { temperature })])
      : null;
    try {
      const kr = klReward(
        {
          rewards: scalarRewards(raw, o.advantageOptions?.weights),
          logp: old.logp,
          refLogp: refLp,
          logits: full?.[0],
          refLogits: full?.[1],
          mask: ro.responseMask,
        },
        { coef: o.kl.beta, estimator: o.kl.estimator },
      );
      rewardsIn = kr.rewards;
      metrics["update/rewardKl"] = kr.kl;
    } finally {
      full?.forEach((t) => t.dispose());
    }
  }
  const rewards = scalarRewards(rewardsIn, o.advantageOptions?.weights);
  // token-level estimators (reinforce-pp-token) read the response mask and return one advantage per token [B·T]
  const tokenLevel = !!advantages.get(o.advantage).tokenLevel;
  const A = advantage(
    o.advantage,
    {
      rewards: rewardsIn,
      groups: ro.group,
      lengths: ro.responseIds.map((r) => r.length),
      ...(tokenLevel ? { mask: ro.responseMask } : {}),
    },
    o.advantageOptions,
  );
  const width = ro.responseMask[0]?.length ?? 0;
  if (A.length !== ro.size && trainer)
    fail(
      "invalid_option",
      `update.grpoStep: the advantage estimator ${typeof o.advantage === "string" ? `"${o.advantage}"` : "function"} ` +
        `returns one value per token; the worker-thread trainer takes one per completion. ` +
        `Train without inputs.trainer or use a per-completion estimator.`,
      { path: ["options", "advantage"] },
      grpoStep,
    );
  const advRows: Float32Array | number[][] =
    A.length === ro.size
      ? A
      : Array.from({ length: ro.size }, (_, b) => Array.from(A.subarray(b * width, (b + 1) * width)));
  Object.assign(metrics, rewardMetrics(scalarRewards(raw, o.advantageOptions?.weights), ro.group), advantageMetrics(A));
  // 4b. the mismatch correction: IS weights and rejection mask from π_old (trainer) and μ (sampler)
  const correction = o.rolloutCorrection
    ? rolloutCorrection(o.rolloutCorrection, {
        oldLogp: old.logp,
        rolloutLogp: ro.logprobs,
        mask: ro.responseMask,
        adv: A.length === ro.size ? A : (advRows as number[][]),
      })
    : undefined;
  if (correction) Object.assign(metrics, correction.metrics);
  const lossMask = correction?.mask ?? ro.responseMask;
  const refKl = () =>
    matrixMean(
      old.logp.map((r, b) => r.map((v, t) => v - refLp![b][t])),
      ro.responseMask,
    );
  if (refLp) metrics["update/refKl"] = fused ? NaN : refKl(); // fused: after the update has read log π_old

  // 5. epochs × mini-batches of clipped updates; π_old is fixed, so ρ = 1 only on the first mini-batch of epoch 1
  const perMb: Record<string, number>[] = [];
  const klLoss = o.kl && (o.kl.in ?? "loss") === "loss" && refLp ? o.kl : null;
  // exact KL in the loss: the reference's full distributions once (no gradient), the policy's logits under the tape
  const refFull =
    klLoss && fullKl && !nonFinite.some(Boolean)
      ? tm.phase("logprob", () => fullLogprobs(ref!, ro, { temperature }))
      : null;
  const wantEntropy = o.entropyCoef > 0 || o.lossOptions?.topEntropyQuantile !== undefined;
  if (!nonFinite.some(Boolean))
    try {
      for (const { rows } of miniBatches(ro.size, { size: o.miniBatchSize ?? ro.size, epochs: o.epochs, rng })) {
        const batch = {
          ids: take(ro.ids, rows),
          attentionMask: take(ro.attentionMask, rows),
          responseMask: take(lossMask, rows),
        };
        const oldMb = fused ? null : take(old.logp, rows),
          refMb = refLp ? take(refLp, rows) : null,
          advMb = take(advRows, rows);
        if (trainer) {
          const settings: ParallelLossSettings = {
            loss: o.loss as string,
            clip: o.clip,
            clipC: o.clipC,
            agg: o.agg as string,
            temperature,
            entropyCoef: o.entropyCoef,
            kl: klLoss ? { beta: klLoss.beta, estimator: klLoss.estimator as string | undefined } : null,
          };
          const r = await tm.phaseAsync("update", () =>
            trainer.step({ ...batch, oldLogp: oldMb!, adv: advMb, refLogp: refMb, settings }),
          );
          perMb.push(trainerStepMetrics(r));
          continue;
        }
        try {
          // refFull stays whole (sliced here to the mini-batch inside the step's tape); step cuts every field to the
          // micro-batch
          const refLogits = refFull
            ? {
                sliceRows: (r: readonly number[]) =>
                  take(
                    refFull,
                    r.map((i) => rows[i]),
                  ),
              }
            : undefined;
          perMb.push(
            tm.phase("update", () =>
              optimizerStep(
                policy,
                opt!,
                batch,
                {
                  ...(oldMb ? { oldLogp: oldMb } : {}),
                  adv: advMb,
                  refLogp: refMb ?? undefined,
                  refLogits,
                  ...(correction ? { isWeights: take(correction.weights, rows) } : {}),
                },
                (mb) => {
                  const inputs = fused ? onPolicyInputs(mb, old, wantEntropy, ro) : mb;
                  // a non-finite π_old: a NaN loss, which AdamW refuses (no parameter or moment changes)
                  if (!inputs) return tf.mul(tf.sum(mb.logp), NaN) as tf.Scalar;
                  return policyLoss(o.loss, inputs, {
                    ...o.lossOptions,
                    clip: o.clip,
                    clipC: o.clipC,
                    agg: o.agg,
                    kl: klLoss && refMb ? { beta: klLoss.beta, estimator: klLoss.estimator } : null,
                    entropy: o.entropyCoef && mb.entropy ? { coef: o.entropyCoef } : null,
                  });
                },
                {
                  temperature,
                  entropy: wantEntropy || fused,
                  logits: !!refFull,
                  microBatch: o.microBatch,
                  weightBy: o.agg === "token-mean" ? "tokens" : "rows",
                },
              ),
            ),
          );
        } catch (e) {
          if (!(e instanceof CellrlError && e.code === "non_finite")) throw e;
          nonFinite.push({ what: `the gradient (${e.message.split(";")[0]})`, sample: rows[0], token: -1, value: NaN });
          break;
        }
      }
    } finally {
      refFull?.dispose();
    }
  if (fused && old.bad) {
    // reported as the separate pass would: the old logprob, with no optimizer step (not as a bad gradient)
    nonFinite.splice(2); // (drops the "gradient" entry the NaN loss caused)
    nonFinite[0] = old.bad;
    if (perMb.at(-1)?.["update/skipped"]) perMb.pop(); // AdamW {nonFinite: "skip"} returned instead of throwing
  }
  const separatePass = fused && !old.logp.length;
  if (separatePass) {
    // the update did not run (a non-finite reference logprob): the metrics still get π_old's numbers
    const r = tm.phase("logprob", () => logprobs(model, ro, { temperature }));
    Object.assign(old, r);
    nonFinite[0] = findNonFinite("the old logprob", old.logp, ro.responseMask, ro.promptLength);
  }
  if (fused && old.entropy) metrics["rollout/entropy"] = matrixMean(old.entropy, ro.responseMask);
  if (fused && refLp) metrics["update/refKl"] = refKl();
  if (trainer && perMb.length) await tm.phaseAsync("update", () => trainer.syncTo(model));
  const times = tm.metrics();
  if (fused && !refLp && !separatePass) times["time/logprob"] = 0; // (the key registered above, in its place)
  Object.assign(metrics, mergeMetrics(perMb), times);
  metrics["update/optimizerSteps"] = perMb.length;
  const alerts = checkAlerts(step, metrics, {
    history,
    vocabSize: model.config.vocab_size,
    nonFinite,
    thresholds: o.thresholds,
  });
  return { step, metrics, alerts, rollout: ro, rewards, adv: A, updates: perMb, ...(correction ? { correction } : {}) };
}
