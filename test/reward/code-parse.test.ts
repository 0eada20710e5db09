// Pure parts of the code reward: program extraction, ground-truth formats of the real datasets, output matching,
// sample tests from prompts. No sandbox is started here. HumanEval, MBPP and CodeContests come from the repo's
// datasets/ (always run); LeetCode, Codeforces and LiveCodeBench rows are not shipped (license) and are read from
// ../shared when it is there.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readJsonl } from "../../lib/data/jsonl.js";
import { extractProgram } from "../../lib/reward/code-extract.js";
import { parseCodeTests, unpickleString } from "../../lib/reward/code-tests.js";
import { canonicalDecimal, outputsMatch, valuesEqual } from "../../lib/reward/code-compare.js";
import { sampleTestsFromPrompt } from "../../lib/reward/code-samples.js";
import { CellrlError } from "../../lib/core/errors.js";
import { needsShared, shared } from "../support/shared-data.js";
import { humanEvalRows, mbppRows, shipped } from "../support/shipped-data.js";

const jsonl = (rel: string) => readJsonl<any>(shared(rel));
const LEETCODE = "data/rllm-code-tests/leetcode_test.jsonl";
const CODEFORCES = "data/rllm-code-tests/codeforces_test.jsonl";
const DEEPSEEK = "data/deepseek-coder-leetcode-contest/leetcode_contest_2023-07_2024-01.jsonl";
const LCB = "data/qwq-livecodebench-v5/livecodebench_v5_prompts.jsonl";

test("extractProgram takes the last python fence, then a bare fence, then the whole response after </think>", () => {
  const two = "First try:\n```python\nprint(1)\n```\nBetter:\n```python\nprint(2)\n```\nDone.";
  assert.deepEqual(extractProgram(two), { program: "print(2)", rule: "python-fence" });
  assert.deepEqual(extractProgram("```py\nx = 1\n```"), { program: "x = 1", rule: "python-fence" });
  // A python fence wins over a later bare one (e.g. sample output shown after the code).
  assert.equal(extractProgram("```python\nprint(3)\n```\nOutput:\n```\n3\n```").program, "print(3)");
  assert.deepEqual(extractProgram("```\nprint(4)\n```"), { program: "print(4)", rule: "bare-fence" });
  assert.deepEqual(extractProgram("<think>use a loop</think>\nprint(5)"), {
    program: "print(5)",
    rule: "whole-response",
  });
  assert.deepEqual(extractProgram("print(6)"), { program: "print(6)", rule: "whole-response" });
  // A response cut off inside its last block keeps what is there (LiveCodeBench's split does the same).
  assert.equal(extractProgram("```python\nprint(7)\nfor i in range(3):").program, "print(7)\nfor i in range(3):");
  // Four-backtick fences may contain three-backtick lines.
  assert.equal(extractProgram("````python\ns = '```'\nprint(s)\n````").program, "s = '```'\nprint(s)");
  // The other languages are not Python.
  assert.equal(extractProgram("```cpp\nint main(){}\n```").rule, "whole-response");
});

test("parseCodeTests reads HumanEval, MBPP and CodeContests rows (datasets/)", () => {
  const he = humanEvalRows();
  const h = parseCodeTests({ test: he[0].test, entry_point: he[0].entry_point });
  assert.equal(h.mode, "functional");
  assert.equal(h.mode === "functional" && h.entryPoint, "has_close_elements");
  // The same as a JSON string (verl stores ground_truth as a string).
  assert.deepEqual(parseCodeTests(JSON.stringify({ test: he[0].test, entry_point: he[0].entry_point })), h);

  const mbpp = mbppRows();
  const withSetup = mbpp.find((r) => r.test_setup_code);
  assert.equal(withSetup?.task_id, 367); // the first of MBPP's two tasks with setup code
  const m = parseCodeTests(withSetup);
  assert.equal(m.mode, "functional");
  if (m.mode === "functional") {
    for (const t of withSetup!.test_list) assert.ok(m.test.includes(t));
    assert.ok(m.test.startsWith(withSetup!.test_setup_code));
  }

  const cc = JSON.parse(shipped("code_contests_test.jsonl.gz")[0].reward_model.ground_truth as string);
  const c = parseCodeTests(cc);
  assert.deepEqual(c, { mode: "stdio", inputs: ["5 2\nAA\nAB\nBB\nBA\nAZ\n"], outputs: ["5 2 1 3 4 \n"] });
});

test(
  "parseCodeTests reads rLLM LeetCode, DeepSeek LeetCode and Codeforces rows",
  needsShared([LEETCODE, DEEPSEEK, CODEFORCES]),
  () => {
    const lc = jsonl(LEETCODE)[0];
    const l = parseCodeTests(lc.tests);
    assert.ok(l.mode === "functional" && l.test.includes("check(Solution().minOperations)"));

    const ds = jsonl(DEEPSEEK)[0];
    assert.equal(parseCodeTests({ test: ds.test }).mode, "functional");

    const cf = jsonl(CODEFORCES)[0];
    const f = parseCodeTests(cf.tests);
    assert.equal(f.mode, "stdio");
    assert.ok(f.mode === "stdio" && f.inputs[0].startsWith("10\n1 9") && f.outputs[0].startsWith("1 9\n4 8"));
  },
);

test("parseCodeTests decodes LiveCodeBench's base64(zlib(pickle(json))) ground truth and call-based fn_name", () => {
  const small = "eJxrYJnqxwABPV7VSpl5BaUlxUpWCtFKhgpGMXlKOgpKxgomQEYskJVfWgKXNoZImkOl0vLi8xJzU4FSeaU5ObVT9AD4hBh0";
  assert.deepEqual(parseCodeTests(small), { mode: "stdio", inputs: ["1 2\n", "3 4\n"], outputs: ["3\n", "7\n"] });
  // > 255 bytes: BINUNICODE inside a FRAME; fn_name makes it call-based, outputs JSON-decoded.
  const big =
    "eJxrYJnKwsoABhF/WRgYqpUy8wpKS4qVrBSilaINdRSMYmPyjJVidRSU8ktLEDImsWCxtLz4vMTcVKCYUmJKimNOjhJQsCAxBSQQU2pgkGo5So6So+QoOfhJpdopegASxIM7";
  assert.deepEqual(parseCodeTests(big), { mode: "call", fnName: "addAll", inputs: ["[1, 2]\n3"], outputs: [[4]] });
  // Protocol 0 (raw-unicode-escape text).
  const p0 = "eJwLq1bKzCsoLSlWslKIVqqIKTUwME3OU4rVUVDKLy2BS1QiS+Tll6QCRZUgYkAi1VKplqvAgEsPAMFDFvc=";
  assert.deepEqual(parseCodeTests(p0), { mode: "stdio", inputs: ["x\n"], outputs: ["y\n"] });
  assert.throws(() => unpickleString(Buffer.from([0x80, 0x04, 0x4b, 0x01, 0x2e])), /unsupported pickle opcode 0x4b/);
  // LiveCodeBench public tests as a list with testtype "functional" need the function name.
  const pub = [{ input: "1\n2", output: "3", testtype: "functional" }];
  assert.throws(() => parseCodeTests(pub), /functional tests need the function name/);
  assert.deepEqual(parseCodeTests(pub, { fnName: "add" }), {
    mode: "call",
    fnName: "add",
    inputs: ["1\n2"],
    outputs: [3],
  });
});

test("parseCodeTests rejects bad ground truth with errors that name the field and the fix", () => {
  const cases: [unknown, RegExp][] = [
    [{ inputs: ["1"], outputs: [] }, /differ in length \(1 vs 0\)/],
    [{ inputs: [], outputs: [] }, /no tests/],
    [{ test: "" }, /test code is empty/],
    [{ test: "assert f(1)", entry_point: "not an identifier" }, /entry_point must be a Python identifier/],
    [{ foo: 1 }, /none of the known test fields \(keys: foo\)/],
    [42, /must be an object/],
    ["not json at all!", /not JSON/],
    [{ inputs: [1], outputs: ["1"] }, /must be a string/],
  ];
  for (const [gt, re] of cases) {
    assert.throws(
      () => parseCodeTests(gt),
      (e: unknown) => e instanceof CellrlError && e.code === "invalid_input" && re.test(e.message),
      String(re),
    );
  }
});

test("outputsMatch follows LiveCodeBench: stripped lines, then per-line decimal equality", () => {
  assert.equal(outputsMatch("5 2 1 3 4\n", "5 2 1 3 4 \n").ok, true);
  assert.equal(outputsMatch("  3\r\n4  \n\n", "3\n4").ok, true);
  assert.equal(outputsMatch("1.50 2", "1.5 2.0").ok, true); // Decimal("1.50") == Decimal("1.5")
  assert.equal(outputsMatch("1e3", "1000").ok, true);
  assert.equal(outputsMatch("0.333333", "0.333334").ok, false);
  assert.equal(outputsMatch("0.333333", "0.333334", { floatTolerance: 1e-5 }).ok, true);
  assert.equal(outputsMatch("YES", "yes").ok, false);
  assert.equal(outputsMatch("1 2\n3", "1 2 3").ok, false);
  assert.match(outputsMatch("1 2\n3", "1 2 3").reason!, /2 output lines, expected 1/);
  assert.equal(outputsMatch("1 2\n3", "1 2 3", { compare: "tokens" }).ok, true);
  assert.equal(outputsMatch("3\n", "3", { compare: "exact" }).ok, false);
  assert.equal(outputsMatch("", "").ok, true);
  assert.match(outputsMatch("4\n", "5\n").reason!, /line 1: "4" != "5"/);
  assert.equal(canonicalDecimal("-0.0"), "0");
  assert.equal(canonicalDecimal("0012.3400"), "1234e-2");
  assert.equal(canonicalDecimal("abc"), null);
  assert.equal(canonicalDecimal("."), null);
});

test("valuesEqual is Python ==: True == 1, 2 == 2.0, lists by element, dicts by key", () => {
  assert.equal(valuesEqual([1, true], [1, 1]), true);
  assert.equal(valuesEqual(2, 2.0), true);
  assert.equal(valuesEqual([1, 2], [1, 2, 3]), false);
  assert.equal(valuesEqual({ a: [1] }, { a: [1] }), true);
  assert.equal(valuesEqual({ a: 1 }, { b: 1 }), false);
  assert.equal(valuesEqual("1", 1), false);
  assert.equal(valuesEqual(null, null), true);
});

test(
  "sampleTestsFromPrompt recovers the examples of every QwQ LiveCodeBench v5 prompt (stdio and call-based)",
  needsShared(LCB),
  () => {
    const rows = jsonl(LCB);
    let stdio = 0;
    let call = 0;
    for (const r of rows) {
      const t = sampleTestsFromPrompt(r.prompt);
      assert.ok(t, r.question_id);
      if (t!.mode === "stdio") stdio++;
      else call++;
    }
    assert.equal(stdio + call, 279);
    assert.equal(call, rows.filter((r) => r.prompt.includes("class Solution")).length);
    assert.deepEqual(sampleTestsFromPrompt(rows[0].prompt), {
      mode: "stdio",
      inputs: ["4\n8 2 5 1\n", "8\n1 2 3 4 5 10 9 11\n"],
      outputs: ["3\n", "6\n"],
    });
    const lc = rows.find((r) => r.prompt.includes("shortestDistanceAfterQueries"));
    assert.deepEqual(sampleTestsFromPrompt(lc.prompt), {
      mode: "call",
      fnName: "shortestDistanceAfterQueries",
      inputs: ["5\n[[2,4],[0,2],[0,4]]", "4\n[[0,3],[0,2]]"],
      outputs: [
        [3, 2, 1],
        [1, 1],
      ],
    });
  },
);

test("sampleTestsFromPrompt returns null for a prompt without examples", () => {
  assert.equal(sampleTestsFromPrompt("no examples here"), null);
});
