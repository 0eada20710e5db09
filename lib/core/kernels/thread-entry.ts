// Body of a kernel thread started by threads.ts: instantiate cellrl's kernel module on the shared tfjs heap, then run
// the op in this thread's argument slot every time the generation word moves, and count down the pending word.
// It imports nothing from cellrl, so it starts in milliseconds and holds no tfjs state.
import { parentPort, workerData } from "node:worker_threads";
import { CONTROL, THREAD_OPS, type ThreadInit } from "./threads.js";

const { GEN, PENDING, ERROR, STOP, ERROR_TEXT, ERROR_CHARS, SLOT } = CONTROL;

function main(): void {
  const init = workerData as ThreadInit;
  const WA = (globalThis as unknown as { WebAssembly: { Instance: new (m: object, i: object) => { exports: object } } })
    .WebAssembly;
  const instance = new WA.Instance(init.module, { env: { memory: init.memory } });
  const exports = instance.exports as Record<string, (...a: number[]) => void>;
  const fns = THREAD_OPS.map((name) => exports[name]);
  const ctl = new Int32Array(init.control);
  const slots = new Float64Array(init.slots);
  const base = (init.rank - 1) * SLOT;
  // Read the generation before saying ready: the caller may hand out the first op as soon as it hears from us.
  let seen = Atomics.load(ctl, GEN);
  parentPort!.postMessage({ ready: true });
  for (;;) {
    let g = Atomics.load(ctl, GEN);
    let spins = 0;
    while (g === seen) {
      if (++spins >= init.spin) {
        Atomics.wait(ctl, GEN, seen);
        spins = 0;
      }
      g = Atomics.load(ctl, GEN);
    }
    seen = g;
    if (Atomics.load(ctl, STOP)) return;
    const code = slots[base];
    if (code >= 0) {
      const s = slots;
      const b = base;
      try {
        fns[code](
          s[b + 1], s[b + 2], s[b + 3], s[b + 4], s[b + 5], s[b + 6], s[b + 7], s[b + 8], s[b + 9], s[b + 10],
          s[b + 11], s[b + 12], s[b + 13], s[b + 14], s[b + 15], s[b + 16], s[b + 17], s[b + 18], s[b + 19],
        ); // prettier-ignore
      } catch (e) {
        if (Atomics.compareExchange(ctl, ERROR, 0, 1) === 0) {
          const text = `thread ${init.rank}: ${String((e as Error)?.message ?? e)}`.slice(0, ERROR_CHARS - 1);
          for (let i = 0; i < text.length; i++) Atomics.store(ctl, ERROR_TEXT + i, text.charCodeAt(i));
          Atomics.store(ctl, ERROR_TEXT + text.length, 0);
        }
      }
    }
    if (Atomics.sub(ctl, PENDING, 1) === 1) Atomics.notify(ctl, PENDING);
  }
}

try {
  main();
} catch (e) {
  parentPort!.postMessage({ ready: false, error: (e as Error)?.stack ?? String(e) });
}
