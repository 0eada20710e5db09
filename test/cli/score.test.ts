// `cellrl score` end to end: order, scores, the mean@k table (hand-computed), formats, bad rows, and what survives a
// kill or Ctrl-C in the middle of a run. Uses small reward modules in fixtures/ so the expected scores are obvious.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readRows } from "../../lib/data/io.js";
import { readJsonl, writeJsonl } from "../../lib/data/jsonl.js";
import { writeParquet } from "../../lib/data/parquet.js";
import { FIXTURES, ROOT, runCli, startCli } from "./run-cli.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-cli-score-"));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const EXACT = path.join(FIXTURES, "exact-reward.cjs");
const SLOW = path.join(FIXTURES, "slow-reward.cjs");

const rec = (source: string, gt: string, responses: string[], index: number) => ({
  data_source: source,
  prompt: [{ role: "user", content: `say ${gt}` }],
  ability: "math",
  reward_model: { style: "rule", ground_truth: gt },
  extra_info: { split: "test", index },
  responses,
});

// exact-reward: 1 when the trimmed response equals the gold; "CRASH" makes the reward throw (scored 0, counted).
// toy/a: prompt means 2/4, 4/4, 0/4 -> mean@4 = 0.5, se = sd(0.5, 1, 0) / sqrt(3) = 0.5 / sqrt(3) = 0.2887
// toy/b: prompt means 1/2, 2/2 -> mean@2 = 0.75, se = sd(0.5, 1) / sqrt(2) = 0.25; one reward error
const small = [
  rec("toy/a", "1", ["1", "2", " 1 ", "x"], 0),
  rec("toy/b", "7", ["7", "CRASH"], 1),
  rec("toy/a", "2", ["2", "2", "2", "2"], 2),
  rec("toy/b", "8", ["8", "8"], 3),
  rec("toy/a", "3", ["0", "0", "0", "0"], 4),
];

function table(stdout: string): Record<string, string[]> {
  const rows: Record<string, string[]> = {};
  for (const line of stdout.trim().split("\n").slice(2)) {
    const [source, ...cells] = line.trim().split(/\s+/);
    rows[source] = cells;
  }
  return rows;
}

test("score writes scores and details per response in input order and prints mean@k per data_source", async () => {
  const input = path.join(tmp, "small.jsonl");
  const output = path.join(tmp, "small-scored.jsonl");
  writeJsonl(input, small);
  const run = await runCli(["score", "--input", input, "--output", output, "--reward-module", EXACT, "--workers", "2"]);
  assert.equal(run.code, 0, run.stderr);
  const out = readJsonl<Record<string, any>>(output);
  assert.deepEqual(
    out.map((r) => r.extra_info.index),
    [0, 1, 2, 3, 4],
  );
  assert.deepEqual(
    out.map((r) => r.scores),
    [
      [1, 0, 1, 0],
      [1, 0],
      [1, 1, 1, 1],
      [1, 1],
      [0, 0, 0, 0],
    ],
  );
  assert.deepEqual(out[0].details[1], { reward: "cli-reward-module", rule: "mismatch", extracted: "2" });
  assert.equal(out[1].details[1].rule, "error");
  assert.match(out[1].details[1].error, /crashes on purpose/);
  assert.deepEqual(
    { ...out[2], scores: undefined, details: undefined },
    { ...small[2], scores: undefined, details: undefined },
  );
  assert.deepEqual(table(run.stdout), {
    "toy/a": ["3", "4", "50.0", "28.9", "0"],
    "toy/b": ["2", "2", "75.0", "25.0", "1"],
  });
  assert.match(run.stderr, /warning: 1 responses scored 0 because their reward raised an error/);
  assert.ok(!fs.existsSync(`${output}.partial.jsonl`) && !fs.existsSync(`${output}.partial.json`));
});

test("parquet in, parquet and gzip JSONL out, and in-process scoring (--workers 0) give the same rows", async () => {
  const input = path.join(tmp, "small.parquet");
  writeParquet(input, small);
  const outs = [path.join(tmp, "p.parquet"), path.join(tmp, "p.jsonl.gz")];
  for (const [i, output] of outs.entries()) {
    const run = await runCli([
      "score",
      "--input",
      input,
      "--output",
      output,
      "--reward-module",
      EXACT,
      "--workers",
      String(i),
      "-q",
    ]);
    assert.equal(run.code, 0, run.stderr);
  }
  const [a, b] = [await readRows(outs[0]), await readRows(outs[1])];
  assert.deepEqual(
    a.map((r) => r.scores),
    [
      [1, 0, 1, 0],
      [1, 0],
      [1, 1, 1, 1],
      [1, 1],
      [0, 0, 0, 0],
    ],
  );
  assert.deepEqual(
    b.map((r) => r.scores),
    a.map((r) => r.scores),
  );
  assert.equal(fs.readFileSync(outs[1])[0], 0x1f);
});

test("bad rows stop the run before anything is scored, each named by line, field and fix", async () => {
  const input = path.join(tmp, "bad.jsonl");
  const lines = [
    JSON.stringify(small[0]),
    "",
    JSON.stringify({ ...small[1], prompt: "say 7" }),
    JSON.stringify({ ...small[2], reward_model: { style: "rule" } }),
    JSON.stringify({ ...small[3], responses: undefined }),
  ];
  fs.writeFileSync(input, lines.join("\n") + "\n");
  const output = path.join(tmp, "bad-out.jsonl");
  const run = await runCli(["score", "--input", input, "--output", output, "--reward-module", EXACT]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /3 of 4 rows of .*bad\.jsonl are not scorable records; nothing was scored/);
  assert.match(run.stderr, /line 3 of bad\.jsonl: field "prompt" is a string, not a chat .*Wrap it as/);
  assert.match(run.stderr, /line 4 of bad\.jsonl: field "reward_model\.ground_truth" is missing/);
  assert.match(run.stderr, /line 5 of bad\.jsonl: field "responses" is missing/);
  assert.ok(!fs.existsSync(output) && !fs.existsSync(`${output}.partial.jsonl`));
  fs.writeFileSync(input, JSON.stringify(small[0]) + "\n{not json\n");
  const broken = await runCli(["score", "--input", input, "--output", output, "--reward-module", EXACT]);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /line 2 of bad\.jsonl is not valid JSON/);
});

test("a data_source without a reward is reported before scoring, with how to route it", async () => {
  const input = path.join(tmp, "unrouted.jsonl");
  writeJsonl(input, [rec("nobody/knows-this-source", "1", ["1"], 0)]);
  const run = await runCli(["score", "--input", input, "--output", path.join(tmp, "unrouted-out.jsonl")]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /no reward for data_source "nobody\/knows-this-source"/);
  assert.match(run.stderr, /--reward math, or --reward-module/);
});

test("GPQA rows are only written to a compressed output unless explicitly allowed", async () => {
  // made-up items under GPQA's data_source name (never real GPQA text in a test)
  const input = path.join(tmp, "mc.jsonl.gz");
  writeJsonl(input, [{ ...rec("Idavidrein/gpqa", "B", ["Answer: B", "Answer: C"], 0) }]);
  const plain = await runCli([
    "score",
    "--input",
    input,
    "--output",
    path.join(tmp, "mc.jsonl"),
    "--reward-module",
    EXACT,
  ]);
  assert.equal(plain.code, 1);
  assert.match(plain.stderr, /GPQA's authors ask that items never appear in plain text: write to .*mc\.jsonl\.gz/);
  const gz = await runCli(["score", "--input", input, "--output", path.join(tmp, "mc.jsonl.gz"), "-q"]);
  assert.equal(gz.code, 0, gz.stderr);
  assert.deepEqual(readJsonl<{ scores: number[] }>(path.join(tmp, "mc.jsonl.gz"))[0].scores, [1, 0]); // the routed gpqa reward
});

// 60 rows x 4 responses x 15 ms on 2 threads: about 2 s of scoring, long enough to stop it in the middle.
const many = Array.from({ length: 60 }, (_, i) =>
  rec(i % 3 ? "toy/a" : "toy/b", String(i), [String(i), `${i}x`, ` ${i} `, "no"], i),
);

async function rowsIn(partial: string): Promise<number> {
  try {
    return readJsonl(partial).length;
  } catch {
    return 0; // absent, or caught mid-write
  }
}

async function waitForRows(partial: string, n: number): Promise<number> {
  for (let i = 0; i < 600; i++) {
    const k = await rowsIn(partial);
    if (k >= n) return k;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no ${n} rows in ${partial} after 15 s`);
}

test("kill -9 mid-run keeps every finished row in a valid partial file; rerunning resumes to the same output", async () => {
  const input = path.join(tmp, "many.jsonl");
  writeJsonl(input, many);
  const reference = path.join(tmp, "many-ref.jsonl");
  const ref = await runCli(["score", "--input", input, "--output", reference, "--reward-module", SLOW, "-q"], {
    env: { SLOW_REWARD_MS: "0" },
  });
  assert.equal(ref.code, 0, ref.stderr);
  const refRows = readJsonl(reference);

  const output = path.join(tmp, "many-out.jsonl");
  const partial = `${output}.partial.jsonl`;
  const { child, done } = startCli(
    ["score", "--input", input, "--output", output, "--reward-module", SLOW, "--workers", "2", "-q"],
    { env: { SLOW_REWARD_MS: "15" } },
  );
  await waitForRows(partial, 3);
  child.kill("SIGKILL");
  const killed = await done;
  assert.equal(killed.signal, "SIGKILL");
  assert.ok(!fs.existsSync(output), "the final output appears only when every row is done");
  const kept = readJsonl(partial); // valid JSONL, rows in input order
  assert.ok(kept.length >= 3 && kept.length < 60, `kept ${kept.length}`);
  assert.deepEqual(kept, refRows.slice(0, kept.length));
  fs.appendFileSync(partial, fs.readFileSync(partial).subarray(0, 15)); // as if killed while writing the next line

  const resumed = await runCli(
    ["score", "--input", input, "--output", output, "--reward-module", SLOW, "--workers", "2", "-q"],
    { env: { SLOW_REWARD_MS: "0" } },
  );
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`resuming: ${kept.length} of 60 rows already scored`));
  assert.ok(fs.readFileSync(output).equals(fs.readFileSync(reference)));
  assert.deepEqual(table(resumed.stdout), table(ref.stdout));
});

test("Ctrl-C stops with exit 130 and keeps the partial; another input refuses it without --restart", async () => {
  const input = path.join(tmp, "many-int.jsonl");
  writeJsonl(input, many);
  const output = path.join(tmp, "many-int-out.jsonl");
  const partial = `${output}.partial.jsonl`;
  const { child, done } = startCli(
    ["score", "--input", input, "--output", output, "--reward-module", SLOW, "--workers", "2", "-q"],
    { env: { SLOW_REWARD_MS: "15" } },
  );
  await waitForRows(partial, 2);
  child.kill("SIGINT");
  const stopped = await done;
  assert.equal(stopped.code, 130, stopped.stderr);
  const kept = readJsonl(partial).length;
  assert.match(
    stopped.stderr,
    new RegExp(
      `interrupted: ${kept} of 60 rows are scored and kept in .*partial\\.jsonl; rerun the same command to resume`,
    ),
  );
  assert.ok(!fs.existsSync(output));

  const other = path.join(tmp, "other.jsonl");
  writeJsonl(other, many.slice(0, 10));
  const refused = await runCli(["score", "--input", other, "--output", output, "--reward-module", SLOW], {
    env: { SLOW_REWARD_MS: "0" },
  });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /holds a partial output of a different run .*Pass --restart to discard it/);
  assert.equal(readJsonl(partial).length, kept, "the refused run left the partial alone");
  const restarted = await runCli(
    ["score", "--input", other, "--output", output, "--reward-module", SLOW, "--restart", "-q"],
    { env: { SLOW_REWARD_MS: "0" } },
  );
  assert.equal(restarted.code, 0, restarted.stderr);
  assert.equal(readJsonl(output).length, 10);
});

test("the real Qwen2.5-Math generations re-scored through the routed math reward match their upstream labels", async () => {
  const output = path.join(tmp, "qwen-scored.jsonl.gz");
  const run = await runCli([
    "score",
    "--input",
    path.join(ROOT, "datasets", "qwen25_math_cot_100x8.jsonl.gz"),
    "--output",
    output,
    "--workers",
    "2",
    "-q",
  ]);
  assert.equal(run.code, 0, run.stderr);
  const [prompts, k, mean] = table(run.stdout)["lighteval/MATH"];
  assert.deepEqual([prompts, k], ["100", "8"]);
  assert.ok(Math.abs(Number(mean) - 91.0) <= 1, `mean@8 ${mean} vs upstream 91.0`);
  const rows = readJsonl<{ scores: number[]; extra_info: { upstream_scores: number[] } }>(output);
  let agree = 0;
  for (const r of rows) r.scores.forEach((s, i) => (agree += s === r.extra_info.upstream_scores[i] ? 1 : 0));
  assert.ok(agree >= 792, `${agree} of 800 responses agree with Qwen's grader`);
});
