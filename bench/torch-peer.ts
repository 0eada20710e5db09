// The PyTorch peer (bench/torch_peer.py) as a long-lived child process speaking JSON lines.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { BenchConfig } from "./configs.js";
import { startLinePeer } from "./line-peer.js";
import { peerVerdict, type PeerVerdict } from "./peer-check.js";
import type { StepProfile } from "./profile.js";

/** Python used for the peer: Debian's python3-torch lives in /usr/bin/python3. */
export const defaults = { python: "/usr/bin/python3" };

/** Wall-clock and process-CPU seconds of each sample, and the python process's peak RSS (MB) during the call. */
export interface Timed {
  wall: number[];
  cpu: number[];
  peakRssMb: number;
  /** The whole command's process CPU seconds (model build and warm-up included), for the other-load figure. */
  cmdCpuS: number;
}

/** A running torch peer; `close()` ends it. */
export interface TorchPeer {
  /** torch version, the BLAS it loaded (and its path), its measured 1-thread fp32 matmul GFLOP per CPU-second. */
  info: { torch: string; blas: string; blasPath: string; matmulGflops: number; threads: number; idleRssMb: number };
  /** Wall and CPU seconds per train step (after one warm-up step), `steps` samples. */
  train(c: BenchConfig, steps: number): Promise<Timed>;
  /** Wall and CPU seconds per generate call (after one warm-up call), `reps` samples. */
  generate(c: BenchConfig, reps: number): Promise<Timed>;
  /** One step under torch.profiler after `steps` unprofiled ones (bench/profile.ts groups its ops). */
  profile(c: BenchConfig, kind: "train" | "generate", steps: number): Promise<StepProfile & { cmdCpuS: number }>;
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

/**
 * Start the torch peer with `threads` threads, or return the reason it cannot run: python3-torch missing, or the
 * peer is not pinned to an optimised BLAS (bench/peer-check.ts: the BLAS its process mapped and a measured fp32
 * matmul floor; the reason then carries the fix). No ratio is ever printed against a refused peer.
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
    return {
      wall: res.times as number[],
      cpu: res.cpu as number[],
      peakRssMb: Number(res.peak_rss_mb ?? NaN),
      cmdCpuS: Number(res.cmd_cpu_s ?? NaN),
    };
  };
  const profile = async (c: BenchConfig, kind: "train" | "generate", steps: number) => {
    const res = await peer.ask({ cmd: "profile", config: { ...c, threads }, kind, steps });
    if (res.error) throw new Error(`torch peer profile ${kind} ${c.name}: ${res.error}`);
    return {
      side: "torch" as const,
      threads,
      config: c.name,
      kind,
      stepMs: Number(res.step_ms),
      profiledMs: Number(res.profiled_ms),
      ops: (res.ops as { name: string; ms: number; calls: number; flops: number }[]).map((o) => ({ ...o })),
      cmdCpuS: Number(res.cmd_cpu_s ?? NaN),
    };
  };
  let verdict: PeerVerdict;
  let gflops = NaN;
  let idleRssMb = NaN;
  try {
    const info = await peer.ask({ cmd: "info" });
    if (info.error) throw new Error(String(info.error));
    gflops = Number(info.matmul_gflops);
    idleRssMb = Number(info.rss_mb ?? NaN);
    verdict = peerVerdict({ maps: ((info.maps as string[]) ?? []).join("\n"), matmulGflops: gflops });
  } catch (e) {
    await peer.close();
    return `the torch peer's BLAS probe failed (${(e as Error).message.split("\n")[0]})`;
  }
  if (!verdict.ok) {
    await peer.close();
    return verdict.reason;
  }
  return {
    info: {
      torch: check.stdout.trim(),
      blas: verdict.blas,
      blasPath: verdict.blasPath,
      matmulGflops: gflops,
      threads,
      idleRssMb,
    },
    train: (c, steps) => run("train", c, steps),
    generate: (c, reps) => run("generate", c, reps),
    profile,
    close: () => peer.close(),
  };
}
