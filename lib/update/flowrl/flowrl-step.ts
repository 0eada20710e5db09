// One FlowRL step from the pieces (reference §3): rollout → reward → r̂ = GRPO advantage → old and reference
// logprobs → epochs × mini-batches of update.step(flowrlLoss) with the log Z head on the pooled prompt states.
// The head trains jointly with the policy: the optimizer must hold its variables (update.flowrlParams), or a worker
// trainer (update.flowrlTrainer) holds replicas of both and splits each mini-batch's rows over its threads.
import * as tf from "@tensorflow/tfjs";
import { CellrlError, describe, fail } from "../../core/errors.js";
import { globalRng, type Rng } from "../../core/random.js";
import { logprobs } from "../../model/logprobs.js";
import type { LlamaModel } from "../../model/llama.js";
import type { AdamW } from "../../model/optim.js";
import { checkTrainerFor, trainerStepMetrics, type ParallelTrainer } from "../../model/parallel.js";
import { sample, type RolloutOptions, type SampleInput } from "../../rollout/rollout.js";
import { advantage, type AdvantageOptions } from "../advantage.js";
import { checkAlerts, findNonFinite, type AlertThresholds } from "../alerts.js";
import { mergeMetrics, type StepResult, type TrainablePolicy } from "../grpo-step.js";
import { advantageMetrics, matrixMean, rewardMetrics, timer } from "../metrics.js";
import { collectRewards, type RewardSource } from "../rollout-reward.js";
import { miniBatches, take } from "../rows.js";
import { maskCount, modelOf, step as optimizerStep } from "../step.js";
import { flowrlDefaults, flowrlHeadLoss, type FlowrlLossOptions } from "./flowrl-loss.js";
import { FLOWRL_LOSS, headVariables, MASKED, type FlowrlWorkerSettings } from "./flowrl-trainer.js";
import type { LogZHead } from "./logz-head.js";

/** Inputs of flowrlStep. */
export interface FlowrlStepInputs {
  policy: TrainablePolicy;
  /** Optimizer over the policy and the head (update.flowrlParams(policy.model, head)); not used with `trainer`. */
  opt?: AdamW;
  /**
   * Train on worker threads instead (update.flowrlTrainer(policy, head): replicas of the model and the head with their
   * own AdamW). Each mini-batch's rows are split over the workers; the trained weights are copied back into
   * policy.model and the head before the step returns.
   */
  trainer?: ParallelTrainer | null;
  /** The log Z head (update.createLogZHead(hiddenSize)). */
  head: LogZHead;
  /** Frozen reference model (policy.model.clone()). */
  ref: LlamaModel;
  /** Prompts of this step: verl records (chat template applied), texts or token ids. */
  prompts: SampleInput;
  /** Rewards of the rollout, (ro) => [B]. Defaults to reward.score(ro). */
  reward?: RewardSource;
  columns?: Record<string, unknown[]>;
  step?: number;
  history?: Record<string, number>[];
}

/** Options of flowrlStep. */
export interface FlowrlStepOptions extends FlowrlLossOptions {
  /** Completions per prompt. Defaults to 8 (every FlowRL run). */
  n?: number;
  sampling?: Omit<RolloutOptions, "n" | "columns" | "promptIds" | "rng">;
  /** Options of the "grpo" normalisation giving r̂ (the recipe uses verl's defaults). */
  advantageOptions?: AdvantageOptions;
  epochs?: number;
  miniBatchSize?: number;
  microBatch?: number;
  rng?: Rng;
  thresholds?: AlertThresholds;
}

/**
 * The parameters a FlowRL optimizer trains: the policy's named variables plus the log Z head's.
 * @example const opt = new model.AdamW(update.flowrlParams(policy.model, head), {lr: 1e-3})
 */
export function flowrlParams(model: LlamaModel, head: LogZHead): Map<string, tf.Variable> {
  const m = new Map(model.namedVariables());
  for (const v of head.variables) m.set(v.name, v);
  return m;
}

/** Prompt-position mask of a rollout (left-padded prompts occupy columns < promptLength). */
function promptMask(attn: number[][], P: number): number[][] {
  return attn.map((r) => r.map((v, t) => (t < P ? v : 0)));
}

/** A trainer that cannot train this head, or options that cannot reach its workers: clear errors before any rollout. */
function checkTrainer(trainer: ParallelTrainer, head: LogZHead, o: FlowrlStepOptions): void {
  const names = head.variables.map((v) => v.name);
  if (
    trainer.lossName !== FLOWRL_LOSS ||
    trainer.extraNames.length !== names.length ||
    names.some((n, i) => trainer.extraNames[i] !== n)
  )
    fail(
      "invalid_input",
      `update.flowrlStep: inputs.trainer was not made for this log Z head (its workers run ` +
        `"${trainer.lossName}"${trainer.extraNames.length ? ` with ${trainer.extraNames.length} extra variables` : ""}). ` +
        `Create it with update.flowrlTrainer(policy, head).`,
      { path: ["inputs", "trainer"] },
      flowrlStep,
    );
  const use = { where: "update.flowrlStep", loss: FLOWRL_LOSS, lossLabel: "the FlowRL loss", share: "mini-batch" };
  checkTrainerFor(trainer, o, { ...use, create: "update.flowrlTrainer(policy, head)" }, flowrlStep);
}

/**
 * One FlowRL step (arXiv 2509.15207): trajectory balance with a learned log Z, β = 15, length-normalised logprobs.
 * @example
 * const r = await update.flowrlStep({policy, opt, head, ref, prompts, reward}, {weight: "cap"});
 * // or on two worker threads: trainer = await update.flowrlTrainer(policy, head, {optimizer: {lr: 1e-3}})
 * const r2 = await update.flowrlStep({policy, trainer, head, ref, prompts, reward})
 */
export async function flowrlStep(inputs: FlowrlStepInputs, options: FlowrlStepOptions = {}): Promise<StepResult> {
  const {
    policy,
    opt,
    trainer = null,
    head,
    ref,
    prompts,
    reward,
    columns,
    step = 0,
    history,
  } = inputs ?? ({} as FlowrlStepInputs);
  const model = modelOf(policy, "update.flowrlStep");
  if (!head || typeof head.apply !== "function")
    fail(
      "invalid_input",
      `update.flowrlStep: inputs.head must be a log Z head (got ${describe(head)}). Create it with ` +
        `update.createLogZHead(policy.model.config.hidden_size).`,
      { path: ["inputs", "head"] },
      flowrlStep,
    );
  if (!ref || typeof ref.forward !== "function")
    fail(
      "invalid_input",
      `update.flowrlStep: inputs.ref must be the frozen reference model (got ${describe(ref)}). Pass ref: ` +
        `policy.model.clone().`,
      { path: ["inputs", "ref"] },
      flowrlStep,
    );
  if (trainer) checkTrainer(trainer, head, options);
  else if (!opt)
    fail(
      "invalid_input",
      `update.flowrlStep: inputs.opt is missing. Pass opt: new model.AdamW(update.flowrlParams(policy.model, ` +
        `head), {lr}), or trainer: await update.flowrlTrainer(policy, head).`,
      { path: ["inputs", "opt"] },
      flowrlStep,
    );
  const trained = new Set(opt?.trainableNames?.() ?? []);
  if (!trainer && !head.variables.every((v) => trained.has(v.name)))
    fail(
      "invalid_input",
      `update.flowrlStep: the optimizer does not train the log Z head, so log Z would never learn. Create it ` +
        `with new model.AdamW(update.flowrlParams(policy.model, head), {...}).`,
      { path: ["inputs", "opt"] },
      flowrlStep,
    );
  const { n = 8, sampling, advantageOptions, epochs = 1, miniBatchSize, microBatch, thresholds, ...lossOpts } = options;
  const rng = options.rng ?? globalRng();
  const temperature = sampling?.temperature ?? 1;
  const tm = timer();

  const ro = await tm.phaseAsync("rollout", () => sample(policy, prompts, { ...sampling, n, columns, rng }));
  const raw = await tm.phaseAsync("reward", () => collectRewards(reward, ro, "update.flowrlStep"));
  const refPass = () => logprobs(ref, ro, { temperature, entropy: false }).logp;
  // With a trainer the workers hold the policy's weights, so they split the old-logprob pass, and this thread runs
  // the reference's pass meanwhile (the two are independent; one process runs them one after the other).
  const [old, refLp] = trainer
    ? await tm.phaseAsync("logprob", async () => {
        const pending = trainer.logprobs(
          { ids: ro.ids, attentionMask: ro.attentionMask, responseMask: ro.responseMask },
          { temperature },
        );
        let r: number[][];
        try {
          r = refPass();
        } catch (e) {
          await pending.catch(() => undefined); // let the workers finish; report the first error
          throw e;
        }
        return [await pending, r] as const;
      })
    : [tm.phase("logprob", () => logprobs(model, ro, { temperature })), tm.phase("logprob", refPass)];
  // r̂: the group-normalised reward, exactly verl's GRPO advantage (the recipe sets adv_estimator=grpo)
  const rHat = advantage("grpo", { rewards: raw, groups: ro.group }, advantageOptions);
  const scalar = Array.isArray(raw) || ArrayBuffer.isView(raw) ? Float32Array.from(raw as ArrayLike<number>) : rHat;
  const metrics: Record<string, number> = {
    ...ro.metrics,
    ...rewardMetrics(scalar, ro.group),
    ...advantageMetrics(rHat),
  };
  if (old.entropy) metrics["rollout/entropy"] = matrixMean(old.entropy, ro.responseMask);
  const nonFinite = [
    findNonFinite("the old logprob", old.logp, ro.responseMask, ro.promptLength),
    findNonFinite("the reference logprob", refLp, ro.responseMask, ro.promptLength),
  ];
  const pm = promptMask(ro.attentionMask, ro.promptLength);
  const perMb: Record<string, number>[] = [];
  const opts = { ...flowrlDefaults, ...lossOpts };
  if (!nonFinite.some(Boolean))
    for (const { rows } of miniBatches(ro.size, { size: miniBatchSize ?? ro.size, epochs, rng })) {
      const batch = {
        ids: take(ro.ids, rows),
        attentionMask: take(ro.attentionMask, rows),
        responseMask: take(ro.responseMask, rows),
      };
      const oldMb = take(old.logp, rows),
        refMb = take(refLp, rows),
        rMb = take(rHat, rows),
        pmMb = take(pm, rows);
      if (trainer) {
        // one dropout seed per mini-batch from the step's stream; each worker derives its own masks from it
        const settings: FlowrlWorkerSettings = {
          temperature,
          loss: { beta: opts.beta, weight: opts.weight, clip: opts.clip, cap: opts.cap }, // plain data only
          dropoutSeed: head.dropout! > 0 ? rng.seedInt() : null,
        };
        const r = await tm.phaseAsync("update", () =>
          trainer.step({ ...batch, oldLogp: oldMb, refLogp: refMb, reward: rMb, promptMask: pmMb, settings }),
        );
        // the workers report masked tokens per row (parallelFlowrlLoss): back to a fraction of the mini-batch's tokens
        const tokens = maskCount(
          batch.responseMask,
          rows.map((_, i) => i),
        );
        if (MASKED in r.metrics) r.metrics[MASKED] *= rows.length / Math.max(tokens, 1);
        perMb.push(trainerStepMetrics(r));
        continue;
      }
      try {
        perMb.push(
          tm.phase("update", () =>
            optimizerStep(
              policy,
              opt!,
              batch,
              { oldLogp: oldMb, refLogp: refMb, reward: rMb, promptMask: pmMb },
              (mb) => flowrlHeadLoss(head, mb, opts, rng),
              { temperature, hidden: true, microBatch, weightBy: "rows" },
            ),
          ),
        );
      } catch (e) {
        if (!(e instanceof CellrlError && e.code === "non_finite")) throw e;
        nonFinite.push({ what: `the gradient (${e.message.split(";")[0]})`, sample: rows[0], token: -1, value: NaN });
        break;
      }
    }
  if (trainer && perMb.length) await tm.phaseAsync("update", () => trainer.syncTo(model, headVariables(head)));
  Object.assign(metrics, mergeMetrics(perMb), tm.metrics());
  metrics["update/optimizerSteps"] = perMb.length;
  const alerts = checkAlerts(step, metrics, { history, vocabSize: model.config.vocab_size, nonFinite, thresholds });
  return { step, metrics, alerts, rollout: ro, rewards: scalar, adv: rHat, updates: perMb };
}
