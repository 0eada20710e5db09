// A fixed pool of worker threads that score records, or an in-process scorer when workers = 0.
import * as fs from "node:fs";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { rowScorer, type RowResult, type RowScorerSettings } from "./score-row.js";

/** Scores records somewhere (threads or this thread); `close` stops everything and rejects what is still queued. */
export interface RowPool {
  run(record: Record<string, unknown>): Promise<RowResult>;
  close(): Promise<void>;
}

interface Task {
  id: number;
  record: Record<string, unknown>;
  resolve: (r: RowResult) => void;
  reject: (e: Error) => void;
}

// Compiled, the worker is score-worker.js next to this file. Under tsx (tests, development) it is the .ts source, which
// a worker thread cannot load by itself: a small eval'd bootstrap registers tsx's require hook first.
function startWorker(settings: RowScorerSettings): Worker {
  const js = path.join(__dirname, "score-worker.js");
  if (fs.existsSync(js)) return new Worker(js, { workerData: settings });
  const ts = path.join(__dirname, "score-worker.ts");
  const boot = `require(${JSON.stringify(require.resolve("tsx/cjs"))}); require(${JSON.stringify(ts)});`;
  return new Worker(boot, { eval: true, workerData: settings });
}

/**
 * Start `workers` scoring threads (0 = score in this thread, for debugging and tiny files). Each thread takes up to
 * `perWorker` records at once, so async rewards (the code sandbox) keep several programs running per thread; sync
 * rewards (math) simply queue inside the thread.
 * @example const pool = scorePool(4, {}); const r = await pool.run(record); await pool.close()
 */
export function scorePool(workers: number, settings: RowScorerSettings, options: { perWorker?: number } = {}): RowPool {
  const { perWorker = 4 } = options;
  if (workers === 0) {
    const scoreRow = rowScorer(settings);
    return { run: scoreRow, close: async () => undefined };
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
      best.postMessage({ id: t.id, record: t.record });
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
    const w = startWorker(settings);
    inFlight.set(w, new Map());
    w.on("message", (msg: { id: number; result: RowResult }) => {
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
  return {
    run(record) {
      if (closed) return Promise.reject(new Error("the scoring pool is closed"));
      if (broken) return Promise.reject(broken);
      return new Promise<RowResult>((resolve, reject) => {
        queue.push({ id: nextId++, record, resolve, reject });
        dispatch();
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      failAll(new Error("scoring stopped"));
      await Promise.all([...inFlight.keys()].map((w) => w.terminate()));
    },
  };
}
