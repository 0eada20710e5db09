// Child process that measures cellrl (tfjs) for run.ts, one JSON command per stdin line, one JSON reply per line.
// Each config runs in its own child: the wasm heap never shrinks, so tiny's peak must not count against small's.
//   {"cmd":"info"}                                   -> backend notes, kernel build, versions
//   {"cmd":"train","config":{...},"steps":n}         -> {"value": tok/s, "samples": [tok/s per step], "cpuShare"}
//   {"cmd":"generate","config":{...},"reps":n}       -> {"value": tok/s, "samples": [...]}
//   {"cmd":"matmul","reps":n}                        -> {"entries": BenchEntry[]}
//   {"cmd":"quit"}
import { createInterface } from "node:readline";
import * as tf from "@tensorflow/tfjs";
import { useBackend } from "../lib/core/backend.js";
import { fastKernelState } from "../lib/core/kernels/index.js";
import type { BenchConfig } from "./configs.js";
import { matmulBench } from "./matmul.js";
import { loadModelBench, measure } from "./model-adapter.js";

async function main(): Promise<void> {
  const fastKernels = process.env.CELLRL_BENCH_STOCK !== "1";
  const info = await useBackend({ force: "wasm", fastKernels });
  const out = (o: object) => process.stdout.write(JSON.stringify(o) + "\n");
  // Libraries that print to stdout would corrupt the protocol: route console.log to stderr.
  console.log = (...a: unknown[]) => console.error(...a);
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    const msg = JSON.parse(line) as { cmd: string; config?: BenchConfig; steps?: number; reps?: number };
    try {
      if (msg.cmd === "quit") break;
      if (msg.cmd === "info") {
        out({ notes: info.notes, kernels: fastKernelState(), tfjs: tf.version.tfjs, node: process.version });
      } else if (msg.cmd === "matmul") {
        out({ entries: matmulBench(undefined, { reps: msg.reps ?? 7 }) });
      } else if (msg.cmd === "train" || msg.cmd === "generate") {
        const mod = await loadModelBench();
        // CPU time / wall time over the whole call: the share of a core this process got (1.0 on an idle machine).
        const c0 = process.cpuUsage();
        const w0 = performance.now();
        const r = await measure(mod, msg.cmd, msg.config!, msg.steps ?? msg.reps ?? 3);
        const cpu = process.cpuUsage(c0);
        out({ ...r, cpuShare: (cpu.user + cpu.system) / 1000 / (performance.now() - w0) });
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
