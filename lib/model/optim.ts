// AdamW (Loshchilov & Hutter, arXiv:1711.05101) as torch.optim.AdamW computes it, per parameter p with gradient g
// at update t = 1, 2, ...:
//   p <- p * (1 - lr_t * weightDecay)                  (decoupled decay; skipped for noDecay params)
//   m <- b1 m + (1 - b1) g ;  v <- b2 v + (1 - b2) g^2
//   p <- p - lr_t * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
// with lr_t = lr * schedule(t - 1), gradients first clipped to a global norm, micro-batch accumulation, frozen
// parameters, and state export for checkpoints and step replay.
import * as tf from "@tensorflow/tfjs";
import { describe, fail } from "../core/errors.js";
import { didYouMean, mustBe } from "../core/checks.js";
import { warn } from "../core/warn.js";
import { makeSchedule, type LrSchedule, type ScheduleSpec } from "./optim-schedule.js";
import { globalNorm } from "./optim-clip.js";

/** Parameters by name: model.namedVariables(), a record, or an array (named by variable.name). */
export type ParamSet = Map<string, tf.Variable> | Record<string, tf.Variable> | tf.Variable[];

/**
 * Which parameters an option applies to: a glob on the name ("model.layers.*.mlp.*"), a RegExp, a list, or a predicate.
 */
export type NamePattern = string | RegExp | (string | RegExp)[] | ((name: string, v: tf.Variable) => boolean);

/** Options of AdamW. */
export interface AdamWOptions {
  /** Base learning rate (scaled by the schedule). Defaults to 1e-3. */
  lr?: number;
  /** Decay rates of the first and second moment estimates. Defaults to [0.9, 0.999]. */
  betas?: [number, number];
  /** Added to sqrt(v-hat) in the denominator. Defaults to 1e-8. */
  eps?: number;
  /** Decoupled weight decay coefficient. Defaults to 0.01 (torch's AdamW default). */
  weightDecay?: number;
  /**
   * Parameters exempt from weight decay, or null to decay all. Defaults to rank <= 1 tensors (norm weights and biases),
   * as nanoGPT and HF Trainer.
   */
  noDecay?: NamePattern | null;
  /**
   * LR schedule: "constant", "cosine", "linear", {type, warmupSteps, totalSteps, minLrRatio} or step => multiplier.
   * Defaults to "constant".
   */
  schedule?: string | ScheduleSpec | LrSchedule;
  /**
   * Clip gradients to this global L2 norm before the update, or null for no clipping. Defaults to 1.0 (HF Trainer,
   * verl).
   */
  clipGradNorm?: number | null;
  /** Parameters never updated (and not differentiated by minimize), or null. Defaults to null. */
  freeze?: NamePattern | null;
  /**
   * What a NaN/Inf gradient norm or loss does: "error" throws before any change, "skip" warns and skips the update.
   * Defaults to "error".
   */
  nonFinite?: "error" | "skip";
}

/** Defaults of AdamW. */
export const defaults = {
  lr: 1e-3,
  betas: [0.9, 0.999] as [number, number],
  eps: 1e-8,
  weightDecay: 0.01,
  noDecay: ((_name: string, v: tf.Variable) => v.rank <= 1) as NamePattern | null,
  schedule: "constant" as string | ScheduleSpec | LrSchedule,
  clipGradNorm: 1.0 as number | null,
  freeze: null as NamePattern | null,
  nonFinite: "error" as "error" | "skip",
};

/** What one optimizer step did. */
export interface StepResult {
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Learning rate used for this update. */
  lr: number;
  /** Number of updates taken so far (after this one). */
  step: number;
  /** True when the update was skipped (non-finite gradients with nonFinite: "skip"). */
  skipped: boolean;
  /** Loss value (minimize / the mean over accumulated micro-batches when given), else NaN. */
  loss: number;
}

/**
 * Optimizer state for checkpoints and step replay: update count and moment tensors named exp_avg.<param>,
 * exp_avg_sq.<param>.
 */
export interface OptimizerState {
  step: number;
  tensors: Record<string, tf.Tensor>;
}

function globToRegExp(glob: string): RegExp {
  return new RegExp("^" + glob.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*") + "$");
}

/** A predicate from a NamePattern. */
export function nameMatcher(p: NamePattern | null | undefined): (name: string, v: tf.Variable) => boolean {
  if (p === null || p === undefined) return () => false;
  if (typeof p === "function") return p;
  const list = (Array.isArray(p) ? p : [p]).map((x) => (typeof x === "string" ? globToRegExp(x) : x));
  return (name) => list.some((r) => r.test(name));
}

function toMap(params: ParamSet): Map<string, tf.Variable> {
  if (params instanceof Map) return new Map(params);
  if (Array.isArray(params)) return new Map(params.map((v) => [v.name, v]));
  if (params && typeof params === "object") return new Map(Object.entries(params));
  return fail(
    "invalid_input",
    "model.AdamW: params must be model.namedVariables(), a record or an array of tf.Variable " +
      `(got ${describe(params)}).`,
    { got: params },
  );
}

/**
 * AdamW with decoupled weight decay, bias correction, global-norm clipping, LR schedules, accumulation and freezing.
 * @example
 * const schedule = {type: "cosine", warmupSteps: 10, totalSteps: 500};
 * const opt = new AdamW(model.namedVariables(), {lr: 3e-4, schedule});
 * opt.minimize(() => loss())
 */
export class AdamW {
  /** Base learning rate; may be changed between steps. */
  lr: number;
  /** Updates taken so far (0 before the first). */
  stepCount = 0;
  readonly options: Required<Omit<AdamWOptions, "lr">>;
  private readonly params: Map<string, tf.Variable>;
  private readonly trainable = new Map<string, tf.Variable>();
  private readonly decay = new Set<string>();
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private acc = new Map<string, tf.Tensor>();
  private accWeight = 0;
  private accLoss = 0;
  private readonly schedule: LrSchedule;

  constructor(params: ParamSet, options: AdamWOptions = {}) {
    const o = { ...defaults, ...options };
    const bad = (field: string, rule: string, got: unknown) =>
      fail(
        "invalid_option",
        `model.AdamW: options.${field} ${rule} (got ${describe(got)}).`,
        { path: [field], got },
        AdamW,
      );
    if (!(o.lr >= 0 && Number.isFinite(o.lr))) bad("lr", "must be a finite number >= 0", o.lr);
    if (!Array.isArray(o.betas) || o.betas.length !== 2 || o.betas.some((b) => !(b >= 0 && b < 1)))
      bad("betas", "must be two numbers in [0, 1)", o.betas);
    if (!(o.eps > 0)) bad("eps", "must be > 0", o.eps);
    if (!(o.weightDecay >= 0 && Number.isFinite(o.weightDecay)))
      bad("weightDecay", "must be a finite number >= 0", o.weightDecay);
    if (o.clipGradNorm !== null && !(o.clipGradNorm > 0))
      bad("clipGradNorm", "must be > 0 or null (no clipping)", o.clipGradNorm);
    if (o.nonFinite !== "error" && o.nonFinite !== "skip") bad("nonFinite", 'must be "error" or "skip"', o.nonFinite);
    this.lr = o.lr;
    const { lr: _lr, ...rest } = o;
    this.options = rest;
    this.schedule = makeSchedule(o.schedule);
    this.params = toMap(params);
    const frozen = nameMatcher(o.freeze);
    const noDecay = nameMatcher(o.noDecay);
    for (const [name, p] of this.params) {
      if (!(p instanceof tf.Variable))
        fail(
          "invalid_input",
          `model.AdamW: parameter "${name}" is not a tf.Variable (got ${describe(p)}).`,
          { path: [name] },
          AdamW,
        );
      if (frozen(name, p)) continue;
      this.trainable.set(name, p);
      if (!noDecay(name, p)) this.decay.add(name);
    }
    if (this.trainable.size === 0 && this.params.size > 0)
      warn("model/allFrozen", "model.AdamW: every parameter is frozen, so steps change nothing. Check options.freeze.");
  }

  /**
   * Parameters updated now: not frozen by options.freeze and not frozen on the model (tf.Variable.trainable false, e.g.
   * LlamaModel.freeze()).
   */
  private active(): Map<string, tf.Variable> {
    return new Map([...this.trainable].filter(([, v]) => v.trainable));
  }

  /** Names of the parameters the optimizer updates. */
  trainableNames(): string[] {
    return [...this.active().keys()];
  }

  /** Names of frozen parameters (options.freeze, or trainable = false on the variable). */
  frozenNames(): string[] {
    const on = this.active();
    return [...this.params.keys()].filter((n) => !on.has(n));
  }

  /** Names of the parameters that get weight decay. */
  decayNames(): string[] {
    return [...this.decay];
  }

  /** Learning rate the next update will use. */
  currentLr(): number {
    return this.lr * this.schedule(this.stepCount);
  }

  private checkGrads(grads: Record<string, tf.Tensor>, where: string): Record<string, tf.Tensor> {
    const used: Record<string, tf.Tensor> = {};
    for (const [name, g] of Object.entries(grads)) {
      const p = this.params.get(name);
      if (!p) {
        const hint = didYouMean(
          name,
          [...this.params.keys()],
          " Key gradients by the names of model.namedVariables().",
        );
        fail(
          "unknown_name",
          `model.AdamW.${where}: gradient for unknown parameter "${name}" ` +
            `(the optimizer has ${this.params.size} parameters).${hint}`,
          { path: [name], got: name },
        );
      }
      if (!(g instanceof tf.Tensor) || g.isDisposed)
        fail(
          "invalid_input",
          `model.AdamW.${where}: gradient "${name}" is not a live tf.Tensor (got ${describe(g)}).`,
          { path: [name] },
        );
      if (g.shape.join() !== p.shape.join())
        fail(
          "shape_mismatch",
          `model.AdamW.${where}: gradient "${name}" has shape [${g.shape.join(", ")}] but the parameter has ` +
            `[${p.shape.join(", ")}]. Gradients must match their parameters.`,
          { path: [name], got: g.shape, expected: p.shape },
        );
      if (this.trainable.has(name) && p.trainable) used[name] = g;
    }
    return used;
  }

  private nonFinite(what: string, grads: Record<string, tf.Tensor>): StepResult {
    const bad = Object.entries(grads).find(([, g]) => tf.tidy(() => !Number.isFinite(tf.sum(g).dataSync()[0])))?.[0];
    const msg = `${what} is not finite${bad ? ` (first non-finite gradient: "${bad}")` : ""}`;
    if (this.options.nonFinite === "skip") {
      warn(
        "model/nonFiniteStep",
        `model.AdamW: ${msg}; the update was skipped. Lower the lr, or use nonFinite: "error" to stop instead.`,
      );
      return { gradNorm: NaN, lr: this.currentLr(), step: this.stepCount, skipped: true, loss: NaN };
    }
    return fail(
      "non_finite",
      `model.AdamW.step: ${msg}; no parameter was changed. ` +
        'Lower the lr or check the loss, or pass {nonFinite: "skip"}.',
      { path: bad ? [bad] : [] },
    );
  }

  /**
   * One AdamW update from gradients keyed by parameter name (the caller keeps ownership of `grads`).
   * @example const {value, grads} = tf.variableGrads(f); opt.step(grads); tf.dispose([value, ...Object.values(grads)])
   */
  step(grads: Record<string, tf.Tensor>): StepResult {
    return this._step(this.checkGrads(grads, "step"), NaN);
  }

  private _step(grads: Record<string, tf.Tensor>, loss: number): StepResult {
    const gradNorm = globalNorm(grads);
    if (!Number.isFinite(gradNorm)) return this.nonFinite("the gradient norm", grads);
    const clip = this.options.clipGradNorm;
    const scale = clip !== null && gradNorm > clip ? clip / (gradNorm + 1e-6) : 1;
    const lr = this.currentLr();
    const t = this.stepCount + 1;
    const [b1, b2] = this.options.betas;
    const bc1 = 1 - b1 ** t;
    const bc2 = 1 - b2 ** t;
    const { eps, weightDecay } = this.options;
    for (const [name, g0] of Object.entries(grads)) {
      const p = this.trainable.get(name)!;
      if (!this.m.has(name)) {
        // tf.variable shares the data of its initial tensor, so the temporary must die inside a tidy.
        this.m.set(
          name,
          tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
        );
        this.v.set(
          name,
          tf.tidy(() => tf.variable(tf.zerosLike(p), false)),
        );
      }
      const m = this.m.get(name)!;
      const v = this.v.get(name)!;
      tf.tidy(() => {
        const g = scale === 1 ? g0 : tf.mul(g0, scale);
        const m1 = tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1));
        const v1 = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2));
        m.assign(m1);
        v.assign(v1);
        const upd = tf.div(tf.div(m1, bc1), tf.add(tf.sqrt(tf.div(v1, bc2)), eps));
        const decayed = this.decay.has(name) && weightDecay > 0 ? tf.mul(p, 1 - lr * weightDecay) : p;
        p.assign(tf.sub(decayed, tf.mul(upd, lr)));
      });
    }
    this.stepCount = t;
    return { gradNorm, lr, step: t, skipped: false, loss };
  }

  /**
   * Add one micro-batch's gradients (weighted; default 1) to the accumulator; stepAccumulated() applies their weighted
   * mean.
   * @example
   * for (const mb of micro) {
   *   const {value, grads} = tf.variableGrads(() => loss(mb));
   *   opt.accumulate(grads);
   *   tf.dispose(grads)
   * }
   */
  accumulate(grads: Record<string, tf.Tensor>, options: { weight?: number; loss?: number } = {}): void {
    const { weight = 1, loss } = options;
    if (!(weight > 0))
      mustBe(
        { where: "model.AdamW.accumulate" },
        "weight",
        "must be > 0",
        weight,
        "Weight micro-batches by their token or row counts.",
      );
    const used = this.checkGrads(grads, "accumulate");
    for (const [name, g] of Object.entries(used)) {
      const old = this.acc.get(name);
      this.acc.set(
        name,
        tf.tidy(() => (old ? tf.add(old, tf.mul(g, weight)) : tf.mul(g, weight))),
      );
      old?.dispose();
    }
    this.accWeight += weight;
    this.accLoss += (loss ?? NaN) * weight;
  }

  /** Number of micro-batch weight units accumulated since the last stepAccumulated() (0 when empty). */
  accumulatedWeight(): number {
    return this.accWeight;
  }

  /**
   * One update with the weighted mean of the accumulated gradients, then clear the accumulator.
   * @example opt.stepAccumulated() // {gradNorm, lr, step, skipped, loss}
   */
  stepAccumulated(): StepResult {
    if (this.accWeight === 0)
      fail(
        "invalid_input",
        "model.AdamW.stepAccumulated: nothing accumulated since the last step. Call opt.accumulate(grads) first.",
      );
    const w = this.accWeight;
    const mean: Record<string, tf.Tensor> = {};
    for (const [name, s] of this.acc) mean[name] = tf.tidy(() => tf.div(s, w));
    const loss = this.accLoss / w;
    this.clearAccumulated();
    try {
      return this._step(mean, loss);
    } finally {
      tf.dispose(Object.values(mean));
    }
  }

  /** Drop accumulated gradients without stepping. */
  clearAccumulated(): void {
    tf.dispose([...this.acc.values()]);
    this.acc = new Map();
    this.accWeight = 0;
    this.accLoss = 0;
  }

  private grads(lossFn: () => tf.Scalar): { loss: number; grads: Record<string, tf.Tensor> } {
    const active = this.active();
    if (active.size === 0)
      fail(
        "invalid_input",
        "model.AdamW.minimize: every parameter is frozen (options.freeze or model.freeze()), " +
          "so there is nothing to differentiate. Unfreeze some parameters.",
      );
    const vars = [...active.values()];
    const byTfName = new Map([...active].map(([name, v]) => [v.name, name]));
    const { value, grads } = tf.variableGrads(lossFn, vars);
    const loss = value.dataSync()[0];
    value.dispose();
    const out: Record<string, tf.Tensor> = {};
    for (const [k, g] of Object.entries(grads)) out[byTfName.get(k) ?? k] = g;
    return { loss, grads: out };
  }

  /**
   * Differentiate lossFn with respect to the trainable parameters and apply one update.
   * @example const {loss, gradNorm, lr} = opt.minimize(() => crossEntropy(model, batch))
   */
  minimize(lossFn: () => tf.Scalar): StepResult {
    const { loss, grads } = this.grads(lossFn);
    try {
      if (!Number.isFinite(loss)) return this.nonFinite(`the loss (${loss})`, grads);
      return this._step(grads, loss);
    } finally {
      tf.dispose(Object.values(grads));
    }
  }

  /**
   * Differentiate one micro-batch's loss and add its gradients to the accumulator; returns the loss.
   * @example for (const mb of micro) opt.accumulateLoss(() => loss(mb)); opt.stepAccumulated()
   */
  accumulateLoss(lossFn: () => tf.Scalar, options: { weight?: number } = {}): number {
    const { loss, grads } = this.grads(lossFn);
    try {
      if (!Number.isFinite(loss) && this.options.nonFinite === "error")
        fail(
          "non_finite",
          `model.AdamW.accumulateLoss: the loss is ${loss}; nothing was accumulated. ` +
            `Check the loss, or pass {nonFinite: "skip"}.`,
        );
      this.accumulate(grads, { ...options, loss });
      return loss;
    } finally {
      tf.dispose(Object.values(grads));
    }
  }

  /**
   * A copy of the optimizer state (update count and moments) that the caller owns; setState() restores it.
   * @example const snap = opt.getState(); ...; opt.setState(snap); tf.dispose(Object.values(snap.tensors))
   */
  getState(): OptimizerState {
    const tensors: Record<string, tf.Tensor> = {};
    for (const [name, m] of this.m) {
      tensors[`exp_avg.${name}`] = m.clone();
      tensors[`exp_avg_sq.${name}`] = this.v.get(name)!.clone();
    }
    return { step: this.stepCount, tensors };
  }

  /**
   * Restore a state from getState() or a checkpoint (values are copied; the caller keeps `state`).
   * @example opt.setState(loadOptimizerState("ckpt"))
   */
  setState(state: OptimizerState): void {
    if (!state || !Number.isInteger(state.step) || state.step < 0 || typeof state.tensors !== "object")
      fail(
        "invalid_input",
        `model.AdamW.setState: state must be {step: integer >= 0, tensors} from getState() (got ${describe(state)}).`,
        { got: state },
      );
    for (const [key, t] of Object.entries(state.tensors)) {
      const m = /^(exp_avg|exp_avg_sq)\.(.+)$/.exec(key);
      const p = m ? this.params.get(m[2]) : undefined;
      if (!m || !p)
        fail(
          "unknown_name",
          `model.AdamW.setState: state tensor "${key}" names no parameter of this optimizer ` +
            "(expected exp_avg.<param> or exp_avg_sq.<param>). Load the state into the optimizer of the same model.",
          { path: [key] },
        );
      if (t.shape.join() !== p.shape.join())
        fail(
          "shape_mismatch",
          `model.AdamW.setState: state tensor "${key}" has shape [${t.shape.join(", ")}] but parameter "${m[2]}" has ` +
            `[${p.shape.join(", ")}].`,
          { path: [key], got: t.shape, expected: p.shape },
        );
    }
    const keys = new Set(Object.keys(state.tensors));
    for (const key of keys) {
      const other = key.startsWith("exp_avg_sq.")
        ? key.replace("exp_avg_sq.", "exp_avg.")
        : key.replace("exp_avg.", "exp_avg_sq.");
      if (!keys.has(other))
        fail("invalid_input", `model.AdamW.setState: state has "${key}" but not "${other}". The state is incomplete.`, {
          path: [key],
        });
    }
    this.disposeMoments();
    for (const [key, t] of Object.entries(state.tensors)) {
      const [, kind, name] = /^(exp_avg|exp_avg_sq)\.(.+)$/.exec(key)!;
      (kind === "exp_avg" ? this.m : this.v).set(
        name,
        tf.tidy(() => tf.variable(t.clone(), false)),
      );
    }
    this.stepCount = state.step;
  }

  private disposeMoments(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
  }

  /** Free the moment and accumulator tensors. */
  dispose(): void {
    this.disposeMoments();
    this.clearAccumulated();
  }
}
