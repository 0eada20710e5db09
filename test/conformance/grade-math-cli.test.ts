// `cellrl grade-math --mode response`: the conformance cases through the CLI, as a user would run them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runCli } from "../cli/run-cli.js";
import { graderCases } from "./grader-cases.js";

test("grade-math --mode response reads free text as Math-Verify does; answer mode keeps the old reading", async () => {
  const text = "She pays 5 + 13 = 18 dollars. Final Answer: The final answer is 18. I hope it is correct.";
  const response = await runCli(["grade-math", "--gold", "18", "--pred", text, "--mode", "response"]);
  assert.deepEqual([response.code, response.stdout.trim()], [0, "true"]);
  const answer = await runCli(["grade-math", "--gold", "18", "--pred", text]);
  assert.deepEqual([answer.code, answer.stdout.trim()], [0, "false"]);
  const bad = await runCli(["grade-math", "--gold", "1", "--pred", "1", "--mode", "free"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--mode must be answer or response/);
});

test("grade-math --mode response --input: Math-Verify's LaTeX-and-number cases, one verdict per line, in order", async () => {
  const cases = graderCases("math-verify.jsonl").filter(
    (c) => c.harness.match === "latex,expr" && c.excluded === undefined,
  );
  const input = cases.map((c) => JSON.stringify({ gold: c.gold, pred: c.pred })).join("\n") + "\n";
  const out = await runCli(["grade-math", "--input", "-", "--mode", "response"], { input });
  assert.equal(out.code, 0, out.stderr);
  const verdicts = out.stdout
    .trim()
    .split("\n")
    .map((l) => (JSON.parse(l) as { equal: boolean }).equal);
  assert.equal(verdicts.length, cases.length);
  const wrong = cases.filter((c, i) => verdicts[i] !== c.expected).map((c) => c.id);
  assert.deepEqual(wrong, []);
});
