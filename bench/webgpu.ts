// WebGPU backend throughput for `npm run bench` (bench/run.ts calls the exported function): the tiny config's train
// step and generate call (bench/model.ts) at batch 8 on tfjs-backend-webgpu through Dawn, next to wasm in the same child
// process. The rows are labelled with the adapter: on a machine without a GPU that is Mesa's llvmpipe (a CPU
// rasterizer, through Dawn's OpenGL backend), which says nothing about a real GPU; it is there so the path is timed.
// Run alone: node --import tsx bench/webgpu.ts (prints the entries as JSON).
import { spawnSync } from "node:child_process";
import { configs } from "./configs.js";
import type { BenchEntry } from "./stats.js";

interface ChildResult {
  adapter?: string;
  error?: string;
  rows?: { kind: "train" | "generate"; backend: "wasm" | "webgpu"; value: number; samples: number[] }[];
}

async function child(): Promise<ChildResult> {
  const { useBackend } = await import("../lib/core/backend.js");
  const { trainTokensPerS, generateTokensPerS } = await import("./model.js");
  let adapter: string;
  try {
    const info = await useBackend({ force: "webgpu" });
    adapter = info.notes.find((n) => n.startsWith("adapter: "))?.slice(9) ?? "unknown adapter";
  } catch (e) {
    return { error: (e as Error).message };
  }
  // tiny's model at batch 8: at tiny's batch 64 one llvmpipe train step takes over a minute (55 tokens/s measured).
  const c = { ...configs.tiny, batch: 8 };
  const rows: NonNullable<ChildResult["rows"]> = [];
  for (const backend of ["webgpu", "wasm"] as const) {
    await useBackend({ force: backend });
    const train = await trainTokensPerS(c, { steps: 1 });
    rows.push({ kind: "train", backend, ...train });
    const gen = await generateTokensPerS(c, { reps: 1 });
    rows.push({ kind: "generate", backend, ...gen });
  }
  return { adapter, rows };
}

/**
 * Tiny-config train and generate tokens/s on the WebGPU backend, with wasm's in the same process for the ratio.
 * @example const rows = webgpuTokensPerS() // [{ name: "webgpu_train_tokens_per_s/tiny_batch8", value: 50, ... }, ...]
 */
export function webgpuTokensPerS(): BenchEntry[] {
  const r = spawnSync(process.execPath, [...process.execArgv, __filename, "--child"], {
    encoding: "utf8",
    timeout: 20 * 60_000,
  });
  const line = (r.stdout ?? "").trim().split("\n").pop() ?? "";
  let out: ChildResult;
  try {
    out = JSON.parse(line) as ChildResult;
  } catch {
    process.stderr.write(`bench/webgpu: child failed (status ${r.status}): ${(r.stderr ?? "").slice(-400)}\n`);
    return [];
  }
  if (out.error || !out.rows) {
    process.stderr.write(`bench/webgpu: no WebGPU adapter, no rows: ${out.error}\n`);
    return [];
  }
  const entries: BenchEntry[] = [];
  for (const kind of ["train", "generate"] as const) {
    const gpu = out.rows.find((x) => x.kind === kind && x.backend === "webgpu")!;
    const wasm = out.rows.find((x) => x.kind === kind && x.backend === "wasm")!;
    entries.push({
      name: `webgpu_${kind}_tokens_per_s/tiny_batch8`,
      value: gpu.value,
      unit: "tokens/s",
      extra:
        `adapter: ${out.adapter}; median of ${gpu.samples.length}; wasm in the same process ` +
        `${wasm.value.toFixed(0)} tokens/s (webgpu/wasm ${(gpu.value / wasm.value).toFixed(2)}x)`,
    });
  }
  return entries;
}

if (require.main === module) {
  if (process.argv.includes("--child"))
    child().then(
      (r) => {
        process.stdout.write(JSON.stringify(r) + "\n");
        process.exit(0);
      },
      (e) => {
        process.stdout.write(JSON.stringify({ error: (e as Error).stack ?? String(e) }) + "\n");
        process.exit(1);
      },
    );
  else console.log(JSON.stringify(webgpuTokensPerS(), null, 2));
}
