// How the bench calls the model engineer's bench/model.ts: it exports trainTokensPerS(config, options) and
// generateTokensPerS(config, options) built on lib/model. Their return is a tok/s number or an object with `value`
// (and optionally per-step `samples`); this file normalises both. CELLRL_BENCH_MODEL=<module> swaps the module
// (used to develop the harness before bench/model.ts existed).
import { isAbsolute, join } from "node:path";
import type { BenchConfig } from "./configs.js";

/** The functions bench/model.ts provides. */
export interface ModelBench {
  trainTokensPerS(config: BenchConfig, options?: { steps?: number }): unknown;
  generateTokensPerS(config: BenchConfig, options?: { reps?: number }): unknown;
}

/** One tfjs measurement: median tok/s and, when the module gives them, the per-step values. */
export interface Measured {
  value: number;
  samples?: number[];
  /** Process CPU seconds of each timed call, when the module gives them. */
  cpuSeconds?: number[];
}

/**
 * Import the model bench module (bench/model.ts unless CELLRL_BENCH_MODEL names another).
 * @example const mod = await loadModelBench(); await measure(mod, "train", configs.tiny, 3)
 */
export async function loadModelBench(): Promise<ModelBench> {
  const override = process.env.CELLRL_BENCH_MODEL;
  const path = override ? (isAbsolute(override) ? override : join(process.cwd(), override)) : "./model.js";
  const mod = (await import(path)) as Partial<ModelBench> & { default?: Partial<ModelBench> };
  const m = { ...(mod.default ?? {}), ...mod } as Partial<ModelBench>;
  if (typeof m.trainTokensPerS !== "function" || typeof m.generateTokensPerS !== "function")
    throw new Error(`bench: ${path} must export trainTokensPerS(config) and generateTokensPerS(config)`);
  return m as ModelBench;
}

/**
 * Run one train or generate measurement of `n` steps/calls and normalise the result.
 * @example await measure(mod, "generate", configs.tiny, 3) // { value: 10123, samples: [...] }
 */
export async function measure(
  mod: ModelBench,
  kind: "train" | "generate",
  config: BenchConfig,
  n: number,
): Promise<Measured> {
  const r =
    kind === "train"
      ? await mod.trainTokensPerS(config, { steps: n })
      : await mod.generateTokensPerS(config, { reps: n });
  if (typeof r === "number") return { value: r };
  const o = r as {
    value?: number;
    tokensPerS?: number;
    tokens_per_s?: number;
    median?: number;
    samples?: number[];
    cpuSeconds?: number[];
  };
  const value = o?.value ?? o?.tokensPerS ?? o?.tokens_per_s ?? o?.median;
  if (typeof value !== "number")
    throw new Error(
      `bench: ${kind}TokensPerS returned ${JSON.stringify(r)?.slice(0, 200)}; expected a number or {value}`,
    );
  return {
    value,
    samples: Array.isArray(o.samples) ? o.samples : undefined,
    cpuSeconds: Array.isArray(o.cpuSeconds) ? o.cpuSeconds : undefined,
  };
}
