// The bad-input suite (issue 18): every way a careless user can feed the CLI a wrong file or option. Each case must
// exit non-zero, name the file (and the line / field / option), never print a stack trace or "unexpected error",
// and never replace an earlier output with an empty or partial one. Runs in-process (runCli) so 40+ cases stay fast.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { runCli } from "../../lib/cli/main.js";
import { explainSystemError } from "../../lib/cli/command.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-bad-input-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const at = (name: string) => path.join(tmp, name);

/** Run the CLI in this process, capturing what it prints. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const saved = { log: console.log, error: console.error, warn: console.warn, write: process.stderr.write };
  console.log = (...a: unknown[]) => void (out += a.join(" ") + "\n");
  console.error = (...a: unknown[]) => void (err += a.map((x) => (x instanceof Error ? x.stack : x)).join(" ") + "\n");
  console.warn = console.error;
  process.stderr.write = ((s: string | Uint8Array) => ((err += String(s)), true)) as typeof process.stderr.write;
  try {
    const code = await runCli(args);
    return { code, out, err };
  } finally {
    Object.assign(console, { log: saved.log, error: saved.error, warn: saved.warn });
    process.stderr.write = saved.write;
  }
}

const pairs = '{"gold": "1", "pred": "1"}\n{"gold": "2", "pred": "3"}\n';
const record = (i: number) =>
  JSON.stringify({
    data_source: "openai/gsm8k",
    prompt: [{ role: "user", content: `q${i}` }],
    reward_model: { style: "rule", ground_truth: String(i) },
    responses: [`The answer is ${i}.`, "The answer is 0."],
  });
const records = [1, 2, 3].map(record).join("\n") + "\n";
const gzTruncated = (text: string) => {
  const gz = zlib.gzipSync(text.repeat(50));
  return gz.subarray(0, Math.floor(gz.length / 2));
};
const utf16 = (text: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]);
const bom = (text: string) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);

fs.writeFileSync(at("pairs.jsonl"), pairs);
fs.writeFileSync(at("pairs-cut.jsonl.gz"), gzTruncated(pairs));
fs.writeFileSync(at("pairs-bad.jsonl.gz"), Buffer.concat([zlib.gzipSync(pairs).subarray(0, 12), Buffer.alloc(40, 7)]));
fs.writeFileSync(at("pairs-bom.jsonl"), bom(pairs));
fs.writeFileSync(at("pairs-utf16.jsonl"), utf16(pairs));
fs.writeFileSync(at("pairs-badline.jsonl"), pairs + "{gold: 1}\n");
fs.writeFileSync(at("pairs-nofield.jsonl"), pairs + '{"gold": "1"}\n');
fs.writeFileSync(at("empty.jsonl"), "");
fs.writeFileSync(at("a-file"), "x");
fs.writeFileSync(at("records.jsonl"), records);
fs.writeFileSync(at("records-cut.jsonl.gz"), gzTruncated(records));
fs.writeFileSync(at("records-bom.jsonl"), bom(records));
fs.writeFileSync(at("records-utf16.jsonl"), utf16(records));
fs.writeFileSync(
  at("records-noresp.jsonl"),
  records + JSON.stringify({ ...JSON.parse(record(4)), responses: undefined }) + "\n",
);
fs.writeFileSync(at("not-json.json"), "{");
fs.writeFileSync(at("records-utf16.json"), utf16(JSON.stringify([1, 2, 3].map((i) => JSON.parse(record(i))))));
fs.writeFileSync(at("records-bom.json"), bom(JSON.stringify([1, 2, 3].map((i) => JSON.parse(record(i))))));

interface Case {
  name: string;
  args: string[];
  /** Exit code expected (1 for a bad file, 2 for a bad command line). */
  code: number;
  /** What stderr must say (the file / line / field / option). */
  says: RegExp;
}

const missingDir = at("no/such/dir/out.jsonl");
const underFile = at("a-file/out.jsonl");
const cases: Case[] = [
  // grade-math
  {
    name: "grade-math: missing --input",
    args: ["grade-math", "--input", at("nope.jsonl")],
    code: 1,
    says: /nope\.jsonl/,
  },
  {
    name: "grade-math: truncated .jsonl.gz",
    args: ["grade-math", "--input", at("pairs-cut.jsonl.gz"), "--output", at("o1.jsonl")],
    code: 1,
    says: /pairs-cut\.jsonl\.gz.*(truncated|corrupt)/,
  },
  {
    name: "grade-math: corrupt .jsonl.gz",
    args: ["grade-math", "--input", at("pairs-bad.jsonl.gz")],
    code: 1,
    says: /pairs-bad\.jsonl\.gz.*(truncated|corrupt)/,
  },
  {
    name: "grade-math: --output in a missing directory",
    args: ["grade-math", "--input", at("pairs.jsonl"), "--output", missingDir],
    code: 1,
    says: /no\/such\/dir.*does not exist/,
  },
  {
    name: "grade-math: --output under a file",
    args: ["grade-math", "--input", at("pairs.jsonl"), "--output", underFile],
    code: 1,
    says: /a-file.*not a directory/,
  },
  {
    name: "grade-math: UTF-16 input",
    args: ["grade-math", "--input", at("pairs-utf16.jsonl")],
    code: 1,
    says: /pairs-utf16\.jsonl.*UTF-16/,
  },
  {
    name: "grade-math: a line that is not JSON",
    args: ["grade-math", "--input", at("pairs-badline.jsonl")],
    code: 1,
    says: /line 3 of pairs-badline\.jsonl/,
  },
  {
    name: "grade-math: a line without pred",
    args: ["grade-math", "--input", at("pairs-nofield.jsonl")],
    code: 1,
    says: /line 3 of .*pairs-nofield\.jsonl.*"pred"/,
  },
  {
    name: "grade-math: empty input",
    args: ["grade-math", "--input", at("empty.jsonl"), "--output", at("o-empty.jsonl")],
    code: 1,
    says: /empty\.jsonl.*no pairs/,
  },
  {
    name: "grade-math: --limit -1",
    args: ["grade-math", "--input", at("pairs.jsonl"), "--limit", "-1"],
    code: 2,
    says: /--limit/,
  },
  {
    name: "grade-math: --mode bad",
    args: ["grade-math", "--gold", "1", "--pred", "1", "--mode", "x"],
    code: 2,
    says: /--mode/,
  },
  // score
  {
    name: "score: missing --input",
    args: ["score", "--input", at("nope.jsonl"), "--output", at("s.jsonl"), "--workers", "0", "-q"],
    code: 1,
    says: /nope\.jsonl/,
  },
  {
    name: "score: truncated .jsonl.gz",
    args: ["score", "--input", at("records-cut.jsonl.gz"), "--output", at("s-cut.jsonl"), "--workers", "0", "-q"],
    code: 1,
    says: /records-cut\.jsonl\.gz.*(truncated|corrupt)/,
  },
  {
    name: "score: --output in a missing directory",
    args: ["score", "--input", at("records.jsonl"), "--output", missingDir, "--workers", "0", "-q"],
    code: 1,
    says: /no\/such\/dir.*does not exist/,
  },
  {
    name: "score: --output under a file",
    args: ["score", "--input", at("records.jsonl"), "--output", underFile, "--workers", "0", "-q"],
    code: 1,
    says: /a-file.*not a directory/,
  },
  {
    name: "score: UTF-16 input",
    args: ["score", "--input", at("records-utf16.jsonl"), "--output", at("s16.jsonl"), "--workers", "0", "-q"],
    code: 1,
    says: /records-utf16\.jsonl.*UTF-16/,
  },
  {
    name: "score: UTF-16 .json input",
    args: ["score", "--input", at("records-utf16.json"), "--output", at("s16j.jsonl"), "--workers", "0", "-q"],
    code: 1,
    says: /records-utf16\.json.*UTF-16/,
  },
  {
    name: "score: a row without responses",
    args: ["score", "--input", at("records-noresp.jsonl"), "--output", at("s-nr.jsonl"), "--workers", "0", "-q"],
    code: 1,
    says: /line 4 of records-noresp\.jsonl.*responses/,
  },
  {
    name: "score: empty input",
    args: ["score", "--input", at("empty.jsonl"), "--output", at("s-empty.jsonl"), "--workers", "0", "-q"],
    code: 1,
    says: /empty\.jsonl has no rows/,
  },
  {
    name: "score: --workers 100000",
    args: ["score", "--input", at("records.jsonl"), "--output", at("s-w.jsonl"), "--workers", "100000"],
    code: 2,
    says: /--workers must be .*<= \d+/,
  },
  {
    name: "score: --reward-options not JSON",
    args: ["score", "--input", at("records.jsonl"), "--output", at("s.jsonl"), "--reward-options", "{"],
    code: 2,
    says: /--reward-options/,
  },
  {
    name: "score: unknown --output extension",
    args: ["score", "--input", at("records.jsonl"), "--output", at("s.txt"), "--workers", "0"],
    code: 1,
    says: /s\.txt/,
  },
  {
    name: "score: --reward-module missing",
    args: ["score", "--input", at("records.jsonl"), "--output", at("s.jsonl"), "--reward-module", at("nope.js")],
    code: 2,
    says: /nope\.js/,
  },
  // eval
  {
    name: "eval: --resamples 100000000",
    args: ["eval", "--input", at("records.jsonl"), "--resamples", "100000000", "-q"],
    code: 2,
    says: /--resamples must be .*<= \d+/,
  },
  {
    name: "eval: --resamples 1e8",
    args: ["eval", "--input", at("records.jsonl"), "--resamples", "1e8"],
    code: 2,
    says: /--resamples/,
  },
  { name: "eval: --k 0", args: ["eval", "--input", at("records.jsonl"), "--k", "0"], code: 2, says: /--k/ },
  {
    name: "eval: --k 1e12",
    args: ["eval", "--input", at("records.jsonl"), "--k", "1000000000000"],
    code: 2,
    says: /--k must be/,
  },
  {
    name: "eval: --threshold abc",
    args: ["eval", "--input", at("records.jsonl"), "--threshold", "abc"],
    code: 2,
    says: /--threshold/,
  },
  {
    name: "eval: --seed beyond a safe integer",
    args: ["eval", "--input", at("records.jsonl"), "--seed", "123456789012345678901234"],
    code: 2,
    says: /--seed/,
  },
  {
    name: "eval: --max-disagreements 1e9",
    args: ["eval", "--input", at("records.jsonl"), "--max-disagreements", "1000000000000"],
    code: 2,
    says: /--max-disagreements must be/,
  },
  { name: "eval: missing --input", args: ["eval", "--input", at("nope.jsonl"), "-q"], code: 1, says: /nope\.jsonl/ },
  {
    name: "eval: truncated .jsonl.gz",
    args: ["eval", "--input", at("records-cut.jsonl.gz"), "--workers", "0", "-q"],
    code: 1,
    says: /records-cut\.jsonl\.gz.*(truncated|corrupt)/,
  },
  {
    name: "eval: UTF-16 input",
    args: ["eval", "--input", at("records-utf16.jsonl"), "--workers", "0", "-q"],
    code: 1,
    says: /records-utf16\.jsonl.*UTF-16/,
  },
  {
    name: "eval: --report under a file",
    args: ["eval", "--input", at("records.jsonl"), "--report", at("a-file/rep"), "--workers", "0", "-q"],
    code: 1,
    says: /a-file/,
  },
  {
    name: "eval: --output in a missing directory",
    args: ["eval", "--input", at("records.jsonl"), "--output", missingDir, "--workers", "0", "-q"],
    code: 1,
    says: /no\/such\/dir.*does not exist/,
  },
  {
    name: "eval: empty input",
    args: ["eval", "--input", at("empty.jsonl"), "--workers", "0", "-q"],
    code: 1,
    says: /empty\.jsonl/,
  },
  {
    name: "eval: --reported bad",
    args: ["eval", "--input", at("records.jsonl"), "--reported", at("not-json.json")],
    code: 2,
    says: /--reported/,
  },
  // serve and verl
  { name: "serve: missing --model", args: ["serve", "--model", at("nope-ckpt")], code: 1, says: /nope-ckpt/ },
  { name: "serve: --port 70000", args: ["serve", "--model", tmp, "--port", "70000"], code: 2, says: /--port/ },
  {
    name: "serve: --max-sequences 0",
    args: ["serve", "--model", tmp, "--max-sequences", "0"],
    code: 2,
    says: /--max-sequences/,
  },
  { name: "serve: --model without config.json", args: ["serve", "--model", tmp], code: 1, says: /config\.json/ },
  {
    name: "verl export: --gpus 100000",
    args: [
      "verl",
      "export",
      "--input",
      at("records.jsonl"),
      "--out",
      at("v"),
      "--model",
      "m",
      "--batch-size",
      "2",
      "--gpus",
      "100000",
    ],
    code: 2,
    says: /--gpus must be .*<= \d+/,
  },
  {
    name: "verl export: --batch-size 1e12",
    args: [
      "verl",
      "export",
      "--input",
      at("records.jsonl"),
      "--out",
      at("v"),
      "--model",
      "m",
      "--batch-size",
      "1000000000000",
    ],
    code: 2,
    says: /--batch-size must be .*<= \d+/,
  },
  {
    name: "verl export: --input truncated .jsonl.gz",
    args: [
      "verl",
      "export",
      "--input",
      at("records-cut.jsonl.gz"),
      "--out",
      at("v2"),
      "--model",
      "m",
      "--batch-size",
      "2",
    ],
    code: 1,
    says: /records-cut\.jsonl\.gz.*(truncated|corrupt)/,
  },
  {
    name: "verl import: --output under a file",
    args: ["verl", "import", "--input", at("records.jsonl"), "--output", underFile],
    code: 1,
    says: /a-file/,
  },
  {
    name: "verl import: --steps 1,x",
    args: ["verl", "import", "--input", at("records.jsonl"), "--output", at("vi.jsonl"), "--steps", "1,x"],
    code: 2,
    says: /--steps/,
  },
  { name: "unknown command", args: ["scroe"], code: 2, says: /Did you mean "score"/ },
];

for (const c of cases)
  test(`bad input: ${c.name}`, async () => {
    const r = await cli(c.args);
    assert.equal(r.code, c.code, `exit code; stderr: ${r.err}`);
    assert.match(r.err, c.says);
    assert.doesNotMatch(r.err, /unexpected error|\n\s+at .*\(.*:\d+:\d+\)/, "no stack trace for a user mistake");
  });

test("bad input: an earlier output is never replaced by an empty or failed run", async () => {
  for (const [cmd, extra, input] of [
    ["grade-math", [], "empty.jsonl"],
    ["grade-math", [], "pairs-cut.jsonl.gz"],
    ["grade-math", [], "pairs-badline.jsonl"],
    ["score", ["--workers", "0", "-q"], "empty.jsonl"],
    ["score", ["--workers", "0", "-q"], "records-cut.jsonl.gz"],
  ] as const) {
    const out = at(`kept-${cmd}-${input}.jsonl`);
    fs.writeFileSync(out, "previous results\n");
    const r = await cli([cmd, "--input", at(input), "--output", out, ...extra]);
    assert.notEqual(r.code, 0, `${cmd} ${input}: ${r.err}`);
    assert.equal(fs.readFileSync(out, "utf8"), "previous results\n", `${cmd} ${input} kept the earlier output`);
    assert.deepEqual(
      fs.readdirSync(tmp).filter((f) => f.startsWith(`.kept-${cmd}`) || f.includes(`kept-${cmd}-${input}.jsonl.`)),
      [],
      "no temp file left",
    );
  }
});

test("bad input: a UTF-8 BOM is accepted (grade-math and score read .jsonl and .json as if it had none)", async () => {
  const g = await cli(["grade-math", "--input", at("pairs-bom.jsonl"), "--output", at("g-bom.jsonl")]);
  assert.equal(g.code, 0, g.err);
  assert.equal(fs.readFileSync(at("g-bom.jsonl"), "utf8").trim().split("\n").length, 2);
  const s = await cli([
    "score",
    "--input",
    at("records-bom.jsonl"),
    "--output",
    at("s-bom.jsonl"),
    "--workers",
    "0",
    "-q",
  ]);
  assert.equal(s.code, 0, s.err);
  const j = await cli([
    "score",
    "--input",
    at("records-bom.json"),
    "--output",
    at("s-bomj.jsonl"),
    "--workers",
    "0",
    "-q",
  ]);
  assert.equal(j.code, 0, j.err);
});

test("bad input: system errors on a path name it and say what to do (read-only, no space, missing)", () => {
  const e = (code: string, p: string) =>
    Object.assign(new Error(`${code}: x, open '${p}'`), { code, path: p, syscall: "open" });
  assert.match(explainSystemError(e("EROFS", "/ro/out.jsonl"))!, /\/ro\/out\.jsonl.*read-only/);
  assert.match(explainSystemError(e("EACCES", "/x/out.jsonl"))!, /\/x\/out\.jsonl.*permission/);
  assert.match(explainSystemError(e("ENOSPC", "/x/out.jsonl"))!, /\/x\/out\.jsonl.*no space/);
  assert.match(explainSystemError(e("ENOENT", "/x/y/out.jsonl"))!, /\/x\/y.*does not exist/);
  assert.equal(explainSystemError(new TypeError("x is not a function")), null, "a bug stays a bug (with its stack)");
});
