// The next-token distribution actually sampled from: temperature, then top-k, top-p, min-p (HF's warper order),
// computed on the host in float64 from one row of logits, and an inverse-CDF draw from one Rng uniform.
// Host-side on purpose: exact filters, deterministic under seed(), and a logits read per step costs ~40 us on wasm.
import { fail } from "../core/errors.js";

/** Sampling parameters (camelCase; the remote client sends them under vLLM's names: top_k, top_p, min_p). */
export interface SamplingOptions {
  /** Divide logits by this; 0 means greedy (argmax, lowest id on ties). Defaults to 1. */
  temperature?: number;
  /** Keep the k most likely tokens (ties with the k-th are kept); 0 or -1 is off. Defaults to 0. */
  topK?: number;
  /** Keep the smallest most-likely set with mass >= topP (nucleus); 1 is off. Defaults to 1. */
  topP?: number;
  /** Drop tokens with p < minP * p_max; 0 is off. Defaults to 0. */
  minP?: number;
}

/**
 * Defaults of the sampling parameters.
 * @example model.samplingDefaults // {temperature: 1, topK: 0, topP: 1, minP: 0}
 */
export const defaults: Required<SamplingOptions> = { temperature: 1, topK: 0, topP: 1, minP: 0 };

/** The vLLM / HF spellings of sampling options and their camelCase names in cellrl's API. */
export const snakeCaseNames: Record<string, string> = {
  top_k: "topK",
  top_p: "topP",
  min_p: "minP",
  max_new_tokens: "maxNewTokens",
  max_tokens: "maxNewTokens",
  stop_token_ids: "stopTokenIds",
  ignore_eos: "ignoreEos",
  include_stop_str_in_output: "includeStopStrInOutput",
};

/**
 * Fail on a sampling option spelled the vLLM / HF way (snake_case), naming the camelCase key to use instead.
 * @example rejectSnakeCase({top_p: 0.9}, "rollout.sample") // throws: use topP
 */
export function rejectSnakeCase(o: object | undefined, where: string, from?: Function): void {
  if (!o || typeof o !== "object") return;
  for (const k of Object.keys(o))
    if (k in snakeCaseNames)
      fail(
        "invalid_option",
        `${where}: options.${k} is the vLLM / HF spelling (got ${k}). ` +
          `Use ${snakeCaseNames[k]} (sampling options are camelCase in cellrl's API).`,
        { path: [k], got: k, expected: snakeCaseNames[k] },
        from,
      );
}

/**
 * Validate sampling parameters once (errors name the field and the accepted range); returns them with defaults.
 * @example checkSampling({ topP: 0.9 }, "model.generate").temperature // 1
 */
export function checkSampling(o: SamplingOptions, where: string, from?: Function): Required<SamplingOptions> {
  rejectSnakeCase(o, where, from);
  const r = {
    ...defaults,
    ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)),
  } as Required<SamplingOptions>;
  const bad = (f: string, v: unknown, exp: string, fix: string) =>
    fail(
      "invalid_option",
      `${where}: ${f} is invalid (got ${v}; expected ${exp}). ${fix}.`,
      { path: [f], got: v, expected: exp },
      from,
    );
  if (!(r.temperature >= 0) || !Number.isFinite(r.temperature))
    bad("temperature", r.temperature, ">= 0", "Use 0 for greedy decoding or e.g. 1");
  if (!Number.isInteger(r.topK) || r.topK < -1)
    bad("topK", r.topK, "an integer >= 1, or 0 / -1 for off", "Use 0 to disable top-k");
  if (!(r.topP > 0 && r.topP <= 1)) bad("topP", r.topP, "a number in (0, 1]", "Use 1 to disable nucleus sampling");
  if (!(r.minP >= 0 && r.minP <= 1)) bad("minP", r.minP, "a number in [0, 1]", "Use 0 to disable min-p");
  return r;
}

/**
 * Index of the largest value (lowest index on ties).
 * @example argmax([1, 3, 3]) // 1
 */
export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

/**
 * log softmax of one row of logits, in float64.
 * @example logSoftmax([0, 0]) // [-0.693, -0.693]
 */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > m) m = logits[i];
  let s = 0;
  for (let i = 0; i < logits.length; i++) s += Math.exp(logits[i] - m);
  const lse = m + Math.log(s);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] - lse;
  return out;
}

/**
 * The distribution sampled from, as probabilities over the vocabulary (0 for filtered tokens): softmax(logits / T)
 * then top-k, top-p, min-p, each renormalising. Temperature 0 gives a one-hot at the argmax.
 * @example samplingDistribution([2, 1, 0], { topK: 2 }) // [0.731, 0.269, 0]
 */
export function samplingDistribution(
  logits: ArrayLike<number>,
  options: SamplingOptions = {},
  out?: Float64Array,
): Float64Array {
  const { temperature, topK, topP, minP } = { ...defaults, ...options };
  const V = logits.length;
  const p = out && out.length === V ? out.fill(0) : new Float64Array(V); // `out`: a reused buffer (the decode loop)
  if (temperature === 0) {
    p[argmax(logits)] = 1;
    return p;
  }
  // softmax(logits / T)
  let m = -Infinity;
  for (let i = 0; i < V; i++) if (logits[i] > m) m = logits[i];
  let s = 0;
  for (let i = 0; i < V; i++) s += p[i] = Math.exp((logits[i] - m) / temperature);
  for (let i = 0; i < V; i++) p[i] /= s;
  if (topK > 0 && topK < V) {
    const kth = kthLargest(Float64Array.from(p), topK); // k-th largest probability (same order as logits)
    keep(p, kth);
  }
  if (topP < 1) {
    keep(p, nucleusThreshold(p, topP));
  }
  if (minP > 0) {
    let pmax = 0;
    for (let i = 0; i < V; i++) if (p[i] > pmax) pmax = p[i];
    keep(p, minP * pmax);
  }
  return p;
}

/** The k-th largest value of `a` (quickselect, O(V); `a` is reordered). */
function kthLargest(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  const target = k - 1; // index in descending order
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i++] = a[j];
        a[j--] = t;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target];
  }
  return a[target];
}

/**
 * Smallest probability kept by top-p: a token is kept when the mass of the tokens strictly before it (descending)
 * is < top_p (HF's TopPLogitsWarper). Sorts only tokens with p >= 1e-9 when they already reach top_p, which is exact
 * (smaller tokens come later in the order) and makes a 150k vocabulary cheap.
 */
function nucleusThreshold(p: Float64Array, top_p: number): number {
  const scan = (cands: Float64Array) => {
    cands.sort().reverse();
    let cum = 0;
    for (let i = 0; i < cands.length; i++) {
      if (cands[i] === 0) break;
      cum += cands[i];
      if (cum >= top_p) return cands[i];
    }
    return null;
  };
  let n = 0;
  for (let i = 0; i < p.length; i++) if (p[i] >= 1e-9) n++;
  if (n < p.length) {
    const cands = new Float64Array(n);
    for (let i = 0, j = 0; i < p.length; i++) if (p[i] >= 1e-9) cands[j++] = p[i];
    const t = scan(cands);
    if (t !== null) return t;
  }
  return scan(Float64Array.from(p)) ?? 0; // rounding kept the sum just under top_p: keep every nonzero token
}

/** Zero the entries below `threshold` and renormalise (in place). */
function keep(p: Float64Array, threshold: number): void {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] >= threshold) s += p[i];
    else p[i] = 0;
  }
  const inv = 1 / s;
  for (let i = 0; i < p.length; i++) p[i] *= inv;
}

/**
 * log softmax(logits)[index] without materialising the whole row.
 * @example logprobOf([0, Math.log(3)], 1) // log(0.75)
 */
export function logprobOf(logits: ArrayLike<number>, index: number): number {
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > m) m = logits[i];
  let s = 0;
  for (let i = 0; i < logits.length; i++) s += Math.exp(logits[i] - m);
  return logits[index] - m - Math.log(s);
}

/**
 * Inverse-CDF draw: the first index whose cumulative probability exceeds u in [0, 1) (skips zero-probability ids).
 * @example sampleIndex(Float64Array.from([0.5, 0.5]), 0.7) // 1
 */
export function sampleIndex(p: Float64Array, u: number): number {
  let cum = 0;
  let last = -1;
  for (let i = 0; i < p.length; i++) {
    if (p[i] <= 0) continue;
    last = i;
    cum += p[i];
    if (u < cum) return i;
  }
  return last; // u within rounding of 1
}
