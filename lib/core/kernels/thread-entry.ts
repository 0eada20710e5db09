// Body of a kernel thread started by threads.ts: instantiate cellrl's kernel module on the shared tfjs heap, then each
// time the generation word moves, help run the current op's chunks (drainChunks, the same loop the caller runs).
// It imports nothing that loads tfjs, so it starts in milliseconds and holds no tfjs state.
import { parentPort, workerData } from "node:worker_threads";
import { CONTROL, THREAD_OPS, drainChunks, type ThreadInit } from "./threads.js";

const { GEN, STOP } = CONTROL;

function main(): void {
  const init = workerData as ThreadInit;
  const WA = (globalThis as unknown as { WebAssembly: { Instance: new (m: object, i: object) => { exports: object } } })
    .WebAssembly;
  const instance = new WA.Instance(init.module, { env: { memory: init.memory } });
  const kernels = instance.exports as Record<string, (...a: number[]) => void>;
  const fns = THREAD_OPS.map((name) => kernels[name]);
  const ctl = new Int32Array(init.control);
  const slots = new Float64Array(init.slots);
  const scratch = () => slots[init.rank - 1]; // this thread's packing buffer, set by the caller before an op
  const who = `kernel thread ${init.rank}`;
  // Read the generation before saying ready: the caller may hand out the first op as soon as it hears from us.
  let seen = Atomics.load(ctl, GEN);
  parentPort!.postMessage({ ready: true });
  for (;;) {
    let g = Atomics.load(ctl, GEN);
    let spins = 0;
    let since = 0;
    while (g === seen) {
      // Poll for spinMicros (the clock is read every 1024 polls), then sleep until the next op.
      if ((++spins & 1023) === 0) {
        const now = performance.now();
        if (since === 0) since = now;
        else if ((now - since) * 1000 > init.spinMicros) {
          Atomics.wait(ctl, GEN, seen);
          since = 0;
        }
      }
      g = Atomics.load(ctl, GEN);
    }
    seen = g;
    if (Atomics.load(ctl, STOP)) return;
    drainChunks(ctl, slots, fns, who, scratch);
  }
}

try {
  main();
} catch (e) {
  parentPort!.postMessage({ ready: false, error: (e as Error)?.stack ?? String(e) });
}
