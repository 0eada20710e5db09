import { test } from "node:test";
import assert from "node:assert/strict";
import { CellrlError } from "../../lib/core/errors.js";
import { applyTemplate, templates } from "../../lib/data/templates.js";

test("r1-math passes the question through verbatim (the r1 recipe adds no instruction)", () => {
  assert.equal(applyTemplate("r1-math", { question: "Find $x$ if $2x=6$." }), "Find $x$ if $2x=6$.");
});

test("r1-gpqa is the simple-evals template with lettered options", () => {
  const out = applyTemplate("r1-gpqa", { question: "Which is a prime?", options: ["4", "6", "7", "9"] });
  assert.equal(
    out,
    "Answer the following multiple choice question. The last line of your response should be of the following format: " +
      "'Answer: $LETTER' (without quotes) where LETTER is one of ABCD. Think step by step before answering.\n\n" +
      "Which is a prime?\n\nA) 4\nB) 6\nC) 7\nD) 9",
  );
  assert.throws(() => applyTemplate("r1-gpqa", { question: "q", options: ["a"] }), /needs options with 2 to 4 entries/);
});

test("r1-livecodebench: starter code in a python fence, else the stdin/stdout instruction (upstream spacing kept)", () => {
  const head =
    "You will be given a question (problem specification) and will generate a correct Python program that matches the specification and passes all tests.\n\nQuestion: Add.\n\n";
  assert.equal(
    applyTemplate("r1-livecodebench", { question: "Add.", starter_code: "def add(a, b):" }),
    head +
      "You will use the following starter code to write the solution to the problem and enclose your code within delimiters.\n```python\ndef add(a, b):\n```",
  );
  const stdin = applyTemplate("r1-livecodebench", { question: "Add." });
  assert.ok(stdin.startsWith(head + "Read the inputs from stdin solve the problem"));
  assert.ok(stdin.endsWith("writes output to STDOUT.```python\n# YOUR CODE HERE\n```"));
});

test("mmlu-pro-cot lists options A-J and ends with the step-by-step cue", () => {
  const out = applyTemplate("mmlu-pro-cot", { question: "2+2?", options: ["3", "4"], category: "math" });
  assert.equal(
    out,
    'The following are multiple choice questions (with answers) about math. Think step by step and then finish your answer with "the answer is (X)" where X is the correct letter choice.\n\n\n' +
      "Question:\n2+2?\nOptions:\nA. 3\nB. 4\nAnswer: Let's think step by step.",
  );
});

test("unknown templates list the known ones; user templates can be added; the question must be a string", () => {
  assert.throws(
    () => applyTemplate("r1-maths", { question: "q" }),
    (e: unknown) => e instanceof CellrlError && /Did you mean "r1-math"/.test(e.message),
  );
  templates.add("shout-test", (f) => f.question.toUpperCase());
  assert.equal(applyTemplate("shout-test", { question: "hi" }), "HI");
  assert.equal(
    applyTemplate((f) => `Q: ${f.question}`, { question: "hi" }),
    "Q: hi",
  );
  assert.throws(
    () => applyTemplate("r1-math", { question: 3 as unknown as string }),
    /fields\.question must be a string/,
  );
  assert.ok(templates.names().includes("verl-gsm8k") && templates.names().includes("verl-boxed"));
});
