// Eval pathology warnings: a data_source where the grader finds no answer in most responses is reported by
// summarize / cellrl eval / cellrl score with the data_source, the count, three response tails and the option that fits.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { resetWarnings } from "../../lib/core/warn.js";
import { answerHint, NoAnswerCheck, warnNoAnswers } from "../../lib/eval/no-answer.js";
import { scoreRecords } from "../../lib/eval/score-records.js";
import { summarize } from "../../lib/eval/summarize.js";
import { runCli } from "../cli/run-cli.js";
import { shipped } from "../support/shipped-data.js";

// 40 GSM8K GPT-3 solutions: each ends "A: n", which the default gsm8k rules (####, \boxed, "the answer is") do not read.
const gsm8k = () =>
  shipped("gsm8k_gpt3_solutions.jsonl.gz")
    .slice(0, 40)
    .map((r) => ({
      data_source: r.data_source,
      prompt: r.prompt,
      ability: r.ability,
      reward_model: r.reward_model,
      responses: r.responses!,
    }));

function capture(): { messages: string[]; done: () => void } {
  const messages: string[] = [];
  resetWarnings((m) => messages.push(m));
  return { messages, done: () => resetWarnings((m) => console.warn(m)) };
}

test("GSM8K 'A: n' solutions under default options: summarize warns with the source, the count, three tails and lastNumberFallback", async () => {
  const scored = await scoreRecords(gsm8k());
  const { messages, done } = capture();
  try {
    const s = summarize(scored);
    assert.equal(s.rows[0].noAnswer, 40);
    assert.equal(messages.length, 1);
    const m = messages[0];
    assert.match(m, /openai\/gsm8k: the grader found no answer in 40 of 40 responses \(100%\)/);
    assert.equal((m.match(/"…[^"]*A: \d+"/g) ?? []).length, 3, m); // three tails, each ending "A: n"
    assert.match(m, /rewardOptions \{lastNumberFallback: true\}/);
    assert.match(m, /--reward-options '\{"lastNumberFallback": true\}'/);
    // the option it names removes the pathology
    const fixed = await scoreRecords(gsm8k(), { rewardOptions: { lastNumberFallback: true } });
    resetWarnings((x) => messages.push(x));
    const s2 = summarize(fixed);
    assert.equal(s2.rows[0].noAnswer, 0);
    assert.equal(messages.length, 1);
  } finally {
    done();
  }
});

test("no warning at or under half, nor for a handful of rows; one warning per data_source", () => {
  const none = { rule: "no-answer", extracted: null };
  const ok = { rule: "string", extracted: "1" };
  const check = new NoAnswerCheck();
  check.add("a", ["x", "y", "z", "w"], [none, none, ok, ok]); // 2 of 4: not more than half
  check.add("b", ["x", "y"], [none, none]); // 2 responses: too few to judge
  check.add("c", ["so $x^2$", "so $y$", "so $\\frac12$", "and 4"], [none, none, none, ok]);
  const alerts = check.alerts();
  assert.deepEqual(
    alerts.map((a) => [a.data_source, a.noAnswer, a.responses, a.tails.length]),
    [["c", 3, 4, 3]],
  );
  assert.match(alerts[0].hint, /rules: \["boxed", "phrase", "latex"\]/);
  const { messages, done } = capture();
  try {
    check.warn();
    check.warn();
    assert.equal(messages.length, 1);
    assert.deepEqual(warnNoAnswers([]), []);
  } finally {
    done();
  }
});

test("answerHint names the option that fits how the responses end", () => {
  assert.match(answerHint(["She has 5 + 13 = 18.\nA: 18", "so 7 in all\nA: 7"]), /lastNumberFallback/);
  assert.match(answerHint(["Therefore the answer is (C)", "so the answer is B"]), /multiple-choice/);
  assert.match(answerHint(["so the area is $\\frac{3}{4}$.", "which gives \\[x = 2\\]"]), /"latex"/);
  assert.match(answerHint(["I think we should consider the", "Let me reconsider this"]), /\\boxed\{\} in the prompt/);
});

test("cellrl score and cellrl eval print the warning (stderr) on such a file", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-noanswer-"));
  try {
    const input = path.join(dir, "gen.jsonl");
    fs.writeFileSync(
      input,
      gsm8k()
        .map((r) => JSON.stringify(r))
        .join("\n") + "\n",
    );
    const score = await runCli([
      "score",
      "--input",
      input,
      "--output",
      path.join(dir, "scored.jsonl"),
      "--workers",
      "0",
      "-q",
    ]);
    assert.equal(score.code, 0, score.stderr);
    assert.match(
      score.stderr,
      /cellrl warning: evals: openai\/gsm8k: the grader found no answer in 40 of 40 responses/,
    );
    assert.match(score.stderr, /lastNumberFallback/);
    const ev = await runCli(["eval", "--input", input, "--workers", "0", "-q"]);
    assert.equal(ev.code, 0, ev.stderr);
    assert.match(ev.stderr, /cellrl warning: evals: openai\/gsm8k: the grader found no answer in 40 of 40/);
    const fixed = await runCli([
      "score",
      "--input",
      input,
      "--output",
      path.join(dir, "scored2.jsonl"),
      "--workers",
      "0",
      "-q",
      "--reward-options",
      '{"lastNumberFallback": true}',
    ]);
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.doesNotMatch(fixed.stderr, /no answer/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
