import { describe, fail } from "../core/errors.js";
import { registry } from "../core/registry.js";

/** What a prompt template is filled from. */
export interface TemplateFields {
  /** The problem statement. */
  question: string;
  /** Answer options, in letter order (multiple choice). */
  options?: readonly string[];
  /** Code the answer must start from (function signature / class stub). */
  starter_code?: string;
  /** Subject, for templates that name it (MMLU-Pro). */
  category?: string;
}

/** A prompt template: fields in, the user-turn text out. */
export type PromptTemplate = (fields: TemplateFields) => string;

/**
 * Named prompt templates (the r1 recipe's, verl's example preprocessors', MMLU-Pro's). Add your own with
 * `templates.add`.
 * @example data.templates.add("terse", (f) => `${f.question}\nAnswer with a number only.`); data.templates.rows()
 */
export const templates = registry<PromptTemplate>("template");

const LETTERS = "ABCDEFGHIJ";

function needOptions(name: string, f: TemplateFields, max: number): readonly string[] {
  const o = f.options;
  if (!Array.isArray(o) || o.length < 2 || o.length > max)
    fail(
      "invalid_input",
      `data.applyTemplate: template "${name}" needs options with 2 to ${max} entries (got ${describe(o)}). ` +
        "Pass {options: [...]}.",
      { path: ["options"], got: o },
    );
  return o;
}

// r1 data_process.py: AIME and CNMO questions go in verbatim, with no answer-format instruction.
templates.add("r1-math", (f) => f.question, {
  paper: "verl recipe/r1 data_process.py",
  summary: "the question verbatim (AIME, CNMO)",
});

// r1 data_process.py GPQA template, from openai/simple-evals.
templates.add(
  "r1-gpqa",
  (f) => {
    const o = needOptions("r1-gpqa", f, 4);
    const letters = LETTERS.slice(0, o.length);
    const instruction =
      "Answer the following multiple choice question. The last line of your response should be of the following " +
      `format: 'Answer: $LETTER' (without quotes) where LETTER is one of ${letters}. ` +
      "Think step by step before answering.";
    const options = o.map((x, i) => `${letters[i]}) ${x}`).join("\n");
    return `${instruction}\n\n${f.question}\n\n${options}`;
  },
  {
    paper: "verl recipe/r1 data_process.py (openai/simple-evals)",
    summary: "question + lettered options, last line 'Answer: $LETTER'",
  },
);

// r1 data_process.py LiveCodeBench template (from LCB's code_generation.py). Without starter code the upstream
// string has no blank line before the fence; kept as is so prompts match the recipe byte for byte.
templates.add(
  "r1-livecodebench",
  (f) => {
    let s =
      "You will be given a question (problem specification) and will generate a correct Python program " +
      `that matches the specification and passes all tests.\n\nQuestion: ${f.question}\n\n`;
    if (f.starter_code)
      s +=
        "You will use the following starter code to write the solution to the problem " +
        `and enclose your code within delimiters.\n\`\`\`python\n${f.starter_code}\n\`\`\``;
    else
      s +=
        "Read the inputs from stdin solve the problem and write the answer to stdout " +
        "(do not directly test on the sample inputs). Enclose your code within delimiters as follows. " +
        "Ensure that when the python program runs, it reads the inputs, runs the algorithm and writes output to " +
        "STDOUT.```python\n# YOUR CODE HERE\n```";
    return s;
  },
  {
    paper: "verl recipe/r1 data_process.py (LiveCodeBench)",
    summary: "code task; starter code in a python fence, else stdin/stdout",
  },
);

// MMLU-Pro's chain-of-thought format (TIGER-AI-Lab/MMLU-Pro evaluate_from_local.py) without the 5 worked examples.
templates.add(
  "mmlu-pro-cot",
  (f) => {
    const o = needOptions("mmlu-pro-cot", f, 10);
    // upstream: initial prompt + "\n",
    // then "Question:\n<q>\nOptions:\n<X>. <opt>\n...Answer: Let's think step by step."
    const head =
      `The following are multiple choice questions (with answers) about ${f.category ?? "a subject"}. ` +
      'Think step by step and then finish your answer with "the answer is (X)" where X is the correct letter ' +
      "choice.\n\n\n";
    const options = o.map((x, i) => `${LETTERS[i]}. ${x}\n`).join("");
    return `${head}Question:\n${f.question}\nOptions:\n${options}Answer: Let's think step by step.`;
  },
  { paper: "TIGER-AI-Lab/MMLU-Pro", summary: "question + options A-J, ends 'the answer is (X)'" },
);

// verl examples/data_preprocess/gsm8k.py and math_dataset.py instructions, for base models that need to be told.
templates.add("verl-gsm8k", (f) => `${f.question} Let's think step by step and output the final answer after "####".`, {
  paper: "verl examples/data_preprocess/gsm8k.py",
  summary: 'question + output the final answer after "####"',
});
templates.add(
  "verl-boxed",
  (f) => `${f.question} Let's think step by step and output the final answer within \\boxed{}.`,
  {
    paper: "verl examples/data_preprocess/math_dataset.py",
    summary: "question + output the final answer within \\boxed{}",
  },
);

/**
 * Fill a prompt template by name (or pass a function) to get the user-turn text.
 * @example data.applyTemplate("r1-gpqa", {question: "2+2?", options: ["3", "4", "5", "6"]})
 */
export function applyTemplate(name: string | PromptTemplate, fields: TemplateFields): string {
  if (typeof fields?.question !== "string")
    fail(
      "invalid_input",
      `data.applyTemplate: fields.question must be a string (got ${describe(fields?.question)}). ` +
        "Pass {question: <problem text>}.",
      { path: ["question"] },
      applyTemplate,
    );
  return templates.get(name)(fields);
}
