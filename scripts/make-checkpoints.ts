// Train and save the tiny char-level checkpoints the tutorial notebooks start from (datasets/checkpoints/), from a
// seed, on procedural tasks of lib/tasks, with lib/model + lib/update only. Run: npm run make:checkpoints
//   -- --only sort5-base,pairsum-base   build some of them
//   -- --out /tmp/ck                    write elsewhere (default datasets/checkpoints)
//   -- --check                          rebuild into a temp dir and compare sha256 with the committed manifest
// Every checkpoint is the HuggingFace layout of lib/model (config.json, model.safetensors, tokenizer.json, ...) plus
// what made it in cellrl.json "extra" (task, knobs, held-out set, accuracy). manifest.json lists config, data, steps,
// accuracy and the sha256 of every file. Same machine, same seed, same bytes (wasm kernels are single-threaded).
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Rng, useBackend, model, tasks, update } from "../lib/index.js";
import { backendInfo } from "../lib/core/backend.js";
import type { TaskRecord } from "../lib/tasks/index.js";
import { swigluWidth } from "../lib/model/config.js";
import { writeJsonAtomic } from "../lib/core/atomic.js";

const ROOT = path.resolve(__dirname, "..");

/** How a checkpoint is made. */
interface Spec {
  name: string;
  /** Which notebook uses it and for what. */
  purpose: string;
  task: string;
  knobs: Record<string, unknown>;
  model: { hidden: number; layers: number; heads: number };
  sft: {
    steps: number;
    batch: number;
    lr: number;
    /** Fraction of demonstrations corrupted by swapping the last two neighbouring symbols that differ (0 = clean data). */
    noise: number;
    /** Distinct training prompts generated (cycled through); held-out prompts are excluded. */
    trainPrompts: number;
  };
  /** Held-out set: tasks.records(task, n, {seed, unique: true, split: "test", ...knobs}); accuracy from `samples` samples at temperature 1. */
  heldout: { n: number; seed: number; samples: number; maxNewTokens: number; unique: boolean };
  seed: number;
}

const SPECS: Spec[] = [
  {
    name: "sort5-base",
    purpose:
      "02-grpo and 01-quickstart: a base policy that sorts 5 digits but samples a wrong answer more often than not; GRPO lifts it",
    task: "sort",
    knobs: { length: 5, symbols: "digits" },
    model: { hidden: 64, layers: 2, heads: 4 },
    sft: { steps: 500, batch: 64, lr: 3e-3, noise: 0.6, trainPrompts: 20000 },
    heldout: { n: 200, seed: 1, samples: 4, maxNewTokens: 8, unique: true },
    seed: 0,
  },
  {
    name: "pairsum-base",
    purpose:
      "03-flowrl-vs-grpo: a partly trained policy on a task with many correct answers (a+b = N), sampling diverse pairs",
    task: "pair-sum",
    knobs: { maxTarget: 30, minValue: 1 },
    model: { hidden: 64, layers: 2, heads: 4 },
    sft: { steps: 700, batch: 64, lr: 3e-3, noise: 0, trainPrompts: 0 },
    heldout: { n: 29, seed: 1, samples: 16, maxNewTokens: 8, unique: true },
    seed: 0,
  },
  {
    name: "sortletters-teacher",
    purpose: "04-gkd: the teacher, larger and accurate, sorting 6 letters",
    task: "sort",
    knobs: { length: 6, symbols: "letters" },
    model: { hidden: 128, layers: 3, heads: 4 },
    sft: { steps: 900, batch: 64, lr: 2e-3, noise: 0, trainPrompts: 60000 },
    heldout: { n: 200, seed: 1, samples: 4, maxNewTokens: 10, unique: true },
    seed: 0,
  },
  {
    name: "sortletters-student",
    purpose: "04-gkd: the student, smaller and only briefly trained on the same task",
    task: "sort",
    knobs: { length: 6, symbols: "letters" },
    model: { hidden: 48, layers: 2, heads: 4 },
    sft: { steps: 150, batch: 64, lr: 3e-3, noise: 0, trainPrompts: 20000 },
    heldout: { n: 200, seed: 1, samples: 4, maxNewTokens: 10, unique: true },
    seed: 1,
  },
];

interface Args {
  only: string[] | null;
  out: string;
  check: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { only: null, out: path.join(ROOT, "datasets", "checkpoints"), check: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === "--only") a.only = argv[++i].split(",").filter(Boolean);
    else if (k === "--out") a.out = path.resolve(argv[++i]);
    else if (k === "--check") a.check = true;
    else throw new Error(`make-checkpoints: unknown argument ${k} (known: --only a,b --out dir --check)`);
  }
  if (a.only)
    for (const n of a.only)
      if (!SPECS.some((s) => s.name === n))
        throw new Error(`make-checkpoints: unknown checkpoint ${n} (known: ${SPECS.map((s) => s.name).join(", ")})`);
  return a;
}

const promptOf = (r: TaskRecord) => (r.prompt as { content: string }[])[0].content;

/** The sloppy annotator's habit: swap the last two neighbouring symbols that differ ("12359" -> "12395"). */
function corrupt(answer: string): string {
  let i = answer.length - 2;
  while (i >= 0 && answer[i] === answer[i + 1]) i--;
  return i < 0 ? answer : answer.slice(0, i) + answer[i + 1] + answer[i] + answer.slice(i + 2);
}

/** Right-padded SFT batch: prompt (with BOS) then response + EOS; the response mask covers response and EOS. */
function sftBatch(tok: model.CharTokenizer, pairs: { prompt: string; response: string }[]) {
  const rows = pairs.map((p) => ({
    p: tok.encode(p.prompt),
    r: [...tok.encode(p.response, { addSpecialTokens: false }), tok.eosTokenId!],
  }));
  const T = Math.max(...rows.map((x) => x.p.length + x.r.length));
  const pad = tok.padTokenId!;
  return {
    ids: rows.map((x) => [...x.p, ...x.r, ...new Array(T - x.p.length - x.r.length).fill(pad)]),
    attentionMask: rows.map((x) => Array.from({ length: T }, (_, t) => (t < x.p.length + x.r.length ? 1 : 0))),
    responseMask: rows.map((x) =>
      Array.from({ length: T }, (_, t) => (t >= x.p.length && t < x.p.length + x.r.length ? 1 : 0)),
    ),
  };
}

/** Held-out accuracy: mean over `samples` samples at temperature 1 (mean@k), greedy, and distinct correct answers per prompt. */
function evaluate(m: model.LlamaModel, tok: model.CharTokenizer, spec: Spec, test: TaskRecord[]) {
  const task = tasks.tasks.get(spec.task);
  const prompts = test.map(promptOf);
  const run = (temperature: number, n: number) =>
    model.generate(m, prompts, { tokenizer: tok, temperature, n, maxNewTokens: spec.heldout.maxNewTokens, seed: 1234 });
  const sampled = run(1, spec.heldout.samples);
  const ok = sampled.text!.map((t, i) => task.verify(t, test[sampled.group[i]].reward_model!.ground_truth).score >= 1);
  const greedy = run(0, 1);
  const okG = greedy.text!.map((t, i) => task.verify(t, test[i].reward_model!.ground_truth).score >= 1);
  const perPrompt = test.map((r, g) => sampled.text!.filter((_, i) => sampled.group[i] === g));
  const distinct = perPrompt.map(
    (texts, g) => tasks.distinctCorrect(spec.task, texts, test[g].reward_model!.ground_truth).distinct,
  );
  const passAtK = perPrompt.map((_, g) => (ok.some((x, i) => x && sampled.group[i] === g) ? 1 : 0));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  return {
    accuracy: round(mean(ok.map(Number))),
    accuracy_greedy: round(mean(okG.map(Number))),
    [`pass_at_${spec.heldout.samples}`]: round(mean(passAtK)),
    distinct_correct_per_prompt: round(mean(distinct)),
  };
}

const round = (x: number, d = 4) => Math.round(x * 10 ** d) / 10 ** d;
const sha256 = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

async function build(spec: Spec, outDir: string) {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const task = tasks.tasks.get(spec.task);
  const tok = model.CharTokenizer.fromAlphabet(tasks.alphabet(spec.task), { addBos: true, chatTemplate: "plain" });
  const cfg = model.llamaConfig({
    hidden_size: spec.model.hidden,
    num_hidden_layers: spec.model.layers,
    num_attention_heads: spec.model.heads,
    num_key_value_heads: spec.model.heads,
    intermediate_size: swigluWidth(spec.model.hidden),
    vocab_size: tok.vocabSize,
    max_position_embeddings: 64,
    tie_word_embeddings: true,
    bos_token_id: tok.bosTokenId!,
    eos_token_id: tok.eosTokenId!,
    pad_token_id: tok.padTokenId!,
  });
  const m = new model.LlamaModel(cfg, { rng: new Rng(`${spec.name}/init/${spec.seed}`) });

  // Held-out prompts first, so training prompts can exclude them.
  const test = tasks.records(spec.task, spec.heldout.n, {
    seed: spec.heldout.seed,
    unique: spec.heldout.unique,
    split: "test",
    ...spec.knobs,
  });
  const train =
    spec.sft.trainPrompts > 0
      ? tasks.records(spec.task, spec.sft.trainPrompts, {
          seed: `${spec.name}/train`,
          exclude: test.map(promptOf),
          ...spec.knobs,
        })
      : tasks.records(spec.task, spec.sft.steps * spec.sft.batch, { seed: `${spec.name}/train`, ...spec.knobs });
  const noiseRng = new Rng(`${spec.name}/noise`);
  const opt = new model.AdamW(m.namedVariables(), {
    lr: spec.sft.lr,
    weightDecay: 0,
    schedule: { type: "cosine", warmupSteps: 20, totalSteps: spec.sft.steps, minLrRatio: 0.1 },
  });
  let next = 0,
    corrupted = 0,
    lastLoss = NaN;
  for (let s = 0; s < spec.sft.steps; s++) {
    const pairs = Array.from({ length: spec.sft.batch }, () => {
      const r = train[next++ % train.length];
      const answer = String(r.extra_info!.answer);
      const bad = spec.sft.noise > 0 && noiseRng.uniform() < spec.sft.noise;
      const response = bad ? corrupt(answer) : answer;
      if (response !== answer) corrupted++;
      return { prompt: promptOf(r), response };
    });
    lastLoss = update.sftStep({ policy: m, opt, batch: sftBatch(tok, pairs) })["update/sftLoss"];
    if ((s + 1) % 100 === 0)
      console.log(`  ${spec.name} step ${s + 1}/${spec.sft.steps} sft loss ${lastLoss.toFixed(4)}`);
  }
  const ev = evaluate(m, tok, spec, test);
  const seconds = round((performance.now() - t0) / 1000, 1);
  const cpu = process.cpuUsage(cpu0);
  const dir = path.join(outDir, spec.name);
  const data = {
    task: spec.task,
    data_source: task.dataSource,
    knobs: spec.knobs,
    prompt_format: "the task prompt text as is, BOS prepended by the tokenizer; response = answer + <eos>",
    train: {
      seed: `${spec.name}/train`,
      prompts: train.length,
      examples_seen: spec.sft.steps * spec.sft.batch,
      excludes_heldout: spec.sft.trainPrompts > 0,
      noise: spec.sft.noise
        ? `${spec.sft.noise} of demonstrations had their last two differing neighbouring symbols swapped (a systematic habit) (${corrupted} of ${spec.sft.steps * spec.sft.batch})`
        : "none",
    },
    heldout: {
      ...spec.heldout,
      call: `tasks.records(${JSON.stringify(spec.task)}, ${spec.heldout.n}, {seed: ${spec.heldout.seed}, unique: ${spec.heldout.unique}, split: "test", ...knobs})`,
    },
  };
  const training = {
    method: "sft (update.sftStep, token-mean NLL on response + eos)",
    steps: spec.sft.steps,
    batch: spec.sft.batch,
    optimizer: "AdamW",
    lr: spec.sft.lr,
    weight_decay: 0,
    schedule: "cosine, 20 warmup steps, min 0.1",
    final_sft_loss: round(lastLoss),
    seed: spec.seed,
  };
  model.saveCheckpoint(dir, m, {
    tokenizer: tok,
    extra: { name: spec.name, purpose: spec.purpose, data, training, eval: ev },
  });
  // saved_at is the only field that changes between identical runs; drop it so the files (and their sha256) replay.
  const metaFile = path.join(dir, "cellrl.json");
  const meta = JSON.parse(fs.readFileSync(metaFile, "utf8"));
  delete meta.saved_at;
  writeJsonAtomic(metaFile, meta);
  const files = fs
    .readdirSync(dir)
    .sort()
    .map((f) => ({ file: f, bytes: fs.statSync(path.join(dir, f)).size, sha256: sha256(path.join(dir, f)) }));
  const entry = {
    name: spec.name,
    dir: spec.name,
    purpose: spec.purpose,
    config: cfg,
    parameters: m.numParameters(),
    data,
    training,
    accuracy: ev.accuracy,
    eval: {
      ...ev,
      protocol: `held-out set above; accuracy = mean over ${spec.heldout.samples} samples per prompt at temperature 1 (generate seed 1234); greedy = temperature 0`,
    },
    files,
    total_bytes: files.reduce((a, f) => a + f.bytes, 0),
    build: {
      seconds,
      cpu_seconds: round((cpu.user + cpu.system) / 1e6, 1),
      backend: backendInfo()?.name,
      node: process.version,
      load_average_1m: round(os.loadavg()[0], 2),
    },
  };
  m.dispose();
  console.log(
    `${spec.name}: accuracy ${ev.accuracy} (greedy ${ev.accuracy_greedy}), ${entry.total_bytes} bytes, ${seconds} s`,
  );
  return entry;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  await useBackend();
  const specs = SPECS.filter((s) => !args.only || args.only.includes(s.name));
  const committed = path.join(ROOT, "datasets", "checkpoints", "manifest.json");
  const out = args.check ? fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-checkpoints-")) : args.out;
  fs.mkdirSync(out, { recursive: true });
  const manifestFile = path.join(out, "manifest.json");
  const prev = fs.existsSync(manifestFile) ? JSON.parse(fs.readFileSync(manifestFile, "utf8")) : null;
  const entries: Record<string, unknown>[] = [];
  for (const s of specs) entries.push(await build(s, out));

  if (args.check) {
    const want = JSON.parse(fs.readFileSync(committed, "utf8")) as {
      checkpoints: { name: string; files: { file: string; sha256: string }[] }[];
    };
    let bad = 0;
    for (const e of entries as { name: string; files: { file: string; sha256: string }[] }[]) {
      const w = want.checkpoints.find((c) => c.name === e.name);
      for (const f of e.files) {
        const wf = w?.files.find((x) => x.file === f.file);
        const same = wf?.sha256 === f.sha256;
        if (!same) bad++;
        console.log(`${same ? "same" : "DIFFERENT"} ${e.name}/${f.file}`);
      }
    }
    fs.rmSync(out, { recursive: true, force: true });
    if (bad) throw new Error(`make-checkpoints --check: ${bad} file(s) differ from datasets/checkpoints/manifest.json`);
    console.log("make-checkpoints --check: every file matches the committed manifest");
    return;
  }
  // Keep entries of checkpoints not rebuilt this time (--only), in SPECS order.
  const kept = (prev?.checkpoints ?? []) as { name: string }[];
  const all = SPECS.map((s) => entries.find((e) => e.name === s.name) ?? kept.find((e) => e.name === s.name)).filter(
    Boolean,
  );
  const manifest = {
    generator: "scripts/make-checkpoints.ts (npm run make:checkpoints)",
    format: "HuggingFace layout written by model.saveCheckpoint (F32); load with model.loadCheckpoint(dir)",
    checkpoints: all,
  };
  writeJsonAtomic(manifestFile, manifest);
  console.log(`wrote ${manifestFile}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
