// Gradient exchange between data-parallel worker threads through one SharedArrayBuffer: each rank writes its flat
// tensors into its own slot, a barrier, each rank averages one chunk of every slot into a shared result, a second
// barrier, each rank reads the whole result. Every rank then holds bit-identical averaged gradients, so each can run
// the optimizer locally and the weights never need re-broadcasting.
import * as tf from "@tensorflow/tfjs";
import { heapOffset, type WasmBackendInternals } from "./wasm-backend.js";

/** The serialisable part of an all-reduce group (created once in the main thread, posted to every worker). */
export interface AllReduceHandle {
  buffer: SharedArrayBuffer;
  world: number;
  /** Floats each slot can hold (the largest exchange). */
  capacity: number;
}

/** What a rank can do with the group. */
export interface AllReduce {
  rank: number;
  world: number;
  /** Mean of `tensors` across ranks (same shapes on every rank, in the same order); new tensors the caller owns. */
  mean(tensors: tf.Tensor[]): tf.Tensor[];
  /** Rank `root`'s values of `tensors` on every rank; new tensors the caller owns. */
  broadcast(tensors: tf.Tensor[], root?: number): tf.Tensor[];
  /** Wait until every rank reached this call. */
  barrier(): void;
  /** Mark the group failed (a rank threw): every rank waiting in a barrier throws instead of hanging. */
  abort(): void;
}

const CTRL = 16; // bytes of barrier state at the start of the buffer (count, generation, aborted)

/**
 * Create the shared memory for `world` ranks exchanging up to `capacity` floats each.
 * @example const h = createAllReduce(2, model.numParameters()); // post h to both workers
 */
export function createAllReduce(world: number, capacity: number): AllReduceHandle {
  if (!Number.isInteger(world) || world < 1)
    throw new Error(`core.createAllReduce: world must be an integer >= 1 (got ${world}).`);
  if (!Number.isInteger(capacity) || capacity < 0)
    throw new Error(`core.createAllReduce: capacity must be an integer >= 0 (got ${capacity}).`);
  // world slots + 1 result, all float32.
  return { buffer: new SharedArrayBuffer(CTRL + (world + 1) * capacity * 4), world, capacity };
}

function copyOut(t: tf.Tensor, dst: Float32Array, at: number): void {
  const be = tf.backend() as unknown as Partial<WasmBackendInternals>;
  if (be.wasm && be.dataIdMap && t.dtype === "float32") {
    // Straight from the wasm heap: no intermediate JS copy (dataSync would make one).
    const off = heapOffset(be as WasmBackendInternals, t) >>> 2;
    dst.set(new Float32Array(be.wasm.asm.memory.buffer).subarray(off, off + t.size), at);
  } else dst.set(t.dataSync() as Float32Array, at);
}

/**
 * Join an all-reduce group as `rank` (call once per worker with the handle from createAllReduce).
 * @example const ar = joinAllReduce(handle, rank); const avg = ar.mean(Object.values(grads))
 */
export function joinAllReduce(handle: AllReduceHandle, rank: number): AllReduce {
  const { buffer, world, capacity } = handle;
  if (!Number.isInteger(rank) || rank < 0 || rank >= world)
    throw new Error(`core.joinAllReduce: rank must be in [0, ${world}) (got ${rank}).`);
  const ctrl = new Int32Array(buffer, 0, 4);
  const slot = (r: number) => new Float32Array(buffer, CTRL + r * capacity * 4, capacity);
  const result = slot(world);
  const barrier = () => {
    if (world === 1) return;
    const gen = Atomics.load(ctrl, 1);
    if (Atomics.add(ctrl, 0, 1) === world - 1) {
      Atomics.store(ctrl, 0, 0);
      Atomics.add(ctrl, 1, 1);
      Atomics.notify(ctrl, 1);
    } else {
      while (Atomics.load(ctrl, 1) === gen) {
        if (Atomics.load(ctrl, 2))
          throw new Error(
            "core.allReduce: another worker failed; this group cannot continue. Start a new workerGroup.",
          );
        Atomics.wait(ctrl, 1, gen, 200);
      }
    }
  };
  const total = (ts: tf.Tensor[]) => {
    const n = ts.reduce((s, t) => s + t.size, 0);
    if (n > capacity)
      throw new Error(
        `core.allReduce: ${n} floats exceed the group's capacity ${capacity}. ` +
          `Create the group with createAllReduce(world, ${n}).`,
      );
    return n;
  };
  const unpack = (src: Float32Array, ts: tf.Tensor[]) => {
    let at = 0;
    return ts.map((t) => {
      const out = tf.tensor(src.subarray(at, at + t.size), t.shape, "float32");
      at += t.size;
      return out;
    });
  };
  return {
    rank,
    world,
    barrier,
    abort() {
      Atomics.store(ctrl, 2, 1);
      Atomics.notify(ctrl, 1);
    },
    mean(tensors) {
      const n = total(tensors);
      const mine = slot(rank);
      let at = 0;
      for (const t of tensors) {
        copyOut(t, mine, at);
        at += t.size;
      }
      barrier();
      // Each rank averages its own chunk of all slots into the shared result.
      const chunk = Math.ceil(n / world);
      const lo = Math.min(n, rank * chunk);
      const hi = Math.min(n, lo + chunk);
      const slots = Array.from({ length: world }, (_, r) => slot(r));
      const inv = 1 / world;
      if (world === 2) {
        const [a, b] = slots;
        for (let i = lo; i < hi; i++) result[i] = (a[i] + b[i]) * inv;
      } else {
        for (let i = lo; i < hi; i++) {
          let s = 0;
          for (let r = 0; r < world; r++) s += slots[r][i];
          result[i] = s * inv;
        }
      }
      barrier();
      return unpack(result, tensors);
    },
    broadcast(tensors, root = 0) {
      total(tensors);
      barrier(); // every rank has finished reading the previous result (a mean() ends without a barrier)
      if (rank === root) {
        let at = 0;
        for (const t of tensors) {
          copyOut(t, result, at);
          at += t.size;
        }
      }
      barrier();
      const out = unpack(result, tensors);
      barrier(); // nobody overwrites the result before every rank has read it
      return out;
    },
  };
}
