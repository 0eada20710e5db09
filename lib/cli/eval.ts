// `cellrl eval`: verl recipe/r1's main_eval and the analysis it lacks, from the command line. Reads generations in any
// supported layout, scores them through the reward registry (threads for big files), prints the r1-style results table
// with CIs, pass@k, maj@k, agreement with upstream labels, breakdowns, difficulty and length, and writes the report.
import * as fs from "node:fs";
import * as os from "node:os";
import { fail } from "../core/errors.js";
import { formatOf } from "../data/files.js";
import { compareEvals } from "../eval/compare-evals.js";
import { writeEvalRecords } from "../eval/eval-sets.js";
import { evaluate, type EvaluateOptions, type EvalRun } from "../eval/evaluate.js";
import type { GeneratedInput, GenerationFormat, PlainFields } from "../eval/ingest.js";
import type { EvalRecord } from "../eval/items.js";
import { report, reportedResults, writeReport } from "../eval/report.js";
import { progress } from "../kernel/progress.js";
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
import type { RowScorerSettings } from "./score-row.js";

const usage = `Usage: cellrl eval --input F [--k K] [--report DIR] [options]

Evaluates generations the way verl's recipe/r1 main_eval does (mean@k per data_source: the mean score of each prompt's
k responses, averaged over prompts) and adds what it lacks: standard errors and bootstrap CIs, unbiased pass@k for
every k <= K, maj@k, extraction failures and truncations counted apart, agreement with upstream labels (with every
disagreement), accuracy by subject / level / model, per-item difficulty and response length vs correctness.

F may be: verl main_generation output (parquet or JSONL, a "responses" list per prompt), a verl rollout/validation
dump (JSONL lines with input, output, gts, score, step), plain JSONL with responses (prompt/question, responses or
response, answer/gt), records scored by \`cellrl score\`, or a generation set from datasets/. Any of them may be .gz.

Options:
  --input F            the generations
  --k K                use the first K responses of each prompt (r1's "k=8"). Defaults to all of them
  --report DIR         write report.md, report.html and summary.json (every number and disagreement) into DIR
  --output G           also write the scored records (GPQA only to a .gz name unless --allow-plain-gpqa)
  --format F           auto, records, verl-dump or plain. Defaults to auto (from the first row)
  --data-source S      data_source for rows without one (rollout dumps and plain files usually have none)
  --fields J           field names of plain rows as JSON,
                       e.g. '{"prompt": "question", "responses": "outputs", "groundTruth": "answer"}'
  --reward NAME        score every row with this registered reward instead of routing by data_source
  --reward-module FILE JS module loaded first: registers rewards/routes, or exports a reward function as default
  --reward-options J   JSON object passed to every reward call, e.g. '{"rules": ["gsm8k", "last-number"]}'
  --workers N          scoring threads (0 = in this process). Defaults to the CPUs for >= 2000 responses, else 0
  --use-scores         keep the scores the file already has (from cellrl score) instead of re-scoring
  --by FIELD           break accuracy down by a field, e.g. extra_info.level (repeatable). Defaults to the
                       subject / type / level / category / model fields the records have
  --reported R         numbers to compare with: JSON {"<data_source>": percent}, a JSON file of that, or one of
                       ${Object.keys(reportedResults)
                         .map((k) => JSON.stringify(k))
                         .join(", ")}
  --compare G          a second run on the same prompts (read and scored the same way): agreement, flipped items,
                       McNemar's test and a paired bootstrap of the accuracy difference
  --labels A,B         names of the two runs. Defaults to the file names
  --threshold T        a response is correct when its score is >= T (pass@k, maj@k). Defaults to 1
  --resamples N        bootstrap resamples. Defaults to 1000
  --seed S             bootstrap seed. Defaults to 42
  --title T            report title
  --max-disagreements N  disagreements listed in the text and Markdown (all are in summary.json). Defaults to 30
  --allow-plain-gpqa   allow GPQA rows in an uncompressed --output
  -q, --quiet          no progress bar
  -h, --help           this help`;

/** Defaults of `cellrl eval`. */
export const defaults = { workers: Math.max(1, os.availableParallelism()), threadsFrom: 2000 };

/** Largest values of the numeric options (beyond them a run would take hours or exhaust memory). */
export const limits = { k: 100_000, workers: 256, resamples: 100_000, disagreements: 1_000_000 };

function reportedOption(v: unknown): EvaluateOptions["reported"] {
  if (v === undefined) return undefined;
  const s = v as string;
  if (s in reportedResults) return s;
  const text = !s.trim().startsWith("{") && fs.existsSync(s) ? fs.readFileSync(s, "utf8") : s;
  const o = jsonObjectOption(text, "--reported", '{"Maxwell-Jia/AIME_2024": 28.9}') as Record<string, unknown>;
  for (const [k, x] of Object.entries(o))
    if (x !== null && (typeof x !== "number" || !Number.isFinite(x)))
      throw new UsageError(
        `--reported: the value of ${JSON.stringify(k)} must be a number in percent or null (got ${JSON.stringify(x)})`,
      );
  return o as Record<string, number | null>;
}

// The report's "Input: ..." note: the file, the response cut and the reward settings.
function inputNote(file: string, k: number | undefined, settings: RowScorerSettings): string {
  const cut = k !== undefined ? `; first ${k} responses per prompt` : "";
  const reward = settings.reward ? `; reward ${settings.reward}` : "";
  const options = settings.rewardOptions ? `; reward options ${JSON.stringify(settings.rewardOptions)}` : "";
  return `Input: ${file}${cut}${reward}${options}.`;
}

// Threads for big files: each record is scored in a worker (cellrl score's pool), in input order.
function poolScorer(
  workersOpt: number | undefined,
  settings: RowScorerSettings,
  quiet: boolean,
): (records: GeneratedInput[]) => Promise<EvalRecord[]> {
  return async (records) => {
    const responses = records.reduce((s, r) => s + r.responses.length, 0);
    // a thread costs more to start than grading a few thousand math answers in this one
    const workers = workersOpt ?? (responses >= defaults.threadsFrom ? defaults.workers : 0);
    const pool = scorePool(workers, settings);
    const bar = quiet || workers === 0 ? null : progress(records.length, { label: "score" });
    try {
      const results = await Promise.all(
        records.map(async (r, i) => {
          const out = await pool.run(r as unknown as Record<string, unknown>);
          bar?.tick();
          if ("fatal" in out) return fail("invalid_input", `cli.eval: record ${i}: ${out.fatal}`);
          return { ...r, scores: out.scores, details: out.details } as EvalRecord;
        }),
      );
      bar?.done();
      return results;
    } finally {
      await pool.close();
    }
  };
}

async function run(argv: string[]): Promise<number> {
  const { values, help } = parseOptions(argv, {
    input: { type: "string" },
    k: { type: "string" },
    report: { type: "string" },
    output: { type: "string" },
    format: { type: "string" },
    "data-source": { type: "string" },
    fields: { type: "string" },
    reward: { type: "string" },
    "reward-module": { type: "string" },
    "reward-options": { type: "string" },
    workers: { type: "string" },
    "use-scores": { type: "boolean" },
    by: { type: "string", multiple: true },
    reported: { type: "string" },
    compare: { type: "string" },
    labels: { type: "string" },
    threshold: { type: "string" },
    resamples: { type: "string" },
    seed: { type: "string" },
    title: { type: "string" },
    "max-disagreements": { type: "string" },
    "allow-plain-gpqa": { type: "boolean" },
    quiet: { type: "boolean", short: "q" },
  });
  if (help) {
    console.log(usage);
    return 0;
  }
  const input = values.input as string | undefined;
  if (!input) throw new UsageError("--input is missing");
  formatOf(input);
  checkFileOption("cli.eval", "--input", input);
  const compare = values.compare as string | undefined;
  if (compare !== undefined) checkFileOption("cli.eval", "--compare", compare);
  const output = values.output as string | undefined;
  if (output) formatOf(output);
  if (output) checkOutputPath(output, "--output");
  const format = (values.format as string | undefined) ?? "auto";
  if (!["auto", "records", "verl-dump", "plain"].includes(format))
    throw new UsageError(`--format must be auto, records, verl-dump or plain (got ${JSON.stringify(format)})`);
  const k = intOption(values.k, "--k", { min: 1, max: limits.k });
  const threshold = values.threshold === undefined ? undefined : Number(values.threshold);
  if (threshold !== undefined && !Number.isFinite(threshold))
    throw new UsageError(`--threshold must be a number (got ${JSON.stringify(values.threshold)})`);
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
  const workersOpt = intOption(values.workers, "--workers", { min: 0, max: limits.workers });
  const quiet = values.quiet === true;
  const [labelA, labelB] = ((values.labels as string | undefined)?.split(",").map((s) => s.trim()) ?? [
    input,
    compare ?? "B",
  ]) as [string, string];
  if (values.labels !== undefined && (labelB === undefined || !labelA))
    throw new UsageError(`--labels must be two names separated by a comma (got ${JSON.stringify(values.labels)})`);

  const evalFile = async (file: string): Promise<EvalRun> => {
    const base: EvaluateOptions = {
      k,
      threshold,
      resamples: intOption(values.resamples, "--resamples", { min: 10, max: limits.resamples }),
      seed: intOption(values.seed, "--seed"),
      format: format as GenerationFormat,
      dataSource: values["data-source"] as string | undefined,
      fields: jsonObjectOption(values.fields, "--fields", '{"prompt": "question", "responses": "outputs"}') as
        PlainFields | undefined,
      rescore: values["use-scores"] !== true,
      by: values.by as string[] | undefined,
      reported: reportedOption(values.reported),
      title: (values.title as string | undefined) ?? `Eval of ${file}`,
      notes: [inputNote(file, k, settings)],
    };
    // reward, reward module and options reach the rows through cellrl score's row scorer, in threads or in-process
    return evaluate(file, { ...base, scorer: poolScorer(workersOpt, settings, quiet) });
  };

  const runA = await evalFile(input);
  let rep = runA.report;
  if (compare !== undefined) {
    const runB = await evalFile(compare);
    const comparison = compareEvals(runA.records, runB.records, {
      labels: [labelA, labelB],
      threshold: undefined,
      resamples: intOption(values.resamples, "--resamples", { min: 10, max: limits.resamples }),
      seed: intOption(values.seed, "--seed"),
    });
    rep = report({ ...runA.report.input, comparison });
  }
  const maxDis = intOption(values["max-disagreements"], "--max-disagreements", { min: 0, max: limits.disagreements });
  if (maxDis !== undefined) rep = report({ ...rep.input, maxDisagreements: maxDis });
  console.log(rep.toText());
  if (output) {
    writeEvalRecords(output, runA.records, { allowPlainGpqa: values["allow-plain-gpqa"] === true });
    console.error(`wrote ${runA.records.length} scored records to ${output}`);
  }
  if (values.report !== undefined) {
    const files = writeReport(values.report as string, rep);
    console.error(`wrote ${files.join(", ")}`);
  }
  const errors = runA.summary.rows.reduce((s, r) => s + r.errors, 0);
  if (errors > 0)
    console.error(
      `warning: ${errors} responses scored 0 because their reward raised an error (details.error; see --output).`,
    );
  return 0;
}

/**
 * `cellrl eval`.
 * @example
 * await command.run(["--input", "datasets/qwen25_math_cot_100x8.jsonl.gz", "--k", "8", "--report", "out"]) // 0
 */
export const command: CliCommand = {
  name: "eval",
  summary: "mean@k, pass@k, maj@k report of generations (r1 main_eval + analysis)",
  usage,
  run,
};
