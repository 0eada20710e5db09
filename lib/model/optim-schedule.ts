// Learning-rate schedules as multipliers of the base lr: lr(step) = lr * schedule(step), where step counts optimizer
// steps already taken (0 for the first update). Departures from transformers' schedulers:
//  1. Warmup is (step + 1) / warmupSteps (nanoGPT), so the first update is not wasted at lr 0 as in
//     get_cosine_schedule_with_warmup, and the last warmup step reaches the full lr.
//  2. After totalSteps the multiplier stays at minLrRatio instead of going to 0 (cosine) or below it.
import { checkIntAtLeast, mustBe } from "../core/checks.js";
import { describe, fail } from "../core/errors.js";
import { registry } from "../core/registry.js";

/** A learning-rate multiplier per optimizer step (0-based). */
export type LrSchedule = (step: number) => number;

/** Options shared by the built-in schedules. */
export interface ScheduleOptions {
  /** Steps of linear warmup from lr/warmupSteps to lr. Defaults to 0. */
  warmupSteps?: number;
  /** Step at which decay ends (cosine and linear; unused by constant). Defaults to 1000. */
  totalSteps?: number;
  /** Final lr as a fraction of the base lr (cosine and linear). Defaults to 0. */
  minLrRatio?: number;
}

/** A schedule given by name and options, e.g. {type: "cosine", warmupSteps: 10, totalSteps: 200, minLrRatio: 0.1}. */
export interface ScheduleSpec extends ScheduleOptions {
  type: string;
}

/** Defaults of the built-in schedules. */
export const defaults: Required<ScheduleOptions> = { warmupSteps: 0, totalSteps: 1000, minLrRatio: 0 };

function check(name: string, o: ScheduleOptions): Required<ScheduleOptions> {
  const r = { ...defaults, ...o };
  const at = { where: `model.schedule(${name})` };
  checkIntAtLeast(at, "warmupSteps", r.warmupSteps, 0);
  if (!Number.isInteger(r.totalSteps) || r.totalSteps < 1 || r.totalSteps < r.warmupSteps)
    fail(
      "invalid_option",
      `model.schedule(${name}): totalSteps must be an integer >= max(1, warmupSteps) (got ${describe(r.totalSteps)}; ` +
        `warmupSteps ${r.warmupSteps}).`,
      { path: ["totalSteps"], got: r.totalSteps },
    );
  if (!(r.minLrRatio >= 0 && r.minLrRatio <= 1)) mustBe(at, "minLrRatio", "must be in [0, 1]", r.minLrRatio);
  return r;
}

function progress(step: number, o: Required<ScheduleOptions>): number {
  return Math.min(1, Math.max(0, (step - o.warmupSteps) / Math.max(1, o.totalSteps - o.warmupSteps)));
}

/**
 * Constant multiplier 1 after an optional linear warmup.
 * @example constantSchedule({warmupSteps: 10})(4) // 0.5
 */
export function constantSchedule(options: ScheduleOptions = {}): LrSchedule {
  const o = check("constant", options);
  return (step) => (step < o.warmupSteps ? (step + 1) / o.warmupSteps : 1);
}

/**
 * Linear warmup, then cosine decay from 1 to minLrRatio at totalSteps: m = r + (1 - r) * (1 + cos(pi * p)) / 2.
 * @example cosineSchedule({warmupSteps: 10, totalSteps: 110, minLrRatio: 0.1})(60) // 0.55
 */
export function cosineSchedule(options: ScheduleOptions = {}): LrSchedule {
  const o = check("cosine", options);
  return (step) =>
    step < o.warmupSteps
      ? (step + 1) / o.warmupSteps
      : o.minLrRatio + (1 - o.minLrRatio) * 0.5 * (1 + Math.cos(Math.PI * progress(step, o)));
}

/**
 * Linear warmup, then linear decay from 1 to minLrRatio at totalSteps.
 * @example linearSchedule({totalSteps: 100})(50) // 0.5
 */
export function linearSchedule(options: ScheduleOptions = {}): LrSchedule {
  const o = check("linear", options);
  return (step) => (step < o.warmupSteps ? (step + 1) / o.warmupSteps : 1 - (1 - o.minLrRatio) * progress(step, o));
}

/**
 * Schedule builders by name: "constant", "cosine", "linear". Add your own with schedules.add(name, (opts) => fn).
 * @example schedules.add("step-decay", (o) => (step) => (step < (o.totalSteps ?? 1000) / 2 ? 1 : 0.1))
 */
export const schedules = registry<(options: ScheduleOptions) => LrSchedule>("schedule");
schedules.add("constant", constantSchedule, { summary: "1 after linear warmup" });
schedules.add("cosine", cosineSchedule, { summary: "linear warmup, cosine decay to minLrRatio at totalSteps" });
schedules.add("linear", linearSchedule, { summary: "linear warmup, linear decay to minLrRatio at totalSteps" });

/**
 * A schedule function from a name, a spec object or a function (returned as is).
 * @example makeSchedule({type: "cosine", warmupSteps: 5, totalSteps: 100})(0) // 0.2
 */
export function makeSchedule(spec: string | ScheduleSpec | LrSchedule): LrSchedule {
  if (typeof spec === "function") return spec;
  if (typeof spec === "string") return schedules.get(spec)({});
  if (!spec || typeof spec.type !== "string")
    mustBe(
      { where: "model.makeSchedule" },
      "schedule",
      "must be a name, {type, warmupSteps, totalSteps, minLrRatio} or a function",
      spec,
    );
  const { type, ...opts } = spec;
  return schedules.get(type)(opts);
}
