// One on-policy distillation step as Tinker's cookbook and verl's distillation trainer run it: the student samples
// (rollout.sample), every teacher scores the rows of its prompts (several teachers allowed, one per prompt, as Tinker's
// per-dataset teachers), and one optimizer step on distill.opdLoss. The teacher gives the log-prob of each sampled
// token ("tinker", "k1", "k2", "k3") or its top-k ("forward-kl-topk").
// Departures: no overlap scheduling (the teacher scores the batch the student just produced, as gkdStep), and a top-k
// teacher that misses a sampled token is an error (a full teacher, or a larger topK, has it).
import * as tf from "@tensorflow/tfjs";
import { CellrlError, describe, fail } from "../core/errors.js";
import { globalRng, type Rng } from "../core/random.js";
import type { AdamW } from "../model/optim.js";
import { sample, type Rollout, type RolloutOptions, type SampleInput } from "../rollout/rollout.js";
import { checkAlerts, type AlertThresholds } from "../update/alerts.js";
import type { StepResult, TrainablePolicy } from "../update/grpo-step.js";
import { timer } from "../update/metrics.js";
import { take } from "../update/rows.js";
import { modelOf, step as optimizerStep } from "../update/step.js";
import { maskedMean } from "../update/tensors.js";
import { opdAdvantages, opdDefaults, opdLoss, type OpdLossOptions } from "./opd.js";
import {
  checkTeacherOutput,
  sliceTeacher,
  type TeacherOutput,
  type TeacherSource,
  type TopkTeacherOutput,
} from "./teacher.js";

/** Inputs of opdStep. */
export interface OpdStepInputs {
  /** The student (rollout.LocalPolicy). */
  policy: TrainablePolicy;
  opt: AdamW;
  /** The teacher, or several (Tinker: one per dataset); `teacherIndex` picks one per prompt. */
  teacher: TeacherSource | TeacherSource[];
  /** Index into `teacher` per prompt. Defaults to 0 for every prompt. */
  teacherIndex?: number[];
  /** Prompts of this step: verl records (chat template applied), texts or token ids. */
  prompts: SampleInput;
  /** Extra advantage per prompt's completion [B] (e.g. task rewards), added to the distillation advantage. */
  adv?: ArrayLike<number>;
  step?: number;
  history?: Record<string, number>[];
}

/** Options of opdStep: opdLoss's, plus sampling. */
export interface OpdStepOptions extends OpdLossOptions {
  /** Student samples per prompt (Tinker group_size). Defaults to 1. */
  n?: number;
  /** "forward-kl-topk": top-k log-probs asked of the teacher (verl distillation_loss.topk). Defaults to 16. */
  topK?: number;
  /** Student sampling options (temperature, maxNewTokens, ...; chatTemplate for records). */
  sampling?: Omit<RolloutOptions, "n" | "columns" | "promptIds" | "rng">;
  microBatch?: number;
  rng?: Rng;
  thresholds?: AlertThresholds;
}
/** Defaults of opdStep (print them in a cell; import from lib/distill/opd-step.js). */
export const opdStepDefaults = { ...opdDefaults, n: 1, topK: 16 };

/** The teacher's log-prob of each sampled token [B][T] (0 off the response mask), from full or top-k output. */
export function sampledTeacherLogp(out: TeacherOutput, ids: number[][], responseMask: number[][]): number[][] {
  const B = ids.length,
    T = ids[0]?.length ?? 0;
  const res = ids.map(() => new Array<number>(T).fill(0));
  if (out.kind === "full") {
    const V = out.logprobs.shape[2];
    const flat: number[] = [];
    const at: [number, number][] = [];
    for (let b = 0; b < B; b++)
      for (let t = 1; t < T; t++)
        if (responseMask[b][t] > 0) {
          flat.push((b * T + t) * V + ids[b][t]);
          at.push([b, t]);
        }
    const vals = tf.tidy(() => tf.gather(out.logprobs.reshape([-1]), tf.tensor1d(flat, "int32")).dataSync());
    at.forEach(([b, t], i) => (res[b][t] = vals[i]));
    return res;
  }
  const { K } = out;
  for (let b = 0; b < B; b++)
    for (let t = 1; t < T; t++) {
      if (!(responseMask[b][t] > 0)) continue;
      const base = (b * T + t) * K;
      let k = 0;
      while (k < K && out.ids[base + k] !== ids[b][t]) k++;
      if (k === K)
        fail(
          "invalid_input",
          `distill.opdStep: the teacher's top-${K} at row ${b}, position ${t} does not contain the sampled token ` +
            `${ids[b][t]}, so its log-prob is unknown. Use a full teacher (distill.localTeacher(m)), a larger topK, ` +
            `or mode "forward-kl-topk".`,
          { path: ["teacher"] },
          opdStep,
        );
      res[b][t] = out.logprobs[base + k];
    }
  return res;
}

/** The rows of each teacher, in row order. */
function rowsByTeacher(ro: Rollout, index: number[], nTeachers: number): number[][] {
  const out: number[][] = Array.from({ length: nTeachers }, () => []);
  for (let r = 0; r < ro.size; r++) out[index[ro.group[r]]].push(r);
  return out;
}

/**
 * One on-policy distillation step (Tinker cookbook / verl): sample from the student, score its tokens with the
 * teacher(s), one optimizer step on distill.opdLoss. Tinker's default: mode "tinker", coef 1, discount 0.
 * A_t = −coef·(log q(y_t) − log π_T(y_t)); loss agg(−exp(log π_θ − log q)·A).
 * @example
 * const teacher = distill.localTeacher(big);
 * const r = await distill.opdStep({policy: student, opt, teacher, prompts: records}, {mode: "tinker"})
 * r.metrics["distill/teacherKl"]
 */
export async function opdStep(inputs: OpdStepInputs, options: OpdStepOptions = {}): Promise<StepResult> {
  const F = "distill.opdStep";
  const { policy, opt, teacher, teacherIndex, prompts, adv, step = 0, history } = inputs ?? ({} as OpdStepInputs);
  const model = modelOf(policy, F);
  const teachers = Array.isArray(teacher) ? teacher : [teacher];
  if (teachers.length === 0)
    fail("invalid_input", `${F}: inputs.teacher is an empty list.`, { path: ["inputs", "teacher"] }, opdStep);
  teachers.forEach((t, j) => {
    if (!t || typeof t.score !== "function")
      fail(
        "invalid_input",
        `${F}: inputs.teacher${Array.isArray(teacher) ? `[${j}]` : ""} must be a TeacherSource (got ` +
          `${describe(t)}). Use distill.localTeacher(teacherModel).`,
        { path: ["inputs", "teacher"] },
        opdStep,
      );
    if (t.vocabSize !== model.config.vocab_size)
      fail(
        "shape_mismatch",
        `${F}: teacher "${t.name}" has ${t.vocabSize} tokens but the student has ${model.config.vocab_size}. ` +
          `Teacher and student must share the tokenizer.`,
        {},
        opdStep,
      );
  });
  const { n, topK, sampling, microBatch, thresholds, rng: rngOpt, ...lossOpts } = { ...opdStepDefaults, ...options };
  // the loss reads coef / discount only in mode "tinker": pass them only when the caller gave them
  const lossOptions: OpdLossOptions = { ...options };
  for (const k of ["n", "topK", "sampling", "microBatch", "thresholds", "rng"]) delete (lossOptions as any)[k];
  const mode = lossOpts.mode;
  if (lossOpts.agg === "sum" && microBatch !== undefined)
    fail(
      "invalid_option",
      `${F}: agg "sum" (Tinker's Σ over tokens) cannot be split into weighted micro-batches; drop microBatch or ` +
        `use agg "token-mean".`,
      { path: ["options", "microBatch"] },
      opdStep,
    );
  const rng = rngOpt ?? globalRng();
  const tm = timer();
  const ro = await tm.phaseAsync("rollout", () => sample(policy, prompts, { ...sampling, n, rng }));
  const nPrompts = ro.prompts.length;
  const index = teacherIndex ?? new Array<number>(nPrompts).fill(0);
  if (!Array.isArray(index) || index.length !== nPrompts || index.some((j) => !(j >= 0 && j < teachers.length)))
    fail(
      "invalid_input",
      `${F}: inputs.teacherIndex must give one teacher index in [0, ${teachers.length}) per prompt ` +
        `(${nPrompts} prompts; got ${describe(teacherIndex)}).`,
      { path: ["inputs", "teacherIndex"] },
      opdStep,
    );
  if (adv !== undefined && (typeof adv !== "object" || adv.length !== ro.size))
    fail(
      "shape_mismatch",
      `${F}: inputs.adv must have one value per completion (${ro.size}; got ${describe(adv)}).`,
      { path: ["inputs", "adv"] },
      opdStep,
    );
  const byTeacher = rowsByTeacher(ro, index, teachers.length);
  const T = ro.ids[0].length;
  const sampled = mode !== "forward-kl-topk";
  const teacherLogp: number[][] = ro.ids.map(() => new Array<number>(T).fill(0));
  let topk: TopkTeacherOutput | null = null;
  await tm.phaseAsync("teacher", async () => {
    for (let j = 0; j < teachers.length; j++) {
      const rows = byTeacher[j];
      if (rows.length === 0) continue;
      const batch = {
        ids: take(ro.ids, rows),
        attentionMask: take(ro.attentionMask, rows),
        responseMask: take(ro.responseMask, rows),
      };
      const out = checkTeacherOutput(
        await teachers[j].score(batch, { topK: sampled ? 0 : topK }),
        rows.length,
        T,
        model.config.vocab_size,
        F,
      );
      try {
        if (sampled) {
          const lp = sampledTeacherLogp(out, batch.ids, batch.responseMask);
          rows.forEach((r, i) => (teacherLogp[r] = lp[i]));
        } else {
          if (out.kind !== "topk" || out.K !== topK)
            fail(
              "invalid_input",
              `${F}: mode "forward-kl-topk" asked teacher "${teachers[j].name}" for top-${topK} but got ` +
                `${out.kind === "topk" ? `top-${out.K}` : "full distributions"}.`,
              {},
              opdStep,
            );
          topk ??= {
            kind: "topk",
            B: ro.size,
            T,
            K: topK,
            ids: new Int32Array(ro.size * T * topK),
            logprobs: new Float32Array(ro.size * T * topK),
          };
          const per = T * topK;
          rows.forEach((r, i) => {
            topk!.ids.set(out.ids.subarray(i * per, (i + 1) * per), r * per);
            topk!.logprobs.set(out.logprobs.subarray(i * per, (i + 1) * per), r * per);
          });
        }
      } finally {
        if (out.kind === "full") out.logprobs.dispose();
      }
    }
  });
  const metrics: Record<string, number> = { ...ro.metrics };
  if (sampled && teachers.length > 1)
    byTeacher.forEach((rows, j) => {
      if (rows.length === 0) return;
      const diff = rows.map((r) => ro.logprobs[r].map((q, t) => q - teacherLogp[r][t]));
      metrics[`distill/teacherKl/${j}`] = maskedMean(diff.flat(), take(ro.responseMask, rows).flat());
    });
  const perMb: Record<string, number>[] = [];
  const nonFinite = [];
  const temperature = sampling?.temperature ?? 1;
  const fields = {
    samplerLogp: ro.logprobs,
    teacherLogp,
    ...(adv !== undefined ? { adv: Float32Array.from(adv) } : {}),
    ...(topk
      ? {
          teacher: {
            sliceRows: (rows: readonly number[]) => (rows.length === topk!.B ? topk! : sliceTeacher(topk!, rows)),
          },
        }
      : {}),
  };
  try {
    perMb.push(
      tm.phase("update", () =>
        optimizerStep(
          policy,
          opt,
          ro,
          fields,
          (mb) =>
            opdLoss(
              {
                logp: mb.logp,
                mask: mb.mask,
                samplerLogp: mb.samplerLogp,
                teacherLogp: mb.teacherLogp,
                adv: (mb as { adv?: Float32Array }).adv,
                logits: mb.logits,
                teacher: (mb as { teacher?: TopkTeacherOutput }).teacher,
              },
              lossOptions,
            ),
          {
            temperature,
            logits: !sampled,
            microBatch,
            weightBy: lossOpts.agg === "token-mean" ? "tokens" : "rows",
          },
        ),
      ),
    );
  } catch (e) {
    if (!(e instanceof CellrlError && e.code === "non_finite")) throw e;
    nonFinite.push({ what: `the gradient (${e.message.split(";")[0]})`, sample: 0, token: -1, value: NaN });
  }
  Object.assign(metrics, ...perMb, tm.metrics());
  const alerts = checkAlerts(step, metrics, { history, vocabSize: model.config.vocab_size, nonFinite, thresholds });
  // per-token advantages of the "tinker" mode, flat [B·T] (the extra advantage on the response tokens)
  const A =
    mode === "tinker"
      ? Float32Array.from(
          opdAdvantages(ro.logprobs, teacherLogp, ro.responseMask, {
            coef: lossOpts.coef,
            discount: lossOpts.discount,
          }).flatMap((row, b) => row.map((a, t) => a + (adv ? Number(adv[b]) * ro.responseMask[b][t] : 0))),
        )
      : new Float32Array(ro.size);
  return { step, metrics, alerts, rollout: ro, rewards: new Float32Array(ro.size), adv: A, updates: perMb };
}
