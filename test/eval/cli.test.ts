// `cellrl eval` end to end, spawned as a user runs it: the real Qwen2.5-Math generations (tables printed, report
// written, upstream accuracy matched), a verl rollout dump with --compare, and the command-line errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { writeJsonl } from "../../lib/data/jsonl.js";
import { ROOT, runCli } from "../cli/run-cli.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-cli-eval-"));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test("cellrl eval on the Qwen2.5-Math generations prints r1's table and writes report.md / report.html / summary.json", async () => {
  const dir = path.join(tmp, "qwen");
  const out = path.join(tmp, "qwen-scored.jsonl.gz");
  const run = await runCli([
    "eval",
    "--input",
    "datasets/qwen25_math_cot_100x8.jsonl.gz",
    "--k",
    "8",
    "--report",
    dir,
    "--output",
    out,
    "--workers",
    "0",
  ]);
  assert.equal(run.code, 0, run.stderr);
  // r1-style headline: measured mean@8 next to the upstream grader's number
  assert.match(run.stdout, /Dataset\s+Items\s+Test Results \(k=8\)\s+95% CI\s+Upstream grader\s+Δ/);
  assert.match(run.stdout, /\nMATH\s+100\s+91\.1\s+[\d.]+–[\d.]+\s+91\.0\s+\+0\.1\n/);
  assert.match(run.stdout, /Agreement 799\/800 \(99\.88%\)/);
  assert.match(run.stdout, /lighteval\/MATH#72\s+7\s+10\{,\}000\s+1\s+0\s+10000/);
  assert.match(
    run.stdout,
    /lighteval\/MATH\s+91\.1\s+93\.5\s+94\.8\s+95\.6\s+96\.1\s+96\.5\s+96\.8\s+97\.0/,
    "pass@1..8",
  );
  assert.match(run.stdout, /Accuracy by level/);
  const md = fs.readFileSync(path.join(dir, "report.md"), "utf8");
  assert.ok(md.includes("| Dataset | Items | Test Results (k=8) | 95% CI | Upstream grader | Δ |"));
  assert.match(md, /\| MATH \| 100 \| 91\.1 \| [\d.]+–[\d.]+ \| 91\.0 \| \+0\.1 \|/);
  assert.match(fs.readFileSync(path.join(dir, "report.html"), "utf8"), /<svg[\s\S]*pass@k/);
  const summary = JSON.parse(fs.readFileSync(path.join(dir, "summary.json"), "utf8"));
  assert.equal(summary.agreement.agree, 799);
  assert.ok(Math.abs(summary.summary.rows[0].meanAtK - summary.agreement.upstreamMean) <= 0.01);
  assert.equal(fs.readFileSync(out)[0], 0x1f, "scored records written, gzip by name");
});

test("cellrl eval reads a verl rollout dump, compares two runs, and reports usage errors with exit 2", async () => {
  const step = (answers: string[]) =>
    answers.map((a, i) => ({
      input: `<|im_start|>user\nWhat is ${i % 3} + 1?<|im_end|>`,
      output: `so \\boxed{${a}}`,
      gts: String((i % 3) + 1),
      score: a === String((i % 3) + 1) ? 1 : 0,
      step: 1,
    }));
  // 3 prompts x 2 samples each (lines i and i+3 share a prompt); run A solves prompts 0,1 twice and 2 never; B only prompt 2
  const a = path.join(tmp, "a.jsonl");
  const b = path.join(tmp, "b.jsonl");
  writeJsonl(a, step(["1", "2", "9", "1", "2", "9"]));
  writeJsonl(b, step(["7", "7", "3", "7", "7", "3"]));
  const run = await runCli([
    "eval",
    "--input",
    a,
    "--data-source",
    "lighteval/MATH",
    "--compare",
    b,
    "--labels",
    "A,B",
    "--workers",
    "0",
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /\nMATH\s+3\s+66\.7\s/);
  assert.match(run.stdout, /Agreement 6\/6/);
  assert.match(run.stdout, /Comparison: A vs B/);
  assert.match(run.stdout, /mean@k A 66\.7% vs B 33\.3%: difference \+33\.3 points/);
  assert.match(run.stdout, /solved by A only: 2, by B only: 1; McNemar exact p = 1\.00/);
  const noSource = await runCli(["eval", "--input", a]);
  assert.equal(noSource.code, 1);
  assert.match(noSource.stderr, /has no data_source.*--data-source/s);
  const usage = await runCli(["eval", "--k", "4"]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /--input is missing[\s\S]*Usage: cellrl eval/);
  const badK = await runCli(["eval", "--input", a, "--k", "0"]);
  assert.equal(badK.code, 2);
  assert.match(badK.stderr, /--k must be a whole number in \[1, 100000\], i.e. >= 1/);
  assert.ok(fs.existsSync(path.join(ROOT, "lib", "cli", "eval.ts")));
});
