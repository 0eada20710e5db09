// The code reward end to end on the real datasets, in the sandbox: HumanEval (all 164 canonical solutions), MBPP,
// rLLM LeetCode / Codeforces / CodeContests, DeepSeek's LeetCode contest set, LiveCodeBench formats. HumanEval, MBPP
// and CodeContests come from the repo's datasets/ (always run); the LeetCode, Codeforces and LiveCodeBench rows are not
// shipped (license) and are read from ../shared when it is there.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readJsonl } from "../../lib/data/jsonl.js";
import { codeReward } from "../../lib/reward/code.js";
import { sampleTestsFromPrompt } from "../../lib/reward/code-samples.js";
import { parseCodeTests } from "../../lib/reward/code-tests.js";
import { scoreResponse } from "../../lib/reward/score.js";
import "../../lib/reward/data-sources.js"; // routes livecodebench/... to "code"
import { needsShared, shared } from "../support/shared-data.js";
import { humanEvalRows, mbppRows, shipped } from "../support/shipped-data.js";

const jsonl = (rel: string) => readJsonl<any>(shared(rel));
const LEETCODE = "data/rllm-code-tests/leetcode_test.jsonl";
const CODEFORCES = "data/rllm-code-tests/codeforces_test.jsonl";
const DEEPSEEK = "data/deepseek-coder-leetcode-contest/leetcode_contest_2023-07_2024-01.jsonl";
const LCB = "data/qwq-livecodebench-v5/livecodebench_v5_prompts.jsonl";
const fence = (code: string) => "Here is my solution.\n```python\n" + code + "\n```\n";

test("all 164 HumanEval canonical solutions pass and a wrong one fails", async () => {
  const rows = humanEvalRows();
  assert.equal(rows.length, 164);
  const results = await Promise.all(
    rows.map((r) => codeReward(fence(r.prompt + r.canonical_solution), { test: r.test, entry_point: r.entry_point })),
  );
  const failed = results
    .map((r, i) => (r.score === 1 ? null : `${rows[i].task_id}: ${JSON.stringify(r.details.firstFailure)}`))
    .filter(Boolean);
  assert.deepEqual(failed, []);
  for (const r of results) assert.equal(r.details.rule, "all-passed");

  // HumanEval/0 with `return False`: its first assert expects True.
  const wrong = await codeReward(fence(rows[0].prompt + "    return False\n"), {
    test: rows[0].test,
    entry_point: rows[0].entry_point,
  });
  assert.equal(wrong.score, 0);
  assert.equal(wrong.details.rule, "wrong-answer");
  assert.match(
    String(wrong.details.firstFailure),
    /AssertionError \[at: assert candidate\(\[1\.0, 2\.0, 3\.9, 4\.0, 5\.0, 2\.2\], 0\.3\) == True\]/,
  );
  // A completion that is only the body: the prompt is put back in front when the ground truth carries it.
  const body = await codeReward(rows[2].canonical_solution, {
    test: rows[2].test,
    entry_point: rows[2].entry_point,
    prompt: rows[2].prompt,
  });
  assert.equal(body.score, 1);
  assert.equal(body.details.promptPrepended, true);
});

test("MBPP reference programs pass their three asserts; a program for another task fails", async () => {
  const rows = mbppRows().filter((r) => r.task_id >= 11 && r.task_id <= 40);
  assert.equal(rows.length, 30);
  const results = await Promise.all(
    rows.map((r) =>
      codeReward(fence(r.code), { test_list: r.test_list, test_setup_code: r.test_setup_code }, undefined, {
        partial: true,
      }),
    ),
  );
  for (let i = 0; i < rows.length; i++) {
    assert.equal(results[i].score, 1, `MBPP ${rows[i].task_id}: ${results[i].details.firstFailure}`);
    assert.equal(results[i].details.total, rows[i].test_list.length);
  }
  const swapped = await codeReward(fence(rows[1].code), { test_list: rows[0].test_list });
  assert.equal(swapped.score, 0);
  assert.equal(swapped.details.rule, "runtime-error"); // NameError: task 11's function is not defined
});

test("rLLM LeetCode reference solutions pass their check(Solution().method) tests", needsShared(LEETCODE), async () => {
  const rows = jsonl(LEETCODE).slice(0, 20);
  const results = await Promise.all(rows.map((r) => codeReward(fence(r.solutions), r.tests)));
  for (let i = 0; i < rows.length; i++)
    assert.equal(results[i].score, 1, `leetcode ${i}: ${results[i].details.firstFailure}`);
});

test("DeepSeek LeetCode contest: 100 assert blocks each count as a test", needsShared(DEEPSEEK), async () => {
  const row = jsonl(DEEPSEEK)[0];
  const right =
    "class Solution:\n    def minimumPushes(self, word: str) -> int:\n        return sum(i // 8 + 1 for i in range(len(word)))\n";
  const ok = await codeReward(fence(right), { test: row.test }, undefined, { partial: true });
  assert.equal(ok.score, 1);
  assert.equal(ok.details.total, 100);
  // Off by one for words longer than 8: the short words still pass, so partial credit is strictly between 0 and 1.
  const wrong =
    "class Solution:\n    def minimumPushes(self, word: str) -> int:\n        return sum(i // 9 + 1 for i in range(len(word)))\n";
  const partial = await codeReward(fence(wrong), { test: row.test }, undefined, { partial: true });
  assert.equal(partial.details.total, 100);
  assert.ok(partial.score > 0 && partial.score < 1, String(partial.score));
  const binary = await codeReward(fence(wrong), { test: row.test });
  assert.equal(binary.score, 0);
  assert.equal((binary.details.statuses as string[]).filter((s) => s === "not-run").length > 0, true); // stopped at the first failure
});

test(
  "stdin/stdout problems from rLLM Codeforces: hand-written solutions pass, wrong ones fail",
  needsShared(CODEFORCES),
  async () => {
    const cf = jsonl(CODEFORCES);
    const solutions: [number, string][] = [
      [0, "for _ in range(int(input())):\n    x, y = map(int, input().split())\n    print(min(x, y), max(x, y))"],
      [
        3,
        "t = int(input())\nfor _ in range(t):\n    s = input().strip()\n    cuts = sum(1 for i in range(len(s) - 1) if s[i] != s[i + 1])\n    print(cuts + 1 - (1 if '01' in s else 0))",
      ],
      [
        5,
        "from math import isqrt\nimport sys\nd = sys.stdin.read().split()\nfor r in map(int, d[1:]):\n    lo, hi = r * r, (r + 1) ** 2\n    c = 0\n    for x in range(1, r + 1):\n        a = lo - x * x\n        ymin = 0 if a <= 0 else isqrt(a - 1) + 1\n        ymax = isqrt(hi - x * x - 1)\n        c += max(0, ymax - ymin + 1)\n    print(4 * c)",
      ],
      [9, "for _ in range(int(input())):\n    input()\n    print('YES' if input().count('U') % 2 else 'NO')"],
    ];
    const results = await Promise.all(solutions.map(([i, code]) => codeReward(fence(code), cf[i].tests)));
    for (let k = 0; k < solutions.length; k++)
      assert.equal(results[k].score, 1, `codeforces ${solutions[k][0]}: ${results[k].details.firstFailure}`);
    const wrong = await codeReward(
      fence("for _ in range(int(input())):\n    x, y = map(int, input().split())\n    print(max(x, y), min(x, y))"),
      cf[0].tests,
    );
    assert.equal(wrong.score, 0);
    assert.match(String(wrong.details.firstFailure), /wrong-answer \(wrong answer at line 1: "9 1" != "1 9"\)/);
  },
);

test("stdin/stdout problem from CodeContests (datasets/): a hand-written solution passes", async () => {
  // the record's ground truth is rLLM's tests object {inputs, outputs} as a JSON string
  const cc = { tests: JSON.parse(shipped("code_contests_test.jsonl.gz")[0].reward_model.ground_truth as string) };
  const asc =
    "n, m = map(int, input().split())\ns = [input() for _ in range(n)]\n" +
    "key = lambda i: [ord(c) if j % 2 == 0 else -ord(c) for j, c in enumerate(s[i])]\nprint(*[i + 1 for i in sorted(range(n), key=key)])";
  const r = await codeReward(fence(asc), JSON.stringify(cc.tests));
  assert.equal(r.score, 1, String(r.details.firstFailure));
  assert.equal(r.details.mode, "stdio");
});

test("LiveCodeBench formats: compressed ground truth through scoreResponse(), call-based Solution methods, prompt samples", async () => {
  // verl r1 record: ground_truth = base64(zlib(pickle(json))) of {"inputs": ["1 2\n", "3 4\n"], "outputs": ["3\n", "7\n"], "fn_name": null}
  const gt = "eJxrYJnqxwABPV7VSpl5BaUlxUpWCtFKhgpGMXlKOgpKxgomQEYskJVfWgKXNoZImkOl0vLi8xJzU4FSeaU5ObVT9AD4hBh0";
  const record = {
    data_source: "livecodebench/code_generation_lite",
    reward_model: { style: "rule", ground_truth: gt },
  };
  const good = await scoreResponse(record, fence("a, b = map(int, input().split())\nprint(a + b)"));
  assert.equal(good.score, 1);
  assert.equal(good.details.reward, "code");
  const bad = await scoreResponse(record, fence("a, b = map(int, input().split())\nprint(a * b)"));
  assert.equal(bad.score, 0);
  assert.deepEqual(bad.details.statuses, ["wrong-answer", "not-run"]); // 1 * 2 != 3, then LiveCodeBench stops
});

test(
  "QwQ LiveCodeBench v5 prompts: their sample tests run stdio and call-based solutions",
  needsShared(LCB),
  async () => {
    const rows = jsonl(LCB);
    const abc = rows.find((r) => r.question_id === "abc365_b");
    const second = "n = int(input())\na = list(map(int, input().split()))\nprint(a.index(sorted(a)[-2]) + 1)";
    const r1 = await codeReward(fence(second), sampleTestsFromPrompt(abc.prompt));
    assert.equal(r1.score, 1, String(r1.details.firstFailure));
    const lc = rows.find((r) => r.prompt.includes("shortestDistanceAfterQueries"));
    const bfs =
      "from collections import deque\nclass Solution:\n    def shortestDistanceAfterQueries(self, n, queries):\n" +
      "        adj = [[i + 1] for i in range(n)]\n        out = []\n        for u, v in queries:\n            adj[u].append(v)\n" +
      "            dist = [-1] * n\n            dist[0] = 0\n            q = deque([0])\n            while q:\n                x = q.popleft()\n" +
      "                for y in adj[x]:\n                    if y < n and dist[y] < 0:\n                        dist[y] = dist[x] + 1\n                        q.append(y)\n" +
      "            out.append(dist[n - 1])\n        return out\n";
    const r2 = await codeReward(fence(bfs), sampleTestsFromPrompt(lc.prompt));
    assert.equal(r2.score, 1, String(r2.details.firstFailure));
    assert.equal(r2.details.mode, "call");
    // Returning a tuple is accepted (LiveCodeBench converts tuples to lists); a wrong value is not.
    const tuple = bfs.replace("return out", "return tuple(out)");
    assert.equal((await codeReward(fence(tuple), sampleTestsFromPrompt(lc.prompt))).score, 1);
    const off = bfs.replace("out.append(dist[n - 1])", "out.append(dist[n - 1] + 1)");
    const r3 = await codeReward(fence(off), sampleTestsFromPrompt(lc.prompt));
    assert.equal(r3.score, 0);
    assert.match(String(r3.details.firstFailure), /returned \[4, 3, 2\], expected \[3,2,1\]/);
  },
);

test("programs that do not compile or crash while loading score 0 with the reason", async () => {
  const gt = { test: "assert f(1) == 2", entry_point: "f" };
  const syntax = await codeReward(fence("def f(x) return x"), gt);
  assert.equal(syntax.details.rule, "syntax-error");
  assert.match(String(syntax.details.firstFailure), /SyntaxError/);
  const load = await codeReward(fence("raise ValueError('boom')\ndef f(x):\n    return x + 1"), gt);
  assert.equal(load.details.rule, "load-error");
  assert.match(String(load.details.firstFailure), /ValueError: boom/);
  const empty = await codeReward("```python\n\n```", gt);
  assert.equal(empty.details.rule, "empty-program");
  assert.equal(empty.score, 0);
});

test("the repo's code datasets (verl records): every ground truth parses; HumanEval records score 1 with their canonical solution", async () => {
  const he = shipped("humaneval_test.jsonl.gz");
  const sets = { he, mbpp: shipped("mbpp.jsonl.gz"), cc: shipped("code_contests_test.jsonl.gz") };
  const kinds: Record<string, string> = {};
  for (const [name, rows] of Object.entries(sets))
    for (const r of rows) kinds[`${name}:${parseCodeTests(r.reward_model.ground_truth).mode}`] = "ok";
  assert.deepEqual(Object.keys(kinds).sort(), ["cc:stdio", "he:functional", "mbpp:functional"]);
  const res = await Promise.all(he.map((r) => scoreResponse(r, fence(r.extra_info!.canonical_solution as string))));
  assert.equal(res.filter((r) => r.score === 1).length, 164);
});

test("call-based: a return value longer than outputBytes is cut there and is a wrong answer", async () => {
  const gt = { inputs: ["3"], outputs: ["[0, 1, 2]"], fn_name: "upto" };
  const ok = await codeReward(fence("def upto(n):\n    return list(range(n))"), gt);
  assert.equal(ok.score, 1);
  const huge = await codeReward(fence("def upto(n):\n    return list(range(10 ** 6))"), gt, undefined, {
    outputBytes: 1 << 20,
  });
  assert.equal(huge.details.rule, "wrong-answer");
  assert.match(String(huge.details.firstFailure), /returned a value of \d+ characters \(more than outputBytes\)/);
});
