// The training loop, made only of caller-supplied pieces: a step function (grpoStep, flowrlStep, gkdStep or a
// notebook's own), an eval every N steps, a dashboard hook and the run log. Nothing here knows an algorithm.
import * as aq from "arquero";
import { describe, fail } from "../core/errors.js";
import type { Alert } from "./alerts.js";
import type { RunLog } from "./run-log.js";

type ColumnTable = ReturnType<typeof aq.table>;

/** What a step function returns (a StepResult satisfies it). */
export interface StepOutput {
  metrics: Record<string, number>;
  alerts?: Alert[];
}

/** What the hook sees after every step. */
export interface TrainEvent {
  step: number;
  metrics: Record<string, number>;
  alerts: Alert[];
  /** Eval metrics when an eval ran at this step. */
  eval?: Record<string, number>;
  /** Every step's metrics so far (the step's own row included). */
  history: Record<string, number>[];
  /** The step function's full output (rollout, rewards, ...). */
  output: StepOutput;
}

/** Options of train. */
export interface TrainOptions {
  /** Number of steps. */
  steps: number;
  /** One step: receives the step number and the metrics history (for alerts); returns metrics (+ alerts). */
  step: (step: number, ctx: { history: Record<string, number>[] }) => StepOutput | Promise<StepOutput>;
  /** Run `run` every `every` steps (and before the first step when `atStart`); its metrics get an "eval/" prefix. */
  eval?: {
    every: number;
    run: (step: number) => Record<string, number> | Promise<Record<string, number>>;
    atStart?: boolean;
  } | null;
  /** Called after every step (a live dashboard's update, a progress bar, an early stop by throwing). */
  onStep?: ((e: TrainEvent) => void | Promise<void>) | null;
  /** Run log to append every step to (update.openRunLog). */
  log?: RunLog | null;
  /** First step number (to resume). Defaults to 0. */
  start?: number;
  /** Stop early when this returns true for a step's metrics. */
  stopWhen?: ((metrics: Record<string, number>, step: number) => boolean) | null;
}

/** Result of train: the history as plain rows and as an arquero table, and every alert raised. */
export interface TrainResult {
  history: Record<string, number>[];
  table: ColumnTable;
  alerts: Alert[];
  /** Steps actually run. */
  steps: number;
}

function prefixed(m: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k.startsWith("eval/") ? k : `eval/${k}`, v]));
}

/**
 * Run `steps` steps of a step function with periodic eval, a hook per step and an incremental run log.
 * @example
 * await update.train({
 *   steps: 50,
 *   step: (i, {history}) => update.grpoStep({policy, opt, prompts: batchAt(i), reward, step: i, history}),
 *   eval: {every: 10, run: evalAcc},
 *   onStep: (e) => dash.update(e.metrics),
 *   log,
 * })
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const {
    steps,
    step,
    eval: ev = null,
    onStep = null,
    log = null,
    start = 0,
    stopWhen = null,
  } = options ?? ({} as TrainOptions);
  if (!Number.isInteger(steps) || steps < 0)
    fail(
      "invalid_option",
      `update.train: options.steps must be a non-negative integer (got ${describe(steps)}).`,
      { path: ["steps"] },
      train,
    );
  if (typeof step !== "function")
    fail(
      "invalid_option",
      `update.train: options.step must be a function (step, {history}) => {metrics} (got ${describe(step)}). ` +
        `Wrap update.grpoStep in a closure.`,
      { path: ["step"] },
      train,
    );
  if (ev && (!Number.isInteger(ev.every) || ev.every < 1 || typeof ev.run !== "function"))
    fail(
      "invalid_option",
      `update.train: options.eval must be {every: positive integer, run: (step) => metrics} (got ${describe(ev)}).`,
      { path: ["eval"] },
      train,
    );
  const history: Record<string, number>[] = [];
  const alerts: Alert[] = [];
  let pendingEval: Record<string, number> | undefined;
  if (ev?.atStart) pendingEval = prefixed(await ev.run(start));
  let done = 0;
  for (let i = start; i < start + steps; i++) {
    const out = await step(i, { history });
    if (!out || typeof out.metrics !== "object")
      fail(
        "invalid_input",
        `update.train: the step function returned ${describe(out)} at step ${i} (expected {metrics, alerts?}).`,
        {},
        train,
      );
    let evalM = i === start ? pendingEval : undefined;
    if (ev && (i + 1 - start) % ev.every === 0) evalM = { ...evalM, ...prefixed(await ev.run(i + 1)) };
    const row: Record<string, number> = { step: i, ...out.metrics, ...evalM };
    history.push(row);
    alerts.push(...(out.alerts ?? []));
    log?.log(i, { ...out.metrics, ...evalM }, { alerts: (out.alerts ?? []).map((a) => a.key) });
    done++;
    await onStep?.({ step: i, metrics: row, alerts: out.alerts ?? [], eval: evalM, history, output: out });
    if (stopWhen?.(row, i)) break;
  }
  const cols = [...new Set(history.flatMap((r) => Object.keys(r)))];
  const data: Record<string, number[]> = {};
  for (const c of cols) data[c] = history.map((r) => r[c] ?? NaN);
  return { history, table: aq.table(data), alerts, steps: done };
}
