// `cellrl score`: verl's main_eval as a command. Reads records with `responses`, scores every response through the
// reward registry in parallel, writes each record back with `scores` and `details` (in input order, crash-safe,
// resumable), and prints mean@k per data_source.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { andMore } from "../core/checks.js";
import { fail } from "../core/errors.js";
import { formatOf } from "../data/files.js";
import { streamRows } from "../data/io.js";
import { streamJsonlText } from "../data/jsonl.js";
import { problemMessage, recordProblems } from "../data/validate.js";
import { progress } from "../kernel/progress.js";
import "../reward/index.js"; // registers every grader
import { rewardFor } from "../reward/registry.js";
import {
  checkFileOption,
  checkOutputPath,
  intOption,
  jsonObjectOption,
  parseOptions,
  UsageError,
  type CliCommand,
} from "./command.js";
import { scorePool } from "./score-pool.js";
import { finishPartial, openPartial, partialRows } from "./score-output.js";
import { rowScorer, type LineResult, type RowInput, type RowScorerSettings } from "./score-row.js";
import { ScoreSummary } from "./score-summary.js";
import { NoAnswerCheck } from "../eval/no-answer.js";

const usage = `Usage: cellrl score --input F --output G [--workers N] [--reward NAME] [--reward-module FILE] [--restart]

Reads verl records that carry "responses" (a list of strings per prompt, as verl main_generation writes) from F
(.jsonl, .json, .parquet, .arrow; optionally .gz), scores every response with the reward its data_source routes to,
and writes each record to G with "scores" (one number per response) and "details" (one object per response).
Prints mean@k per data_source: the mean over prompts of the mean score of each prompt's responses.

Rows are written in input order as they finish, into G.partial.jsonl; if the run stops (crash, Ctrl-C, kill),
rerunning the same command resumes after the last complete row. G appears, atomically, only when every row is done.

Options:
  --input F            records with responses
  --output G           where to write the scored records (.jsonl, .jsonl.gz, .parquet, .json, .arrow)
  --workers N          scoring threads (0 = in this process). Defaults to the number of CPUs
  --reward NAME        score every row with this registered reward instead of routing by data_source
  --reward-module FILE JS module loaded first: registers rewards/routes, or exports a reward function as default
  --reward-options J   JSON object passed to every reward call, e.g. '{"rules": ["gsm8k", "last-number"]}'
  --restart            discard a partial output from an earlier run instead of resuming it
  --allow-plain-gpqa   allow GPQA rows to be written to an uncompressed output (its authors ask that items never
                       appear in plain text; by default such an output must end in .gz)
  -q, --quiet          no progress bar
  -h, --help           this help`;

/** Defaults of `cellrl score`. */
export const defaults = {
  workers: Math.max(1, os.availableParallelism()),
  maxWorkers: 256,
  maxBadRows: 10,
  perWorker: 4,
  /** Rows sent to a scoring thread in one message (fewer when they reach batchBytes). */
  batchRows: 64,
  batchBytes: 1 << 20,
};

interface Scan {
  rows: number;
  responses: number;
  sources: Set<string>;
  sha256: string;
}

async function sha256File(file: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
  return h.digest("hex");
}

// One pass before scoring anything: every bad row is reported at once (with its line), instead of failing hours in.
async function scan(input: string): Promise<Scan> {
  const bad: string[] = [];
  let badCount = 0;
  let rows = 0;
  let responses = 0;
  const sources = new Set<string>();
  for await (const { value, where } of streamRows(input)) {
    rows++;
    const problems = recordProblems(value, { require: ["responses"] });
    if (problems.length > 0) {
      badCount++;
      if (bad.length < defaults.maxBadRows) bad.push("  " + problemMessage(where, problems[0]));
      continue;
    }
    responses += (value.responses as unknown[]).length;
    sources.add(value.data_source as string);
  }
  if (badCount > 0)
    fail(
      "invalid_input",
      `cli.score: ${badCount} of ${rows} rows of ${input} are not scorable records; nothing was scored:\n` +
        bad.join("\n") +
        andMore(badCount, bad.length, "\n  ... and "),
      {
        got: badCount,
      },
    );
  if (rows === 0)
    fail(
      "invalid_input",
      `cli.score: ${input} has no rows (got an empty file; expected records with responses). Check the path.`,
    );
  return { rows, responses, sources, sha256: await sha256File(input) };
}

function checkRoutes(sources: Set<string>, forced: boolean): void {
  if (forced) return;
  const problems: string[] = [];
  for (const s of sources) {
    try {
      rewardFor(s);
    } catch (e) {
      problems.push("  " + (e as Error).message.replace(/^reward\.score: /, ""));
    }
  }
  if (problems.length > 0)
    fail(
      "unknown_name",
      `cli.score: ${problems.length} data_source${problems.length > 1 ? "s have" : " has"} no reward; ` +
        `nothing was scored:\n${problems.join("\n")}\n` +
        "  Or score every row with one reward: --reward math, or --reward-module my-reward.js.",
      {
        got: [...sources],
      },
    );
}

async function run(argv: string[]): Promise<number> {
  const { values, help } = parseOptions(argv, {
    input: { type: "string" },
    output: { type: "string" },
    workers: { type: "string" },
    reward: { type: "string" },
    "reward-module": { type: "string" },
    "reward-options": { type: "string" },
    restart: { type: "boolean" },
    "allow-plain-gpqa": { type: "boolean" },
    quiet: { type: "boolean", short: "q" },
  });
  if (help) {
    console.log(usage);
    return 0;
  }
  const input = values.input as string | undefined;
  const output = values.output as string | undefined;
  if (!input) throw new UsageError("--input is missing");
  if (!output) throw new UsageError("--output is missing");
  formatOf(input);
  formatOf(output);
  checkOutputPath(output, "--output");
  checkFileOption("cli.score", "--input", input);
  const workers = intOption(values.workers, "--workers", { min: 0, max: defaults.maxWorkers }) ?? defaults.workers;
  const settings: RowScorerSettings = {
    reward: values.reward as string | undefined,
    rewardModule: values["reward-module"] as string | undefined,
    rewardOptions: jsonObjectOption(
      values["reward-options"],
      "--reward-options",
      '{"rules": ["gsm8k", "last-number"]}',
    ),
  };
  if (settings.rewardModule && !fs.existsSync(settings.rewardModule))
    throw new UsageError(`--reward-module ${settings.rewardModule} does not exist`);

  const info = await scan(input);
  // loading the scorer here registers the module's rewards in this thread too, so routes can be checked up front
  rowScorer(settings);
  checkRoutes(
    info.sources,
    settings.reward !== undefined ||
      (settings.rewardModule !== undefined && moduleExportsReward(settings.rewardModule)),
  );
  if (
    [...info.sources].some((s) => /gpqa/i.test(s)) &&
    !output.toLowerCase().endsWith(".gz") &&
    values["allow-plain-gpqa"] !== true
  )
    fail(
      "invalid_input",
      `cli.score: the input has GPQA rows and --output ${output} is not compressed (got a plain-text output; ` +
        "expected a name ending in .gz). GPQA's authors ask that items never appear in plain text: " +
        `write to ${output.replace(/(\.gz)?$/, ".gz")}, or pass --allow-plain-gpqa.`,
    );

  const key = {
    input_sha256: info.sha256,
    reward: settings.reward ?? null,
    reward_module: settings.rewardModule ?? null,
    reward_options: settings.rewardOptions ? JSON.stringify(settings.rewardOptions) : null,
  };
  const partial = openPartial(output, key, { restart: values.restart === true });
  const summary = new ScoreSummary();
  const noAnswers = new NoAnswerCheck(); // warns when most responses of a data_source had no extracted answer
  if (partial.done > 0) {
    for await (const { value } of partialRows(partial)) {
      summary.add(value.data_source as string, value.scores as number[], countErrors(value.details));
      noAnswers.add(value.data_source as string, value.responses as string[], value.details as unknown[]);
    }
    console.error(`resuming: ${partial.done} of ${info.rows} rows already scored in ${partial.path}`);
  }

  const pool = scorePool(workers, settings, { perWorker: defaults.perWorker });
  const bar = values.quiet ? null : progress(info.rows, { label: "score" });
  bar?.set(partial.done);
  let interrupted = false;
  let wake: (v: Error) => void = () => undefined;
  const interruptedP = new Promise<Error>((r) => (wake = r));
  // a signal stops the run at once: rows already written stay, the rows being scored are dropped (a 2nd Ctrl-C kills)
  const onSignal = () => {
    interrupted = true;
    wake(new Error("interrupted"));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  // batches in flight: every thread busy with perWorker of them, plus as many waiting so a slow one does not idle the rest
  const window = 2 * Math.max(1, workers) * defaults.perWorker;
  const pending: { wheres: string[]; result: Promise<LineResult[] | Error> }[] = [];
  let scored = 0;
  let total = 0;
  const kept = () => partial.writer.count;
  const writeNext = async () => {
    const head = pending.shift() as (typeof pending)[number];
    const result = await Promise.race([head.result, interruptedP]);
    if (interrupted) return;
    if (result instanceof Error || !Array.isArray(result)) {
      const why = result instanceof Error ? result.message : String((result as { fatal?: unknown }).fatal);
      fail("io", `cli.score: ${head.wheres[0]}: ${why}. ${kept()} rows are kept in ${partial.path}; rerun to resume.`, {
        cause: result,
      });
    }
    let text = "";
    let n = 0;
    for (const [i, r] of result.entries()) {
      if ("fatal" in r) {
        partial.writer.write(text, n); // the rows before it are done: keep them
        fail(
          "invalid_input",
          `cli.score: ${head.wheres[i]}: ${r.fatal} ${kept()} rows are kept in ${partial.path}; ` +
            "fix the row and rerun to resume.",
        );
      }
      text += r.line + "\n";
      n++;
      summary.add(r.dataSource, r.scores, r.errors);
      noAnswers.addCounts(r.dataSource, r.scores.length, r.noAnswer);
      scored += r.scores.length;
      total += r.scores.reduce((a, b) => a + b, 0);
    }
    partial.writer.write(text, n);
    bar?.tick(n, { mean: scored > 0 ? total / scored : 0 });
  };
  // small files get small batches, so every thread has work and rows reach the partial file as they finish
  const batchRows = Math.max(1, Math.min(defaults.batchRows, Math.floor(info.rows / window)));
  let batch: RowInput[] = [];
  let wheres: string[] = [];
  let bytes = 0;
  const send = async () => {
    pending.push({ wheres, result: pool.runLines(batch).catch((e: Error) => e) });
    batch = [];
    wheres = [];
    bytes = 0;
    while (pending.length >= window && !interrupted) await writeNext();
  };
  try {
    let index = 0;
    for await (const { row, where } of inputRows(input)) {
      if (interrupted) break;
      if (index++ < partial.done) continue;
      batch.push(row);
      wheres.push(where);
      bytes += typeof row === "string" ? row.length : 0;
      if (batch.length >= batchRows || bytes >= defaults.batchBytes) await send();
    }
    if (batch.length > 0 && !interrupted) await send();
    while (pending.length > 0 && !interrupted) await writeNext();
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    await pool.close();
    if (interrupted || pending.length > 0) partial.writer.close();
  }
  if (interrupted) {
    bar?.done();
    console.error(
      `interrupted: ${kept()} of ${info.rows} rows are scored and kept in ${partial.path}; ` +
        "rerun the same command to resume.",
    );
    return 130;
  }
  await finishPartial(partial, output);
  bar?.done();
  console.log(summary.toText());
  noAnswers.warn();
  const errors = summary.rows().reduce((s, r) => s + r.errors, 0);
  if (errors > 0)
    console.error(
      `warning: ${errors} responses scored 0 because their reward raised an error; see details.error in ${output}.`,
    );
  console.error(`wrote ${info.rows} scored records (${info.responses} responses) to ${output}`);
  return 0;
}

// JSONL lines go to the scoring threads unparsed (they parse them); other formats are read into records here.
async function* inputRows(input: string): AsyncGenerator<{ row: RowInput; where: string }> {
  const base = path.basename(input);
  if (formatOf(input) === "jsonl")
    for await (const { text, line } of streamJsonlText(input)) yield { row: text, where: `line ${line} of ${base}` };
  else for await (const { value, where } of streamRows(input)) yield { row: value, where };
}

function countErrors(details: unknown): number {
  return Array.isArray(details) ? details.filter((d) => (d as { rule?: unknown } | null)?.rule === "error").length : 0;
}

function moduleExportsReward(file: string): boolean {
  const mod = require(path.resolve(file)) as { default?: unknown; reward?: unknown };
  return typeof mod === "function" || typeof mod.default === "function" || typeof mod.reward === "function";
}

/**
 * `cellrl score`.
 * @example await command.run(["--input", "gen.jsonl", "--output", "scored.jsonl"]) // 0 when every row is scored
 */
export const command: CliCommand = { name: "score", summary: "score every response of a records file", usage, run };
