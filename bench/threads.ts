// One process, n kernel threads: the bench asks useBackend for `threads` and reads back how many actually run.
// useBackend({ threads }) runs cellrl's wasm kernels on n threads over the shared tfjs heap; it can fall back to 1 (no
// shared heap, fast kernels off), so the adapter trusts only what the backend's notes say afterwards. A row is
// labelled "2 kernel threads" only when the notes say 2 threads run; otherwise the run reports why it has no such row.
import { useBackend, type BackendInfo, type UseBackendOptions } from "../lib/core/backend.js";

/** What the adapter got: the backend info, the threads asked for and the threads the backend says it runs. */
export interface ThreadedBackend {
  info: BackendInfo;
  requested: number;
  /** Kernel threads the backend reports (1 when its notes say threads are off or say nothing). */
  threads: number;
  /** Why `threads` differs from `requested` (empty when they match). */
  reason: string;
}

/**
 * Kernel threads a wasm backend runs, read from its notes: "threads off" (today's tfjs-wasm) is 1, "2 kernel
 * threads" / "threads: 2" / "threads 2" / "2 threads" give the number; null when no note mentions threads.
 * @example threadsFromNotes(["SIMD on; threads off (tfjs-wasm has none in Node)"]) // 1
 * @example threadsFromNotes(["SIMD on", "2 kernel threads (shared WebAssembly.Memory)"]) // 2
 */
export function threadsFromNotes(notes: readonly string[]): number | null {
  // A number next to "thread(s)" wins over an "off" elsewhere (a build may keep the old note and add a new one).
  let counted: number | null = null;
  let off = false;
  for (const note of notes)
    for (const part of note.split(/[;,]/)) {
      if (!/thread/i.test(part)) continue;
      if (/threads?\s*[:=]?\s*(off|none|disabled|unavailable)\b/i.test(part)) off = true;
      const m =
        /(\d+)\s*(?:kernel\s+|worker\s+|wasm\s+)?threads?\b/i.exec(part) ?? /threads?\s*[:=]?\s*(\d+)/i.exec(part);
      if (m) counted = Math.max(counted ?? 0, Number(m[1]));
    }
  return counted ?? (off ? 1 : null);
}

/**
 * Start the wasm backend with `threads` kernel threads in this process (1 = the single-threaded kernels) and report
 * how many run (a build without the option ignores it and reports 1).
 * @example const b = await useWasmThreads(2); b.threads // 2 once useBackend supports it, else 1 with b.reason
 */
export async function useWasmThreads(threads: number, fastKernels = true): Promise<ThreadedBackend> {
  if (!Number.isInteger(threads) || threads < 1)
    throw new Error(`bench: threads must be a whole number >= 1 (got ${threads}); use 1 for today's kernels`);
  // Always passed: useBackend's default is the core count (at most 4), so "1 thread" must be asked for. Built untyped
  // so the call compiles against a build whose options lack `threads` (such a build ignores it).
  const opts: Record<string, unknown> = { force: "wasm", fastKernels, threads };
  const info = await useBackend(opts as UseBackendOptions);
  const seen = threadsFromNotes(info.notes) ?? 1;
  const reason =
    seen === threads
      ? ""
      : `asked for ${threads} kernel threads, the backend runs ${seen} (its notes: ${info.notes.join("; ") || "none"})`;
  return { info, requested: threads, threads: seen, reason };
}
