// The eval and generation sets the repo ships in datasets/ (verl records), and the upstream row fields that tests of
// the code reward need, recovered exactly from those records (make-datasets.ts keeps them in the prompt, the ground
// truth and extra_info), so these tests run on a clean clone without ../shared.
import * as path from "node:path";
import { readJsonl } from "../../lib/data/jsonl.js";
import type { GeneratedRecord } from "../../lib/data/record.js";
import { repoRoot } from "./shared-data.js";

/** The repo's datasets/ folder. */
export const datasetsDir = path.join(repoRoot, "datasets");

/**
 * Records of a shipped file, e.g. "qwen25_math_cot_100x8.jsonl.gz".
 * @example const rows = shipped("math500_test.jsonl.gz");
 */
export function shipped<R = GeneratedRecord>(file: string): R[] {
  return readJsonl<R>(path.join(datasetsDir, file));
}

/** The ```python block that ends the r1-livecodebench prompt (the starter code). */
function starterCode(content: string): string {
  const m = content.match(/```python\n([\s\S]*)\n```\s*$/);
  if (!m) throw new Error("test/support: no starter code fence at the end of the prompt");
  return m[1];
}

/** A HumanEval row as in HumanEval.jsonl.gz. */
export interface HumanEvalRow {
  task_id: string;
  prompt: string;
  canonical_solution: string;
  test: string;
  entry_point: string;
}

/**
 * HumanEval's 164 rows from datasets/humaneval_test.jsonl.gz: extra_info.canonical_solution is prompt + body, and the
 * prompt (trailing whitespace trimmed) is the starter code; the prompt keeps the rest of its last line (every HumanEval
 * prompt ends in a newline; a body may start with blank lines).
 * @example const he = humanEvalRows(); he[0].entry_point // "has_close_elements"
 */
export function humanEvalRows(): HumanEvalRow[] {
  return shipped("humaneval_test.jsonl.gz").map((r) => {
    const full = String(r.extra_info?.canonical_solution);
    const starter = starterCode(r.prompt[0].content);
    if (!full.startsWith(starter))
      throw new Error(`test/support: ${r.extra_info?.task_id}: the solution does not start with the starter code`);
    const gap = full.slice(starter.length).match(/^[ \t]*\n/)?.[0] ?? "";
    const prompt = starter + gap;
    const gt = JSON.parse(r.reward_model.ground_truth as string) as { test: string; entry_point: string };
    return {
      task_id: String(r.extra_info?.task_id),
      prompt,
      canonical_solution: full.slice(prompt.length),
      test: gt.test,
      entry_point: gt.entry_point,
    };
  });
}

/** An MBPP row as in mbpp.jsonl (code with \n line ends, as make-datasets normalises it). */
export interface MbppRow {
  task_id: number;
  code: string;
  test_list: string[];
  test_setup_code: string;
}

/**
 * MBPP's 974 rows from datasets/mbpp.jsonl.gz: the asserts are listed in the question ("Your code should pass these
 * tests:"), one per `assert` line; whatever precedes them in the ground truth's test is the setup code.
 * @example const m = mbppRows().find((r) => r.task_id === 11);
 */
export function mbppRows(): MbppRow[] {
  return shipped("mbpp.jsonl.gz").map((r) => {
    const m = r.prompt[0].content.match(
      /\nYour code should pass these tests:\n\n([\s\S]*?)\n\nYou will use the following starter code/,
    );
    if (!m) throw new Error(`test/support: MBPP ${r.extra_info?.task_id}: no test list in the question`);
    const tests = m[1];
    const gt = JSON.parse(r.reward_model.ground_truth as string) as { test: string };
    if (!gt.test.endsWith(tests))
      throw new Error(`test/support: MBPP ${r.extra_info?.task_id}: ground truth does not end with the listed tests`);
    const setup = gt.test.slice(0, gt.test.length - tests.length).replace(/\n$/, "");
    return {
      task_id: Number(r.extra_info?.task_id),
      code: String(r.extra_info?.reference_code),
      test_list: tests.split(/\n(?=assert\b)/),
      test_setup_code: setup,
    };
  });
}
