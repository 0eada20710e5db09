// A GKD teacher on a server: the teacher's top-k log-probs at every position of prompt + student response, from
// vLLM's prompt_logprobs (the verl gkd recipe's teacher does the same with SamplingParams(prompt_logprobs=K)), or the
// echo route elsewhere. Rows come back "tokens"-aligned like distill.localTeacher: row t is the teacher's
// distribution for token t given tokens < t (verl's teacher returns rows shifted by one; this is converted here).
import { describe, fail } from "../core/errors.js";
import { checkIntAtLeast } from "../core/checks.js";
import type {
  TeacherBatch,
  TeacherOutput,
  TeacherScoreOptions,
  TeacherSource,
  TopkTeacherOutput,
} from "../distill/teacher.js";
import { hostInts, hostMask } from "../model/batch.js";
import type { Tokenizer } from "../model/tokenizer-types.js";
import { RemoteClient, type ClientOptions } from "./client.js";
import { RemoteBatchError } from "./errors.js";
import { RemoteScorer, type ScoringMode } from "./scoring.js";

/** Options of remoteTeacher: the client's, plus these. */
export interface RemoteTeacherOptions extends ClientOptions {
  /** Vocabulary size V of the student (ids must be < V). Defaults to tokenizer.vocabSize. */
  vocabSize?: number;
  /** The shared tokenizer (gives vocabSize; maps echoed token texts to ids on servers without token ids). */
  tokenizer?: Tokenizer;
  /**
   * Top-k per position when the caller does not ask (verl's teacher server: --n-logprobs 256; vLLM's default cap is
   * 20). Defaults to 20.
   */
  topK?: number;
  /** "auto", "prompt_logprobs" (vLLM) or "echo". Defaults to "auto". */
  scoring?: ScoringMode;
  /** Sequences per request (sent as a list of prompts). Defaults to 8; use 1 for servers that take one. */
  scoreBatchSize?: number;
  /** Shown in metrics. Defaults to "remote:<model or URL>". */
  name?: string;
}

/**
 * Defaults of remoteTeacher.
 * @example remote.remoteTeacherDefaults.topK // 20
 */
export const remoteTeacherDefaults = { topK: 20, scoring: "auto" as ScoringMode };

/** Log-prob written at positions a row does not fill (as distill.localTeacher): exp(-1e4) = 0 mass. */
const EMPTY_LOGPROB = -1e4;

/**
 * A TeacherSource over an OpenAI-compatible server serving the teacher model (same tokenizer as the student).
 * @example
 * const teacher = remote.remoteTeacher("http://gpu-box:8000", {tokenizer: tok, topK: 20})
 * await distill.gkdStep({policy, opt, teacher, prompts})
 */
export function remoteTeacher(
  url: string,
  options: RemoteTeacherOptions = {},
): TeacherSource & { client: RemoteClient; close(): void } {
  const V = options.vocabSize ?? options.tokenizer?.vocabSize;
  if (!Number.isInteger(V) || (V as number) < 1)
    fail(
      "invalid_option",
      `remote.remoteTeacher: the vocabulary size is unknown (got vocabSize ${describe(options.vocabSize)}, ` +
        `tokenizer ${describe(options.tokenizer)}). Pass options.vocabSize (the student's vocab_size) or ` +
        `options.tokenizer.`,
      { path: ["options", "vocabSize"] },
      remoteTeacher,
    );
  const fixedK = options.topK ?? remoteTeacherDefaults.topK;
  checkIntAtLeast(
    { where: "remote.remoteTeacher", from: remoteTeacher },
    "options.topK",
    fixedK,
    1,
    "A server sends top-k only.",
    ["options", "topK"],
  );
  const client = new RemoteClient(url, options);
  const tok = options.tokenizer;
  let idOf: Map<string, number> | null = null;
  const scorer = new RemoteScorer(client, {
    mode: options.scoring ?? remoteTeacherDefaults.scoring,
    scoreBatchSize: options.scoreBatchSize,
    tokenToId: tok
      ? (s) => {
          if (!idOf) {
            idOf = new Map();
            for (let id = 0; id < tok.vocabSize; id++) if (!idOf.has(tok.decode([id]))) idOf.set(tok.decode([id]), id);
          }
          return idOf.get(s);
        }
      : undefined,
  });
  const where = "remote.remoteTeacher.score";
  return {
    name: options.name ?? `remote:${options.model ?? client.baseUrl}`,
    vocabSize: V as number,
    client,
    close: () => client.close(),
    async score(batch: TeacherBatch, opts: TeacherScoreOptions = {}): Promise<TeacherOutput> {
      const K = opts.topK || fixedK;
      const ids = hostInts(batch.ids, `${where}: batch.ids`, V as number);
      const { rows: B, cols: T } = ids;
      const attn = hostMask(batch.attentionMask, ids, `${where}: batch.attentionMask`);
      // verl: the un-padded tokens of each row (boolean indexing by the attention mask), one request per row
      const cols: number[][] = [];
      for (let b = 0; b < B; b++) {
        const c: number[] = [];
        for (let t = 0; t < T; t++) if (attn[b * T + t]) c.push(t);
        cols.push(c);
      }
      const rowsToScore = cols.map((c, b) => ({ b, c })).filter((x) => x.c.length >= 2);
      const settled = await scorer.scoreMany(
        rowsToScore.map(({ b, c }) => c.map((t) => ids.data[b * T + t])),
        K,
        where,
      );
      const out: TopkTeacherOutput = {
        kind: "topk",
        ids: new Int32Array(B * T * K),
        logprobs: new Float32Array(B * T * K).fill(EMPTY_LOGPROB),
        B,
        T,
        K,
      };
      settled.values.forEach((v, k) => {
        if (!v?.top) return;
        const { b, c } = rowsToScore[k];
        c.forEach((t, j) => {
          const top = v.top![j];
          if (!top) return;
          for (let i = 0; i < Math.min(K, top.ids.length); i++) {
            if (!(top.ids[i] >= 0 && top.ids[i] < (V as number)))
              fail(
                "shape_mismatch",
                `${where}: the teacher sent token id ${top.ids[i]} (row ${b}, column ${t}) outside the ` +
                  `student vocabulary [0, ${V}). Teacher and student must share the tokenizer.`,
                { path: [b, t], got: top.ids[i] },
              );
            out.ids[(b * T + t) * K + i] = top.ids[i];
            out.logprobs[(b * T + t) * K + i] = top.logprobs[i];
          }
        });
      });
      if (settled.failures.length) {
        const failures = settled.failures.map((f) => ({ ...f, index: rowsToScore[f.index].b }));
        throw new RemoteBatchError(where, "row", B, failures, {
          output: out,
          done: rowsToScore.filter((_, k) => settled.values[k]).map((x) => x.b),
        });
      }
      return out;
    },
  };
}
