// Data-parallel training over worker threads: each worker holds a replica of the model and of the AdamW state,
// computes the gradient of its share of the batch rows, the gradients are averaged through shared memory
// (lib/core/kernels all-reduce), and every worker applies the same update, so the replicas stay identical without
// re-sending weights. tfjs-wasm uses one core per thread, so 2 workers on a 2-core machine run a step ~1.7-1.9x as
// fast as one process (docs/performance.md). The loss comes from a module file, because functions cannot be sent to
// a worker; "nll" is the built-in next-token loss. A loss may also train state besides the model (FlowRL's log Z
// head): the module builds it in each worker from plain data (`extra`), and it trains and syncs with the model.
//
// This file is also the workers' module: the `parallelWorker*` exports run inside the worker threads.
import * as tf from "@tensorflow/tfjs";
import { describe, fail } from "../core/errors.js";
import { threadCpuSeconds, workerGroup, type WorkerContext, type WorkerGroup } from "../core/kernels/index.js";
import type { LlamaConfig } from "./config.js";
import { LlamaModel } from "./llama.js";
import { logprobs, logprobTensors, type LogprobsOptions, type LogprobsResult } from "./logprobs.js";
import { AdamW, type AdamWOptions, type StepResult } from "./optim.js";

/**
 * What a loss module's function returns: the loss, or the loss with its weight (default: the number of rows) and
 * host-side metrics of this worker's rows (merged over workers by weight; "*Max" / "*Min" keys by max / min).
 */
export type ParallelLossResult = tf.Scalar | { loss: tf.Scalar; weight: number; metrics?: Record<string, number> };

/**
 * What a loss module's `extra.export` function returns in each worker: trainable variables besides the model's (keyed
 * by the names syncTo copies them back under), plus anything the loss function needs (it gets this object as its third
 * argument).
 */
export interface ParallelExtra {
  variables: Map<string, tf.Variable>;
}

/** Options of ParallelTrainer.create. */
export interface ParallelTrainerOptions {
  /** Worker threads. Defaults to 2. */
  workers?: number;
  /**
   * "nll" (mean next-token NLL over the batch's response tokens, weighted by token count) or the absolute path of a
   * module whose export `lossExport` is `(model, batchPart) => tf.Scalar | {loss, weight}`. Defaults to "nll".
   */
  loss?: string;
  /** Name of the loss function in the module. Defaults to "loss". */
  lossExport?: string;
  /** AdamW options of every replica (must be structured-cloneable: no functions). Defaults to AdamW's defaults. */
  optimizer?: AdamWOptions;
  /**
   * Trainable state the loss needs besides the model (e.g. FlowRL's log Z head): the loss module's export `export`,
   * `(model, arg, ctx) => ParallelExtra`, runs once in each worker; its variables train with the model's (the same
   * AdamW, gradients averaged too) and `syncTo(model, variables)` copies them back by name. `arg` is plain data (config
   * and initial weights), `floats` the variables' total size (the all-reduce buffer is sized by it). Defaults to none.
   */
  extra?: { export: string; arg: unknown; floats: number };
}

/** Default options of ParallelTrainer.create. */
export const defaults = { workers: 2, loss: "nll", lossExport: "loss" };

/** One data-parallel step: AdamW's result, the loss averaged over workers by weight, and per-worker figures. */
export interface ParallelStepResult extends StepResult {
  /** Rows each worker trained on. */
  rows: number[];
  /** Wall milliseconds of the step in each worker (including the wait for the others). */
  workerMs: number[];
  /** CPU milliseconds of each worker's thread in the step (Linux; NaN elsewhere): the work without the waits. */
  workerCpuMs: number[];
  /** The loss module's metrics, merged over workers (weighted mean; max of "*Max", min of "*Min"). */
  metrics: Record<string, number>;
}

type WorkerStep = StepResult & { ms: number; cpuMs: number; weight: number; metrics: Record<string, number> };

/** Merge per-worker metrics: weighted mean, except "*Max" (max) and "*Min" (min). */
function mergeWorkerMetrics(res: WorkerStep[]): Record<string, number> {
  const out: Record<string, number> = {};
  const total = res.reduce((s, r) => s + r.weight, 0);
  for (const k of new Set(res.flatMap((r) => Object.keys(r.metrics)))) {
    const has = res.filter((r) => r.metrics[k] !== undefined);
    const v = has.map((r) => r.metrics[k]);
    if (k.endsWith("Max")) out[k] = Math.max(...v);
    else if (k.endsWith("Min")) out[k] = Math.min(...v);
    else
      out[k] =
        total > 0
          ? has.reduce((s, r) => s + r.metrics[k] * r.weight, 0) / has.reduce((s, r) => s + r.weight, 0)
          : v.reduce((a, b) => a + b, 0) / v.length;
  }
  return out;
}

type Batch = Record<string, unknown>;

/**
 * Fail unless every optimizer option can be sent to a worker thread (no functions or RegExps: a schedule by name or
 * spec, name patterns as strings). `where` names the caller in the message.
 * @example checkWorkerOptimizer(options.optimizer, "update.flowrlTrainer", flowrlTrainer)
 */
export function checkWorkerOptimizer(optimizer: AdamWOptions | undefined, where: string, from?: Function): void {
  for (const [k, v] of Object.entries(optimizer ?? {}))
    if (
      typeof v === "function" ||
      v instanceof RegExp ||
      (Array.isArray(v) && v.some((x) => typeof x === "function" || x instanceof RegExp))
    )
      fail(
        "invalid_option",
        `${where}: options.optimizer.${k} is ${describe(v)}, which cannot be sent to a worker thread. Use plain ` +
          `data (a schedule by name or spec, name patterns as strings).`,
        { path: ["options", "optimizer", k] },
        from ?? checkWorkerOptimizer,
      );
}

/** A data-parallel step's result as the step metrics the single-process steps log (loss, grad norm, lr, skipped). */
export function trainerStepMetrics(r: ParallelStepResult): Record<string, number> {
  return {
    ...r.metrics,
    "update/loss": r.loss,
    "update/gradNorm": r.gradNorm,
    "update/lr": r.lr,
    ...(r.skipped ? { "update/skipped": 1 } : {}),
  };
}

/**
 * The checks every step with `inputs.trainer` makes before any work: the trainer's workers run `loss` (else: create one
 * with `create`), and `microBatch` is unset (each worker runs its share in one pass).
 */
export function checkTrainerFor(
  trainer: ParallelTrainer,
  options: { microBatch?: number },
  use: { where: string; loss: string; lossLabel: string; create: string; share: string },
  from: Function,
): void {
  if (trainer.lossName !== use.loss)
    fail(
      "invalid_input",
      `${use.where}: inputs.trainer runs "${trainer.lossName}", not ${use.lossLabel}. Create it with ${use.create}.`,
      { path: ["inputs", "trainer"] },
      from,
    );
  if (options.microBatch !== undefined)
    fail(
      "invalid_option",
      `${use.where}: options.microBatch is not used with inputs.trainer (each worker runs its share of the ` +
        `${use.share} in one pass). Remove it, or train without the trainer.`,
      { path: ["options", "microBatch"] },
      from,
    );
}

function rowsOf(batch: Batch): number {
  const ids = batch.ids as unknown;
  if (ids instanceof tf.Tensor) return ids.shape[0];
  if (Array.isArray(ids)) return ids.length;
  return fail(
    "invalid_input",
    `model.ParallelTrainer.step: batch.ids must be rows of token ids [B, T] (got ${typeof ids}). ` +
      "Pass number[][] or a [B, T] tensor.",
    { path: ["ids"] },
  );
}

/** Split every field with B rows into `parts` contiguous slices; other fields go to every worker unchanged. */
function splitRows(batch: Batch, B: number, parts: number): Batch[] {
  const bounds = Array.from({ length: parts + 1 }, (_, i) => Math.round((i * B) / parts));
  const out: Batch[] = Array.from({ length: parts }, () => ({}));
  for (const [k, v0] of Object.entries(batch)) {
    const v = v0 instanceof tf.Tensor && v0.shape[0] === B ? (v0.arraySync() as unknown[]) : v0;
    const rowwise = (Array.isArray(v) || ArrayBuffer.isView(v)) && (v as ArrayLike<unknown>).length === B;
    for (let p = 0; p < parts; p++) {
      const sliced = rowwise ? Array.prototype.slice.call(v, bounds[p], bounds[p + 1]) : v;
      out[p][k] = sliced;
    }
  }
  return out;
}

/**
 * A data-parallel trainer for a LlamaModel: `step(batch)` splits the rows over the workers and updates every
 * replica; `syncTo()` copies the trained weights back into the model; `close()` ends the threads.
 * @example
 * const pt = await model.ParallelTrainer.create(m, { optimizer: { lr: 1e-3 } });
 * await pt.step({ ids });
 * await pt.syncTo();
 * await pt.close()
 */
export class ParallelTrainer {
  private constructor(
    private readonly group: WorkerGroup,
    private readonly model: LlamaModel,
    private readonly names: string[],
    /** The loss the workers run: "nll" or the loss module's export name (e.g. "parallelPolicyLoss"). */
    readonly lossName: string,
    /** Names of the extra variables (options.extra) the workers train with the model, in syncTo's order. */
    readonly extraNames: readonly string[],
  ) {}

  /** Start the workers and give each a copy of the model's current weights. */
  static async create(model: LlamaModel, options: ParallelTrainerOptions = {}): Promise<ParallelTrainer> {
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    const { workers, loss, lossExport } = { ...defaults, ...given } as typeof defaults;
    if (!Number.isInteger(workers) || workers < 1)
      fail(
        "invalid_option",
        `model.ParallelTrainer.create: workers must be an integer >= 1 (got ${workers}). Use 2 on a 2-core machine.`,
        { path: ["workers"], got: workers },
      );
    if (loss !== "nll" && !loss.startsWith("/"))
      fail(
        "invalid_option",
        `model.ParallelTrainer.create: loss must be "nll" or an absolute module path (got ${JSON.stringify(loss)}). ` +
          `Pass require.resolve("./my-loss").`,
        { path: ["loss"], got: loss },
      );
    checkWorkerOptimizer(options.optimizer, "model.ParallelTrainer.create", ParallelTrainer.create);
    const extra = options.extra ?? null;
    if (extra && (loss === "nll" || typeof extra.export !== "string" || !(extra.floats >= 0)))
      fail(
        "invalid_option",
        `model.ParallelTrainer.create: options.extra must be {export, arg, floats} with a loss module ` +
          `(got ${describe(extra)} with loss ${JSON.stringify(loss)}).`,
        { path: ["extra"] },
      );
    const vars = model.namedVariables();
    const names = [...vars.keys()];
    const weights = names.map((n) => vars.get(n)!.dataSync() as Float32Array);
    const trainable = names.filter((n) => vars.get(n)!.trainable);
    const floats = weights.reduce((s, w) => s + w.length, 0) + (extra?.floats ?? 0) + 2;
    const group = await workerGroup(__filename, { workers, reduceFloats: floats });
    let extraNames: string[];
    try {
      [{ extraNames }] = await group.all<{ parameters: number; extraNames: string[] }>("parallelWorkerInit", {
        config: model.config,
        names,
        weights,
        trainable,
        loss,
        lossExport,
        optimizer: options.optimizer ?? {},
        extra: extra && { export: extra.export, arg: extra.arg },
      });
    } catch (e) {
      await group.close();
      throw e;
    }
    return new ParallelTrainer(group, model, names, loss === "nll" ? "nll" : lossExport, extraNames);
  }

  /** One update from `batch` (fields with B rows are split between the workers; B >= workers). */
  async step(batch: Batch): Promise<ParallelStepResult> {
    const B = rowsOf(batch);
    if (B < this.group.size)
      fail(
        "invalid_input",
        `model.ParallelTrainer.step: the batch has ${B} rows for ${this.group.size} workers. ` +
          "Give each worker at least one row.",
        { got: B },
      );
    const parts = splitRows(batch, B, this.group.size);
    const res = await this.group.each<WorkerStep>("parallelWorkerStep", parts);
    const { ms: _ms, cpuMs: _cpu, weight: _w, metrics: _m, ...first } = res[0];
    return {
      ...first,
      rows: parts.map((p) => rowsOf(p)),
      workerMs: res.map((r) => r.ms),
      workerCpuMs: res.map((r) => r.cpuMs),
      metrics: mergeWorkerMetrics(res),
    };
  }

  /**
   * model.logprobs of `batch` under the replicas' current weights, rows split over the workers and put back in order
   * (a no-grad pass, e.g. GRPO's old logprobs; topK is not supported).
   * @example const { logp, entropy } = await trainer.logprobs(ro, { temperature: 1 })
   */
  async logprobs(batch: Batch, options: Omit<LogprobsOptions, "topK"> = {}): Promise<LogprobsResult> {
    if ((options as LogprobsOptions).topK)
      fail(
        "invalid_option",
        "model.ParallelTrainer.logprobs: topK is not supported on the workers " +
          `(got ${(options as LogprobsOptions).topK}). Use model.logprobs(m, batch, {topK}) after syncTo().`,
        { path: ["options", "topK"] },
      );
    const B = rowsOf(batch);
    const parts = splitRows(batch, B, Math.min(this.group.size, B));
    const args = parts.map((part) => ({ part, options }));
    while (args.length < this.group.size) args.push({ part: null as unknown as Batch, options });
    const res = (await this.group.each<LogprobsResult | null>("parallelWorkerLogprobs", args)).filter(
      (r): r is LogprobsResult => r !== null,
    );
    const out: LogprobsResult = { logp: res.flatMap((r) => r.logp), mask: res.flatMap((r) => r.mask) };
    if (res.every((r) => r.entropy)) out.entropy = res.flatMap((r) => r.entropy!);
    return out;
  }

  /**
   * Copy the replicas' weights into `model` (default: the model the trainer was created from), and the extra variables
   * (options.extra) into `extra`'s variables of the same names when given.
   */
  async syncTo(model: LlamaModel = this.model, extra?: Map<string, tf.Variable>): Promise<void> {
    const [weights] = await this.group.each<Float32Array[]>("parallelWorkerWeights", [
      true,
      ...new Array(this.group.size - 1).fill(false),
    ]);
    const vars = model.namedVariables();
    this.names.forEach((n, i) => {
      const v = vars.get(n);
      if (!v)
        fail(
          "shape_mismatch",
          `model.ParallelTrainer.syncTo: the target model has no parameter "${n}". ` +
            "Sync into a model with the same config.",
          { path: [n] },
        );
      const t = tf.tensor(weights[i], v.shape, "float32");
      v.assign(t);
      t.dispose();
    });
    if (extra)
      this.extraNames.forEach((n, j) => {
        const v = extra.get(n);
        if (!v)
          fail(
            "shape_mismatch",
            `model.ParallelTrainer.syncTo: the extra variables have no "${n}" (known: ${[...extra.keys()].join(", ")}). ` +
              "Pass the variables the trainer was created with.",
            { path: ["extra", n] },
          );
        const t = tf.tensor(weights[this.names.length + j], v.shape, "float32");
        v.assign(t);
        t.dispose();
      });
  }

  /** One checksum per replica (sum of all weights); equal values mean the replicas are still identical. */
  async replicaChecksums(): Promise<number[]> {
    return this.group.all<number>("parallelWorkerChecksum");
  }

  /** End the worker threads (their replicas and optimizer state go with them). */
  async close(): Promise<void> {
    await this.group.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Worker side (runs inside each worker thread)

let replica: {
  model: LlamaModel;
  opt: AdamW;
  vars: tf.Variable[];
  byTfName: Map<string, string>;
  loss: (m: LlamaModel, b: Batch, extra?: ParallelExtra) => ParallelLossResult;
  extra: ParallelExtra | null;
} | null = null;

/** Built-in loss: mean next-token NLL over the response tokens of this worker's rows, weighted by their count. */
export function parallelNllLoss(model: LlamaModel, batch: Batch): ParallelLossResult {
  const { logp, mask } = logprobTensors(model, batch as unknown as Parameters<typeof logprobTensors>[1]);
  const count = tf.sum(mask);
  const weight = count.dataSync()[0];
  return { loss: tf.neg(tf.div(tf.sum(logp), tf.maximum(count, 1))) as tf.Scalar, weight };
}

/** Worker: build the replica from the main thread's weights. */
export function parallelWorkerInit(
  arg: {
    config: LlamaConfig;
    names: string[];
    weights: Float32Array[];
    trainable: string[];
    loss: string;
    lossExport: string;
    optimizer: AdamWOptions;
    extra: { export: string; arg: unknown } | null;
  },
  ctx: WorkerContext,
): { parameters: number; extraNames: string[] } {
  const model = new LlamaModel(arg.config, { init: "zeros" });
  const vars = model.namedVariables();
  arg.names.forEach((n, i) => {
    const v = vars.get(n)!;
    const t = tf.tensor(arg.weights[i], v.shape, "float32");
    v.assign(t);
    t.dispose();
    v.trainable = arg.trainable.includes(n);
  });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = arg.loss === "nll" ? null : (require(arg.loss) as Record<string, unknown>);
  const fn = mod ? mod[arg.lossExport] : parallelNllLoss;
  if (typeof fn !== "function")
    throw new Error(`model.ParallelTrainer: ${arg.loss} exports no function "${arg.lossExport}".`);
  let extra: ParallelExtra | null = null;
  if (arg.extra) {
    const setup = mod?.[arg.extra.export];
    if (typeof setup !== "function")
      throw new Error(`model.ParallelTrainer: ${arg.loss} exports no function "${arg.extra.export}".`);
    extra = (setup as (m: LlamaModel, a: unknown, c: WorkerContext) => ParallelExtra)(model, arg.extra.arg, ctx);
    for (const n of extra.variables.keys())
      if (vars.has(n)) throw new Error(`model.ParallelTrainer: extra variable "${n}" has a model parameter's name.`);
  }
  // The extra variables join the model's: one AdamW (one global gradient norm), one all-reduce, as one process would.
  const trainable = [...[...vars.entries()].filter(([, v]) => v.trainable), ...(extra?.variables ?? [])];
  replica = {
    model,
    opt: new AdamW(new Map(trainable), arg.optimizer),
    vars: trainable.map(([, v]) => v),
    byTfName: new Map(trainable.map(([n, v]) => [v.name, n])),
    loss: fn as (m: LlamaModel, b: Batch, extra?: ParallelExtra) => ParallelLossResult,
    extra,
  };
  return { parameters: model.numParameters(), extraNames: [...(extra?.variables.keys() ?? [])] };
}

/** Worker: gradient of this worker's rows, weighted mean across workers, local AdamW update. */
export function parallelWorkerStep(part: Batch, ctx: WorkerContext): WorkerStep {
  const t0 = performance.now();
  const c0 = threadCpuSeconds();
  const r = replica!;
  const ar = ctx.allReduce!;
  let weight = rowsOf(part);
  let metrics: Record<string, number> = {};
  const { value, grads } = tf.variableGrads(() => {
    const out = r.loss(r.model, part, r.extra ?? undefined);
    if (out instanceof tf.Tensor) return out;
    weight = out.weight;
    metrics = out.metrics ?? {};
    return out.loss;
  }, r.vars);
  const lossValue = value.dataSync()[0];
  // Total weight and weighted loss across workers, then each gradient scaled so the mean is the weighted mean.
  const statsIn = tf.tensor1d([weight, weight * lossValue]);
  const [stats] = ar.mean([statsIn]);
  const [wMean, lMean] = stats.dataSync();
  const scale = wMean > 0 ? weight / wMean : 0; // weight * world / total
  const names = Object.keys(grads);
  const scaled = names.map((n) => (scale === 1 ? grads[n] : tf.mul(grads[n], scale)));
  const avg = ar.mean(scaled);
  const named: Record<string, tf.Tensor> = {};
  names.forEach((n, i) => (named[r.byTfName.get(n)!] = avg[i]));
  try {
    const res = r.opt.step(named);
    return {
      ...res,
      loss: wMean > 0 ? lMean / wMean : NaN,
      ms: performance.now() - t0,
      cpuMs: (threadCpuSeconds() - c0) * 1000,
      weight,
      metrics,
    };
  } finally {
    tf.dispose([
      value,
      statsIn,
      stats,
      ...Object.values(grads),
      ...scaled.filter((t, i) => t !== grads[names[i]]),
      ...avg,
    ]);
  }
}

/** Worker: no-grad logprobs of this worker's rows (null when it got no rows). */
export function parallelWorkerLogprobs(arg: { part: Batch | null; options: LogprobsOptions }): LogprobsResult | null {
  if (!arg.part) return null;
  return logprobs(replica!.model, arg.part as unknown as Parameters<typeof logprobs>[1], arg.options);
}

/** The replica's variables: the model's, then the extra ones (options.extra). */
function replicaVariables(): tf.Variable[] {
  return [...replica!.model.namedVariables().values(), ...(replica!.extra?.variables.values() ?? [])];
}

/** Worker: the replica's weights, the model's then the extra ones (only the first worker is asked for them). */
export function parallelWorkerWeights(wanted: boolean): Float32Array[] | null {
  if (!wanted) return null;
  return replicaVariables().map((v) => v.dataSync() as Float32Array);
}

/** Worker: sum of all weights of the replica (extra variables included). */
export function parallelWorkerChecksum(): number {
  return tf.tidy(() => replicaVariables().reduce((acc, v) => acc + tf.sum(v).dataSync()[0], 0));
}
