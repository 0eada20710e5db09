// One GRPO step (update.grpoStep) in one process vs with update.parallelTrainer (2 worker threads), alternating round
// by round so both see the same machine load. Rollout and old log-probs stay on the main thread; only the
// update is split, so the step gains less than training alone (bench/parallel.ts).
// Run: node --import tsx bench/grpo-step.ts
import * as path from "node:path";
import { useBackend } from "../lib/core/backend.js";
import { Rng } from "../lib/core/random.js";
import { loadCheckpoint } from "../lib/model/checkpoint.js";
import { AdamW } from "../lib/model/optim.js";
import { LocalPolicy } from "../lib/rollout/index.js";
import { scoreSync } from "../lib/reward/index.js";
import * as tasks from "../lib/tasks/index.js";
import { grpoStep, parallelTrainer } from "../lib/update/index.js";
import { median } from "./stats.js";

const CHECKPOINTS = path.join(__dirname, "..", "datasets", "checkpoints");
const PROMPTS = 32,
  G = 8;

type Mode = "1 process" | "2 workers";

/** Wall ms per step and update-phase ms per step of `steps` GRPO steps (after one warm-up step). */
async function run(name: string, mode: Mode, steps: number): Promise<{ step: number[]; update: number[] }> {
  const ck = loadCheckpoint(path.join(CHECKPOINTS, name));
  const knobs = (ck.extra as { data: { knobs: Record<string, unknown> } }).data.knobs;
  const recs = tasks.records("sort", (steps + 1) * PROMPTS, { seed: "bench-grpo", ...knobs });
  if (!ck.tokenizer) throw new Error(`bench/grpo-step: ${name} has no tokenizer.json`);
  const policy = new LocalPolicy(ck.model, ck.tokenizer);
  const optimizer = { lr: 1e-3, weightDecay: 0 };
  const opt = new AdamW(ck.model.namedVariables(), optimizer);
  const trainer = mode === "2 workers" ? await parallelTrainer(policy, { workers: 2, optimizer }) : null;
  const rng = new Rng(7);
  const out = { step: [] as number[], update: [] as number[] };
  try {
    for (let i = 0; i <= steps; i++) {
      const batch = recs.slice(i * PROMPTS, (i + 1) * PROMPTS);
      const t = performance.now();
      const r = await grpoStep(
        { policy, opt, trainer, prompts: batch, reward: (o) => scoreSync(o).scores },
        { n: G, sampling: { maxNewTokens: 8, temperature: 1 }, rng, thresholds: { zeroStdFrac: null } },
      );
      if (i === 0) continue; // warm-up: wasm compilation, first allocations
      out.step.push(performance.now() - t);
      out.update.push(r.metrics["time/update"] * 1000);
    }
  } finally {
    await trainer?.close();
    opt.dispose();
    ck.model.dispose();
  }
  return out;
}

/**
 * GRPO step wall time, 32 prompts × 8 samples, on the shipped sort5-base (97k parameters) and sortletters-teacher
 * (571k): one process vs two worker threads, medians over 3 rounds × 4 steps.
 * @example const rows = await benchGrpoStep(); rows[0].value // ms per step
 */
export async function benchGrpoStep(
  options: { rounds?: number; steps?: number } = {},
): Promise<{ name: string; value: number; unit: string; extra?: Record<string, unknown> }[]> {
  const { rounds = 3, steps = 4 } = options;
  await useBackend();
  const entries = [];
  for (const name of ["sort5-base", "sortletters-teacher"]) {
    const acc: Record<Mode, { step: number[]; update: number[] }> = {
      "1 process": { step: [], update: [] },
      "2 workers": { step: [], update: [] },
    };
    for (let r = 0; r < rounds; r++)
      for (const mode of (r % 2 ? ["2 workers", "1 process"] : ["1 process", "2 workers"]) as Mode[]) {
        const m = await run(name, mode, steps);
        acc[mode].step.push(...m.step);
        acc[mode].update.push(...m.update);
      }
    const one = median(acc["1 process"].step),
      two = median(acc["2 workers"].step);
    const u1 = median(acc["1 process"].update),
      u2 = median(acc["2 workers"].update);
    entries.push(
      {
        name: `GRPO step ${name} ${PROMPTS}x${G}, 1 process`,
        value: Math.round(one),
        unit: "ms/step",
        extra: { updateMs: Math.round(u1) },
      },
      {
        name: `GRPO step ${name} ${PROMPTS}x${G}, 2 workers (update.parallelTrainer)`,
        value: Math.round(two),
        unit: "ms/step",
        extra: { updateMs: Math.round(u2), stepSpeedup: +(one / two).toFixed(2), updateSpeedup: +(u1 / u2).toFixed(2) },
      },
    );
  }
  return entries;
}

if (require.main === module)
  benchGrpoStep().then(
    (r) => console.log(JSON.stringify(r, null, 1)),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
