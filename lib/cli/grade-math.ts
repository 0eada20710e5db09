// `cellrl grade-math`: the math grader from a shell, on one pair or a JSONL stream of {gold, pred} pairs.
import * as fs from "node:fs";
import { describe, fail } from "../core/errors.js";
import { openJsonlAppender, streamJsonl, streamJsonlFrom } from "../data/jsonl.js";
import { tempSibling as tempPathFor } from "../core/atomic.js";
import { gradeMath } from "../reward/index.js";
import { checkOutputPath, intOption, parseOptions, UsageError, type CliCommand } from "./command.js";

type GradeMode = "answer" | "response";

const usage = `Usage:
  cellrl grade-math --gold G --pred P
      Print true or false: is the answer P equal to the gold answer G under cellrl's math grader?
  cellrl grade-math --input F.jsonl [--output O.jsonl]
      F has one {"gold": ..., "pred": ...} per line (F may be .gz, or - for stdin). Writes one
      {"gold", "pred", "equal"} line per input line, in the same order, to O (atomically) or to stdout as it goes.

Options:
  --gold G        gold answer (LaTeX or plain, e.g. "\\frac{1}{2}")
  --pred P        predicted answer (an extracted answer; a whole response with --mode response)
  --mode M        answer (default): P is a final answer, or its last \\boxed{} when it has one;
                  response: P and G are free text, read as Math-Verify does (the boxes, "Final Answer: ...",
                  "Answer: ...", else the last LaTeX expression or number)
  --input F       JSONL of {gold, pred} pairs (numbers are accepted and read as text)
  --output O      write results here instead of stdout
  --limit N       stop after N pairs
  --details       also say which rule decided (adds "rule" to each output line)
  -h, --help      this help`;

function answerText(v: unknown, field: string, line: number, source: string): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  return fail(
    "invalid_input",
    `cli.grade-math: line ${line} of ${source}: field ` +
      `"${field}" ${v === undefined ? "is missing" : "is not a string"} (got ${describe(v)}; expected a string ` +
      `such as "\\\\frac{1}{2}"). Write each line as {"gold": "...", "pred": "..."}.`,
    {
      path: ["line", line, field],
      got: v,
    },
  );
}

async function gradeFile(
  input: string,
  output: string | undefined,
  limit: number | undefined,
  details: boolean,
  mode: GradeMode,
): Promise<number> {
  const source = input === "-" ? "stdin" : input;
  const lines =
    input === "-"
      ? streamJsonlFrom<Record<string, unknown>>(process.stdin, "stdin")
      : streamJsonl<Record<string, unknown>>(input);
  const tmp = output !== undefined ? tempPathFor(output) : undefined;
  const out = tmp !== undefined ? openJsonlAppender(tmp) : undefined;
  let n = 0;
  try {
    for await (const { value, line } of lines) {
      if (limit !== undefined && n >= limit) break;
      if (typeof value !== "object" || value === null || Array.isArray(value))
        fail(
          "invalid_input",
          `cli.grade-math: line ${line} of ${source} is not an object (got ${describe(value)}; expected ` +
            `{"gold": ..., "pred": ...}). Fix that line.`,
          { path: ["line", line] },
        );
      const gold = answerText(value.gold, "gold", line, source);
      const pred = answerText(value.pred, "pred", line, source);
      const res = gradeMath(gold, pred, { mode });
      const row = details
        ? { gold: value.gold, pred: value.pred, equal: res.equal, rule: res.details.rule }
        : { gold: value.gold, pred: value.pred, equal: res.equal };
      if (out) out.append(row);
      else if (!process.stdout.write(JSON.stringify(row) + "\n"))
        await new Promise((r) => process.stdout.once("drain", r));
      n++;
    }
    // an empty input is a mistake (a wrong path, a failed upstream step): keep any earlier output as it is
    if (n === 0 && limit !== 0)
      fail(
        "invalid_input",
        `cli.grade-math: ${source} has no pairs (got an empty input; expected one {"gold", "pred"} per line).` +
          (output !== undefined ? ` ${output} was not written.` : "") +
          " Check the path.",
        { got: source },
      );
    if (out && tmp && output) {
      out.close();
      fs.renameSync(tmp, output);
    }
  } finally {
    if (out && tmp && fs.existsSync(tmp)) {
      out.close();
      fs.rmSync(tmp, { force: true });
    }
  }
  if (output !== undefined) console.error(`graded ${n} pairs -> ${output}`);
  return 0;
}

async function run(argv: string[]): Promise<number> {
  const { values, help } = parseOptions(argv, {
    gold: { type: "string" },
    pred: { type: "string" },
    input: { type: "string" },
    output: { type: "string" },
    limit: { type: "string" },
    details: { type: "boolean" },
    mode: { type: "string" },
  });
  if (help) {
    console.log(usage);
    return 0;
  }
  const { gold, pred, input, output } = values as Record<string, string | undefined>;
  const limit = intOption(values.limit, "--limit", { min: 0 });
  const mode = (values.mode ?? "answer") as GradeMode;
  if (mode !== "answer" && mode !== "response")
    throw new UsageError(`--mode must be answer or response (got ${JSON.stringify(values.mode)})`);
  if (input !== undefined) {
    if (gold !== undefined || pred !== undefined) throw new UsageError("use either --input or --gold/--pred, not both");
    if (output !== undefined) checkOutputPath(output, "--output");
    return gradeFile(input, output, limit, values.details === true, mode);
  }
  if (gold === undefined || pred === undefined)
    throw new UsageError(
      `${gold === undefined ? "--gold" : "--pred"} is missing; pass both --gold and --pred, or --input F.jsonl`,
    );
  if (output !== undefined || limit !== undefined) throw new UsageError("--output and --limit go with --input");
  const res = gradeMath(gold, pred, { mode });
  console.log(
    values.details
      ? `${res.equal} (rule: ${res.details.rule}; gold ${JSON.stringify(res.details.goldNormalized)}, ` +
          `pred ${JSON.stringify(res.details.predNormalized)})`
      : String(res.equal),
  );
  return 0;
}

/**
 * `cellrl grade-math`.
 * @example await command.run(["--gold", "1/2", "--pred", "0.5"]) // prints "true", resolves 0
 */
export const command: CliCommand = {
  name: "grade-math",
  summary: "is a predicted math answer equal to the gold one?",
  usage,
  run,
};
