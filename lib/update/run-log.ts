// The run log: one JSONL file per run, the config on the first line and one line of metrics per step. Each line is
// appended and fsync'ed before log() returns, so a crash loses at most the line being written; readRunLog skips a
// torn last line. Logs reload into arquero tables to compare runs.
import * as fs from "node:fs";
import * as path from "node:path";
import * as aq from "arquero";
import { describe, fail } from "../core/errors.js";
import { warn } from "../core/warn.js";

type ColumnTable = ReturnType<typeof aq.table>;

/** An open run log. */
export interface RunLog {
  readonly path: string;
  /** Append one step's metrics (numbers; non-finite values are written as null) and fsync. */
  log(step: number, metrics: Record<string, number>, extra?: Record<string, unknown>): void;
  /** Append a free-form event line (alerts, evals), fsync'ed. */
  event(kind: string, data: Record<string, unknown>): void;
  close(): void;
}

/** Options of openRunLog. */
export interface RunLogOptions {
  /** Run name stored with the config (shown when comparing). Defaults to the file name without extension. */
  name?: string;
  /** "new" fails if the file exists; "append" continues it (resume). Defaults to "new". */
  mode?: "new" | "append";
}

const clean = (v: unknown): unknown => (typeof v === "number" && !Number.isFinite(v) ? null : v);

/**
 * Open (create) a JSONL run log and write the config line.
 * @example const log = update.openRunLog("runs/grpo-seed0.jsonl", {lr: 1e-5, group: 8}); log.log(step, metrics)
 */
export function openRunLog(file: string, config: Record<string, unknown> = {}, options: RunLogOptions = {}): RunLog {
  if (typeof file !== "string" || file.length === 0)
    fail("invalid_input", `update.openRunLog: file must be a path (got ${describe(file)}).`, {}, openRunLog);
  const mode = options.mode ?? "new";
  const exists = fs.existsSync(file);
  if (mode === "new" && exists)
    fail(
      "io",
      `update.openRunLog: ${file} already exists. Pick a new file name, or pass {mode: "append"} to continue that run.`,
      { got: file },
      openRunLog,
    );
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  let fd: number | null = fs.openSync(file, "a");
  const write = (obj: Record<string, unknown>) => {
    if (fd === null) fail("io", `update.RunLog: ${file} is closed. Open it again with {mode: "append"}.`);
    const line = JSON.stringify(obj, (_k, v) => clean(v)) + "\n";
    fs.writeSync(fd, line);
    fs.fsyncSync(fd);
  };
  if (!(mode === "append" && exists && fs.statSync(file).size > 0))
    write({
      type: "config",
      name: options.name ?? path.basename(file).replace(/\.jsonl?$/, ""),
      time: new Date().toISOString(),
      config,
    });
  return {
    path: file,
    log(step, metrics, extra = {}) {
      if (!Number.isFinite(step))
        fail("invalid_input", `update.RunLog.log: step must be a number (got ${describe(step)}).`);
      write({ type: "step", step, time: Date.now() / 1000, ...extra, ...metrics });
    },
    event(kind, data) {
      write({ type: "event", kind, time: Date.now() / 1000, ...data });
    },
    close() {
      if (fd !== null) fs.closeSync(fd);
      fd = null;
    },
  };
}

/** A reloaded run: its name, config, step rows as a table, and events. */
export interface LoadedRun {
  name: string;
  config: Record<string, unknown>;
  steps: ColumnTable;
  events: Record<string, unknown>[];
}

/**
 * Read a run log back: the config, one table row per step (null → NaN), and the events. A torn last line is skipped.
 * @example const run = update.readRunLog("runs/grpo-seed0.jsonl"); run.steps.select("step", "reward/mean")
 */
export function readRunLog(file: string): LoadedRun {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    return fail("io", `update.readRunLog: cannot read ${file} (${(e as Error).message}).`, { cause: e }, readRunLog);
  }
  const lines = text.split("\n").filter((l) => l.trim().length > 0);
  let config: Record<string, unknown> = {},
    name = path.basename(file).replace(/\.jsonl?$/, "");
  const rows: Record<string, unknown>[] = [],
    events: Record<string, unknown>[] = [];
  lines.forEach((l, i) => {
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(l);
    } catch {
      if (i === lines.length - 1)
        return warn(
          "update/tornRunLog",
          `update.readRunLog: the last line of ${file} is incomplete (the run stopped mid-write); it was skipped.`,
        );
      return fail(
        "io",
        `update.readRunLog: line ${i + 1} of ${file} is not JSON. The file is not a cellrl run log or was edited.`,
        { path: [i + 1] },
        readRunLog,
      );
    }
    if (o.type === "config") {
      config = (o.config as Record<string, unknown>) ?? {};
      if (typeof o.name === "string") name = o.name;
    } else if (o.type === "step") {
      const { type: _t, ...r } = o;
      rows.push(r);
    } else if (o.type === "event") events.push(o);
  });
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const data: Record<string, unknown[]> = {};
  for (const c of cols) data[c] = rows.map((r) => (r[c] === null || r[c] === undefined ? NaN : r[c]));
  return { name, config, steps: aq.table(data), events };
}

/**
 * Several run logs as one long table (a "run" column first), to compare curves run against run.
 * @example
 * update.compareRuns(["runs/grpo.jsonl", "runs/flowrl.jsonl"]).groupby("run").rollup({r: aq.op.mean("reward/mean")})
 */
export function compareRuns(files: string[]): ColumnTable {
  if (!Array.isArray(files) || files.length === 0)
    fail(
      "invalid_input",
      `update.compareRuns: files must be a non-empty array of run-log paths (got ${describe(files)}).`,
      {},
      compareRuns,
    );
  const runs = files.map((f) => readRunLog(f));
  const cols = [...new Set(runs.flatMap((r) => r.steps.columnNames()))];
  const data: Record<string, unknown[]> = { run: [] };
  for (const c of cols) data[c] = [];
  for (const r of runs) {
    const n = r.steps.numRows();
    for (let i = 0; i < n; i++) {
      data.run.push(r.name);
      for (const c of cols) data[c].push(r.steps.columnNames().includes(c) ? r.steps.get(c, i) : NaN);
    }
  }
  return aq.table(data);
}
