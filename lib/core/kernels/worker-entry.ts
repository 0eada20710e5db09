// Body of every worker thread started by workerGroup(): picks a backend (with cellrl's fast kernels), loads the
// user's module, joins the all-reduce group, then runs `{id, fn, arg}` calls and answers `{id, result | error}`.
import { parentPort, workerData } from "node:worker_threads";
import { useBackend } from "../backend.js";
import { joinAllReduce, type AllReduceHandle } from "./all-reduce.js";
import type { WorkerContext } from "./worker-group.js";

interface Init {
  module: string;
  rank: number;
  world: number;
  handle: AllReduceHandle | null;
  fastKernels: boolean;
}

async function main(): Promise<void> {
  const init = workerData as Init;
  const port = parentPort!;
  const backend = await useBackend({ fastKernels: init.fastKernels, threads: 1 });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(init.module) as Record<string, (arg: unknown, ctx: WorkerContext) => unknown>;
  const ctx: WorkerContext = {
    rank: init.rank,
    world: init.world,
    backend: backend.name,
    allReduce: init.handle ? joinAllReduce(init.handle, init.rank) : null,
  };
  port.on("message", async (msg: { id: number; fn: string; arg: unknown }) => {
    try {
      const f = mod[msg.fn];
      if (typeof f !== "function")
        throw new Error(`core.workerGroup: ${init.module} exports no function ${JSON.stringify(msg.fn)}.`);
      port.postMessage({ id: msg.id, result: await f(msg.arg, ctx) });
    } catch (e) {
      ctx.allReduce?.abort(); // the other workers may be waiting for this one in a barrier
      port.postMessage({ id: msg.id, error: (e as Error)?.stack ?? String(e) });
    }
  });
  port.postMessage({ ready: true, backend: backend.name });
}

main().catch((e) => parentPort!.postMessage({ ready: false, error: (e as Error)?.stack ?? String(e) }));
