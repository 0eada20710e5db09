// One GKD / on-policy distillation step from the pieces (arXiv 2306.13649; verl recipe/gkd): mix student samples and
// dataset responses (λ), score them with the teacher, one optimizer step on the token-level divergence.
// Departures from the verl recipe: the position after EOS is not distilled, and there is no overlap scheduler
// (one_step_off / two_step_off): the teacher scores the batch the student just produced.
// With inputs.trainer (distill.gkdTrainer) the update runs on worker threads holding replicas of the student; the
// teacher still scores on this thread, and its distributions go to the workers as plain rows.
import * as tf from "@tensorflow/tfjs";
import { CellrlError, describe, fail } from "../core/errors.js";
import { globalRng, type Rng } from "../core/random.js";
import type { AdamW } from "../model/optim.js";
import { checkTrainerFor, trainerStepMetrics, type ParallelTrainer } from "../model/parallel.js";
import type { RolloutOptions, SampleInput } from "../rollout/rollout.js";
import { checkAlerts, type AlertThresholds } from "../update/alerts.js";
import type { StepResult, TrainablePolicy } from "../update/grpo-step.js";
import { timer } from "../update/metrics.js";
import { modelOf, step as optimizerStep } from "../update/step.js";
import { distillDefaults, distillLoss, type DistillLossOptions } from "./distill-loss.js";
import { inputSize, mixedRollout, onPolicyRows } from "./mix.js";
import { GKD_LOSS, teacherAsRows, type GkdWorkerSettings } from "./gkd-trainer.js";
import { checkTeacherOutput, sliceTeacher, type TeacherSource } from "./teacher.js";

/** Inputs of gkdStep. */
export interface GkdStepInputs {
  /** The student (rollout.LocalPolicy). */
  policy: TrainablePolicy;
  /** The student's optimizer (model.AdamW over policy.model.namedVariables()); not used with `trainer`. */
  opt?: AdamW;
  /**
   * Train on worker threads instead (distill.gkdTrainer(policy): replicas of the student with their own AdamW). The
   * batch's rows are split over the workers; the trained weights are copied back into policy.model before the step
   * returns.
   */
  trainer?: ParallelTrainer | null;
  teacher: TeacherSource;
  /** Prompts of this step, as update.grpoStep takes them: verl records (chat template applied), texts or token ids. */
  prompts: SampleInput;
  /** Dataset responses per prompt, used for the off-policy (1 − λ) part. */
  responses?: (string | null)[];
  step?: number;
  history?: Record<string, number>[];
}

/** Options of gkdStep. */
export interface GkdStepOptions extends DistillLossOptions {
  /**
   * Fraction of on-policy (student-sampled) responses, λ (TRL lmbda). Defaults to 1 (fully on-policy, as verl's
   * recipe).
   */
  lambda?: number;
  /** How λ is applied: per "sample" or per "batch" (TRL). Defaults to "sample". */
  per?: "sample" | "batch";
  /** Ask the teacher for top-k log-probs only (what a server sends); 0 = full distributions. Defaults to 0. */
  topK?: number;
  /** Student sampling options (temperature, maxNewTokens, ...; chatTemplate for records). */
  sampling?: Omit<RolloutOptions, "n" | "columns" | "promptIds" | "rng">;
  microBatch?: number;
  rng?: Rng;
  thresholds?: AlertThresholds;
}
/** Defaults of gkdStep (print them in a cell). */
export const gkdStepDefaults = { lambda: 1, per: "sample" as const, topK: 0 };

/** A trainer that does not run the GKD loss, or options that cannot reach its workers: clear errors before any work. */
function checkTrainer(trainer: ParallelTrainer, o: GkdStepOptions): void {
  const use = { where: "distill.gkdStep", loss: GKD_LOSS, lossLabel: "the distillation loss", share: "batch" };
  checkTrainerFor(trainer, o, { ...use, create: "distill.gkdTrainer(policy)" }, gkdStep);
  // everything but the sampling, the random stream and the alert thresholds (used on this thread) goes to the workers
  const { sampling: _s, rng: _r, thresholds: _t, ...sent } = o;
  for (const [k, v] of Object.entries(sent))
    if (typeof v === "function")
      fail(
        "invalid_option",
        `distill.gkdStep: options.${k} is a function, which cannot be sent to the trainer's workers. ` +
          (k === "divergence" || k === "agg"
            ? `Register it (distill.divergences / update.lossAggs) in a module the workers load and pass its name, ` +
              `or train without inputs.trainer.`
            : `Pass plain data, or train without inputs.trainer.`),
        { path: ["options", k] },
        gkdStep,
      );
}

/**
 * One on-policy distillation step: λ-mixed batch → teacher distributions → optimizer step on D(teacher ‖ student).
 * @example
 * const teacher = distill.localTeacher(big);
 * const r = await distill.gkdStep({policy: student, opt, teacher, prompts: records}, {divergence: "jsd", beta: 0.5});
 * // or on two worker threads: trainer = await distill.gkdTrainer(student, {optimizer: {lr: 1e-3}})
 * const r2 = await distill.gkdStep({policy: student, trainer, teacher, prompts: records})
 */
export async function gkdStep(inputs: GkdStepInputs, options: GkdStepOptions = {}): Promise<StepResult> {
  const {
    policy,
    opt,
    trainer = null,
    teacher,
    prompts,
    responses,
    step = 0,
    history,
  } = inputs ?? ({} as GkdStepInputs);
  const model = modelOf(policy, "distill.gkdStep");
  if (!trainer && !opt)
    fail(
      "invalid_input",
      `distill.gkdStep: inputs.opt is missing. Pass opt: new model.AdamW(policy.model.namedVariables(), {lr}), ` +
        `or trainer: await distill.gkdTrainer(policy).`,
      { path: ["inputs", "opt"] },
      gkdStep,
    );
  if (trainer) checkTrainer(trainer, options);
  if (!teacher || typeof teacher.score !== "function")
    fail(
      "invalid_input",
      `distill.gkdStep: inputs.teacher must be a TeacherSource (got ${describe(teacher)}). Use ` +
        `distill.localTeacher(teacherModel).`,
      { path: ["inputs", "teacher"] },
      gkdStep,
    );
  if (teacher.vocabSize !== model.config.vocab_size)
    fail(
      "shape_mismatch",
      `distill.gkdStep: the teacher's vocabulary has ${teacher.vocabSize} tokens but the student's ` +
        `has ${model.config.vocab_size}. Teacher and student must share the tokenizer.`,
      {},
      gkdStep,
    );
  const {
    lambda,
    per,
    topK,
    sampling,
    microBatch,
    thresholds,
    rng: rngOpt,
    ...lossOpts
  } = { ...gkdStepDefaults, ...options };
  const rng = rngOpt ?? globalRng();
  const tm = timer();
  const onPolicy = onPolicyRows(inputSize(prompts), lambda, { per, rng });
  const ro = await tm.phaseAsync("rollout", () =>
    mixedRollout(policy, prompts, { responses, onPolicy, sampling: { ...sampling, rng } }),
  );
  const tOut = await tm.phaseAsync("teacher", async () => teacher.score(ro, { topK }));
  const metrics: Record<string, number> = {
    ...ro.metrics,
    "distill/onPolicyFrac": onPolicy.filter(Boolean).length / Math.max(1, onPolicy.length),
  };
  const perMb: Record<string, number>[] = [];
  const nonFinite = [];
  const opts = { ...distillDefaults, ...lossOpts };
  try {
    if (trainer) {
      // the teacher's distributions as plain rows (checked here, so a bad teacher is a clear error on this thread)
      checkTeacherOutput(tOut, ro.size, ro.ids[0]?.length ?? 0, model.config.vocab_size, "distill.gkdStep");
      const { teacher: shape, ...rows } = teacherAsRows(tOut);
      const settings: GkdWorkerSettings = { loss: opts as GkdWorkerSettings["loss"], teacher: shape };
      const r = await tm.phaseAsync("update", () =>
        trainer.step({
          ids: ro.ids,
          attentionMask: ro.attentionMask,
          responseMask: ro.responseMask,
          ...rows,
          settings,
        }),
      );
      perMb.push(trainerStepMetrics(r));
      await tm.phaseAsync("update", () => trainer.syncTo(model));
    } else {
      // The teacher output slices itself to each micro-batch (its top-k arrays are flat, not row-major lists).
      const teacherRows = {
        sliceRows: (rows: readonly number[]) => (rows.length === ro.size ? tOut : sliceTeacher(tOut, rows)),
      };
      perMb.push(
        tm.phase("update", () =>
          optimizerStep(
            policy,
            opt!,
            ro,
            { teacher: teacherRows },
            ({ logits, mask, teacher }) => distillLoss({ student: logits!, teacher, mask }, opts),
            { logits: true, microBatch, weightBy: opts.agg === "token-mean" ? "tokens" : "rows" },
          ),
        ),
      );
    }
  } catch (e) {
    if (!(e instanceof CellrlError && e.code === "non_finite")) throw e;
    nonFinite.push({ what: `the gradient (${e.message.split(";")[0]})`, sample: 0, token: -1, value: NaN });
  } finally {
    if (tOut.kind === "full") tf.dispose(tOut.logprobs);
  }
  Object.assign(metrics, ...perMb, tm.metrics());
  const alerts = checkAlerts(step, metrics, { history, vocabSize: model.config.vocab_size, nonFinite, thresholds });
  return {
    step,
    metrics,
    alerts,
    rollout: ro,
    rewards: new Float32Array(ro.size),
    adv: new Float32Array(ro.size),
    updates: perMb,
  };
}
