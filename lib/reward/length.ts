// Length shaping: DAPO's soft overlong punishment, the cosine length-scaled reward, and Kimi 1.5's group length reward.
// softOverlong is DAPO Eq. 13 and verl's reward manager `overlong_buffer` (reward_manager/dapo.py) term for term:
//   R_len(|y|) = 0 for |y| <= L − C,  (L − C − |y|)/C · penalty for L − C < |y| <= L,  −penalty beyond L
// with L = data.max_response_length (maxLength), C = overlong_buffer.len (buffer), penalty = overlong_buffer.
// penalty_factor; verl computes min(−(|y| − (L − C))/C · penalty, 0), the same up to L (verl never sees |y| > L;
// `beyond: "linear"` continues its line there instead of the paper's −penalty). verl's |y| is the response's token
// count including EOS: pass ro.responseIds.map((r) => r.length) to softOverlong to get its value for every row.
// The "dapo-overlong" reward counts characters unless `lengthOf` counts tokens.
import { describe, fail } from "../core/errors.js";
import { register, rewards } from "./registry.js";
import type { RewardFn, RewardRecord, RewardResult } from "./types.js";

/** Options of softOverlong and the "dapo-overlong" reward. */
export interface OverlongOptions {
  /** L, the maximum response length. Defaults to 1024. */
  maxLength?: number;
  /** C, the soft buffer before L where the penalty ramps from 0 to -penalty. Defaults to 256. */
  buffer?: number;
  /** Penalty at and beyond L. Defaults to 1. */
  penalty?: number;
  /** How to measure a response (e.g. `(r) => tok.encode(r).length`). Defaults to characters. */
  lengthOf?: (response: string) => number;
  /**
   * Beyond maxLength: "penalty" (−penalty, DAPO Eq. 13) or "linear" (verl's min(−(|y| − (L − C))/C · penalty, 0)
   * continued). Defaults to "penalty".
   */
  beyond?: "penalty" | "linear";
}

/** Defaults of softOverlong. */
export const defaults = { maxLength: 1024, buffer: 256, penalty: 1, beyond: "penalty" as "penalty" | "linear" };

function positive(name: string, v: number, from: Function): void {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0)
    fail(
      "invalid_option",
      `reward.softOverlong: ${name} must be a finite number >= 0 (got ${describe(v)}).`,
      { path: [name], got: v },
      from,
    );
}

/**
 * DAPO soft overlong punishment (arXiv 2503.14476, Eq. 13; verl overlong_buffer): 0 up to L−C, a linear ramp to
 * −penalty at L, −penalty beyond. One length, or an array of them (e.g. token counts of a rollout's rows).
 * @example
 * reward.softOverlong(900, {maxLength: 1024, buffer: 256}) // -0.5
 * reward.softOverlong(ro.responseIds.map((r) => r.length), {maxLength: 64, buffer: 16}) // verl's penalty per row
 */
export function softOverlong(length: number, options?: OverlongOptions): number;
export function softOverlong(length: ArrayLike<number>, options?: OverlongOptions): number[];
export function softOverlong(length: number | ArrayLike<number>, options: OverlongOptions = {}): number | number[] {
  if (typeof length === "object" && length !== null && typeof (length as ArrayLike<number>).length === "number")
    return Array.from(length as ArrayLike<number>, (n) => softOverlong(n, options));
  const L = options.maxLength ?? defaults.maxLength,
    C = options.buffer ?? defaults.buffer,
    p = options.penalty ?? defaults.penalty,
    beyond = options.beyond ?? defaults.beyond;
  positive("length", length as number, softOverlong);
  positive("maxLength", L, softOverlong);
  positive("buffer", C, softOverlong);
  if (C > L)
    fail(
      "invalid_option",
      `reward.softOverlong: buffer must be <= maxLength (got ${C} > ${L}).`,
      { path: ["buffer"] },
      softOverlong,
    );
  if (beyond !== "penalty" && beyond !== "linear")
    fail(
      "invalid_option",
      `reward.softOverlong: beyond must be "penalty" or "linear" (got ${describe(beyond)}).`,
      { path: ["beyond"] },
      softOverlong,
    );
  const n = length as number;
  if (n <= L - C) return 0;
  if (n > L && (beyond === "penalty" || C === 0)) return -p;
  return C === 0 ? 0 : ((L - C - n) / C) * p;
}

/**
 * The "dapo-overlong" reward: softOverlong of the response length (characters unless `lengthOf` is given).
 * @example reward.composite([{reward: "math"}, {reward: "dapo-overlong", options: {maxLength: 512, buffer: 128}}])
 */
export function overlongReward(
  response: string,
  _gt?: unknown,
  _record?: RewardRecord,
  options: OverlongOptions = {},
): RewardResult {
  const length = options.lengthOf ? options.lengthOf(response) : response.length;
  return { score: softOverlong(length, options), details: { rule: "dapo-overlong", length } };
}

/** Options of cosineLength. */
export interface CosineLengthOptions {
  /** The correctness reward (name or function); correct means score > 0. Defaults to "math". */
  reward?: string | RewardFn;
  /** Length at which the cosine reaches its end value. Defaults to 1024. */
  maxLength?: number;
  /** Reward range for correct answers [at maxLength, at length 0]. Defaults to [0.5, 1]. */
  correct?: [number, number];
  /**
   * Reward range for wrong answers [at length 0, at maxLength]: short wrong answers are punished most. Defaults to [-1,
   * -0.5].
   */
  wrong?: [number, number];
  /** How to measure a response. Defaults to characters. */
  lengthOf?: (response: string) => number;
}

/**
 * Cosine length-scaled reward (TRL / open-r1 get_cosine_scaled_reward, arXiv 2502.03373): correct answers earn more
 * when short, wrong answers lose less when long. Returns a RewardFn (async when the inner reward is).
 * @example reward.register("math-cosine", reward.cosineLength({reward: "math", maxLength: 2048}))
 */
export function cosineLength(options: CosineLengthOptions = {}): RewardFn {
  const inner = rewards.get(options.reward ?? "math");
  const L = options.maxLength ?? 1024;
  const [cMin, cMax] = options.correct ?? [0.5, 1];
  const [wMin, wMax] = options.wrong ?? [-1, -0.5];
  const shape = (response: string, r: RewardResult): RewardResult => {
    const len = Math.min(options.lengthOf ? options.lengthOf(response) : response.length, L);
    const cos = Math.cos((len / L) * Math.PI);
    const ok = r.score > 0;
    // correct: from cMax (len 0) down to cMin (len L); wrong: from wMin (len 0) up to wMax (len L).
    const score = ok ? cMin + 0.5 * (cMax - cMin) * (1 + cos) : wMax + 0.5 * (wMin - wMax) * (1 + cos);
    return { score, details: { rule: ok ? "cosine-correct" : "cosine-wrong", length: len, inner: r.details } };
  };
  return (response, gt, record, opts) => {
    const r = inner(response, gt, record, opts);
    return r instanceof Promise ? r.then((x) => shape(response, x)) : shape(response, r);
  };
}

/**
 * Kimi 1.5 length reward over one group (open-r1 len_reward): λ = 0.5 − (len − min)/(max − min); correct answers
 * get
 * λ, wrong ones min(0, λ). All equal lengths give zeros.
 * @example reward.groupLengthReward([100, 200, 300], [true, true, false]) // [0.5, 0, -0.5]
 */
export function groupLengthReward(lengths: number[], correct: boolean[]): number[] {
  if (lengths.length !== correct.length)
    fail(
      "shape_mismatch",
      `reward.groupLengthReward: lengths and correct must have the same length (got ${lengths.length} ` +
        `and ${correct.length}).`,
      {},
      groupLengthReward,
    );
  const lo = Math.min(...lengths),
    hi = Math.max(...lengths);
  if (lengths.length === 0 || hi === lo) return lengths.map(() => 0);
  return lengths.map((len, i) => {
    const lambda = 0.5 - (len - lo) / (hi - lo);
    return correct[i] ? lambda : Math.min(0, lambda);
  });
}

register("dapo-overlong", overlongReward as RewardFn, {
  paper: "arXiv:2503.14476",
  summary: "soft overlong punishment: 0, ramp, -1 beyond maxLength",
});
