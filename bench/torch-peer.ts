// The PyTorch peer (bench/torch_peer.py) as a long-lived child process speaking JSON lines.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { BenchConfig } from "./configs.js";
import { startLinePeer } from "./line-peer.js";

/** Python used for the peer: Debian's python3-torch lives in /usr/bin/python3. */
export const defaults = { python: "/usr/bin/python3" };

/** Wall-clock and process-CPU seconds of each sample. */
export interface Timed {
  wall: number[];
  cpu: number[];
}

/** A running torch peer; `close()` ends it. */
export interface TorchPeer {
  /** torch version and the BLAS it loaded. */
  info: { torch: string; blas: string; threads: number };
  /** Wall and CPU seconds per train step (after one warm-up step), `steps` samples. */
  train(c: BenchConfig, steps: number): Promise<Timed>;
  /** Wall and CPU seconds per generate call (after one warm-up call), `reps` samples. */
  generate(c: BenchConfig, reps: number): Promise<Timed>;
  close(): Promise<void>;
}

function peerEnv(threads: number): NodeJS.ProcessEnv {
  // OpenBLAS's pthread build ignores torch.set_num_threads: pin it too, so "1 thread" means one core.
  return {
    ...process.env,
    OPENBLAS_NUM_THREADS: String(threads),
    OMP_NUM_THREADS: String(threads),
    MKL_NUM_THREADS: String(threads),
  };
}

// Debian's torch calls whatever libblas.so.3 the alternatives system points at; the reference BLAS is ~20x slower
// than OpenBLAS, which would make the peer a straw man, so the report names it.
function blasName(threads: number): string {
  const r = spawnSync(defaults.python, ["-c", "import torch; print(open('/proc/self/maps').read())"], {
    encoding: "utf8",
    env: peerEnv(threads),
  });
  const maps = r.stdout ?? "";
  if (/openblas/i.test(maps)) return "OpenBLAS";
  if (/mkl/i.test(maps)) return "MKL";
  if (/libblas\.so/.test(maps)) return "reference BLAS (slow: install libopenblas0-pthread for a fair peer)";
  return "unknown";
}

/**
 * Start the torch peer with `threads` threads, or return the reason it cannot run (python3-torch missing).
 * @example const peer = await startTorchPeer(1); if (typeof peer !== "string") console.log(await peer.train(configs.tiny, 3))
 */
export async function startTorchPeer(threads = 1): Promise<TorchPeer | string> {
  const check = spawnSync(defaults.python, ["-c", "import torch; print(torch.__version__)"], { encoding: "utf8" });
  if (check.status !== 0)
    return `python3-torch is not importable by ${defaults.python} (${(check.stderr || check.error?.message || "").trim().split("\n").pop()})`;
  const peer = startLinePeer(defaults.python, [join(__dirname, "torch_peer.py")], peerEnv(threads));
  const run = async (cmd: string, c: BenchConfig, n: number): Promise<Timed> => {
    const res = await peer.ask({ cmd, config: { ...c, threads }, steps: n, reps: n });
    if (res.error) throw new Error(`torch peer ${cmd} ${c.name}: ${res.error}`);
    return { wall: res.times as number[], cpu: res.cpu as number[] };
  };
  return {
    info: { torch: check.stdout.trim(), blas: blasName(threads), threads },
    train: (c, steps) => run("train", c, steps),
    generate: (c, reps) => run("generate", c, reps),
    close: () => peer.close(),
  };
}
