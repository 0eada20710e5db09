// Child process that measures cellrl (tfjs) for run.ts, one JSON command per stdin line, one JSON reply per line.
// Each config and each kind (train / generate) runs in its own child: the wasm heap never shrinks, so tiny's peak
// must not count against small's, nor train's against generate's; peakRssMb is then this process's peak so far.
//   {"cmd":"info"}                                   -> backend notes, kernel build, versions, rssMb (idle process)
//   {"cmd":"train","config":{...},"steps":n[,"warm":false]}
//                                                    -> {"value": tok/s, "samples": [tok/s per step], "cpuTokensPerS",
//                                                        "peakRssMb"}
//   {"cmd":"generate","config":{...},"reps":n}       -> the same per generate call
//   {"cmd":"matmul","reps":n}                        -> {"entries": BenchEntry[]}
//   {"cmd":"profile","config":{...},"kind":"train"|"generate","steps":n}
//                                                    -> a StepProfile (bench/profile.ts): time per kernel name
//   {"cmd":"quit"}
// Every reply carries cmdCpuS, this process's CPU seconds over the command (run.ts's other-load figure).
// CELLRL_BENCH_THREADS=n starts the backend with n kernel threads in this process (bench/threads.ts); "info" answers
// how many run (threads) and, when that is not n, why (threadsReason).
import { createInterface } from "node:readline";
import * as tf from "@tensorflow/tfjs";
import { fastKernelState } from "../lib/core/kernels/index.js";
import { generateTokens, trainTokens, type BenchConfig } from "./configs.js";
import { matmulBench } from "./matmul.js";
import { peakRssMb, rssMb } from "./mem.js";
import { loadModelBench, measure } from "./model-adapter.js";
import { profileCellrl } from "./profile.js";
import { useWasmThreads } from "./threads.js";

const warmed = new Set<string>();

async function main(): Promise<void> {
  const fastKernels = process.env.CELLRL_BENCH_STOCK !== "1";
  const backend = await useWasmThreads(Number(process.env.CELLRL_BENCH_THREADS ?? 1), fastKernels);
  const info = backend.info;
  let c0 = process.cpuUsage();
  const out = (o: object) => {
    const c = process.cpuUsage(c0);
    process.stdout.write(JSON.stringify({ ...o, cmdCpuS: (c.user + c.system) / 1e6 }) + "\n");
  };
  // Libraries that print to stdout would corrupt the protocol: route console.log to stderr.
  console.log = (...a: unknown[]) => console.error(...a);
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    c0 = process.cpuUsage();
    const msg = JSON.parse(line) as {
      cmd: string;
      config?: BenchConfig;
      steps?: number;
      reps?: number;
      warm?: boolean;
      kind?: "train" | "generate";
    };
    try {
      if (msg.cmd === "quit") break;
      if (msg.cmd === "info") {
        out({
          notes: info.notes,
          kernels: fastKernelState(),
          tfjs: tf.version.tfjs,
          node: process.version,
          rssMb: rssMb(),
          threads: backend.threads,
          threadsReason: backend.reason,
        });
      } else if (msg.cmd === "matmul") {
        out({ entries: matmulBench(undefined, { reps: msg.reps ?? 7 }) });
      } else if (msg.cmd === "profile") {
        out(await profileCellrl(msg.config!, msg.kind ?? "train", { steps: msg.steps ?? 2, threads: backend.threads }));
      } else if (msg.cmd === "train" || msg.cmd === "generate") {
        const mod = await loadModelBench();
        const kind: "train" | "generate" = msg.cmd;
        const n = msg.steps ?? msg.reps ?? 3;
        const key = `${msg.cmd}/${msg.config!.name}`;
        if (!warmed.has(key) && msg.warm !== false) {
          await measure(mod, kind, msg.config!, 0).catch(() => undefined); // heap growth and JIT, not measured
          warmed.add(key);
        }
        // CPU seconds of the timed steps alone: the model bench's per-call CPU seconds or, for a module without them,
        // a call with n steps minus a call with 0 steps (each call builds the model and runs one untimed warm-up
        // step). Tokens per CPU-second are far less disturbed by other processes than tokens per wall-second.
        const cpuOf = async (steps: number) => {
          const c0 = process.cpuUsage();
          const r = await measure(mod, kind, msg.config!, steps).catch(() => null);
          const c = process.cpuUsage(c0);
          return { r, cpu: (c.user + c.system) / 1e6 };
        };
        const main = await cpuOf(n);
        if (!main.r) throw new Error(`${key}: the model bench failed`);
        const stepCpu = main.r.cpuSeconds?.length === n ? main.r.cpuSeconds.reduce((a, b) => a + b, 0) : null;
        const cpu = stepCpu ?? main.cpu - (await cpuOf(0)).cpu;
        const tokens = msg.cmd === "train" ? trainTokens(msg.config!) : generateTokens(msg.config!);
        out({
          ...main.r,
          cpuTokensPerS: (n * tokens) / Math.max(1e-9, cpu),
          peakRssMb: peakRssMb(),
        });
      } else out({ error: `unknown cmd ${msg.cmd}` });
    } catch (e) {
      out({ error: (e as Error).stack ?? String(e) });
    }
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
