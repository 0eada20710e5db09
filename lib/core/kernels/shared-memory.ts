// Make a wasm binary's linear memory shared, so worker threads can run cellrl's kernels on the tfjs heap in place.
//
// tfjs-backend-wasm 4.22 only picks its threaded build in browsers (its WASM_HAS_MULTITHREAD_SUPPORT flag is false
// under Node), and its SIMD build defines an ordinary memory. Flipping that memory's limits to "shared" (the threads
// proposal, on by default in Node 20) changes nothing else about the module: the SIMD build uses no atomics, so its
// code runs as before, but `memory.buffer` becomes a SharedArrayBuffer that other threads can address. cellrl's kernel
// module imports the memory, so its import must be declared shared too (an import only links to a memory with the same
// shared flag). Both edits happen here, on the bytes, before compiling.

/** The largest wasm32 memory (4 GiB in 64 KiB pages); a shared memory must declare a maximum. */
export const MAX_PAGES = 65536;

function readLeb(bytes: Uint8Array, p: number): [value: number, next: number] {
  let v = 0;
  let shift = 0;
  let b: number;
  do {
    b = bytes[p++];
    v += (b & 0x7f) * 2 ** shift;
    shift += 7;
  } while (b & 0x80);
  return [v, p];
}

function leb(v: number): number[] {
  const out: number[] = [];
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) b |= 0x80;
    out.push(b);
  } while (v > 0);
  return out;
}

function skipName(bytes: Uint8Array, p: number): [name: string, next: number] {
  const [n, q] = readLeb(bytes, p);
  return [Buffer.from(bytes.subarray(q, q + n)).toString("utf8"), q + n];
}

/** Memory limits rewritten as shared with a maximum; returns the new bytes and where the old limits ended. */
function sharedLimits(bytes: Uint8Array, p: number): [encoded: number[], next: number] {
  const flags = bytes[p++];
  if (flags & 0x04) throw new Error("memory64 is not supported");
  let init: number;
  [init, p] = readLeb(bytes, p);
  let max = MAX_PAGES;
  if (flags & 0x01) [max, p] = readLeb(bytes, p);
  return [[0x03, ...leb(init), ...leb(max)], p];
}

/**
 * The same module with every memory it defines or imports declared shared (maximum kept, or 4 GiB when absent).
 * Throws on a binary it cannot parse; a module without memory comes back unchanged.
 * @example new WebAssembly.Module(withSharedMemory(readFileSync("tfjs-backend-wasm-simd.wasm")))
 */
export function withSharedMemory(bytes: Uint8Array): Uint8Array {
  if (bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d)
    throw new Error("not a WebAssembly binary (bad magic)");
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  let p = 8;
  while (p < bytes.length) {
    const id = bytes[p];
    const [size, body] = readLeb(bytes, p + 1);
    const end = body + size;
    if (id === 5) {
      // memory section: vec(limits)
      let [n, q] = readLeb(bytes, body);
      const out = [...leb(n)];
      for (; n > 0; n--) {
        const [enc, next] = sharedLimits(bytes, q);
        out.push(...enc);
        q = next;
      }
      parts.push(Uint8Array.from([5, ...leb(out.length), ...out]));
    } else if (id === 2) {
      // import section: vec(module name, field name, kind, desc); kind 2 is a memory
      let [n, q] = readLeb(bytes, body);
      const out: number[] = [...leb(n)];
      for (; n > 0; n--) {
        const start = q;
        [, q] = skipName(bytes, q);
        [, q] = skipName(bytes, q);
        const kind = bytes[q++];
        if (kind === 2) {
          out.push(...bytes.subarray(start, q));
          const [enc, next] = sharedLimits(bytes, q);
          out.push(...enc);
          q = next;
          continue;
        }
        if (kind === 0)
          [, q] = readLeb(bytes, q); // function: type index
        else if (kind === 1) {
          q++; // table: element type, then limits
          const f = bytes[q++];
          [, q] = readLeb(bytes, q);
          if (f & 1) [, q] = readLeb(bytes, q);
        } else if (kind === 3)
          q += 2; // global: value type, mutability
        else if (kind === 4)
          [, q] = readLeb(bytes, q + 1); // tag: attribute, type index
        else throw new Error(`unknown import kind ${kind}`);
        out.push(...bytes.subarray(start, q));
      }
      parts.push(Uint8Array.from([2, ...leb(out.length), ...out]));
    } else parts.push(bytes.subarray(p, end));
    p = end;
  }
  return Buffer.concat(parts);
}

type Instantiate = (source: unknown, imports?: object) => Promise<unknown>;

/**
 * Run `start` (which initialises the tfjs wasm backend) with WebAssembly.instantiate patched so a module that defines
 * its own memory gets it shared; restored afterwards. Modules that only import memory, or none, are left alone.
 * @example await withSharedWasmHeap(() => tf.setBackend("wasm"))
 */
export async function withSharedWasmHeap<T>(start: () => Promise<T>): Promise<T> {
  const WA = (globalThis as unknown as { WebAssembly: { instantiate: Instantiate } }).WebAssembly;
  const original = WA.instantiate;
  WA.instantiate = function (this: unknown, source: unknown, imports?: object) {
    const bytes = source instanceof ArrayBuffer ? new Uint8Array(source) : source instanceof Uint8Array ? source : null;
    if (bytes && definesMemory(bytes)) return original.call(this, withSharedMemory(bytes), imports);
    return original.call(this, source, imports);
  } as Instantiate;
  try {
    return await start();
  } finally {
    WA.instantiate = original;
  }
}

/** Whether the binary has a memory section (defines its memory rather than importing it). */
function definesMemory(bytes: Uint8Array): boolean {
  let p = 8;
  while (p < bytes.length) {
    const id = bytes[p];
    const [size, body] = readLeb(bytes, p + 1);
    if (id === 5) return true;
    p = body + size;
  }
  return false;
}
