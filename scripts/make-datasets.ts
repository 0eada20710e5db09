// Regenerate datasets/*.jsonl.gz from ../shared/data: every permissively licensed eval set and generation set,
// converted to verl's unified record with the r1 recipe's prompt templates. Run: npm run make:datasets
// Inputs are checked against the sha256 in each SOURCES.md, so a changed upstream file is caught, not converted.
// GPQA is read from its gzip and only ever written gzipped (its authors ask that items never appear in plain text).
// Environment: CELLRL_SHARED_DATA (default ../shared/data), CELLRL_DATASETS_OUT (default datasets/).
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { applyTemplate } from "../lib/data/templates.js";
import { readBytes } from "../lib/data/files.js";
import { readJsonl, writeJsonl } from "../lib/data/jsonl.js";
import type { VerlRecord } from "../lib/data/record.js";
import { validateRecords } from "../lib/data/validate.js";

const ROOT = path.resolve(__dirname, "..");
const SRC = path.resolve(process.env.CELLRL_SHARED_DATA ?? path.join(ROOT, "..", "shared", "data"));
const OUT = path.resolve(process.env.CELLRL_DATASETS_OUT ?? path.join(ROOT, "datasets"));

type Row = Record<string, any>;
interface Made {
  file: string;
  records: VerlRecord[];
  source: string;
}

// ---- inputs, verified against SOURCES.md -------------------------------------------------------------------------
function input(rel: string): Row[] {
  const file = path.join(SRC, rel);
  const sources = fs.readFileSync(path.join(path.dirname(file), "SOURCES.md"), "utf8");
  const section = sources.split(/^## /m).find((s) => s.startsWith("`" + path.basename(rel) + "`"));
  const want = section?.match(/sha256 `([0-9a-f]{64})`/)?.[1];
  const got = createHash("sha256").update(fs.readFileSync(file)).digest("hex");
  if (!want) throw new Error(`make-datasets: no sha256 for ${rel} in its SOURCES.md`);
  if (want !== got)
    throw new Error(
      `make-datasets: ${rel} has sha256 ${got}, SOURCES.md says ${want}; the source changed, re-check its license and format`,
    );
  return readJsonl<Row>(file);
}

const fail = (message: string): never => {
  throw new Error(message);
};
const user = (content: string) => [{ role: "user", content }];
const info = (index: number, extra: Row = {}) => ({ split: "test", index, ...extra });

// Last \boxed{...} content with nested braces (AReaL stores gold answers as "\boxed{..}").
function unbox(s: string): string {
  const at = s.lastIndexOf("\\boxed{");
  if (at < 0) return s;
  let depth = 0;
  for (let i = at + 6; i < s.length; i++) {
    if (s[i] === "{") depth++;
    else if (s[i] === "}" && --depth === 0) return s.slice(at + 7, i);
  }
  return s;
}

// ---- eval sets ---------------------------------------------------------------------------------------------------
function gsm8k(): Made {
  const rows = input("openai-grade-school-math/gsm8k_test.jsonl");
  const records = rows.map((r, i) => ({
    data_source: "openai/gsm8k",
    prompt: user(applyTemplate("r1-math", { question: r.question })),
    ability: "math",
    // verl's gsm8k preprocessing: the number after "#### ", thousands commas removed
    reward_model: { style: "rule", ground_truth: r.answer.split("#### ")[1].replace(/,/g, "").trim() },
    extra_info: info(i, { solution: r.answer }),
  }));
  return { file: "gsm8k_test.jsonl.gz", records, source: "openai-grade-school-math" };
}

function math500(): Made {
  const rows = input("openai-prm800k-math500/math500_test.jsonl");
  const records = rows.map((r, i) => ({
    data_source: "HuggingFaceH4/MATH-500",
    prompt: user(applyTemplate("r1-math", { question: r.problem })),
    ability: "math",
    reward_model: { style: "rule", ground_truth: r.answer },
    extra_info: info(i, { unique_id: r.unique_id, subject: r.subject, level: Number(r.level), solution: r.solution }),
  }));
  return { file: "math500_test.jsonl.gz", records, source: "openai-prm800k-math500" };
}

function simpleMath(rel: string, file: string, dataSource: string, q: string, extra: (r: Row) => Row): () => Made {
  return () => ({
    file,
    source: rel.split("/")[0],
    records: input(rel).map((r, i) => ({
      data_source: dataSource,
      prompt: user(applyTemplate("r1-math", { question: r[q] })),
      ability: "math",
      reward_model: { style: "rule", ground_truth: String(r.answer) },
      extra_info: info(i, extra(r)),
    })),
  });
}

// Remove unescaped "$" so '$69$,$84$' reads "69,84" (an escaped "\$" is a literal dollar and stays).
const stripDollars = (s: string) => s.replace(/(?<!\\)\$/g, "").trim();

function olympiadbench(): Made {
  const rows = input("qwen25-math-eval/olympiadbench_test.jsonl");
  const records = rows.map((r, i) => ({
    data_source: "Hothan/OlympiadBench",
    prompt: user(applyTemplate("r1-math", { question: r.question })),
    ability: "math",
    reward_model: { style: "rule", ground_truth: r.final_answer.map(stripDollars).join(", ") },
    extra_info: info(i, {
      id: r.id,
      subfield: r.subfield,
      final_answer: r.final_answer,
      is_multiple_answer: r.is_multiple_answer,
      unit: r.unit,
      answer_type: r.answer_type,
    }),
  }));
  return { file: "olympiadbench_test.jsonl.gz", records, source: "qwen25-math-eval" };
}

function gpqa(): Made {
  const rows = input("areal/gpqa_diamond_test.jsonl.gz"); // decompressed in memory only
  const records = rows.map((r, i) => {
    if ("ABCD"[r.correct_option_index] !== r.answer)
      throw new Error(`make-datasets: GPQA row ${i}: answer letter and correct_option_index disagree`);
    return {
      data_source: "Idavidrein/gpqa",
      // AReaL's fixed option order, so the letters do not change between runs (the r1 recipe shuffles unseeded)
      prompt: user(applyTemplate("r1-gpqa", { question: r.ori_question, options: r.options })),
      ability: "multiple_choice",
      reward_model: { style: "rule", ground_truth: r.answer },
      extra_info: info(i, { id: r.id }),
    };
  });
  return { file: "gpqa_diamond_test.jsonl.gz", records, source: "areal" };
}

function humaneval(): Made {
  const rows = input("openai-human-eval/HumanEval.jsonl.gz");
  const records = rows.map((r, i) => ({
    data_source: "openai/openai_humaneval",
    prompt: user(
      applyTemplate("r1-livecodebench", {
        question: `Complete the Python function \`${r.entry_point}\` specified by the signature and docstring below.`,
        starter_code: r.prompt.trimEnd(),
      }),
    ),
    ability: "code",
    reward_model: { style: "rule", ground_truth: JSON.stringify({ test: r.test, entry_point: r.entry_point }) },
    extra_info: info(i, { task_id: r.task_id, canonical_solution: r.prompt + r.canonical_solution }),
  }));
  return { file: "humaneval_test.jsonl.gz", records, source: "openai-human-eval" };
}

// MBPP's own split by task_id (Austin et al. 2021): 1-10 few-shot prompts, 11-510 test, 511-600 validation, 601+ train.
const mbppSplit = (id: number) => (id <= 10 ? "prompt" : id <= 510 ? "test" : id <= 600 ? "validation" : "train");

function mbpp(): Made {
  const rows = input("mbpp/mbpp.jsonl");
  const records = rows.map((r, i) => {
    const code = String(r.code).replace(/\r\n/g, "\n");
    const tests = (r.test_list as string[]).join("\n");
    // the function the tests call: the first `def name(` of the reference code whose name the tests use
    const defs = [...code.matchAll(/^def\s+([A-Za-z_]\w*)\s*\(.*$/gm)];
    const entry = defs.find((m) => new RegExp(`\\b${m[1]}\\s*\\(`).test(tests));
    if (!entry)
      throw new Error(
        `make-datasets: MBPP task ${r.task_id}: no function of the reference code is called by its tests`,
      );
    const question = `${r.text}\nYour code should pass these tests:\n\n${tests}`;
    return {
      data_source: "google-research-datasets/mbpp",
      prompt: user(applyTemplate("r1-livecodebench", { question, starter_code: entry[0].trimEnd() })),
      ability: "code",
      reward_model: {
        style: "rule",
        ground_truth: JSON.stringify({
          test: [r.test_setup_code, tests].filter(Boolean).join("\n"),
          entry_point: entry[1],
        }),
      },
      extra_info: { split: mbppSplit(r.task_id), index: i, task_id: r.task_id, reference_code: code },
    };
  });
  return { file: "mbpp.jsonl.gz", records, source: "mbpp" };
}

function codeContests(): Made {
  const rows = input("rllm-code-tests/code_contests_test.jsonl");
  const records = rows.map((r, i) => ({
    data_source: "deepmind/code_contests",
    prompt: user(applyTemplate("r1-livecodebench", { question: String(r.problem).trim() })),
    ability: "code",
    reward_model: { style: "rule", ground_truth: JSON.stringify({ inputs: r.tests.inputs, outputs: r.tests.outputs }) },
    extra_info: info(i),
  }));
  return { file: "code_contests_test.jsonl.gz", records, source: "rllm-code-tests" };
}

// ---- generation sets (responses + the upstream grader's labels in extra_info.upstream_*) --------------------------
function qwenMath(): Made {
  const rows = input("qwen25-math-eval/math_cot_100_generations.jsonl");
  // The generations carry MATH's level but not its subject: join it from the MATH test split by problem text.
  const norm = (s: unknown) => String(s).replace(/\s+/g, " ").trim();
  const subjectOf = new Map(input("hendrycks-math/math_test_5000.jsonl").map((m) => [norm(m.problem), String(m.type)]));
  const records = rows.map((r, i) => ({
    data_source: "lighteval/MATH",
    // the prompt that produced these responses: Qwen2.5-Math's CoT system prompt + the question
    prompt: [
      { role: "system", content: r.system },
      { role: "user", content: r.query },
    ],
    ability: "math",
    reward_model: { style: "rule", ground_truth: r.gt },
    responses: r.response,
    extra_info: info(i, {
      idx: r.idx,
      level: r.level,
      subject:
        subjectOf.get(norm(r.question ?? r.problem)) ??
        fail(
          `make-datasets: qwen generation ${i} (idx ${r.idx}) is not in the MATH test split; cannot give its subject`,
        ),
      upstream_scores: (r.score as boolean[]).map(Number),
      upstream_preds: r.pred,
      upstream_rm_scores: (r.pred_score as number[][]).map((x) => x[0]),
      upstream_grader: "Qwen2.5-Math evaluation/grader.py math_equal",
    }),
  }));
  return { file: "qwen25_math_cot_100x8.jsonl.gz", records, source: "qwen25-math-eval" };
}

function arealGroups(): Made {
  const rows = input("areal/math_reward_sample_generations.jsonl");
  const records = rows.map((r, i) => {
    const m = /<｜User｜>([\s\S]*)<｜Assistant｜>/.exec(r.prompt);
    if (!m) throw new Error(`make-datasets: AReaL row ${i}: prompt has no <｜User｜> ... <｜Assistant｜> turn`);
    return {
      data_source: "areal/math",
      prompt: user(m[1]),
      ability: "math",
      reward_model: { style: "rule", ground_truth: unbox(r.solutions[0]) },
      responses: r.generateds,
      extra_info: info(i, {
        raw_prompt: r.prompt,
        responses_are_tails: true, // upstream kept only the last 1000 characters of each response
        upstream_scores: (r.rewards as number[]).map((x) => (x > 0 ? 1 : 0)),
        upstream_rewards: r.rewards,
        upstream_grader: "AReaL realhf math_parser.verify_math_solution (+5 / -5)",
      }),
    };
  });
  return { file: "areal_math_10x16.jsonl.gz", records, source: "areal" };
}

function gsm8kSolutions(): Made {
  const sols = input("openai-grade-school-math/gsm8k_example_model_solutions.jsonl");
  const test = input("openai-grade-school-math/gsm8k_test.jsonl");
  const models = ["6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification"];
  const records: VerlRecord[] = [];
  sols.forEach((r, i) => {
    if (r.question !== test[i].question)
      throw new Error(`make-datasets: GSM8K solutions row ${i} is not test row ${i}`);
    for (const model of models)
      records.push({
        data_source: "openai/gsm8k",
        prompt: user(applyTemplate("r1-math", { question: r.question })),
        ability: "math",
        reward_model: { style: "rule", ground_truth: test[i].answer.split("#### ")[1].replace(/,/g, "").trim() },
        responses: [r[model].solution],
        extra_info: info(i, {
          model: `gpt3-${model}`,
          upstream_scores: [r[model].is_correct ? 1 : 0],
          upstream_grader: "openai/grade-school-math is_correct",
        }),
      });
  });
  return { file: "gsm8k_gpt3_solutions.jsonl.gz", records, source: "openai-grade-school-math" };
}

function nemoSkills(): Made {
  const rows = input("nemo-skills-outputs/math_train_50q_3seeds.jsonl");
  const byId = new Map<string, Row[]>();
  for (const r of rows) byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
  const records = [...byId.values()].map((g, i) => {
    g.sort((a, b) => a.seed - b.seed);
    return {
      data_source: "lighteval/MATH",
      prompt: user(applyTemplate("r1-math", { question: g[0].problem })),
      ability: "math",
      reward_model: { style: "rule", ground_truth: g[0].expected_answer },
      responses: g.map((r) => r.generation),
      extra_info: {
        split: "train",
        index: i,
        id: g[0].id,
        level: g[0].level,
        type: g[0].type,
        seeds: g.map((r) => r.seed),
        upstream_scores: g.map((r) => (r.symbolic_correct ? 1 : 0)),
        upstream_preds: g.map((r) => r.predicted_answer),
        upstream_grader: "NeMo-Skills math_grader symbolic_correct",
      },
    };
  });
  return { file: "nemo_skills_math_50x3.jsonl.gz", records, source: "nemo-skills-outputs" };
}

function mmluPro(): Made {
  const rows = input("mmlu-pro-outputs/mmlu_pro_stem_300q_4models.jsonl");
  const records = rows.map((r, i) => ({
    data_source: "TIGER-Lab/MMLU-Pro",
    prompt: user(applyTemplate("mmlu-pro-cot", { question: r.question, options: r.options, category: r.category })),
    ability: "multiple_choice",
    reward_model: { style: "rule", ground_truth: r.answer },
    responses: [r.generated_text],
    extra_info: info(i, {
      question_id: r.question_id,
      category: r.category,
      src: r.src,
      model: r.model,
      upstream_preds: [r.pred],
      upstream_scores: [r.pred === r.answer ? 1 : 0],
      upstream_grader: "MMLU-Pro answer regex (pred; null = extraction failed)",
    }),
  }));
  return { file: "mmlu_pro_stem_300x4.jsonl.gz", records, source: "mmlu-pro-outputs" };
}

const BUILDERS: (() => Made)[] = [
  gsm8k,
  math500,
  simpleMath("qwen25-math-eval/aime24_test.jsonl", "aime24_test.jsonl.gz", "Maxwell-Jia/AIME_2024", "problem", (r) => ({
    id: r.id,
    url: r.url,
  })),
  simpleMath("areal/aime25_test.jsonl", "aime25_test.jsonl.gz", "opencompass/AIME2025", "problem", (r) => ({
    id: r.id,
  })),
  simpleMath("qwen25-math-eval/amc23_test.jsonl", "amc23_test.jsonl.gz", "math-ai/amc23", "problem", (r) => ({
    id: r.id,
    url: r.url,
  })),
  olympiadbench,
  gpqa,
  humaneval,
  mbpp,
  codeContests,
  qwenMath,
  arealGroups,
  gsm8kSolutions,
  nemoSkills,
  mmluPro,
];

function main() {
  if (!fs.existsSync(SRC))
    throw new Error(`make-datasets: ${SRC} not found; set CELLRL_SHARED_DATA to the shared data folder`);
  fs.mkdirSync(OUT, { recursive: true });
  const manifest: Row[] = [];
  for (const build of BUILDERS) {
    const { file, records, source } = build();
    validateRecords(records, { rowName: (i) => `${file} row ${i}` });
    const out = path.join(OUT, file);
    writeJsonl(out, records);
    const bytes = fs.readFileSync(out);
    const n = readJsonl(out).length; // read back through the public reader
    if (n !== records.length || readBytes(out).length === 0)
      throw new Error(`make-datasets: ${file} did not read back`);
    const sources = [...new Set(records.map((r) => r.data_source))];
    const responses = records.reduce((s, r) => s + ((r.responses as unknown[] | undefined)?.length ?? 0), 0);
    manifest.push({
      file,
      records: n,
      responses,
      data_source: sources.join(", "),
      from: `shared/data/${source}`,
      bytes: bytes.length,
      sha256: createHash("sha256").update(bytes).digest("hex"),
    });
    console.log(
      `${file.padEnd(34)} ${String(n).padStart(5)} records ${String(responses).padStart(5)} responses ${(bytes.length / 1024).toFixed(0).padStart(5)} KiB  ${sources.join(", ")}`,
    );
  }
  fs.writeFileSync(path.join(OUT, "manifest.json"), JSON.stringify(manifest, null, 1) + "\n");
}

main();
