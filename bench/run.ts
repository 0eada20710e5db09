// `npm run bench`: cellrl (tfjs-wasm + cellrl's kernels) vs PyTorch on the CPU, side by side in one run, written to
// BENCHMARKS.md and BENCHMARKS.json at the repo root.
//
// Each tfjs config runs in its own child processes (bench/tfjs-peer.ts; the wasm heap never shrinks) and torch in a
// long-lived python child (bench/torch_peer.py). Measurements alternate tfjs / torch round by round, so both see the
// same machine load; values are medians over all steps of all rounds, with the p10-p90 spread.
//
// Training and generation are also measured with 2 worker threads (data parallel, bench/parallel.ts), shown next to
// torch on 1 and on 2 threads.
//
// Other engineers' benchmark modules in bench/ (kernel start-up, reward graders) run at the end; their entries are
// listed as they return them.
//
// Options: --quick (1 round, fewer steps), --only=tiny|small|medium (comma list), --out=DIR (write the report there;
// a smoke run: --quick --only=tiny --no-others --no-matmul --out=build/bench-smoke), --no-torch, --no-matmul,
// --no-parallel, --no-others, --rounds=N, --torch2 (run torch on 2 threads even on a busy machine or with --quick),
// --stock (also time tiny with the stock tfjs kernels, slow).
//
// Each config and kind runs in its own tfjs child, and each child's peak RSS is reported; the torch peer must be on
// an optimised BLAS (bench/peer-check.ts) or no ratio is printed. medium (~25 M parameters) gives the scaling curve.
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
import { peakRssMb, resetPeakRss } from "./mem.js";
import { MATMUL_FLOOR_GFLOPS } from "./peer-check.js";
import { writeReport, type HeadlineRow } from "./report.js";
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

const maxOf = (a: number, b: unknown) => (Number.isFinite(Number(b)) ? Math.max(Number(b), a || 0) : a);
const finiteOrNull = (x: number) => (Number.isFinite(x) ? x : null);

function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

function tfjsPeer(stock = false): LinePeer {
  const env = { ...process.env, ...(stock ? { CELLRL_BENCH_STOCK: "1" } : {}) };
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

async function main(): Promise<void> {
  const t0 = Date.now();
  const load0 = loadavg();
  const entries: BenchEntry[] = [];
  const notes: string[] = [];
  const rows: HeadlineRow[] = [];
  const software: string[] = [];

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
          `peer pinned to 1 thread (torch.set_num_threads(1), OPENBLAS_NUM_THREADS=1)`,
      );
      // Torch on 2 threads is only a reference, and multi-threaded BLAS collapses when the cores are shared (spinning
      // threads): run it on a quiet machine (or with --torch2), once per config.
      const quiet = loadavg()[0] < cpus().length * 0.5;
      if (cpus().length >= 2 && ((!quick && quiet) || args.has("--torch2"))) {
        const p2 = await startTorchPeer(2);
        if (typeof p2 !== "string") torch2 = p2;
        else notes.push(`PyTorch on 2 threads skipped: ${p2}`);
      } else if (cpus().length >= 2 && !quick)
        notes.push(
          `PyTorch on 2 threads skipped: the machine was busy (load ${loadavg()[0].toFixed(1)}); --torch2 forces it.`,
        );
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

  const idleRss: { tfjs: number; torch: number } = { tfjs: NaN, torch: torch1?.info.idleRssMb ?? NaN };
  for (const name of names) {
    const c: BenchConfig = configs[name];
    const p = plan[name];
    const tj = { train: [] as number[], gen: [] as number[] };
    const th = { train: [] as number[], gen: [] as number[] };
    // Tokens per CPU-second: the same work measured in CPU time, so it is far less sensitive to a busy machine.
    const tjCpu = { train: [] as number[], gen: [] as number[] };
    const thCpu = { train: [] as number[], gen: [] as number[] };
    // Peak resident memory (MB) per workload: each tfjs kind has its own child (the wasm heap never shrinks), the
    // torch peer resets its peak mark before each call, the 2-worker runs reset this process's mark.
    const mem = {
      tj: { train: NaN, gen: NaN },
      th: { train: NaN, gen: NaN },
      th2: { train: NaN, gen: NaN },
      par: { train: NaN, gen: NaN },
    };
    const peers = { train: tfjsPeer(), gen: tfjsPeer() };
    try {
      if (!software.some((x) => x.startsWith("Node")) || !Number.isFinite(idleRss.tfjs)) {
        const info = await ask(peers.train, { cmd: "info" });
        idleRss.tfjs = Number(info.rssMb);
        if (!software.some((x) => x.startsWith("Node")))
          software.unshift(
            `Node ${info.node}, @tensorflow/tfjs ${info.tfjs} wasm backend; ${(info.notes as string[]).join("; ")}`,
          );
      }
      for (let r = 0; r < p.rounds; r++) {
        log(`${name} round ${r + 1}/${p.rounds}: tfjs train`);
        const rt = await ask(peers.train, { cmd: "train", config: c, steps: p.trainSteps, warm: p.warm });
        tj.train.push(...samplesOf(rt));
        tjCpu.train.push(rt.cpuTokensPerS as number);
        mem.tj.train = maxOf(mem.tj.train, rt.peakRssMb);
        if (torch1) {
          log(`${name} round ${r + 1}/${p.rounds}: torch train`);
          const t = await torch1.train(c, p.trainSteps);
          th.train.push(...t.wall.map((s) => trainTokens(c) / s));
          thCpu.train.push(...t.cpu.map((s) => trainTokens(c) / s));
          mem.th.train = maxOf(mem.th.train, t.peakRssMb);
        }
        log(`${name} round ${r + 1}/${p.rounds}: tfjs generate`);
        const rg = await ask(peers.gen, { cmd: "generate", config: c, reps: p.genReps, warm: p.warm });
        tj.gen.push(...samplesOf(rg));
        tjCpu.gen.push(rg.cpuTokensPerS as number);
        mem.tj.gen = maxOf(mem.tj.gen, rg.peakRssMb);
        if (torch1) {
          log(`${name} round ${r + 1}/${p.rounds}: torch generate`);
          const t = await torch1.generate(c, p.genReps);
          th.gen.push(...t.wall.map((s) => generateTokens(c) / s));
          thCpu.gen.push(...t.cpu.map((s) => generateTokens(c) / s));
          mem.th.gen = maxOf(mem.th.gen, t.peakRssMb);
        }
      }
    } catch (e) {
      notes.push(`tfjs ${name} failed: ${(e as Error).message.split("\n").slice(0, 3).join(" ")}`);
    } finally {
      await Promise.all([peers.train.close(), peers.gen.close()]);
    }
    // 2 workers (tfjs) alternating with torch on 2 threads, round by round.
    const par = { train: [] as number[], gen: [] as number[] };
    const parCpu = { train: [] as number[], gen: [] as number[] };
    const th2 = { train: [] as number[], gen: [] as number[] };
    for (let r = 0; r < p.rounds; r++) {
      if (!args.has("--no-parallel")) {
        for (const kind of ["train", "gen"] as const) {
          log(`${name} round ${r + 1}/${p.rounds}: tfjs 2-worker ${kind}`);
          try {
            const reset = resetPeakRss();
            const res =
              kind === "train"
                ? await parallelTrainTokensPerS(c, { steps: p.trainSteps, workers: 2 })
                : await parallelGenerateTokensPerS(c, { reps: p.genReps, workers: 2 });
            if (reset) mem.par[kind] = maxOf(mem.par[kind], peakRssMb());
            if (!res.inSync)
              notes.push(
                `${name}: the 2 workers' weights differ after ${kind} (checksum mismatch); that number is suspect.`,
              );
            par[kind].push(...res.samples);
            if (Number.isFinite(res.cpuValue)) parCpu[kind].push(res.cpuValue);
          } catch (e) {
            notes.push(`tfjs ${name} 2-worker ${kind} failed: ${(e as Error).message.split("\n")[0]}`);
          }
        }
      }
      if (torch2 && r === 0) {
        log(`${name} round ${r + 1}/${p.rounds}: torch 2 threads`);
        const t2 = await torch2.train(c, p.trainSteps);
        th2.train.push(...t2.wall.map((s) => trainTokens(c) / s));
        mem.th2.train = t2.peakRssMb;
        const g2 = await torch2.generate(c, p.genReps);
        th2.gen.push(...g2.wall.map((s) => generateTokens(c) / s));
        mem.th2.gen = g2.peakRssMb;
      }
    }
    const t2train = th2.train.length ? median(th2.train) : null;
    const t2gen = th2.gen.length ? median(th2.gen) : null;
    const memEntries = (prefix: string, kind: "train" | "generate", mb: number) => {
      if (Number.isFinite(mb))
        entries.push(entry(`${prefix}${kind}_peak_rss_mb/${name}`, mb, "MB (peak resident set)"));
    };
    for (const [kind, a, b, two, ac, bc, k] of [
      ["train", tj.train, th.train, t2train, tjCpu.train, thCpu.train, "train"],
      ["generate", tj.gen, th.gen, t2gen, tjCpu.gen, thCpu.gen, "gen"],
    ] as const) {
      if (!a.length) continue;
      const v = median([...a]);
      entries.push(entry(`${kind}_tokens_per_s/${name}`, v, "tokens/s", [spread([...a]), a.length]));
      memEntries("", kind, mem.tj[k]);
      memEntries("torch_", kind, mem.th[k]);
      memEntries("torch2_", kind, mem.th2[k]);
      let ratio: number | null = null;
      if (b.length) {
        const tv = median([...b]);
        ratio = v / tv;
        entries.push(entry(`torch_${kind}_tokens_per_s/${name}`, tv, "tokens/s", [spread([...b]), b.length]));
        entries.push(entry(`${kind}_vs_torch/${name}`, ratio, "x (cellrl / torch 1 thread)"));
      }
      if (two != null) entries.push(entry(`torch2_${kind}_tokens_per_s/${name}`, two, "tokens/s"));
      let cpuRatio: number | null = null;
      if (ac.length && bc.length) {
        cpuRatio = median([...ac]) / median([...bc]);
        entries.push(entry(`${kind}_tokens_per_cpu_s/${name}`, median([...ac]), "tokens/CPU-s"));
        entries.push(entry(`torch_${kind}_tokens_per_cpu_s/${name}`, median([...bc]), "tokens/CPU-s"));
        entries.push(entry(`${kind}_vs_torch_cpu_time/${name}`, cpuRatio, "x (per CPU-second, load-corrected)"));
      }
      rows.push({
        workload: `${name} ${kind}`,
        config: name,
        kind,
        workers: 1,
        tfjs: v,
        tfjsSpread: spread([...a]),
        torch1: b.length ? median([...b]) : null,
        torch1Spread: b.length ? spread([...b]) : null,
        torch2: two,
        ratio,
        cpuRatio,
        tfjsPeakMb: finiteOrNull(mem.tj[k]),
        torch1PeakMb: finiteOrNull(mem.th[k]),
        torch2PeakMb: finiteOrNull(mem.th2[k]),
      });
    }
    for (const [kind, a, ac, two, k] of [
      ["train", par.train, parCpu.train, t2train, "train"],
      ["generate", par.gen, parCpu.gen, t2gen, "gen"],
    ] as const) {
      if (!a.length) continue;
      const v = median([...a]);
      const one = kind === "train" ? th.train : th.gen;
      const oneCpu = kind === "train" ? thCpu.train : thCpu.gen;
      let cpuRatio: number | null = null;
      if (ac.length && oneCpu.length) {
        // tokens per second with a core per worker (slowest worker's thread CPU time) vs torch per CPU-second
        cpuRatio = median([...ac]) / median([...oneCpu]);
        entries.push(
          entry(
            `${kind}_tokens_per_s_2workers_cpu/${name}`,
            median([...ac]),
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
      entries.push(entry(`${kind}_tokens_per_s_2workers/${name}`, v, "tokens/s", [spread([...a]), a.length]));
      if (Number.isFinite(mem.par[k]))
        entries.push(
          entry(`${kind}_2workers_peak_rss_mb/${name}`, mem.par[k], "MB (peak resident set, whole bench process)"),
        );
      if (one.length)
        entries.push(
          entry(`${kind}_2workers_vs_torch/${name}`, v / median([...one]), "x (cellrl 2 workers / torch 1 thread)"),
        );
      if (two)
        entries.push(entry(`${kind}_2workers_vs_torch2/${name}`, v / two, "x (cellrl 2 workers / torch 2 threads)"));
      rows.push({
        workload: `${name} ${kind}, 2 workers`,
        config: name,
        kind,
        workers: 2,
        tfjs: v,
        tfjsSpread: spread([...a]),
        torch1: one.length ? median([...one]) : null,
        torch1Spread: one.length ? spread([...one]) : null,
        torch2: two,
        ratio: one.length ? v / median([...one]) : null,
        cpuRatio,
        tfjsPeakMb: finiteOrNull(mem.par[k]),
        torch1PeakMb: finiteOrNull(mem.th[k]),
        torch2PeakMb: finiteOrNull(mem.th2[k]),
      });
    }
  }

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
  const busy = Math.max(load0[0], load1[0]) > cores * 0.75;
  notes.unshift(
    `Train = forward + backward + AdamW on batch*(seq-1) target tokens; generate = ${configs.tiny.prompt_len}-token prompts + new tokens with the KV cache (tok/s counts new tokens). ` +
      `Configs: ${names.map((n) => `${n} = ${(paramCount(configs[n]) / 1e6).toFixed(1)} M parameters: hidden ${configs[n].hidden_size}, ${configs[n].num_hidden_layers} layers, ${configs[n].num_attention_heads} heads, vocab ${configs[n].vocab_size}, SwiGLU ${configs[n].intermediate_size}, batch ${configs[n].batch}, seq ${configs[n].seq}, ${configs[n].new_tokens} new tokens`).join("; ")}.`,
  );
  notes.push(
    `Peak memory is the peak resident set (RSS, MB) of the process doing the work: one tfjs child per config and kind (its idle RSS after loading the wasm backend: ${fmtMb(idleRss.tfjs)}), ` +
      `the torch peer with its peak mark reset before each call (idle after importing torch: ${fmtMb(idleRss.torch)}); ` +
      `the 2-worker rows count the whole bench process (main thread + 2 worker threads, mark reset before each run).`,
  );
  if (busy)
    notes.unshift(
      `The machine was shared and busy during this run (load average ${load0[0].toFixed(1)} at start, ${load1[0].toFixed(1)} at end, on ${cores} cores): absolute numbers are noisy; tfjs and torch alternated round by round, so the ratios are the more reliable figures.`,
    );
  writeReport(outDir, entries, {
    date: new Date().toISOString().replace("T", " ").slice(0, 16) + " UTC",
    machine: `${cpus()[0]?.model ?? "unknown CPU"}, ${cores} cores`,
    load: `load average (1 min) ${load0[0].toFixed(2)} at start, ${load1[0].toFixed(2)} at end; run took ${((Date.now() - t0) / 1000).toFixed(0)} s`,
    software,
    notes,
    rows,
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
