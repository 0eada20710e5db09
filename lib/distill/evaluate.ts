// Held-out measurement of how far the student is from the teacher: the mean token divergence on a fixed batch,
// no gradient (the GKD learning curve).
import * as tf from "@tensorflow/tfjs";
import { modelOf, type TrainableModel } from "../update/step.js";
import { distillLoss, type DistillLossOptions } from "./distill-loss.js";
import type { TeacherBatch, TeacherSource } from "./teacher.js";

/**
 * Mean per-token divergence between teacher and student on `batch` (default forward KL, full distributions).
 * @example distill.studentTeacherDivergence(student, teacher, evalBatch) // nats per token
 */
export async function studentTeacherDivergence(
  student: TrainableModel,
  teacher: TeacherSource,
  batch: TeacherBatch,
  options: DistillLossOptions & { topK?: number } = {},
): Promise<number> {
  const model = modelOf(student, "distill.studentTeacherDivergence");
  const { topK = 0, ...o } = options;
  const t = await teacher.score(batch, { topK });
  try {
    return tf.tidy(() => {
      const { logits } = model.forward({ ids: batch.ids, attentionMask: batch.attentionMask ?? null });
      const [B, T, V] = logits.shape;
      const aligned = tf.concat([tf.zeros([B, 1, V]), tf.slice(logits, [0, 0, 0], [B, T - 1, V])], 1) as tf.Tensor3D;
      const mask =
        batch.responseMask ??
        (batch.attentionMask as number[][] | undefined)?.map((r) => r.map((v, i) => (i > 0 && v && r[i - 1] ? 1 : 0)));
      return distillLoss(
        {
          student: aligned,
          teacher: t,
          mask: (mask ??
            Array.from({ length: B }, () => Array.from({ length: T }, (_, i) => (i > 0 ? 1 : 0)))) as number[][],
        },
        { divergence: "forward-kl", ...o },
      ).loss.dataSync()[0];
    });
  } finally {
    if (t.kind === "full") t.logprobs.dispose();
  }
}
