// Train/inference mismatch corrections (verl's "rollout correction", TRL's vllm_importance_sampling_*, slime's TIS /
// OPSM): the sampler μ that produced the tokens (ro.logprobs: vLLM, a stale or rounded copy, top-p / top-k truncation)
// is not the policy π_old the trainer recomputes (model.logprobs(m, ro)). With ρ_t = π_old(y_t)/μ(y_t):
//   IS weights  w = ρ_t (token), Π_t ρ_t (sequence, product), exp(mean_t log ρ_t) (geometric), each truncated at C
//               (TIS: min(w, C)) or zeroed outside [C_lo, C_hi] (masked IS / IcePop); multiplied into the per-token
//               PG loss
//   rejection   verl's rollout_rs: tokens / sequences whose k1 / k2 / k3 divergence leaves a bound are removed from the
//               response mask (so they leave the loss denominator too)
//   OPSM        DeepSeek-V3.2: a sequence with A < 0 and mean_t log(μ/π_old) > δ gets weight 0
// and verl's off-policy metrics (KL, K3, PPL, χ²) under "mismatch/*" (update.toVerlMetrics names them rollout_corr/*).
// Host-side float64 on plain [B, T] arrays: the weights and masks carry no gradient (verl detaches them), and
// viz.mismatchView draws the per-token diagnostics.
import * as tf from "@tensorflow/tfjs";
import { describe, fail } from "../core/errors.js";
import { registry } from "../core/registry.js";

/** A [B, T] matrix: rows of numbers (number[][], typed-array rows) or a rank-2 tensor (read once, not disposed). */
export type MatrixInput = ArrayLike<number>[] | tf.Tensor;

/** Inputs of rolloutCorrection, all tokens-aligned [B, T] (the Rollout's layout). */
export interface RolloutCorrectionInputs {
  /** log π_old of the sampled tokens: the trainer's recomputation, model.logprobs(m, ro).logp (verl old_log_probs). */
  oldLogp: MatrixInput;
  /** log μ of the same tokens: what the sampler reported, ro.logprobs (verl rollout_log_probs). */
  rolloutLogp: MatrixInput;
  /** 1 on the response tokens that count, ro.responseMask (verl response_mask). */
  mask: MatrixInput;
  /** Advantages [B] or [B, T]; only OPSM reads them (a sequence is masked only when its advantage is < 0). */
  adv?: ArrayLike<number> | ArrayLike<number>[];
}

/** The inputs as a registered correction receives them: float64 [B, T] rows, checked for shape and finiteness. */
export interface RolloutCorrectionHostInputs {
  oldLogp: Float64Array[];
  rolloutLogp: Float64Array[];
  mask: Float64Array[];
  /** Per-token advantages [B, T] (a [B] input broadcast), or null when not given. */
  adv: Float64Array[] | null;
}

/** A rejection criterion (verl rollout_rs, kebab-case): the divergence and how it is aggregated over a sequence. */
export type RejectOption =
  | "token-k1"
  | "token-k2"
  | "token-k3"
  | "seq-sum-k1"
  | "seq-sum-k2"
  | "seq-sum-k3"
  | "seq-mean-k1"
  | "seq-mean-k2"
  | "seq-mean-k3"
  | "seq-max-k2"
  | "seq-max-k3"
  | "binary-kl";

/**
 * A correction: checked host inputs and the caller's options in, weights / mask / metrics / tokens out. The built-ins
 * are presets of `correct` (verl's named RolloutCorrectionConfig presets); register your own with
 * update.rolloutCorrections.add(name, fn).
 */
export type RolloutCorrectionFn = (
  inputs: RolloutCorrectionHostInputs,
  options?: RolloutCorrectionOptions,
) => RolloutCorrectionResult;

/**
 * Mismatch corrections by name ("none", "token-is", "seq-is", "geo-is", "token-icepop", "seq-is-rs", "geo-rs",
 * "geo-rs-token-is", "geo-rs-seq-is", "k3-rs", "k3-rs-token-is", "k3-rs-seq-is", "opsm").
 */
export const rolloutCorrections = registry<RolloutCorrectionFn>("rollout correction");

/** Options of rolloutCorrection (verl's RolloutCorrectionConfig fields in camelCase). */
export interface RolloutCorrectionOptions {
  /**
   * IS weight level (verl rollout_is): "token" ρ_t, "sequence" Π_t ρ_t, "geometric" exp(mean_t log ρ_t) (verl's
   * earlier rollout_is_level), or null for no weights (metrics, rejection and OPSM only). Defaults to "sequence".
   */
  level?: "token" | "sequence" | "geometric" | null;
  /**
   * C: truncate the weight at C (TIS), or [C_lo, C_hi]: weight 0 outside the band (masked IS / IcePop; the token stays
   * in the mask) (verl rollout_is_threshold 2.0 / "0.5_5.0"). Defaults to 2.
   */
  threshold?: number | [number, number];
  /** Divide the weights by their batch mean (verl rollout_is_batch_normalize). Defaults to false. */
  batchNormalize?: boolean;
  /** Rejection criteria, all of which must pass (verl rollout_rs, e.g. ["seq-mean-k1"]), or null. Defaults to null. */
  reject?: RejectOption | RejectOption[] | null;
  /**
   * Bounds of the rejection criteria, one for all or one per criterion (verl rollout_rs_threshold): *-k1 take ratio
   * bounds [lo, hi] on μ/π_old (a number C means [1/C, C]); k2, k3 and binary-kl an upper bound. Required with reject.
   */
  rejectThreshold?: number | [number, number] | (number | [number, number])[];
  /** OPSM's δ (slime --opsm-delta 1e-4): weight 0 for sequences with A < 0 and mean log(μ/π_old) > δ; null is off. */
  opsm?: number | null;
}

/** Per-token diagnostics of a correction, [B, T] rows (0 off the response mask): what viz.mismatchView draws. */
export interface RolloutCorrectionTokens {
  /** log ρ_t = log π_old − log μ. */
  logRatio: number[][];
  /** The weight before truncation / masking (the token, sequence or geometric ratio; 1 without IS weights). */
  rawWeight: number[][];
  /** 1 where the truncation at C bound (TIS). */
  truncated: number[][];
  /** 1 where the weight was set to 0 (outside the IcePop band, or an OPSM-masked sequence). */
  zeroed: number[][];
  /** 1 where a rejection criterion removed the token from the mask. */
  rejected: number[][];
}

/** What rolloutCorrection returns. */
export interface RolloutCorrectionResult {
  /** The correction's name ("custom" for an options object). */
  name: string;
  /** The options it ran with, defaults filled in (the built-ins; a registered function may leave it out). */
  options?: RolloutCorrectionOptions;
  /** IS weight per token [B, T] (0 off the mask): multiply into the per-token PG loss (policyLoss inputs.isWeights). */
  weights: number[][];
  /** The response mask after rejection [B, T]: use it as the loss mask. */
  mask: number[][];
  /** "mismatch/*" metrics (update.toVerlMetrics renames them to verl's rollout_corr/*). */
  metrics: Record<string, number>;
  tokens: RolloutCorrectionTokens;
}

/**
 * Defaults of rolloutCorrection: verl's RolloutCorrectionConfig (sequence-level IS truncated at 2, no rejection).
 * @example update.rolloutCorrectionDefaults.threshold // 2
 */
export const rolloutCorrectionDefaults = {
  level: "sequence" as "token" | "sequence" | "geometric" | null,
  threshold: 2 as number | [number, number],
  batchNormalize: false,
  reject: null as RejectOption | RejectOption[] | null,
  opsm: null as number | null,
};

/** verl's SAFETY_BOUND: log-ratios are clamped to [−20, 20] before exponentiating. */
const SAFETY = 20;
const clampS = (x: number) => Math.max(-SAFETY, Math.min(SAFETY, x));
const REJECT: readonly RejectOption[] = [
  "token-k1",
  "token-k2",
  "token-k3",
  "seq-sum-k1",
  "seq-sum-k2",
  "seq-sum-k3",
  "seq-mean-k1",
  "seq-mean-k2",
  "seq-mean-k3",
  "seq-max-k2",
  "seq-max-k3",
  "binary-kl",
];

const where = "update.rolloutCorrection";

function rowsOf(x: MatrixInput | undefined, field: string): Float64Array[] {
  let rows: ArrayLike<number>[];
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2)
      fail(
        "shape_mismatch",
        `${where}: inputs.${field} has shape [${x.shape}] (expected [B, T]).`,
        { path: ["inputs", field] },
        rolloutCorrection,
      );
    rows = x.arraySync() as number[][];
  } else if (Array.isArray(x) && x.every((r) => r && typeof (r as ArrayLike<number>).length === "number"))
    rows = x as ArrayLike<number>[];
  else
    return fail(
      "invalid_input",
      `${where}: inputs.${field} must be a [B, T] matrix (rows of numbers or a rank-2 tensor; got ${describe(x)}).` +
        (field === "rolloutLogp" ? " Pass the sampler's logprobs, ro.logprobs." : ""),
      { path: ["inputs", field] },
      rolloutCorrection,
    );
  return rows.map((r) => Float64Array.from(r));
}

/**
 * Check and convert the inputs once (shapes equal, values finite under the mask).
 * @example const x = rolloutCorrectionInputs({oldLogp, rolloutLogp: ro.logprobs, mask: ro.responseMask})
 */
export function rolloutCorrectionInputs(inputs: RolloutCorrectionInputs): RolloutCorrectionHostInputs {
  const oldLogp = rowsOf(inputs?.oldLogp, "oldLogp"),
    rolloutLogp = rowsOf(inputs?.rolloutLogp, "rolloutLogp"),
    mask = rowsOf(inputs?.mask, "mask");
  const B = mask.length,
    T = mask[0]?.length ?? 0;
  if (B === 0 || T === 0)
    fail("invalid_input", `${where}: inputs.mask is empty (got [${B}, ${T}]).`, { path: ["inputs", "mask"] });
  for (const [name, m] of [
    ["oldLogp", oldLogp],
    ["rolloutLogp", rolloutLogp],
  ] as const) {
    if (m.length !== B || m.some((r) => r.length !== T))
      fail(
        "shape_mismatch",
        `${where}: inputs.${name} is [${m.length}, ${m[0]?.length}] but inputs.mask is [${B}, ${T}]; all must be the ` +
          `Rollout's [B, T] (tokens-aligned, as ro.logprobs and model.logprobs(m, ro).logp).`,
        { path: ["inputs", name] },
        rolloutCorrection,
      );
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T; t++)
        if (mask[b][t] > 0 && !Number.isFinite(m[b][t]))
          fail(
            "non_finite",
            `${where}: inputs.${name}[${b}][${t}] is ${m[b][t]} on a response token. ` +
              (name === "rolloutLogp"
                ? "The sampler reported no finite logprob there (a token outside its support?)."
                : "Check the model's logits."),
            { path: ["inputs", name, b, t] },
            rolloutCorrection,
          );
  }
  let adv: Float64Array[] | null = null;
  if (inputs.adv !== undefined && inputs.adv !== null) {
    const a = inputs.adv as ArrayLike<unknown>;
    if (a.length !== B)
      fail(
        "shape_mismatch",
        `${where}: inputs.adv has ${a.length} rows but the mask has ${B} (expected [B] or [B, T]).`,
        { path: ["inputs", "adv"] },
        rolloutCorrection,
      );
    adv = Array.from({ length: B }, (_, b) => {
      const r = a[b] as number | ArrayLike<number>;
      if (typeof r === "number") return new Float64Array(T).fill(r);
      if (!r || r.length !== T)
        fail(
          "shape_mismatch",
          `${where}: inputs.adv row ${b} has ${describe(r)} (expected a number per row or ${T} per token).`,
          { path: ["inputs", "adv", b] },
          rolloutCorrection,
        );
      return Float64Array.from(r as ArrayLike<number>);
    });
  }
  return { oldLogp, rolloutLogp, mask, adv };
}

// --- verl's masked reductions (verl_F.masked_mean divides by Σ mask + 1e-8) ---
function rowSum(x: ArrayLike<number>, m: ArrayLike<number>): number {
  let s = 0;
  for (let t = 0; t < x.length; t++) if (m[t]) s += x[t] * m[t]; // padding never counts, even ±Infinity there
  return s;
}
function rowCount(m: ArrayLike<number>): number {
  let s = 0;
  for (let t = 0; t < m.length; t++) s += m[t];
  return s;
}
const rowMean = (x: ArrayLike<number>, m: ArrayLike<number>) => rowSum(x, m) / (rowCount(m) + 1e-8);
function allMean(x: ArrayLike<number>[], m: ArrayLike<number>[]): number {
  let s = 0,
    n = 0;
  for (let b = 0; b < x.length; b++) {
    s += rowSum(x[b], m[b]);
    n += rowCount(m[b]);
  }
  return s / (n + 1e-8);
}
const mean = (x: number[]) => x.reduce((a, v) => a + v, 0) / Math.max(1, x.length);
/** torch.std: unbiased (n − 1). */
function std(x: number[]): number {
  if (x.length < 2) return 0;
  const mu = mean(x);
  return Math.sqrt(x.reduce((a, v) => a + (v - mu) ** 2, 0) / (x.length - 1));
}
const map2 = (x: Float64Array[], f: (v: number, b: number, t: number) => number) =>
  x.map((r, b) => Float64Array.from(r, (v, t) => f(v, b, t)));
const toRows = (x: Float64Array[]) => x.map((r) => Array.from(r));

function badOption(what: string, got: unknown, expected: string, fix = ""): never {
  return fail(
    "invalid_option",
    `${where}: options.${what} is invalid (got ${describe(got)}; expected ${expected}).${fix ? " " + fix : ""}`,
    { path: ["options", what], got },
    rolloutCorrection,
  );
}

/** [lower, upper] of a threshold: a number C is truncation at C (lower 1/C, used by the metrics only). */
function isBounds(th: unknown): { upper: number; lower: number | null } {
  if (typeof th === "number" && th > 0 && Number.isFinite(th)) return { upper: th, lower: null };
  if (Array.isArray(th) && th.length === 2 && th[0] > 0 && th[1] >= th[0] && Number.isFinite(th[1]))
    return { upper: th[1], lower: th[0] };
  return badOption("threshold", th, "C > 0 (truncate) or [C_lo, C_hi] with 0 < C_lo ≤ C_hi (IcePop band)");
}

/**
 * The built-in correction (every preset calls it with its options): verl's
 * compute_rollout_correction_and_rejection_mask
 * plus the geometric level, OPSM and TRL's |Δ log p| metrics.
 * @example const r = correct(rolloutCorrectionInputs(inputs), {level: "token", threshold: 2})
 */
export function correct(
  x: RolloutCorrectionHostInputs,
  options: RolloutCorrectionOptions = {},
): RolloutCorrectionResult {
  const o = { ...rolloutCorrectionDefaults, ...dropUndefined(options) };
  const { oldLogp, rolloutLogp, mask } = x;
  const B = mask.length,
    T = mask[0].length;
  if (!mask.some((r) => rowCount(r) > 0))
    fail(
      "invalid_input",
      `${where}: inputs.mask has no response token (verl: "response_mask must contain at least one valid token").`,
      { path: ["inputs", "mask"] },
      rolloutCorrection,
    );
  if (o.level !== null && !["token", "sequence", "geometric"].includes(o.level as string))
    badOption("level", o.level, '"token", "sequence", "geometric" or null');
  const lr = map2(oldLogp, (v, b, t) => (mask[b][t] > 0 ? v - rolloutLogp[b][t] : 0)); // log ρ (0 off the mask)
  const metrics: Record<string, number> = {};
  const truncated = map2(mask, () => 0),
    zeroed = map2(mask, () => 0),
    rejected = map2(mask, () => 0);

  // 1. IS weights
  let raw = map2(mask, (m) => m); // no IS: weight 1 on the mask
  let w = map2(raw, (v) => v);
  if (o.level !== null) {
    const { upper, lower } = isBounds(o.threshold);
    const icepop = lower !== null;
    const lowerM = lower ?? 1 / upper;
    // per-sequence log weight (sequence: Σ log ρ, geometric: mean log ρ), unclamped for the metrics
    const seqLog =
      o.level === "token"
        ? null
        : lr.map((r, b) => (o.level === "sequence" ? rowSum(r, mask[b]) : rowMean(r, mask[b])));
    raw = map2(lr, (v, b, t) => mask[b][t] * Math.exp(clampS(seqLog ? seqLog[b] : v)));
    w = map2(raw, (v, b, t) => {
      if (!icepop) {
        if (v > upper && mask[b][t] > 0) truncated[b][t] = 1;
        return Math.min(v, upper);
      }
      const keep = v >= lower! && v <= upper;
      if (!keep && mask[b][t] > 0) zeroed[b][t] = 1;
      return keep ? v : 0;
    });
    // metrics (verl compute_is_metrics)
    if (seqLog) {
      metrics["mismatch/isMax"] = Math.exp(Math.min(Math.max(...seqLog), SAFETY));
      metrics["mismatch/isMin"] = Math.exp(Math.min(...seqLog));
      metrics["mismatch/isMean"] = allMean(w, mask);
      if (o.level === "sequence") {
        metrics["mismatch/isFracHigh"] = mean(seqLog.map((s) => (s > Math.log(upper) ? 1 : 0)));
        metrics["mismatch/isFracLow"] = mean(seqLog.map((s) => (s < Math.log(lowerM) ? 1 : 0)));
      } else {
        const hi = map2(mask, (_, b) => (seqLog[b] > Math.log(upper) ? 1 : 0)),
          lo = map2(mask, (_, b) => (seqLog[b] < Math.log(lowerM) ? 1 : 0));
        metrics["mismatch/isFracHigh"] = allMean(hi, mask);
        metrics["mismatch/isFracLow"] = allMean(lo, mask);
      }
    } else {
      metrics["mismatch/isMean"] = allMean(w, mask);
      metrics["mismatch/isFracHigh"] = allMean(
        map2(raw, (v) => (v > upper ? 1 : 0)),
        mask,
      );
      metrics["mismatch/isFracLow"] = allMean(
        map2(raw, (v) => (v < lowerM ? 1 : 0)),
        mask,
      );
      let mx = -Infinity,
        mn = Infinity;
      for (let b = 0; b < B; b++)
        for (let t = 0; t < T; t++)
          if (mask[b][t] > 0) {
            mx = Math.max(mx, w[b][t]);
            mn = Math.min(mn, w[b][t]);
          }
      metrics["mismatch/isMax"] = mx;
      metrics["mismatch/isMin"] = mn;
    }
    const wc = map2(w, (v) => Math.max(0, Math.min(upper, v)));
    const meanC = allMean(wc, mask);
    let count = 0;
    for (const r of mask) count += rowCount(r);
    metrics["mismatch/isStd"] =
      count > 1
        ? Math.sqrt(
            Math.max(
              0,
              allMean(
                map2(wc, (v) => v * v),
                mask,
              ) -
                meanC * meanC,
            ),
          )
        : 0;
    metrics["mismatch/isEss"] =
      1 /
      allMean(
        map2(wc, (v) => (v / (meanC + 1e-8)) ** 2),
        mask,
      );
    const seqW = w.map((r, b) => rowMean(r, mask[b])),
      rawSeqW = raw.map((r, b) => rowMean(r, mask[b]));
    metrics["mismatch/isSeqMean"] = mean(seqW);
    metrics["mismatch/isSeqStd"] = std(seqW);
    metrics["mismatch/isSeqMax"] = Math.max(...seqW);
    metrics["mismatch/isSeqMin"] = Math.min(...seqW);
    metrics["mismatch/isSeqMaxDeviation"] = Math.max(...seqW.map((v) => Math.abs(v - 1)));
    metrics["mismatch/isSeqFracHigh"] = mean(rawSeqW.map((v) => (v > upper ? 1 : 0)));
    metrics["mismatch/isSeqFracLow"] = mean(rawSeqW.map((v) => (v < lowerM ? 1 : 0)));
    if (icepop)
      metrics["mismatch/isOobFrac"] = allMean(
        map2(raw, (v) => (v < lower! || v > upper ? 1 : 0)),
        mask,
      );
    if (o.batchNormalize) {
      let norm: number;
      if (o.level === "token") norm = allMean(w, mask);
      else {
        const valid = mask.map((r) => (rowCount(r) > 0 ? 1 : 0));
        norm =
          seqW.reduce((a, v, b) => a + v * valid[b], 0) /
          Math.max(
            valid.reduce((a: number, v) => a + v, 0),
            1e-8,
          );
      }
      if (norm > 1e-8) {
        w = map2(w, (v) => v / norm);
        metrics["mismatch/isBatchNormFactor"] = norm;
      } else metrics["mismatch/isBatchNormFactor"] = 1;
    }
  }

  // 2. rejection (verl compute_rollout_rejection_mask): every criterion must pass
  let outMask = mask.map((r) => Float64Array.from(r));
  const opts = o.reject === null ? [] : [...new Set(Array.isArray(o.reject) ? o.reject : [o.reject])];
  if (opts.length) {
    for (const op of opts)
      if (!REJECT.includes(op as RejectOption)) badOption("reject", op, `one of ${REJECT.join(", ")}`);
    const ths = rejectBounds(opts as RejectOption[], o.rejectThreshold);
    const lrS = map2(lr, clampS);
    // the divergences of log ρ (verl: k1 = −log ρ, k2 = ½ log² ρ, k3 = ρ − 1 − log ρ)
    const kOf = {
      k1: map2(lrS, (v) => -v),
      k2: map2(lrS, (v) => 0.5 * v * v),
      k3: map2(lrS, (v) => Math.exp(v) - 1 - v),
    };
    const keepAll = map2(mask, () => 1);
    opts.forEach((op, i) => {
      const { lower, upper } = ths[i];
      const pass = (s: number) => (lower !== null ? s >= Math.log(lower) && s <= Math.log(upper) : s <= upper);
      let keep: (b: number, t: number) => boolean;
      if (op === "binary-kl") {
        const bkl = (lp: number, lq: number) => {
          const p = Math.min(1 - 1e-6, Math.max(1e-6, Math.exp(lp))),
            q = Math.min(1 - 1e-6, Math.max(1e-6, Math.exp(lq)));
          return p * Math.log(p / q) + (1 - p) * Math.log((1 - p) / (1 - q));
        };
        keep = (b, t) =>
          Math.max(bkl(oldLogp[b][t], rolloutLogp[b][t]), bkl(rolloutLogp[b][t], oldLogp[b][t])) <= upper;
      } else {
        const k = kOf[op.slice(-2) as "k1" | "k2" | "k3"];
        if (op.startsWith("token-")) keep = (b, t) => pass(k[b][t]);
        else {
          const agg = op.startsWith("seq-sum")
            ? k.map((r, b) => rowSum(r, mask[b]))
            : op.startsWith("seq-mean")
              ? k.map((r, b) => rowMean(r, mask[b]))
              : k.map((r, b) => {
                  let m = -Infinity;
                  for (let t = 0; t < T; t++) if (mask[b][t] > 0) m = Math.max(m, r[t]);
                  return m === -Infinity ? 0 : m;
                });
          const seqKeep = agg.map(pass);
          keep = (b) => seqKeep[b];
        }
      }
      for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) if (!keep(b, t)) keepAll[b][t] = 0;
    });
    outMask = map2(mask, (m, b, t) => m * keepAll[b][t]);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) if (mask[b][t] > 0 && !outMask[b][t]) rejected[b][t] = 1;
    metrics["mismatch/rsMaskedFrac"] = allMean(
      map2(keepAll, (v) => 1 - v),
      mask,
    );
    metrics["mismatch/rsSeqMaskedFrac"] = mean(rejected.map((r) => (r.some((v) => v > 0) ? 1 : 0)));
  } else if (o.rejectThreshold !== undefined && o.rejectThreshold !== null)
    badOption("rejectThreshold", o.rejectThreshold, "no value without options.reject", "Set options.reject too.");

  // 3. OPSM (DeepSeek-V3.2; slime compute_opsm_mask, TRL get_off_policy_mask)
  if (o.opsm !== null && o.opsm !== undefined) {
    if (typeof o.opsm !== "number" || !Number.isFinite(o.opsm)) badOption("opsm", o.opsm, "δ, a finite number (1e-4)");
    if (!x.adv)
      fail(
        "invalid_input",
        `${where}: OPSM masks sequences with a negative advantage, so it needs inputs.adv ([B] or [B, T]).`,
        { path: ["inputs", "adv"] },
        rolloutCorrection,
      );
    const seqKl = mask.map((m, b) => -rowSum(lr[b], m) / Math.max(rowCount(m), 1)); // mean log(μ/π_old)
    let masked = 0,
      valid = 0;
    for (let b = 0; b < B; b++) {
      let any = false;
      for (let t = 0; t < T; t++)
        if (x.adv[b][t] < 0 && seqKl[b] > o.opsm) {
          if (mask[b][t] > 0) {
            zeroed[b][t] = 1;
            any = true;
          }
          w[b][t] = 0;
        }
      if (rowCount(mask[b]) > 0) {
        valid++;
        if (any) masked++;
      }
    }
    metrics["mismatch/opsmFrac"] = masked / Math.max(valid, 1);
  }

  Object.assign(metrics, offPolicyMetrics(oldLogp, rolloutLogp, mask));
  return {
    name: "custom",
    options: o,
    weights: toRows(map2(w, (v, b, t) => v * mask[b][t])),
    mask: toRows(outMask),
    metrics,
    tokens: {
      logRatio: toRows(lr),
      rawWeight: toRows(raw),
      truncated: toRows(truncated),
      zeroed: toRows(zeroed),
      rejected: toRows(rejected),
    },
  };
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** verl _parse_rollout_rs_thresholds: one bound for all options or one per option; k1 takes ratio bounds. */
function rejectBounds(
  opts: RejectOption[],
  spec: RolloutCorrectionOptions["rejectThreshold"],
): { lower: number | null; upper: number }[] {
  if (spec === undefined || spec === null)
    badOption(
      "rejectThreshold",
      spec,
      "a bound for options.reject",
      'verl has no default: e.g. {reject: "seq-mean-k1", rejectThreshold: [0.999, 1.001]}.',
    );
  const list =
    Array.isArray(spec) && !(spec.length === 2 && spec.every((v) => typeof v === "number") && opts.length !== 2)
      ? (spec as (number | [number, number])[])
      : [spec as number | [number, number]];
  // [lo, hi] given for two options is ambiguous: read it as one pair per option only when both are numbers
  const specs = list.length === 1 ? opts.map(() => list[0]) : list;
  if (specs.length !== opts.length)
    badOption("rejectThreshold", spec, `one bound or ${opts.length} (one per option in options.reject)`);
  return opts.map((op, i) => {
    const s = specs[i];
    if (op.endsWith("k1")) {
      const [lo, hi] = typeof s === "number" ? [1 / s, s] : Array.isArray(s) ? s : [NaN, NaN];
      if (!(lo > 0 && hi > 0)) badOption("rejectThreshold", s, `ratio bounds [lo, hi] > 0 (or C) for ${op}`);
      return { lower: lo, upper: hi };
    }
    if (typeof s !== "number" || !(s > 0))
      badOption("rejectThreshold", s, `one upper bound > 0 for ${op} (verl: no "lo_hi" for k2 / k3)`);
    return { lower: null, upper: s as number };
  });
}

/**
 * verl's compute_offpolicy_metrics (KL(μ‖π_old), K3, PPL, χ²) and TRL's |Δ log p| (sampling_logp_difference).
 * @example offPolicyMetrics(old, roll, mask)["mismatch/k3Kl"]
 */
export function offPolicyMetrics(
  oldLogp: Float64Array[],
  rolloutLogp: Float64Array[],
  mask: Float64Array[],
): Record<string, number> {
  const m: Record<string, number> = {};
  const mOld = oldLogp.map((r, b) => rowMean(r, mask[b])),
    mRoll = rolloutLogp.map((r, b) => rowMean(r, mask[b]));
  m["mismatch/trainingPpl"] = mean(mOld.map((v) => Math.exp(-v)));
  m["mismatch/trainingLogPpl"] = mean(mOld.map((v) => -v));
  const lr = map2(oldLogp, (v, b, t) => v - rolloutLogp[b][t]);
  m["mismatch/kl"] = allMean(
    map2(lr, (v) => -v),
    mask,
  );
  m["mismatch/k3Kl"] = allMean(
    map2(lr, (v) => Math.exp(v) - v - 1),
    mask,
  );
  m["mismatch/rolloutPpl"] = mean(mRoll.map((v) => Math.exp(-v)));
  m["mismatch/rolloutLogPpl"] = mean(mRoll.map((v) => -v));
  const d = mRoll.map((v, b) => v - mOld[b]);
  m["mismatch/logPplDiff"] = mean(d);
  m["mismatch/logPplAbsDiff"] = mean(d.map(Math.abs));
  m["mismatch/logPplDiffMax"] = Math.max(...d);
  m["mismatch/logPplDiffMin"] = Math.min(...d);
  m["mismatch/pplRatio"] = mean(d.map(Math.exp));
  m["mismatch/chi2Token"] =
    allMean(
      map2(lr, (v) => Math.exp(clampS(v)) ** 2),
      mask,
    ) - 1;
  m["mismatch/chi2Seq"] = mean(lr.map((r, b) => Math.exp(2 * clampS(rowSum(r, mask[b]))))) - 1;
  let s = 0,
    n = 0,
    mx = 0;
  for (let b = 0; b < lr.length; b++)
    for (let t = 0; t < lr[b].length; t++)
      if (mask[b][t] > 0) {
        const a = Math.abs(lr[b][t]);
        s += a;
        n++;
        mx = Math.max(mx, a);
      }
  m["mismatch/absLogpDiffMean"] = n ? s / n : 0;
  m["mismatch/absLogpDiffMax"] = mx;
  return m;
}

const preset =
  (p: RolloutCorrectionOptions): RolloutCorrectionFn =>
  (x, o) =>
    correct(x, { ...p, ...dropUndefined(o ?? {}) });
const V = "verl RolloutCorrectionConfig";
rolloutCorrections.add("none", preset({ level: null }), {
  paper: `${V}.disabled`,
  summary: "no correction: the mismatch metrics only",
});
rolloutCorrections.add("token-is", preset({ level: "token", threshold: 2 }), {
  paper: `${V}.decoupled_token_is; TRL token_truncate`,
  summary: "token TIS: w_t = min(π_old/μ, C), C = 2",
});
rolloutCorrections.add("seq-is", preset({ level: "sequence", threshold: 2 }), {
  paper: `${V}.decoupled_seq_is; TRL sequence_truncate`,
  summary: "sequence TIS: w = min(Π_t π_old/μ, C), C = 2",
});
rolloutCorrections.add("geo-is", preset({ level: "geometric", threshold: 2 }), {
  paper: "verl rollout_is_level=geometric (mismatch_helper)",
  summary: "geometric-mean TIS: w = min(exp(mean_t log π_old/μ), C), C = 2",
});
rolloutCorrections.add("token-icepop", preset({ level: "token", threshold: [0.5, 5] }), {
  paper: `${V}.decoupled_token_icepop; IcePop (Ling team, 2025)`,
  summary: "token masked IS (IcePop): w_t = ρ_t if 0.5 ≤ ρ_t ≤ 5 else 0",
});
rolloutCorrections.add(
  "seq-is-rs",
  preset({ level: "sequence", threshold: 2, reject: "seq-sum-k1", rejectThreshold: [0.5, 2] }),
  {
    paper: `${V}.decoupled_seq_is_rs (Seq-MIS)`,
    summary: "sequence MIS: sequence TIS at 2, sequences with Π μ/π_old outside [0.5, 2] rejected",
  },
);
rolloutCorrections.add("geo-rs", preset({ level: null, reject: "seq-mean-k1", rejectThreshold: [0.999, 1.001] }), {
  paper: `${V}.decoupled_geo_rs`,
  summary: "geometric masked (Geo-RS): reject sequences with exp(mean log μ/π_old) outside [0.999, 1.001]",
});
rolloutCorrections.add(
  "geo-rs-token-is",
  preset({ level: "token", threshold: 2, reject: "seq-mean-k1", rejectThreshold: [0.999, 1.001] }),
  { paper: `${V}.decoupled_geo_rs_token_tis`, summary: "Geo-RS and token TIS at 2" },
);
rolloutCorrections.add(
  "geo-rs-seq-is",
  preset({ level: "sequence", threshold: 2, reject: "seq-mean-k1", rejectThreshold: [0.999, 1.001] }),
  { paper: `${V}.decoupled_geo_rs_seq_tis`, summary: "Geo-RS and sequence TIS at 2" },
);
rolloutCorrections.add("k3-rs", preset({ level: null, reject: "seq-mean-k3", rejectThreshold: 0.01 }), {
  paper: `${V}.decoupled_k3_rs`,
  summary: "reject sequences with mean_t (ρ − 1 − log ρ) > 0.01",
});
rolloutCorrections.add(
  "k3-rs-token-is",
  preset({ level: "token", threshold: 2, reject: "seq-mean-k3", rejectThreshold: 0.01 }),
  { paper: `${V}.decoupled_k3_rs_token_tis`, summary: "K3-RS and token TIS at 2" },
);
rolloutCorrections.add(
  "k3-rs-seq-is",
  preset({ level: "sequence", threshold: 2, reject: "seq-mean-k3", rejectThreshold: 0.01 }),
  { paper: `${V}.decoupled_k3_rs_seq_tis`, summary: "K3-RS and sequence TIS at 2" },
);
rolloutCorrections.add("opsm", preset({ level: null, opsm: 1e-4 }), {
  paper: "DeepSeek-V3.2 (arXiv:2512.02556); slime --use-opsm --opsm-delta 1e-4",
  summary: "off-policy sequence masking: w = 0 if A < 0 and mean_t log(μ/π_old) > δ, δ = 1e-4",
});

/**
 * Correct for the train/inference mismatch: IS weights, a rejection mask and the mismatch metrics from the trainer's
 * recomputed logprobs (π_old) and the sampler's (μ = ro.logprobs). By name ("token-is", "seq-is", "geo-is",
 * "token-icepop", "seq-is-rs", "geo-rs", "k3-rs", "opsm", "none", ... — update.rolloutCorrections.rows()) with
 * options overriding the preset's, or by an options object (verl's RolloutCorrectionConfig in camelCase).
 * ρ_t = π_old(y_t)/μ(y_t); TIS w = min(ρ, C); IcePop w = ρ·1[C_lo ≤ ρ ≤ C_hi]; sequence ρ = Π_t ρ_t; geometric
 * ρ = exp(mean_t log ρ_t); OPSM w = 0 if A < 0 ∧ mean_t log(μ/π_old) > δ.
 * @returns {weights [B, T], mask [B, T], metrics "mismatch/*", tokens (per-token diagnostics for viz.mismatchView)}
 * @example
 * const old = model.logprobs(m, ro, {temperature}).logp;
 * const c = update.rolloutCorrection("token-is", {oldLogp: old, rolloutLogp: ro.logprobs, mask: ro.responseMask});
 * update.policyLoss("ppo-clip", {logp, oldLogp: old, adv, mask: c.mask, isWeights: c.weights})
 */
export function rolloutCorrection(
  nameOrOptions: string | RolloutCorrectionFn | RolloutCorrectionOptions,
  inputs: RolloutCorrectionInputs,
  options: RolloutCorrectionOptions = {},
): RolloutCorrectionResult {
  const x = rolloutCorrectionInputs(inputs);
  if (nameOrOptions && typeof nameOrOptions === "object") {
    for (const k of Object.keys(nameOrOptions))
      if (!(k in rolloutCorrectionDefaults) && k !== "rejectThreshold")
        badOption(k, (nameOrOptions as Record<string, unknown>)[k], `one of ${optionKeys}`, "Check the spelling.");
    return correct(x, { ...nameOrOptions, ...dropUndefined(options) });
  }
  for (const k of Object.keys(options ?? {}))
    if (!(k in rolloutCorrectionDefaults) && k !== "rejectThreshold")
      badOption(k, (options as Record<string, unknown>)[k], `one of ${optionKeys}`, "Check the spelling.");
  const fn = rolloutCorrections.get(nameOrOptions as string | RolloutCorrectionFn);
  const r = fn(x, options);
  return { ...r, name: typeof nameOrOptions === "string" ? nameOrOptions : fn.name || "custom" };
}
const optionKeys = "level, threshold, batchNormalize, reject, rejectThreshold, opsm";

/**
 * "mismatch/*" key → verl's rollout_corr/* key (verl rollout_corr_helper.py: compute_is_metrics,
 * compute_rollout_rejection_mask, compute_offpolicy_metrics). update.toVerlMetrics / fromVerlMetrics use it. Keys
 * without a verl equivalent (absLogpDiffMean / Max: TRL's sampling/sampling_logp_difference/*; opsmFrac) keep theirs.
 * @example mismatchVerlNames["mismatch/k3Kl"] // "rollout_corr/k3_kl"
 */
export const mismatchVerlNames: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(
    Object.entries({
      isMean: "rollout_is_mean",
      isMax: "rollout_is_max",
      isMin: "rollout_is_min",
      isStd: "rollout_is_std",
      isEss: "rollout_is_eff_sample_size",
      isFracHigh: "rollout_is_ratio_fraction_high",
      isFracLow: "rollout_is_ratio_fraction_low",
      isSeqMean: "rollout_is_seq_mean",
      isSeqStd: "rollout_is_seq_std",
      isSeqMax: "rollout_is_seq_max",
      isSeqMin: "rollout_is_seq_min",
      isSeqMaxDeviation: "rollout_is_seq_max_deviation",
      isSeqFracHigh: "rollout_is_seq_fraction_high",
      isSeqFracLow: "rollout_is_seq_fraction_low",
      isOobFrac: "rollout_is_oob_ratio",
      isBatchNormFactor: "rollout_is_batch_norm_factor",
      rsMaskedFrac: "rollout_rs_masked_fraction",
      rsSeqMaskedFrac: "rollout_rs_seq_masked_fraction",
      kl: "kl",
      k3Kl: "k3_kl",
      trainingPpl: "training_ppl",
      trainingLogPpl: "training_log_ppl",
      rolloutPpl: "rollout_ppl",
      rolloutLogPpl: "rollout_log_ppl",
      logPplDiff: "log_ppl_diff",
      logPplAbsDiff: "log_ppl_abs_diff",
      logPplDiffMax: "log_ppl_diff_max",
      logPplDiffMin: "log_ppl_diff_min",
      pplRatio: "ppl_ratio",
      chi2Token: "chi2_token",
      chi2Seq: "chi2_seq",
    }).map(([c, v]) => [`mismatch/${c}`, `rollout_corr/${v}`]),
  ),
);
