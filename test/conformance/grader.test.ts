// The public answer-grading suites of Math-Verify, lighteval (extractive match) and NeMo-Skills (math_equal), ported
// as data (test/conformance/grader/*.jsonl, provenance in SOURCES.md) and run through cellrl's grader with the same
// harness each project uses: Math-Verify and lighteval read both sides as free text ("response" mode, with the
// extraction targets the case names), NeMo-Skills compares two final answers ("answer" mode, both directions).
// Cases whose label depends on a harness option cellrl does not have carry `excluded` with the reason.
// Print every case: node --import tsx test/conformance/grader.test.ts --print
import { test } from "node:test";
import assert from "node:assert/strict";
import { conformance, FILES, graderCases } from "./grader-cases.js";
import { areal, gsm8kSolutions, nemo, qwen } from "../reward/agreement.js";

test("every fixture case is well formed; every exclusion has a reason", () => {
  for (const f of FILES) {
    const ids = new Set<string>();
    for (const c of graderCases(f)) {
      assert.ok(!ids.has(c.id), `${f}: duplicate id ${c.id}`);
      ids.add(c.id);
      assert.equal(typeof c.expected, "boolean", `${f} ${c.id}`);
      assert.ok(typeof c.suite === "string" && c.suite.length > 0, `${f} ${c.id}`);
      if (c.excluded !== undefined)
        assert.ok(typeof c.excluded === "string" && c.excluded.length >= 20, `${f} ${c.id}: say why it is excluded`);
    }
  }
});

for (const f of FILES) {
  test(`${f}: >= 99.5% of the cases whose label does not depend on a harness option pass`, () => {
    const r = conformance(f);
    const counted = r.total - r.excluded;
    const rate = r.passed / counted;
    assert.ok(
      rate >= 0.995,
      `${r.passed}/${counted} = ${(100 * rate).toFixed(1)}%; failing: ${r.failures.map((c) => `${c.id} ${JSON.stringify(c.gold).slice(0, 60)} vs ${JSON.stringify(c.pred).slice(-80)} (expected ${c.expected})`).join("\n")}`,
    );
  });
}

if (require.main === module && process.argv.includes("--print")) {
  for (const f of FILES) {
    const r = conformance(f);
    console.log(`${f}: ${r.passed}/${r.total - r.excluded} pass (${r.excluded} excluded)`);
    for (const c of r.failures)
      console.log(
        `  FAIL ${c.id} [${c.suite}] expected ${c.expected}: ${JSON.stringify(c.gold).slice(0, 100)} | ${JSON.stringify(c.pred).slice(-140)}`,
      );
  }
}

test("real labelled generations (Qwen, NeMo-Skills, AReaL, GSM8K: 6,386 responses): >= 99.8% agreement with their labels", () => {
  const sets = [qwen(), nemo(), areal(), gsm8kSolutions()];
  const total = sets.reduce((n, a) => n + a.total, 0);
  const agree = sets.reduce((n, a) => n + a.agree, 0);
  assert.equal(total, 6386);
  assert.ok(agree / total >= 0.998, `${agree}/${total}`);
  assert.equal(agree, 6379); // the 7 disagreements are listed, with reasons, in test/reward/agreement.test.ts
});
