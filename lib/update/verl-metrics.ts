// cellrl's step metric keys next to verl's. cellrl keeps its own "<folder>/<camelCase>" keys (notebooks, the dashboard
// and run logs use them); this table renames them to verl's (verl/trainer/ppo/metric_utils.py compute_data_metrics and
// compute_timing_metrics, verl/workers/actor/dp_actor.py update_policy, the ray trainer's old-log-prob entropy) so a
// cellrl run can be logged and read next to a verl run, and a verl log read next to a cellrl run.
import { describe, fail } from "../core/errors.js";
import { mismatchVerlNames } from "./rollout-correction.js";

/**
 * cellrl metric key → verl metric key, for every cellrl key that has a verl equivalent with the same meaning.
 * Keys without one (reward/std, reward/zeroStdFrac, update/ratio*, update/clipFracLow|High, update/refKl,
 * update/rewardKl, time/teacher, distill/*, ...) are not in the table. Where the two are computed slightly differently
 * the docs say so (docs/algorithms.md, "Metric keys").
 * @example update.verlMetricNames["update/clipFrac"] // "actor/pg_clipfrac"
 */
export const verlMetricNames: Readonly<Record<string, string>> = Object.freeze({
  "reward/mean": "critic/score/mean",
  "reward/max": "critic/score/max",
  "reward/min": "critic/score/min",
  "update/advMean": "critic/advantages/mean",
  "update/advMax": "critic/advantages/max",
  "update/advMin": "critic/advantages/min",
  "update/pgLoss": "actor/pg_loss",
  "update/clipFrac": "actor/pg_clipfrac",
  "update/dualClipFrac": "actor/pg_clipfrac_lower",
  "update/approxKl": "actor/ppo_kl",
  "update/klLoss": "actor/kl_loss",
  "update/klCoef": "actor/kl_coef",
  "rollout/entropy": "actor/entropy",
  "update/gradNorm": "actor/grad_norm",
  "update/lr": "actor/lr",
  "rollout/lengthMean": "response_length/mean",
  "rollout/lengthMax": "response_length/max",
  "rollout/lengthMin": "response_length/min",
  "rollout/truncFrac": "response_length/clip_ratio",
  "time/rollout": "timing_s/gen",
  "time/reward": "timing_s/reward",
  "time/logprob": "timing_s/old_log_prob",
  "time/update": "timing_s/update_actor",
});

/** verl key → cellrl key (the inverse of verlMetricNames). */
const fromVerl: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(Object.entries({ ...verlMetricNames, ...mismatchVerlNames }).map(([c, v]) => [v, c])),
);

/**
 * A copy of cellrl step metrics under verl's names. Keys without a verl equivalent keep their cellrl name (they cannot
 * collide: verl's keys live under critic/, actor/, response_length/ and timing_s/).
 * @example update.toVerlMetrics(r.metrics)["actor/pg_clipfrac"] // same number as r.metrics["update/clipFrac"]
 */
export function toVerlMetrics(metrics: Record<string, number>): Record<string, number> {
  if (!metrics || typeof metrics !== "object")
    fail(
      "invalid_input",
      `update.toVerlMetrics: expected a metrics object such as grpoStep's result.metrics (got ${describe(metrics)}).`,
      {},
      toVerlMetrics,
    );
  const out: Record<string, number> = {};
  // the mismatch corrections' "mismatch/*" keys map to verl's rollout_corr/* (update.rolloutCorrection)
  for (const [k, v] of Object.entries(metrics)) out[verlMetricNames[k] ?? mismatchVerlNames[k] ?? k] = v;
  return out;
}

/** Parse one line of verl's console logger: "step:3 - critic/score/mean:0.5 - actor/pg_clipfrac:0.01 - ...". */
function parseConsoleLine(line: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const part of line.trim().split(" - ")) {
    const i = part.lastIndexOf(":");
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

/**
 * Metrics logged by a verl run, under cellrl's keys, so they can be compared with a cellrl run (e.g. in one
 * update.compareRuns-style table or one dashboard). Accepts a metrics object (`{"critic/score/mean": 0.5, ...}`), a
 * line of verl's JSONL file logger parsed or not (`{"step": 3, "data": {...}}`), or a line of verl's console logger
 * (`"step:3 - critic/score/mean:0.5 - ..."`). verl keys without a cellrl equivalent keep their verl name; `step` is
 * kept when present; non-numeric values are dropped.
 * @example const rows = fs.readFileSync("verl.jsonl", "utf8").split("\n").filter(Boolean).map(update.fromVerlMetrics)
 */
export function fromVerlMetrics(input: Record<string, unknown> | string): Record<string, number> {
  let obj: Record<string, unknown>;
  if (typeof input === "string") {
    const s = input.trim();
    if (s.startsWith("{")) {
      try {
        obj = JSON.parse(s);
      } catch (e) {
        return fail(
          "invalid_input",
          `update.fromVerlMetrics: the line starts with "{" but is not JSON (${(e as Error).message}). Pass ` +
            `one JSONL line, one console line, or an object.`,
          { cause: e },
          fromVerlMetrics,
        );
      }
    } else obj = parseConsoleLine(s);
  } else if (input && typeof input === "object") obj = input;
  else
    return fail(
      "invalid_input",
      `update.fromVerlMetrics: expected verl metrics as an object, a JSONL line or a console line ` +
        `(got ${describe(input)}).`,
      {},
      fromVerlMetrics,
    );
  // verl's file logger writes {"step": n, "data": {...}}
  if (obj.data && typeof obj.data === "object" && !Array.isArray(obj.data))
    obj = { ...(obj.data as Record<string, unknown>), ...(obj.step !== undefined ? { step: obj.step } : {}) };
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(obj)) {
    const x = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
    if (Number.isNaN(x) && !(typeof v === "number")) continue;
    out[fromVerl[k] ?? k] = x;
  }
  return out;
}
