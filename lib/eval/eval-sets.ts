// r1's data_process step: the shipped eval sets (datasets/*.jsonl.gz, already verl records with the r1 recipe's
// prompt templates) as one list of records, optionally re-templated; GPQA-Diamond rebuilt from its gzip with a seeded
// version of r1's option shuffle; and a writer that keeps GPQA out of plain-text files.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, fail } from "../core/errors.js";
import { checkWholeAtLeast } from "../core/checks.js";
import { registry } from "../core/registry.js";
import { Rng } from "../core/random.js";
import { isGzip } from "../data/files.js";
import { readJsonl } from "../data/jsonl.js";
import { writeRecords } from "../data/io.js";
import type { VerlRecord } from "../data/record.js";
import { applyTemplate, type PromptTemplate } from "../data/templates.js";
import { isGpqaSource } from "./agreement.js";
import { defined } from "./items.js";

/** Where the shipped datasets live (the package's datasets/ folder). */
export const datasetsDir = path.join(__dirname, "..", "..", "datasets");

/** Loads one eval set's records (from `dir`, the datasets folder). */
export type EvalSetLoader = (options: { dir: string }) => VerlRecord[];

/**
 * The shipped eval sets by name (r1's `--tasks` names where r1 has the set). Add your own with
 * `evals.evalSets.add(name, () => records)`.
 * @example evals.evalSets.rows().map(r => r.name)
 */
export const evalSets = registry<EvalSetLoader>("eval set");

const shipped =
  (file: string, filter?: (r: VerlRecord) => boolean): EvalSetLoader =>
  ({ dir }) => {
    const p = path.join(dir, file);
    if (!fs.existsSync(p))
      fail(
        "not_found",
        `evals.prepare: ${p} does not exist (expected the shipped ${file}). Pass {dir} pointing at cellrl's ` +
          `datasets/ folder.`,
        { path: ["dir"] },
      );
    const rows = readJsonl<VerlRecord>(p);
    return filter ? rows.filter(filter) : rows;
  };

evalSets.add("aime2024", shipped("aime24_test.jsonl.gz"), {
  paper: "verl recipe/r1 (Maxwell-Jia/AIME_2024)",
  summary: "AIME 2024, 30 problems, question verbatim",
});
evalSets.add("gpqa_diamond", shipped("gpqa_diamond_test.jsonl.gz"), {
  paper: "verl recipe/r1 (Idavidrein/gpqa)",
  summary: "GPQA-Diamond, 198 questions, simple-evals template, fixed option order (gzip only)",
});
evalSets.add("aime2025", shipped("aime25_test.jsonl.gz"), { summary: "AIME 2025, 30 problems" });
evalSets.add("amc2023", shipped("amc23_test.jsonl.gz"), { summary: "AMC 2023, 40 problems" });
evalSets.add("math500", shipped("math500_test.jsonl.gz"), { summary: "MATH-500 (subject, level in extra_info)" });
evalSets.add("gsm8k", shipped("gsm8k_test.jsonl.gz"), { summary: "GSM8K test, 1319 problems" });
evalSets.add("olympiadbench", shipped("olympiadbench_test.jsonl.gz"), { summary: "OlympiadBench OE maths (675)" });
evalSets.add("humaneval", shipped("humaneval_test.jsonl.gz"), {
  summary: "HumanEval (164), LiveCodeBench template with starter code",
});
evalSets.add(
  "mbpp",
  shipped("mbpp.jsonl.gz", (r) => r.extra_info?.split === "test"),
  { summary: "MBPP test split (500 tasks)" },
);
evalSets.add("code_contests", shipped("code_contests_test.jsonl.gz"), {
  summary: "CodeContests test (165), stdin/stdout",
});

/**
 * Named groups of eval sets. "r1" is what r1's `--tasks all` covers and ships here (CNMO and LiveCodeBench are not
 * shipped: no permissive copy with tests).
 * @example evals.evalPresets.math
 */
export const evalPresets: Record<string, string[]> = {
  r1: ["aime2024", "gpqa_diamond"],
  math: ["math500", "aime2024", "aime2025", "amc2023", "olympiadbench", "gsm8k"],
  code: ["humaneval", "mbpp", "code_contests"],
};

/** Options of prepare. */
export interface PrepareOptions {
  /** Folder of the shipped datasets. Defaults to cellrl's datasets/. */
  dir?: string;
  /** Keep the first `limit` records of each set. Defaults to all. */
  limit?: number;
  /**
   * Re-template math sets (whose prompt is the question verbatim, as r1 writes it) with a data.templates name or
   * function, e.g. "verl-boxed" for a base model that must be told to box its answer. Defaults to none (r1's prompts).
   */
  template?: string | PromptTemplate;
}

/**
 * Defaults of prepare.
 * @example evals.prepareDefaults.dir
 */
export const prepareDefaults = { dir: datasetsDir };

/**
 * r1's data_process: the named eval sets (or a preset: "r1", "math", "code", "all") as one list of verl records,
 * each set keeping its own extra_info.index from 0 as r1 does.
 * @example const recs = evals.prepare(["math500", "aime2024"], {limit: 50, template: "verl-boxed"})
 */
export function prepare(tasks: string | string[] = "r1", options: PrepareOptions = {}): VerlRecord[] {
  const { dir, limit, template } = { ...prepareDefaults, ...defined(options) };
  const list =
    typeof tasks === "string"
      ? tasks === "all"
        ? evalSets.names()
        : (evalPresets[tasks] ?? tasks.split(",").map((t) => t.trim()))
      : tasks;
  if (!Array.isArray(list) || list.length === 0)
    fail(
      "invalid_input",
      `evals.prepare: no eval sets named (got ${describe(tasks)}). Pass names from evals.evalSets.names() or ` +
        `a preset (${Object.keys(evalPresets).join(", ")}, all).`,
      {},
      prepare,
    );
  if (limit !== undefined) checkWholeAtLeast({ where: "evals.prepare", from: prepare }, "limit", limit, 1);
  const out: VerlRecord[] = [];
  for (const name of list) {
    let recs = evalSets.get(name)({ dir });
    if (limit !== undefined) recs = recs.slice(0, limit);
    if (template !== undefined)
      recs = recs.map((r) => {
        if (r.ability !== "math") return r;
        const question = r.prompt[r.prompt.length - 1].content;
        const content = applyTemplate(template, { question });
        const name = typeof template === "string" ? template : template.name || "custom";
        return {
          ...r,
          prompt: [...r.prompt.slice(0, -1), { role: "user", content }],
          extra_info: { ...r.extra_info, template: name },
        };
      });
    out.push(...recs.map((r) => ({ ...r, extra_info: { ...r.extra_info, eval_set: name } })));
  }
  return out;
}

/** Options of prepareGpqa. */
export interface GpqaOptions {
  /**
   * Shuffle the options as r1's data_process does (the three wrong answers shuffled, the correct one inserted at a
   * random position), but from this seed so the letters replay. Defaults to none: the source's fixed order.
   */
  shuffleSeed?: number;
}

/**
 * GPQA-Diamond records straight from AReaL's gzip (`areal/gpqa_diamond_test.jsonl.gz`: ori_question, options,
 * answer), decompressed in memory only, with r1's simple-evals template.
 * @example const gpqa = evals.prepareGpqa("../shared/data/areal/gpqa_diamond_test.jsonl.gz", {shuffleSeed: 0})
 */
export function prepareGpqa(file: string, options: GpqaOptions = {}): VerlRecord[] {
  if (!fs.existsSync(file))
    fail(
      "not_found",
      `evals.prepareGpqa: ${file} does not exist. Pass the path of AReaL's gpqa_diamond_test.jsonl.gz.`,
      { path: ["file"] },
      prepareGpqa,
    );
  const head = Buffer.alloc(2);
  const fd = fs.openSync(file, "r");
  try {
    fs.readSync(fd, head, 0, 2, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (!isGzip(head))
    fail(
      "invalid_input",
      `evals.prepareGpqa: ${file} is not gzip (got plain bytes; expected the compressed file). GPQA's items ` +
        `must not be kept in plain text: use the .gz.`,
      { path: ["file"] },
      prepareGpqa,
    );
  const rows = readJsonl<Record<string, unknown>>(file);
  const rng = options.shuffleSeed !== undefined ? new Rng(options.shuffleSeed) : null;
  return rows.map((r, i) => {
    const opts = r.options as string[];
    const gold = String(r.answer);
    const ci = "ABCD".indexOf(gold);
    if (!Array.isArray(opts) || opts.length !== 4 || ci < 0 || typeof r.ori_question !== "string")
      fail(
        "invalid_input",
        `evals.prepareGpqa: row ${i + 1} is not an AReaL GPQA row (expected ori_question, 4 options and an ` +
          `answer letter A-D).`,
        { path: [i] },
        prepareGpqa,
      );
    let options4 = opts;
    let letter = gold;
    if (rng) {
      // r1: random.shuffle(incorrect); insert the correct answer at random.randint(0, 3)
      const wrong = rng.shuffle(opts.filter((_, j) => j !== ci));
      const at = rng.int(4);
      options4 = [...wrong.slice(0, at), opts[ci], ...wrong.slice(at)];
      letter = "ABCD"[at];
    }
    return {
      data_source: "Idavidrein/gpqa",
      prompt: [{ role: "user", content: applyTemplate("r1-gpqa", { question: r.ori_question, options: options4 }) }],
      ability: "multiple_choice",
      reward_model: { style: "rule", ground_truth: letter },
      extra_info: {
        split: "test",
        index: i,
        id: r.id as string,
        ...(rng ? { shuffle_seed: options.shuffleSeed } : {}),
      },
    };
  });
}

/**
 * Write records (prepared, generated or scored) by file name, atomically; GPQA rows only go to a .gz file unless
 * `allowPlainGpqa` (its authors ask that items never appear in plain text).
 * @example evals.writeEvalRecords("out/gen.jsonl.gz", records)
 */
export function writeEvalRecords(
  file: string,
  records: readonly Record<string, unknown>[],
  options: { allowPlainGpqa?: boolean } = {},
): void {
  const gpqa = records.some((r) => typeof r.data_source === "string" && isGpqaSource(r.data_source));
  if (gpqa && !file.toLowerCase().endsWith(".gz") && !options.allowPlainGpqa)
    fail(
      "invalid_input",
      `evals.writeEvalRecords: the records include GPQA and ${file} is not compressed (got a plain-text name; ` +
        `expected one ending in .gz). Write ${file}.gz, or pass {allowPlainGpqa: true}.`,
      { path: ["file"] },
      writeEvalRecords,
    );
  writeRecords(file, records);
}
