// Kernel start-up latency, called by bench/run.ts (`npm run bench`); run alone: node --import tsx bench/kernel-start.ts
// Each run starts a fresh cellrl kernel through jupyter_client (as Jupyter does, cwd = notebooks/) and times:
// - kernel_start_ms: process spawn -> kernel_info_reply (the kernel is ready);
// - kernel_first_import_cell_ms: a first cell `import {...} from "cellrl"` sent right after kernel_info (as nbclient
//   does): execute_request -> execute_reply;
// - kernel_first_import_cell_after_idle_ms: the same cell sent after 3 s of idle (a person opening a notebook), when
//   the kernel's background prewarm (kernel/prewarm.js) has loaded and type-checked cellrl.
// Medians over RUNS fresh kernels. Only the exported function is a benchmark (bench/run.ts calls every export).
import { spawnSync } from "node:child_process";
import path from "node:path";
import { findJupyter, jupyterEnv, REPO } from "../scripts/jupyter-env.mjs";
import { writeSpec } from "../scripts/kernel-install.mjs";

const RUNS = Number(process.env.CELLRL_BENCH_KERNEL_RUNS ?? 5);
const CELL = 'import { useBackend, seed, tf, aq, figure, display, progress } from "cellrl";';

const PY = `
import json, sys, time
from jupyter_client.manager import KernelManager
cell, idle, cwd = sys.argv[1], float(sys.argv[2]), sys.argv[3]
km = KernelManager(kernel_name="cellrl")
t0 = time.perf_counter()
km.start_kernel(cwd=cwd)
kc = km.client(); kc.start_channels()
kc.wait_for_ready(timeout=120)
ready = time.perf_counter()
if idle: time.sleep(idle)
t1 = time.perf_counter()
msg_id = kc.execute(cell)
while True:
    r = kc.get_shell_msg(timeout=120)
    if r["parent_header"].get("msg_id") == msg_id: break
t2 = time.perf_counter()
status = r["content"]["status"]
kc.stop_channels(); km.shutdown_kernel(now=True)
print(json.dumps({"start_ms": (ready - t0) * 1000, "cell_ms": (t2 - t1) * 1000, "status": status}))
`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function once(python: string, idleS: number): { start_ms: number; cell_ms: number } {
  const r = spawnSync(python, ["-c", PY, CELL, String(idleS), path.join(REPO, "notebooks")], {
    encoding: "utf8",
    env: jupyterEnv(),
    timeout: 300_000,
  });
  const line = r.stdout.trim().split("\n").pop() ?? "";
  if (r.status !== 0 || !line.startsWith("{"))
    throw new Error(`kernel-start: run failed (status ${r.status}): ${r.stderr.slice(-800)}`);
  const res = JSON.parse(line);
  if (res.status !== "ok")
    throw new Error(`kernel-start: the import cell failed (${res.status}); is the package built? (npm run build)`);
  return res;
}

/**
 * First-cell latency of the cellrl kernel: [kernel_first_import_cell_ms, kernel_first_import_cell_after_idle_ms,
 * kernel_start_ms], medians over fresh kernels.
 * @example const [first] = await kernelFirstImportCell(); first.value // ms
 */
export async function kernelFirstImportCell(): Promise<
  { name: string; value: number; unit: string; range?: string; extra?: string }[]
> {
  const j = findJupyter();
  if (!j) throw new Error("kernel-start: Jupyter (jupyter_client) not found");
  writeSpec(path.join(REPO, ".jupyter", "kernels", "cellrl"));
  const now: { start_ms: number; cell_ms: number }[] = [];
  const idle: { start_ms: number; cell_ms: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    now.push(once(j.python, 0));
    idle.push(once(j.python, 3));
  }
  const fmt = (xs: number[]) => `${Math.round(Math.min(...xs))}-${Math.round(Math.max(...xs))} ms`;
  const cells = now.map((r) => r.cell_ms);
  const idles = idle.map((r) => r.cell_ms);
  const starts = [...now, ...idle].map((r) => r.start_ms);
  const extra = `median of ${RUNS} fresh kernels; cell: ${CELL}`;
  return [
    {
      name: "kernel_first_import_cell_ms",
      value: Math.round(median(cells)),
      unit: "ms",
      range: fmt(cells),
      extra: `${extra}; sent right after kernel_info`,
    },
    {
      name: "kernel_first_import_cell_after_idle_ms",
      value: Math.round(median(idles)),
      unit: "ms",
      range: fmt(idles),
      extra: `${extra}; sent after 3 s idle (prewarmed)`,
    },
    {
      name: "kernel_start_ms",
      value: Math.round(median(starts)),
      unit: "ms",
      range: fmt(starts),
      extra: `median of ${starts.length}; spawn -> kernel_info_reply`,
    },
  ];
}

if (require.main === module) {
  kernelFirstImportCell().then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
