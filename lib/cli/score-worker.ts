// Worker-thread entry of `cellrl score`: receives {id, record}, answers {id, result}. The math grader is synchronous
// CPU work, so rows are spread over threads; async rewards (the code sandbox) overlap inside a thread.
import { parentPort, workerData } from "node:worker_threads";
import { rowScorer, type RowScorerSettings } from "./score-row.js";

if (parentPort) {
  const port = parentPort;
  const scoreRow = rowScorer(workerData as RowScorerSettings);
  port.on("message", (msg: { id: number; record: Record<string, unknown> }) => {
    scoreRow(msg.record).then(
      (result) => port.postMessage({ id: msg.id, result }),
      (e: unknown) => port.postMessage({ id: msg.id, result: { fatal: e instanceof Error ? e.message : String(e) } }),
    );
  });
}
