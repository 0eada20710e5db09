// Where teacher distributions come from. A TeacherSource scores prompt + response token ids and returns, per position,
// either the full next-token log-distribution [B, T, V] or its top-k {ids, logprobs}. Rows are "tokens"-aligned like
// model.logprobs: row t is the teacher's distribution for token t given tokens < t (row 0 is unused). The verl recipe's
// server returns rows shifted by one (row t predicts token t+1); a remote client converts to this alignment.
import * as tf from "@tensorflow/tfjs";
import { describe, fail } from "../core/errors.js";
import type { LlamaModel } from "../model/llama.js";
import { fullLogprobs, logprobs as modelLogprobs } from "../model/logprobs.js";
import type { MatrixLike } from "../model/batch.js";
import { take } from "../update/rows.js";

/** The sequences a teacher scores: prompt + response ids [B, T] with masks, as in a Rollout. */
export interface TeacherBatch {
  ids: MatrixLike;
  attentionMask?: MatrixLike | null;
  responseMask?: MatrixLike | null;
}

/** Full teacher log-distributions, [B, T, V], tokens-aligned. The caller disposes `logprobs`. */
export interface FullTeacherOutput {
  kind: "full";
  logprobs: tf.Tensor3D;
}

/** Top-k teacher log-probs per position, tokens-aligned; positions outside the mask may hold anything. */
export interface TopkTeacherOutput {
  kind: "topk";
  /** Token ids [B, T, K] (row-major, flat). */
  ids: Int32Array;
  /** Their teacher log-probs [B, T, K] (not renormalised; Σ exp ≤ 1). */
  logprobs: Float32Array;
  B: number;
  T: number;
  K: number;
}

/** What a TeacherSource returns: full distributions or top-k. */
export type TeacherOutput = FullTeacherOutput | TopkTeacherOutput;

/** Options a TeacherSource receives. */
export interface TeacherScoreOptions {
  /** Number of top tokens wanted per position (a source may return full distributions instead when 0). */
  topK?: number;
}

/**
 * A source of teacher distributions: a local model, a remote server (lib/remote), or a recorded table.
 * @example const t: distill.TeacherSource = distill.localTeacher(bigModel); const out = await t.score(ro)
 */
export interface TeacherSource {
  /** Shown in metrics and errors. */
  readonly name: string;
  /** Vocabulary size V of the distributions (must equal the student's). */
  readonly vocabSize: number;
  score(batch: TeacherBatch, options?: TeacherScoreOptions): TeacherOutput | Promise<TeacherOutput>;
}

/** Options of localTeacher. */
export interface LocalTeacherOptions {
  /** Return top-k {ids, logprobs} instead of full distributions (what a server would send). Defaults to 0 (full). */
  topK?: number;
  /** Shown in metrics. Defaults to "local". */
  name?: string;
}

/**
 * A TeacherSource over a local LlamaModel (no gradient): full log-distributions, or top-k when `topK` > 0.
 * @example const teacher = distill.localTeacher(bigModel, {topK: 16})
 */
export function localTeacher(model: LlamaModel, options: LocalTeacherOptions = {}): TeacherSource {
  const fixedK = options.topK ?? 0;
  if (!Number.isInteger(fixedK) || fixedK < 0)
    fail(
      "invalid_option",
      `distill.localTeacher: options.topK must be a non-negative integer (got ${describe(fixedK)}).`,
      { path: ["options", "topK"] },
      localTeacher,
    );
  return {
    name: options.name ?? "local",
    vocabSize: model.config.vocab_size,
    score(batch, opts = {}) {
      const K = opts.topK || fixedK;
      if (K > 0) {
        const r = modelLogprobs(model, batch, { topK: K, entropy: false });
        const B = r.logp.length,
          T = r.logp[0].length;
        const ids = new Int32Array(B * T * K),
          lp = new Float32Array(B * T * K).fill(-1e4);
        for (let b = 0; b < B; b++)
          for (let t = 0; t < T; t++) {
            const ti = r.topK!.ids[b][t],
              tl = r.topK!.logp[b][t];
            for (let k = 0; k < ti.length; k++) {
              ids[(b * T + t) * K + k] = ti[k];
              lp[(b * T + t) * K + k] = tl[k];
            }
          }
        return { kind: "topk", ids, logprobs: lp, B, T, K };
      }
      // tokens alignment: row t predicts token t, i.e. the forward's position t − 1; row 0 is a uniform placeholder.
      return { kind: "full", logprobs: fullLogprobs(model, batch) };
    },
  };
}

/**
 * Check a TeacherOutput against the student's batch shape and vocabulary; returns it unchanged.
 * @example distill.checkTeacherOutput(await teacher.score(ro), B, T, V, "myStep")
 */
export function checkTeacherOutput(out: TeacherOutput, B: number, T: number, V: number, fn: string): TeacherOutput {
  if (!out || (out.kind !== "full" && out.kind !== "topk"))
    fail(
      "invalid_input",
      `${fn}: the teacher returned ${describe(out)} (expected {kind: "full", logprobs} or {kind: "topk", ids, ` +
        `logprobs, B, T, K}).`,
      {},
      checkTeacherOutput,
    );
  if (out.kind === "full") {
    const s = out.logprobs?.shape ?? [];
    if (s.length !== 3 || s[0] !== B || s[1] !== T || s[2] !== V)
      fail(
        "shape_mismatch",
        `${fn}: teacher logprobs have shape [${s}] (expected [${B}, ${T}, ${V}] = [B, T, V] of the student ` +
          `batch). Teacher and student must share the tokenizer.`,
        { got: s, expected: [B, T, V] },
        checkTeacherOutput,
      );
  } else {
    if (out.B !== B || out.T !== T || out.ids.length !== B * T * out.K || out.logprobs.length !== B * T * out.K)
      fail(
        "shape_mismatch",
        `${fn}: teacher top-k has B=${out.B}, T=${out.T}, K=${out.K} with ${out.ids.length} ids (expected ` +
          `B=${B}, T=${T} and B·T·K values).`,
        {},
        checkTeacherOutput,
      );
    for (let i = 0; i < out.ids.length; i++)
      if (!(out.ids[i] >= 0 && out.ids[i] < V))
        fail(
          "invalid_input",
          `${fn}: teacher top-k id ${out.ids[i]} at flat index ${i} is outside the student vocabulary ` +
            `[0, ${V}). Teacher and student must share the tokenizer.`,
          {},
          checkTeacherOutput,
        );
  }
  return out;
}

/**
 * A teacher output cut to some rows, in that order (for micro-batches).
 * @example sliceTeacher(out, [0, 2]) // rows 0 and 2 of a full or top-k teacher output
 */
export function sliceTeacher<O extends TeacherOutput>(t: O, rows: readonly number[]): O {
  if (t.kind === "full") return { kind: "full", logprobs: take(t.logprobs, rows) } as O;
  const per = t.T * t.K;
  const ids = new Int32Array(rows.length * per),
    lp = new Float32Array(rows.length * per);
  rows.forEach((r, i) => {
    ids.set(t.ids.subarray(r * per, (r + 1) * per), i * per);
    lp.set(t.logprobs.subarray(r * per, (r + 1) * per), i * per);
  });
  return { ...t, B: rows.length, ids, logprobs: lp };
}
