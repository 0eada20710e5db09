// A fixed pool of worker threads that score records, or an in-process scorer when workers = 0.
import * as fs from "node:fs";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import {
  lineScorer,
  rowScorer,
  type LineResult,
  type RowInput,
  type RowResult,
  type RowScorerSettings,
} from "./score-row.js";

/** Scores records somewhere (threads or this thread); `close` stops everything and rejects what is still queued. */
export interface RowPool {
  /** Score one parsed record. */
  run(record: Record<string, unknown>): Promise<RowResult>;
  /** Score a batch of rows (JSONL lines are parsed in the thread) into output lines, in order: one message each way. */
  runLines(rows: RowInput[]): Promise<LineResult[]>;
  close(): Promise<void>;
}

/** A message to a scoring thread: one record, or a batch of rows to score into lines. */
export type PoolRequest = { id: number; record: Record<string, unknown> } | { id: number; rows: RowInput[] };

interface Task {
  id: number;
  request: PoolRequest;
  resolve: (r: unknown) => void;
  reject: (e: Error) => void;
}

// Compiled, the worker is score-worker.js next to this file. Under tsx (tests, development) it is the .ts source, which
// a worker thread cannot load by itself: a small eval'd bootstrap registers tsx's require hook first.
function startWorker(workerData: ScoreWorkerData): Worker {
  const js = path.join(__dirname, "score-worker.js");
  if (fs.existsSync(js)) return new Worker(js, { workerData });
  const ts = path.join(__dirname, "score-worker.ts");
  const boot = `require(${JSON.stringify(require.resolve("tsx/cjs"))}); require(${JSON.stringify(ts)});`;
  return new Worker(boot, { eval: true, workerData });
}

/** What a scoring thread starts with. */
export interface ScoreWorkerData {
  settings: RowScorerSettings;
  /** Rows of a batch scored at once. */
  perRow: number;
}

/**
 * A limit of `n` calls in flight, shared by every request a thread answers: async rewards (the code sandbox) overlap up
 * to it, sync ones (math) simply run in turn.
 * @example const limit = limiter(2); await Promise.all([a, b, c].map((x) => limit(() => score(x))))
 */
export function limiter(n: number): <R>(fn: () => Promise<R>) => Promise<R> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (fn) => {
    while (active >= n) await new Promise<void>((wake) => waiting.push(wake));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/**
 * The scoring function of a thread: answers one request (a record, or a batch of rows), at most `perRow` rows at once
 * over all requests.
 * @example const answer = requestScorer({}, 4); await answer({id: 0, rows: [line]}) // [{line, scores, ...}]
 */
export function requestScorer(
  settings: RowScorerSettings,
  perRow: number,
): (request: PoolRequest) => Promise<RowResult | LineResult[]> {
  const scoreRow = rowScorer(settings);
  const scoreLine = lineScorer(settings);
  const limit = limiter(perRow);
  return (request) =>
    "rows" in request
      ? Promise.all(request.rows.map((row) => limit(() => scoreLine(row))))
      : limit(() => scoreRow(request.record));
}

/**
 * Start `workers` scoring threads (0 = score in this thread, for debugging and tiny files). Each thread takes up to
 * `perWorker` requests at once and scores up to `perWorker` rows at once, so async rewards (the code sandbox) keep
 * several programs running per thread; sync rewards (math) simply queue inside the thread.
 * @example const pool = scorePool(4, {}); const r = await pool.run(record); await pool.close()
 */
export function scorePool(workers: number, settings: RowScorerSettings, options: { perWorker?: number } = {}): RowPool {
  const { perWorker = 4 } = options;
  if (workers === 0) {
    const answer = requestScorer(settings, perWorker);
    return {
      run: (record) => answer({ id: 0, record }) as Promise<RowResult>,
      runLines: (rows) => answer({ id: 0, rows }) as Promise<LineResult[]>,
      close: async () => undefined,
    };
  }
  const queue: Task[] = [];
  const inFlight = new Map<Worker, Map<number, Task>>();
  let closed = false;
  let nextId = 0;
  let broken: Error | null = null;

  const dispatch = () => {
    while (queue.length > 0) {
      let best: Worker | null = null;
      for (const [w, tasks] of inFlight)
        if (tasks.size < perWorker && (best === null || tasks.size < (inFlight.get(best) as Map<number, Task>).size))
          best = w;
      if (best === null) return;
      const t = queue.shift() as Task;
      (inFlight.get(best) as Map<number, Task>).set(t.id, t);
      best.postMessage(t.request);
    }
  };
  const failAll = (e: Error) => {
    broken = e;
    for (const t of queue.splice(0)) t.reject(e);
    for (const tasks of inFlight.values()) {
      for (const t of tasks.values()) t.reject(e);
      tasks.clear();
    }
  };
  for (let i = 0; i < workers; i++) {
    const w = startWorker({ settings, perRow: perWorker });
    inFlight.set(w, new Map());
    w.on("message", (msg: { id: number; result: unknown }) => {
      const tasks = inFlight.get(w) as Map<number, Task>;
      const t = tasks.get(msg.id);
      tasks.delete(msg.id);
      t?.resolve(msg.result);
      dispatch();
    });
    w.on("error", (e) => {
      if (!closed) failAll(new Error(`a scoring thread crashed: ${e.message}`));
    });
    w.on("exit", (code) => {
      if (!closed && code !== 0) failAll(new Error(`a scoring thread exited with code ${code}`));
    });
  }
  const submit = (make: (id: number) => PoolRequest): Promise<unknown> => {
    if (closed) return Promise.reject(new Error("the scoring pool is closed"));
    if (broken) return Promise.reject(broken);
    return new Promise((resolve, reject) => {
      const id = nextId++;
      queue.push({ id, request: make(id), resolve, reject });
      dispatch();
    });
  };
  return {
    run: (record) => submit((id) => ({ id, record })) as Promise<RowResult>,
    runLines: (rows) => submit((id) => ({ id, rows })) as Promise<LineResult[]>,
    async close() {
      if (closed) return;
      closed = true;
      failAll(new Error("scoring stopped"));
      await Promise.all([...inFlight.keys()].map((w) => w.terminate()));
    },
  };
}
