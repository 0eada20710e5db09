// `npm run bench`: cellrl (tfjs-wasm + cellrl's kernels) vs PyTorch on the CPU, side by side in one run, written to
// BENCHMARKS.md and BENCHMARKS.json at the repo root.
//
// Each tfjs config runs in its own child processes (bench/tfjs-peer.ts; the wasm heap never shrinks) and torch in two
// long-lived python children, 1 and 2 threads (bench/torch_peer.py). Measurements alternate tfjs / torch round by round, so both see the
// same machine load; values are medians over all steps of all rounds, with the p10-p90 spread.
//
// Each config is measured three ways: one process with 1 kernel thread (a notebook kernel today), one process with 2
// kernel threads (useBackend({ threads: 2 }) through bench/threads.ts; the row is left out, with the reason, when the
// backend does not run 2), and 2 worker threads (data parallel, bench/parallel.ts); each next to torch on 1 and on 2
// threads, all measured round by round in the same run. For tiny and small, one step of each side is then profiled
// per kernel (bench/profile.ts): the profile section of the page says where the one-process time goes.
//
// Other engineers' benchmark modules in bench/ (kernel start-up, reward graders) run at the end; their entries are
// listed as they return them.
//
// Options: --quick (1 round, fewer steps), --only=tiny|small|medium (comma list), --out=DIR (write the report there;
// a smoke run: --quick --only=tiny --no-others --no-matmul --no-parallel --out=build/bench-smoke), --no-torch,
// --no-torch2 (skip PyTorch on 2 threads; it runs by default, whatever the load, and the page reports the load),
// --threads=1,2 (kernel threads of the one-process rows), --no-profile, --profile=tiny,small (configs to profile;
// default: the measured ones among tiny and small),
// --profile-steps=N (unprofiled steps timed around the profiled one), --no-matmul, --no-parallel, --no-others,
// --rounds=N, --stock (also time tiny with the stock tfjs kernels, slow).
//
// Each config, kind and thread count runs in its own tfjs child, and each child's peak RSS is reported; the torch
// peer must be on an optimised BLAS (bench/peer-check.ts) or no ratio is printed. medium (~25 M parameters) gives the
// scaling curve.
import { readdirSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import {
  configs,
  flopsPerToken,
  generateTokens,
  paramCount,
  trainTokens,
  type BenchConfig,
  type ConfigName,
} from "./configs.js";
import { startLinePeer, type LinePeer } from "./line-peer.js";
import { parallelGenerateTokensPerS, parallelTrainTokensPerS } from "./parallel.js";
import { cpuTicks, othersCores } from "./load.js";
import { peakRssMb, resetPeakRss } from "./mem.js";
import { MATMUL_FLOOR_GFLOPS } from "./peer-check.js";
import { splitProfile, OP_GROUPS, type StepProfile } from "./profile.js";
import { writeReport, type HeadlineRow } from "./report.js";
import { useWasmThreads } from "./threads.js";
import { entry, median, spread, type BenchEntry } from "./stats.js";
import { startTorchPeer, type TorchPeer } from "./torch-peer.js";

const root = join(__dirname, "..");
const args = new Set(process.argv.slice(2));
const opt = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const quick = args.has("--quick");
// --out=DIR writes BENCHMARKS.md/.json there instead of the repo root (smoke runs must not overwrite the page).
const outDir = opt("out") ?? root;
const fmtMb = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)} MB` : "not measured");
const only = opt("only");
const names = (only ? only.split(",") : ["tiny", "small", "medium"]) as ConfigName[];
for (const n of names)
  if (!(n in configs)) throw new Error(`bench: --only=${n}: no such config (${Object.keys(configs)})`);
// medium (~25 M parameters) is there for the scaling curve: one round of few steps, no separate warm-up call.
const plan: Record<ConfigName, { rounds: number; trainSteps: number; genReps: number; warm: boolean }> = {
  tiny: {
    rounds: quick ? 1 : Number(opt("rounds") ?? 3),
    trainSteps: quick ? 2 : 4,
    genReps: quick ? 2 : 3,
    warm: true,
  },
  small: {
    rounds: quick ? 1 : Number(opt("rounds") ?? 2),
    trainSteps: quick ? 2 : 3,
    genReps: quick ? 1 : 3,
    warm: true,
  },
  medium: { rounds: 1, trainSteps: quick ? 1 : 2, genReps: quick ? 1 : 2, warm: false },
};

// Kernel threads of the one-process rows (1 = today's single-threaded kernels), and the configs profiled per kernel.
const threadCounts = [...new Set((opt("threads") ?? "1,2").split(",").map(Number))].sort((a, b) => a - b);
for (const t of threadCounts)
  if (!Number.isInteger(t) || t < 1)
    throw new Error(`bench: --threads=${opt("threads")}: give whole numbers >= 1, e.g. 1,2`);
// Without --profile, the measured configs among tiny and small (the ones issue 17's goals are about).
const profileNames = (
  args.has("--no-profile")
    ? []
    : opt("profile") != null
      ? opt("profile")!
          .split(",")
          .filter((n) => n)
      : names.filter((n) => n === "tiny" || n === "small")
) as ConfigName[];
for (const n of profileNames)
  if (!(n in configs)) throw new Error(`bench: --profile=${n}: no such config (${Object.keys(configs)})`);
const profileSteps = Number(opt("profile-steps") ?? (quick ? 1 : 3));

const maxOf = (a: number, b: unknown) => (Number.isFinite(Number(b)) ? Math.max(Number(b), a || 0) : a);
const finiteOrNull = (x: number) => (Number.isFinite(x) ? x : null);

function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

function tfjsPeer(stock = false, threads = 1): LinePeer {
  const env = {
    ...process.env,
    ...(stock ? { CELLRL_BENCH_STOCK: "1" } : {}),
    ...(threads > 1 ? { CELLRL_BENCH_THREADS: String(threads) } : {}),
  };
  return startLinePeer(process.execPath, [...process.execArgv, join(__dirname, "tfjs-peer.ts")], env);
}

async function ask(peer: LinePeer, msg: object): Promise<Record<string, unknown>> {
  const r = await peer.ask(msg);
  if (r.error) throw new Error(String(r.error));
  return r;
}

/** tfjs tok/s samples of one measurement (per-step values when the model bench gives them). */
function samplesOf(r: Record<string, unknown>): number[] {
  return Array.isArray(r.samples) && r.samples.length ? (r.samples as number[]) : [r.value as number];
}

// bench/*.ts files that are part of this harness (everything else in bench/ is another engineer's benchmark module).
const HARNESS = new Set([
  "run",
  "report",
  "stats",
  "matmul",
  "configs",
  "torch-peer",
  "line-peer",
  "tfjs-peer",
  "model-adapter",
  "model",
  "parallel",
  "parallel-worker",
  "peer-check",
  "mem",
  "threads",
  "profile",
  "load",
]);

async function otherEntries(): Promise<{ entries: BenchEntry[]; notes: string[] }> {
  // Other engineers' bench modules (kernel start-up, reward graders, ...): every exported function returns
  // {name, value, unit} or a list of them. Each module guards its own CLI with require.main.
  const entries: BenchEntry[] = [];
  const notes: string[] = [];
  const files = readdirSync(__dirname)
    .filter(
      (f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && !/^(scratch|proto)/.test(f) && !HARNESS.has(f.slice(0, -3)),
    )
    .sort();
  for (const file of files) {
    const label = `bench/${file}`;
    let mod: Record<string, unknown>;
    try {
      mod = await import(`./${file.replace(/\.ts$/, ".js")}`);
    } catch (e) {
      notes.push(`${label} could not load: ${(e as Error).message.split("\n")[0]}`);
      continue;
    }
    const seen = new Set<unknown>();
    for (const [key, fn] of Object.entries(mod)) {
      if (typeof fn !== "function" || seen.has(fn) || /^[A-Z]/.test(key)) continue;
      seen.add(fn);
      log(`${label} ${key}()`);
      try {
        const r = await (fn as () => unknown)();
        for (const e of (Array.isArray(r) ? r : [r]) as {
          name?: unknown;
          value?: unknown;
          unit?: unknown;
          range?: unknown;
          extra?: unknown;
        }[])
          if (e && typeof e.name === "string" && typeof e.value === "number")
            entries.push({
              name: e.name,
              value: e.value,
              unit: String(e.unit ?? ""),
              range: e.range === undefined ? undefined : String(e.range),
              extra:
                e.extra === undefined ? undefined : typeof e.extra === "string" ? e.extra : JSON.stringify(e.extra),
            });
      } catch (e) {
        notes.push(`${label} ${key}() failed: ${(e as Error).message.split("\n")[0]}`);
      }
    }
  }
  return { entries, notes };
}

/**
 * Run one measurement and set it against the machine's busy time: `childCpu` is the measuring child's own CPU seconds
 * for the command (0 when the work ran in this process), this process's CPU time is added, and the rest of the busy
 * time over the interval is other processes' (bench/load.ts), in cores.
 */
async function withLoad<T>(f: () => Promise<T>, childCpu: (r: T) => number): Promise<{ r: T; others: number | null }> {
  const ticks0 = cpuTicks();
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  const r = await f();
  const c = process.cpuUsage(c0);
  const wall = (performance.now() - w0) / 1000;
  const child = childCpu(r);
  const own = (c.user + c.system) / 1e6 + (Number.isFinite(child) ? child : 0);
  return { r, others: othersCores(ticks0, cpuTicks(), own, wall, cpus().length) };
}

const threadLabel = (t: number) => (t === 1 ? "1 thread" : `${t} kernel threads`);
const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
const maxOrNull = (xs: readonly number[]) => (xs.length ? Math.max(...xs) : null);

async function main(): Promise<void> {
  const t0 = Date.now();
  const load0 = loadavg();
  const entries: BenchEntry[] = [];
  const notes: string[] = [];
  const rows: HeadlineRow[] = [];
  const software: string[] = [];
  // Other processes' CPU (cores) during each measurement, for the page's load line.
  const loads: { label: string; cores: number }[] = [];
  const track = async <T>(label: string, f: () => Promise<T>, childCpu: (r: T) => number) => {
    const res = await withLoad(f, childCpu);
    if (res.others != null) loads.push({ label, cores: res.others });
    return res;
  };

  let torch1: TorchPeer | null = null;
  let torch2: TorchPeer | null = null;
  if (!args.has("--no-torch")) {
    const p1 = await startTorchPeer(1);
    if (typeof p1 === "string") {
      // No ratio against a peer that is not pinned to an optimised BLAS: say why and how to fix it, loudly.
      log(`PyTorch peer skipped, no ratios will be printed: ${p1}`);
      notes.push(`PyTorch peer skipped, so no ratios: ${p1}`);
    } else {
      torch1 = p1;
      software.push(
        `PyTorch ${p1.info.torch} (Debian python3-torch) with ${p1.info.blas} (\`${p1.info.blasPath}\`, checked in the peer's /proc/self/maps; ` +
          `fp32 matmul ${p1.info.matmulGflops.toFixed(0)} GFLOP per CPU-second on 1 thread, floor ${MATMUL_FLOOR_GFLOPS}); ` +
          `peer pinned to 1 thread (torch.set_num_threads(1), OPENBLAS_NUM_THREADS=1), and a second peer on 2 threads`,
      );
      // PyTorch on 2 threads runs whatever the load (the page reports the load it ran under): a comparison that
      // leaves it out flatters the 2-thread rows.
      if (cpus().length >= 2 && !args.has("--no-torch2")) {
        const p2 = await startTorchPeer(2);
        if (typeof p2 !== "string") torch2 = p2;
        else notes.push(`PyTorch on 2 threads could not start: ${p2}`);
      } else if (cpus().length < 2) notes.push("PyTorch on 2 threads not run: this machine has 1 core.");
      else notes.push("PyTorch on 2 threads not run (--no-torch2).");
    }
  }

  if (!args.has("--no-matmul")) {
    log("matmul kernels: fast vs stock");
    const peer = tfjsPeer();
    try {
      const info = await ask(peer, { cmd: "info" });
      software.unshift(
        `Node ${info.node}, @tensorflow/tfjs ${info.tfjs} wasm backend; ${(info.notes as string[]).join("; ")}`,
      );
      entries.push(...((await ask(peer, { cmd: "matmul", reps: quick ? 3 : 7 })).entries as BenchEntry[]));
    } finally {
      await peer.close();
    }
  }

  // Which kernel-thread counts run: a child asked for t threads says in its backend notes how many it runs
  // (bench/threads.ts); a count the backend does not run gets no row, and the page says why.
  const available: number[] = [];
  let threadsMissing = "";
  for (const t of threadCounts) {
    if (t === 1) {
      available.push(1);
      continue;
    }
    const peer = tfjsPeer(false, t);
    try {
      const info = await ask(peer, { cmd: "info" });
      if (Number(info.threads) === t) {
        available.push(t);
        const threadNotes = (info.notes as string[]).filter((n) => /kernel threads/.test(n));
        software.push(`one process, ${t} kernel threads: ${threadNotes.join("; ")}`);
      } else threadsMissing = String(info.threadsReason || `the backend runs ${info.threads} kernel threads`);
    } catch (e) {
      threadsMissing = `a tfjs child asked for ${t} kernel threads failed: ${(e as Error).message.split("\n")[0]}`;
    } finally {
      await peer.close();
    }
  }
  if (threadsMissing) {
    log(`one process, ${threadCounts.filter((t) => t > 1).join("/")} kernel threads: not measured: ${threadsMissing}`);
    notes.push(`No one-process ${threadCounts.filter((t) => t > 1).join("/")}-kernel-thread rows: ${threadsMissing}.`);
  }

  const idleRss: { tfjs: number; torch: number } = { tfjs: NaN, torch: torch1?.info.idleRssMb ?? NaN };
  // CPU-seconds per wall-second of the 2-thread measurements (PyTorch 2 threads, cellrl's kernel threads): near the
  // thread count when both cores were free.
  const coresUsed: string[] = [];
  for (const name of names) {
    const c: BenchConfig = configs[name];
    const p = plan[name];
    type Kind = "train" | "gen";
    const perKind = () => ({ train: [] as number[], gen: [] as number[] });
    // Per kernel-thread count: tok/s samples, tokens per CPU-second, CPU per wall second, others' CPU, peak RSS.
    const tj = new Map(available.map((t) => [t, perKind()]));
    const tjCpu = new Map(available.map((t) => [t, perKind()]));
    const tjCores = new Map(available.map((t) => [t, perKind()]));
    const tjOthers = new Map(available.map((t) => [t, perKind()]));
    const tjMem = new Map(available.map((t) => [t, { train: NaN, gen: NaN }]));
    const th = perKind();
    const thCpu = perKind();
    const thOthers = perKind();
    const th2 = perKind();
    const th2Cores = perKind();
    const th2Others = perKind();
    // Peak resident memory (MB) per workload: each tfjs kind and thread count has its own child (the wasm heap never
    // shrinks), the torch peers reset their peak mark before each call, the 2-worker runs reset this process's mark.
    const mem = {
      th: { train: NaN, gen: NaN },
      th2: { train: NaN, gen: NaN },
      par: { train: NaN, gen: NaN },
    };
    const peers = new Map(available.map((t) => [t, { train: tfjsPeer(false, t), gen: tfjsPeer(false, t) }]));
    try {
      if (!software.some((x) => x.startsWith("Node")) || !Number.isFinite(idleRss.tfjs)) {
        const info = await ask(peers.get(available[0])!.train, { cmd: "info" });
        idleRss.tfjs = Number(info.rssMb);
        if (!software.some((x) => x.startsWith("Node")))
          software.unshift(
            `Node ${info.node}, @tensorflow/tfjs ${info.tfjs} wasm backend; ${(info.notes as string[]).join("; ")}`,
          );
      }
      for (let r = 0; r < p.rounds; r++) {
        for (const kind of ["train", "gen"] as const) {
          const cmd = kind === "train" ? "train" : "generate";
          const n = kind === "train" ? p.trainSteps : p.genReps;
          const tokens = kind === "train" ? trainTokens(c) : generateTokens(c);
          const round = `${name} round ${r + 1}/${p.rounds}`;
          for (const t of available) {
            log(`${round}: tfjs ${cmd}, one process, ${threadLabel(t)}`);
            const { r: res, others } = await track(
              `${name} ${cmd}, cellrl ${threadLabel(t)}`,
              () => ask(peers.get(t)![kind], { cmd, config: c, steps: n, reps: n, warm: p.warm }),
              (x) => Number(x.cmdCpuS),
            );
            const samples = samplesOf(res);
            tj.get(t)![kind].push(...samples);
            tjCpu.get(t)![kind].push(res.cpuTokensPerS as number);
            tjCores.get(t)![kind].push(median(samples) / (res.cpuTokensPerS as number));
            if (others != null) tjOthers.get(t)![kind].push(others);
            tjMem.get(t)![kind] = maxOf(tjMem.get(t)![kind], res.peakRssMb);
          }
          if (torch1) {
            log(`${round}: torch ${cmd}, 1 thread`);
            const { r: tr, others } = await track(
              `${name} ${cmd}, PyTorch 1 thread`,
              () => (kind === "train" ? torch1!.train(c, n) : torch1!.generate(c, n)),
              (x) => x.cmdCpuS,
            );
            th[kind].push(...tr.wall.map((s) => tokens / s));
            thCpu[kind].push(...tr.cpu.map((s) => tokens / s));
            if (others != null) thOthers[kind].push(others);
            mem.th[kind] = maxOf(mem.th[kind], tr.peakRssMb);
          }
          if (torch2) {
            log(`${round}: torch ${cmd}, 2 threads`);
            const { r: tr, others } = await track(
              `${name} ${cmd}, PyTorch 2 threads`,
              () => (kind === "train" ? torch2!.train(c, n) : torch2!.generate(c, n)),
              (x) => x.cmdCpuS,
            );
            th2[kind].push(...tr.wall.map((s) => tokens / s));
            th2Cores[kind].push(sum(tr.cpu) / sum(tr.wall));
            if (others != null) th2Others[kind].push(others);
            mem.th2[kind] = maxOf(mem.th2[kind], tr.peakRssMb);
          }
        }
      }
    } catch (e) {
      notes.push(`tfjs ${name} failed: ${(e as Error).message.split("\n").slice(0, 3).join(" ")}`);
    } finally {
      await Promise.all([...peers.values()].flatMap((x) => [x.train.close(), x.gen.close()]));
    }
    // 2 workers (data parallel, in this process). This thread only holds the model the workers copy: it runs no
    // kernel threads of its own (useBackend's default would start one per core), so the workers get the cores.
    if (!args.has("--no-parallel")) await useWasmThreads(1);
    const par = perKind();
    const parCpu = perKind();
    const parOthers = perKind();
    for (let r = 0; r < p.rounds && !args.has("--no-parallel"); r++) {
      for (const kind of ["train", "gen"] as const) {
        log(`${name} round ${r + 1}/${p.rounds}: tfjs 2-worker ${kind}`);
        try {
          const reset = resetPeakRss();
          const { r: res, others } = await track(
            `${name} ${kind === "gen" ? "generate" : kind}, cellrl 2 workers`,
            () =>
              kind === "train"
                ? parallelTrainTokensPerS(c, { steps: p.trainSteps, workers: 2 })
                : parallelGenerateTokensPerS(c, { reps: p.genReps, workers: 2 }),
            () => 0,
          );
          if (reset) mem.par[kind] = maxOf(mem.par[kind], peakRssMb());
          if (!res.inSync)
            notes.push(
              `${name}: the 2 workers' weights differ after ${kind} (checksum mismatch); that number is suspect.`,
            );
          par[kind].push(...res.samples);
          if (Number.isFinite(res.cpuValue)) parCpu[kind].push(res.cpuValue);
          if (others != null) parOthers[kind].push(others);
        } catch (e) {
          notes.push(`tfjs ${name} 2-worker ${kind} failed: ${(e as Error).message.split("\n")[0]}`);
        }
      }
    }
    const memEntries = (prefix: string, kind: "train" | "generate", mb: number, suffix = "") => {
      if (Number.isFinite(mb))
        entries.push(entry(`${prefix}${kind}${suffix}_peak_rss_mb/${name}`, mb, "MB (peak resident set)"));
    };
    for (const [kind, k] of [
      ["train", "train"],
      ["generate", "gen"],
    ] as const) {
      const b = th[k];
      const two = th2[k].length ? median(th2[k]) : null;
      const tv = b.length ? median(b) : null;
      if (tv != null) entries.push(entry(`torch_${kind}_tokens_per_s/${name}`, tv, "tokens/s", [spread(b), b.length]));
      if (two != null)
        entries.push(entry(`torch2_${kind}_tokens_per_s/${name}`, two, "tokens/s", [spread(th2[k]), th2[k].length]));
      memEntries("torch_", kind, mem.th[k]);
      memEntries("torch2_", kind, mem.th2[k]);
      if (th2Cores[k].length)
        coresUsed.push(
          `PyTorch 2 threads, ${name} ${kind}: ${median(th2Cores[k]).toFixed(2)} CPU-s per wall-s, others used up to ` +
            `${(maxOrNull(th2Others[k]) ?? NaN).toFixed(2)} cores`,
        );
      for (const t of available) {
        const a = tj.get(t)![k];
        if (!a.length) continue;
        // 1 thread keeps the names earlier runs used; n threads add a _nthreads suffix.
        const sfx = t === 1 ? "" : `_${t}threads`;
        const v = median(a);
        entries.push(entry(`${kind}_tokens_per_s${sfx}/${name}`, v, "tokens/s", [spread(a), a.length]));
        memEntries("", kind, tjMem.get(t)![k], sfx);
        const ratio = tv == null ? null : v / tv;
        if (ratio != null) entries.push(entry(`${kind}${sfx}_vs_torch/${name}`, ratio, "x (cellrl / torch 1 thread)"));
        if (two != null)
          entries.push(entry(`${kind}${sfx}_vs_torch2/${name}`, v / two, "x (cellrl / torch 2 threads)"));
        let cpuRatio: number | null = null;
        const ac = tjCpu.get(t)![k];
        if (ac.length && thCpu[k].length) {
          cpuRatio = median(ac) / median(thCpu[k]);
          entries.push(entry(`${kind}_tokens_per_cpu_s${sfx}/${name}`, median(ac), "tokens/CPU-s"));
          if (t === 1) entries.push(entry(`torch_${kind}_tokens_per_cpu_s/${name}`, median(thCpu[k]), "tokens/CPU-s"));
          entries.push(
            entry(`${kind}${sfx}_vs_torch_cpu_time/${name}`, cpuRatio, "x (per CPU-second, load-corrected)"),
          );
        }
        if (t > 1 && tjCores.get(t)![k].length)
          coresUsed.push(
            `cellrl ${threadLabel(t)}, ${name} ${kind}: ${median(tjCores.get(t)![k]).toFixed(2)} CPU-s per wall-s, ` +
              `others used up to ${(maxOrNull(tjOthers.get(t)![k]) ?? NaN).toFixed(2)} cores`,
          );
        rows.push({
          workload: `${name} ${kind}, one process, ${threadLabel(t)}`,
          config: name,
          kind,
          workers: 1,
          threads: t,
          tfjs: v,
          tfjsSpread: spread(a),
          torch1: tv,
          torch1Spread: b.length ? spread(b) : null,
          torch2: two,
          ratio,
          cpuRatio,
          tfjsPeakMb: finiteOrNull(tjMem.get(t)![k]),
          torch1PeakMb: finiteOrNull(mem.th[k]),
          torch2PeakMb: finiteOrNull(mem.th2[k]),
          othersCores: maxOrNull([...tjOthers.get(t)![k], ...thOthers[k], ...th2Others[k]]),
        });
      }
      const a = par[k];
      if (!a.length) continue;
      const v = median(a);
      let cpuRatio: number | null = null;
      if (parCpu[k].length && thCpu[k].length) {
        // tokens per second with a core per worker (slowest worker's thread CPU time) vs torch per CPU-second
        cpuRatio = median(parCpu[k]) / median(thCpu[k]);
        entries.push(
          entry(
            `${kind}_tokens_per_s_2workers_cpu/${name}`,
            median(parCpu[k]),
            "tokens/s (a core per worker: thread CPU time)",
          ),
        );
        entries.push(
          entry(
            `${kind}_2workers_vs_torch_cpu_time/${name}`,
            cpuRatio,
            "x (load-corrected, cellrl 2 workers / torch 1 thread)",
          ),
        );
      }
      entries.push(entry(`${kind}_tokens_per_s_2workers/${name}`, v, "tokens/s", [spread(a), a.length]));
      if (Number.isFinite(mem.par[k]))
        entries.push(
          entry(`${kind}_2workers_peak_rss_mb/${name}`, mem.par[k], "MB (peak resident set, whole bench process)"),
        );
      if (tv != null)
        entries.push(entry(`${kind}_2workers_vs_torch/${name}`, v / tv, "x (cellrl 2 workers / torch 1 thread)"));
      if (two != null)
        entries.push(entry(`${kind}_2workers_vs_torch2/${name}`, v / two, "x (cellrl 2 workers / torch 2 threads)"));
      rows.push({
        workload: `${name} ${kind}, 2 workers`,
        config: name,
        kind,
        workers: 2,
        tfjs: v,
        tfjsSpread: spread(a),
        torch1: tv,
        torch1Spread: b.length ? spread(b) : null,
        torch2: two,
        ratio: tv == null ? null : v / tv,
        cpuRatio,
        tfjsPeakMb: finiteOrNull(mem.par[k]),
        torch1PeakMb: finiteOrNull(mem.th[k]),
        torch2PeakMb: finiteOrNull(mem.th2[k]),
        othersCores: maxOrNull([...parOthers[k], ...thOthers[k], ...th2Others[k]]),
      });
    }
  }

  // Profile one step per side (bench/profile.ts): cellrl at each kernel-thread count, PyTorch on 1 and 2 threads.
  const profiles: StepProfile[] = [];
  for (const name of profileNames) {
    const c = configs[name];
    const cellPeers = new Map(available.map((t) => [t, tfjsPeer(false, t)]));
    try {
      for (const kind of ["train", "generate"] as const) {
        for (const t of available) {
          log(`profile ${name} ${kind}: cellrl, one process, ${threadLabel(t)}`);
          try {
            const { r } = await track(
              `profile ${name} ${kind}, cellrl ${threadLabel(t)}`,
              () => ask(cellPeers.get(t)!, { cmd: "profile", config: c, kind, steps: profileSteps }),
              (x) => Number(x.cmdCpuS),
            );
            profiles.push(r as unknown as StepProfile);
          } catch (e) {
            notes.push(
              `profile ${name} ${kind}, cellrl ${threadLabel(t)} failed: ${(e as Error).message.split("\n")[0]}`,
            );
          }
        }
        for (const tp of [torch1, torch2]) {
          if (!tp) continue;
          log(`profile ${name} ${kind}: PyTorch ${tp.info.threads} thread(s)`);
          try {
            const { r } = await track(
              `profile ${name} ${kind}, PyTorch ${tp.info.threads} thread(s)`,
              () => tp.profile(c, kind, profileSteps),
              (x) => x.cmdCpuS,
            );
            profiles.push(r);
          } catch (e) {
            notes.push(
              `profile ${name} ${kind}, PyTorch ${tp.info.threads} threads failed: ` +
                (e as Error).message.split("\n")[0],
            );
          }
        }
      }
    } finally {
      await Promise.all([...cellPeers.values()].map((x) => x.close()));
    }
  }
  for (const pr of profiles) {
    const s = splitProfile(pr);
    const key = `${pr.config}_${pr.kind}/${pr.side}_${pr.threads}t`;
    entries.push(entry(`profile_step_ms/${key}`, pr.stepMs, "ms per step (unprofiled median)"));
    for (const g of OP_GROUPS)
      entries.push(entry(`profile_${g.replace(/\W+/g, "_")}_ms/${key}`, s.groups[g].ms, "ms per step (profiled)"));
    entries.push(entry(`profile_outside_kernels_ms/${key}`, s.outsideMs, "ms per step (step - kernels)"));
  }
  if (coresUsed.length)
    notes.push(`CPU-seconds per wall-second of the 2-thread measurements (2 = both cores): ${coresUsed.join("; ")}.`);

  if (args.has("--stock")) {
    log("tiny with the stock tfjs kernels (slow)");
    const peer = tfjsPeer(true);
    try {
      const g = samplesOf(await ask(peer, { cmd: "generate", config: configs.tiny, reps: 2 }));
      entries.push(entry("stock_generate_tokens_per_s/tiny", median(g), "tokens/s", [spread(g), g.length]));
      const t = samplesOf(await ask(peer, { cmd: "train", config: configs.tiny, steps: 1 }));
      entries.push(entry("stock_train_tokens_per_s/tiny", median(t), "tokens/s", [spread(t), t.length]));
    } catch (e) {
      notes.push(`stock-kernel run failed: ${(e as Error).message.split("\n")[0]}`);
    } finally {
      await peer.close();
    }
  }

  if (!args.has("--no-others")) {
    const other = await otherEntries();
    entries.push(...other.entries);
    notes.push(...other.notes);
  }
  await torch1?.close();
  await torch2?.close();

  const load1 = loadavg();
  const cores = cpus().length;
  const sortedLoads = [...loads].sort((a, b) => a.cores - b.cores);
  const worst = sortedLoads[sortedLoads.length - 1];
  const othersLine = worst
    ? `; other processes used ${median(loads.map((l) => l.cores)).toFixed(2)} cores ` +
      `(median over ${loads.length} measurements), at most ${worst.cores.toFixed(2)} (during ${worst.label})`
    : "";
  const busy = Math.max(load0[0], load1[0]) > cores * 0.75 || (worst?.cores ?? 0) > 0.5;
  notes.unshift(
    `Train = forward + backward + AdamW on batch*(seq-1) target tokens; generate = ${configs.tiny.prompt_len}-token prompts + new tokens with the KV cache (tok/s counts new tokens). ` +
      `Configs: ${names.map((n) => `${n} = ${(paramCount(configs[n]) / 1e6).toFixed(1)} M parameters: hidden ${configs[n].hidden_size}, ${configs[n].num_hidden_layers} layers, ${configs[n].num_attention_heads} heads, vocab ${configs[n].vocab_size}, SwiGLU ${configs[n].intermediate_size}, batch ${configs[n].batch}, seq ${configs[n].seq}, ${configs[n].new_tokens} new tokens`).join("; ")}.`,
  );
  notes.push(
    "Peak memory is the peak resident set (RSS, MB) of the process doing the work: one tfjs child per config, kind " +
      `and thread count (its idle RSS after loading the wasm backend: ${fmtMb(idleRss.tfjs)}), ` +
      `the torch peer with its peak mark reset before each call (idle after importing torch: ${fmtMb(idleRss.torch)}); ` +
      `the 2-worker rows count the whole bench process (main thread + 2 worker threads, mark reset before each run).`,
  );
  if (busy)
    notes.unshift(
      `The machine was shared and busy during this run (load average ${load0[0].toFixed(1)} at start, ` +
        `${load1[0].toFixed(1)} at end, on ${cores} cores` +
        (worst ? `; other processes took up to ${worst.cores.toFixed(2)} cores during ${worst.label}` : "") +
        "): absolute numbers are noisy, and the 2-thread figures (PyTorch 2 threads, cellrl's kernel threads, 2 " +
        "workers) most, since they need both cores; tfjs and torch alternated round by round, so the 1-thread ratios " +
        "are the more reliable figures.",
    );
  writeReport(outDir, entries, {
    date: new Date().toISOString().replace("T", " ").slice(0, 16) + " UTC",
    machine: `${cpus()[0]?.model ?? "unknown CPU"}, ${cores} cores`,
    load:
      `load average (1 min) ${load0[0].toFixed(2)} at start, ${load1[0].toFixed(2)} at end${othersLine}; ` +
      `run took ${((Date.now() - t0) / 1000).toFixed(0)} s`,
    software,
    notes,
    rows,
    profile: profiles.length
      ? { profiles, blasGflops: torch1?.info.matmulGflops ?? null, threadsMissing: threadsMissing || undefined }
      : undefined,
    scaling: names.map((n) => ({
      name: n,
      params: paramCount(configs[n]),
      hidden: configs[n].hidden_size,
      layers: configs[n].num_hidden_layers,
      seq: configs[n].seq,
      context: configs[n].prompt_len + configs[n].new_tokens,
      flops: { train: flopsPerToken(configs[n], "train"), generate: flopsPerToken(configs[n], "generate") },
    })),
  });
  log(
    `wrote BENCHMARKS.md and BENCHMARKS.json to ${outDir} (${entries.length} entries) in ${((Date.now() - t0) / 1000).toFixed(0)} s`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
