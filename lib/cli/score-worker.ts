// Worker-thread entry of `cellrl score`: receives a request (one record, or a batch of rows), answers {id, result}.
// The math grader is synchronous CPU work, so rows are spread over threads; async rewards (the code sandbox) overlap
// inside a thread.
import { parentPort, workerData } from "node:worker_threads";
import { requestScorer, type PoolRequest, type ScoreWorkerData } from "./score-pool.js";

if (parentPort) {
  const port = parentPort;
  const { settings, perRow } = workerData as ScoreWorkerData;
  const answer = requestScorer(settings, perRow);
  port.on("message", (msg: PoolRequest) => {
    answer(msg).then(
      (result) => port.postMessage({ id: msg.id, result }),
      (e: unknown) => port.postMessage({ id: msg.id, result: { fatal: e instanceof Error ? e.message : String(e) } }),
    );
  });
}
