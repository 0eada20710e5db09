// `cellrl verl export` (records → a directory verl runs: parquet datasets, YAML config, run script) and
// `cellrl verl import` (verl main_generation output or rollout dumps → records for `cellrl eval` / `cellrl score`).
import * as fs from "node:fs";
import { describe, fail } from "../core/errors.js";
import { readRecords, writeRecords } from "../data/io.js";
import { exportVerlRun } from "../remote/verl-export.js";
import type { VerlSettings } from "../remote/verl-config.js";
import { readVerlOutputs } from "../remote/verl-import.js";
import { intOption, parseOptions, UsageError, type CliCommand } from "./command.js";

const usage = `Usage:
  cellrl verl export --input F [--input G ...] --out DIR --model M --batch-size N [options]
      Write DIR/train.parquet (the records of every --input, in verl's dataset layout), DIR/val.parquet (--val),
      DIR/cellrl_<algorithm>.yaml and DIR/run_<algorithm>.sh (the verl command with the settings), and print the
      command.
  cellrl verl import --input F|DIR --output O [--data-source S] [--steps all|last|N,M]
      Read verl main_generation output (parquet / JSONL with a responses list per prompt), one rollout dump file, or a
      rollout_data_dir / validation_data_dir of <step>.jsonl files, and write records with responses (upstream scores
      kept in extra_info.upstream_scores) for \`cellrl eval --input O\` or \`cellrl score\`.

Export options:
  --input F           records (.jsonl, .json, .parquet, .arrow, optionally .gz): a task's, an eval set's (repeatable)
  --val F             validation records (repeatable). Defaults to none (verl validates on the training file)
  --out DIR           output directory (created)
  --settings J        a JSON file with verlConfig settings: {"algorithm", "model", "batchSize", "step": {...grpoStep /
                      flowrlStep / gkdStep options}, "optimizer": {...AdamW options}, "gpusPerNode", ...}
  --algorithm A       grpo, flowrl or gkd (overrides the settings file). Defaults to grpo
  --model M           HF model id or path for actor_rollout_ref.model.path (overrides the settings file)
  --batch-size N      prompts per step, data.train_batch_size (overrides the settings file)
  --gpus N            GPUs per node (trainer.n_gpus_per_node). Defaults to 8
  --limit N           use only the first N records of the inputs
Import options:
  --input F|DIR       verl output file, or a dump directory
  --output O          records file to write (.jsonl, .jsonl.gz, .parquet)
  --data-source S     data_source for dump rows (verl dumps carry none)
  --steps S           all, last, or a comma list of steps of a dump. Defaults to all
  -h, --help          this help

Example:
  npx cellrl verl export --input gsm8k_train.jsonl --val datasets/gsm8k_test.jsonl.gz --out verl-gsm8k \\
    --model Qwen/Qwen2.5-0.5B-Instruct --batch-size 64
  (cd ~/verl && bash ~/work/verl-gsm8k/run_grpo.sh)
  npx cellrl verl import --input ~/verl/rollouts --steps last --data-source openai/gsm8k --output gen.jsonl
  npx cellrl eval --input gen.jsonl`;

async function readAll(files: string[], limit?: number): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const f of files) {
    if (!fs.existsSync(f))
      fail("not_found", `cli.verl: --input ${f} does not exist (expected a records file). Check the path.`, { got: f });
    out.push(...(await readRecords(f)));
    if (limit !== undefined && out.length >= limit) return out.slice(0, limit);
  }
  return out;
}

function table(rows: Record<string, number>): string {
  const w = Math.max(11, ...Object.keys(rows).map((k) => k.length));
  return [
    `${"data_source".padEnd(w)}  rows`,
    `${"-".repeat(w)}  ----`,
    ...Object.entries(rows).map(([k, n]) => `${k.padEnd(w)}  ${n}`),
  ].join("\n");
}

async function runExport(argv: string[]): Promise<number> {
  const { values, help } = parseOptions(argv, {
    input: { type: "string", multiple: true },
    val: { type: "string", multiple: true },
    out: { type: "string" },
    settings: { type: "string" },
    algorithm: { type: "string" },
    model: { type: "string" },
    "batch-size": { type: "string" },
    gpus: { type: "string" },
    limit: { type: "string" },
  });
  if (help) {
    console.log(usage);
    return 0;
  }
  const inputs = (values.input as string[] | undefined) ?? [];
  if (inputs.length === 0) throw new UsageError("--input is missing (the records to train on)");
  const out = values.out as string | undefined;
  if (!out) throw new UsageError("--out is missing (the directory to write)");
  let settings: Partial<VerlSettings> = {};
  if (values.settings !== undefined) {
    const f = values.settings as string;
    if (!fs.existsSync(f))
      fail("not_found", `cli.verl: --settings ${f} does not exist (expected a JSON file of verlConfig settings).`, {
        got: f,
      });
    try {
      settings = JSON.parse(fs.readFileSync(f, "utf8"));
    } catch (e) {
      fail(
        "invalid_input",
        `cli.verl: --settings ${f} is not valid JSON (${(e as Error).message}). ` +
          "Write it with JSON.stringify(settings).",
        { got: f },
      );
    }
    if (typeof settings !== "object" || settings === null || Array.isArray(settings))
      fail("invalid_input", `cli.verl: --settings ${f} must hold a JSON object (got ${describe(settings)}).`, {});
  }
  if (values.algorithm !== undefined) settings.algorithm = values.algorithm as VerlSettings["algorithm"];
  settings.algorithm ??= "grpo";
  if (values.model !== undefined) settings.model = values.model as string;
  const bs = intOption(values["batch-size"], "--batch-size", { min: 1, max: 10_000_000 });
  if (bs !== undefined) settings.batchSize = bs;
  const gpus = intOption(values.gpus, "--gpus", { min: 1, max: 1024 });
  if (gpus !== undefined) settings.gpusPerNode = gpus;
  if (!settings.model) throw new UsageError('--model is missing (give it, or put "model" in --settings)');
  if (!settings.batchSize) throw new UsageError('--batch-size is missing (give it, or put "batchSize" in --settings)');
  const limit = intOption(values.limit, "--limit", { min: 1 });
  const train = await readAll(inputs, limit);
  const valFiles = (values.val as string[] | undefined) ?? [];
  const val = valFiles.length ? await readAll(valFiles) : null;
  const res = exportVerlRun(out, { train, val, settings: settings as VerlSettings });
  console.log(`train.parquet:\n${table(res.rows.train)}`);
  if (res.rows.val) console.log(`\nval.parquet:\n${table(res.rows.val)}`);
  console.log(`\nwrote ${res.files.join(", ")}`);
  for (const n of res.config.notes) console.log(`note: ${n}`);
  console.log(
    `\nRun from the verl repository root:\n  bash ${res.files[res.files.length - 1]}\n` +
      `which runs:\n${res.config.command}`,
  );
  return 0;
}

async function runImport(argv: string[]): Promise<number> {
  const { values, help } = parseOptions(argv, {
    input: { type: "string" },
    output: { type: "string" },
    "data-source": { type: "string" },
    steps: { type: "string" },
  });
  if (help) {
    console.log(usage);
    return 0;
  }
  const input = values.input as string | undefined;
  const output = values.output as string | undefined;
  if (!input) throw new UsageError("--input is missing (a verl output file or dump directory)");
  if (!output) throw new UsageError("--output is missing (the records file to write)");
  const s = (values.steps as string | undefined) ?? "all";
  let steps: "all" | "last" | number[];
  if (s === "all" || s === "last") steps = s;
  else {
    steps = s.split(",").map((x) => Number(x.trim()));
    if (steps.some((x) => !Number.isInteger(x)))
      throw new UsageError(`--steps must be all, last or a comma list of step numbers (got ${JSON.stringify(s)})`);
  }
  const recs = await readVerlOutputs(input, { steps, dataSource: values["data-source"] as string | undefined });
  writeRecords(output, recs as unknown as Record<string, unknown>[]);
  const by: Record<string, number> = {};
  let responses = 0;
  for (const r of recs) {
    by[r.data_source] = (by[r.data_source] ?? 0) + 1;
    responses += r.responses.length;
  }
  const stepsSeen = [...new Set(recs.map((r) => r.extra_info?.step).filter((x) => x !== undefined))];
  console.log(table(by));
  console.log(
    `\n${recs.length} records, ${responses} responses` +
      `${stepsSeen.length ? `, steps ${stepsSeen.join(", ")}` : ""} -> ${output}`,
  );
  console.log(`next: npx cellrl eval --input ${output}`);
  return 0;
}

async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h") {
    console.log(usage);
    return sub === undefined ? 2 : 0;
  }
  if (sub === "export") return runExport(rest);
  if (sub === "import") return runImport(rest);
  throw new UsageError(`unknown subcommand ${JSON.stringify(sub)}; use export or import`);
}

/** The `cellrl verl` command. */
export const command: CliCommand = {
  name: "verl",
  summary:
    "verl export (parquet dataset + GRPO / FlowRL / GKD config and command) and import (generations, rollout dumps)",
  usage,
  run,
};
