import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CellrlError } from "../../lib/core/errors.js";
import { resetWarnings } from "../../lib/core/warn.js";
import { formatOf } from "../../lib/data/files.js";
import { countRows, readRecords, readRows, readTable, streamRows, writeRecords } from "../../lib/data/io.js";
import { question, record } from "../../lib/data/record.js";
import { fromTable, toTable } from "../../lib/data/table.js";
import { recordProblems, validateRecord, validateRecords } from "../../lib/data/validate.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-data-records-"));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const good = () => ({
  data_source: "openai/gsm8k",
  prompt: [{ role: "user", content: "2+3?" }],
  ability: "math",
  reward_model: { style: "rule", ground_truth: "5" },
  extra_info: { split: "test", index: 0 },
  responses: ["5", "6"],
});

test("record() builds verl's unified record from a question", () => {
  const r = record({
    data_source: "x/y",
    prompt: "What is 2+3?",
    ground_truth: "5",
    system: "Be brief.",
    extra_info: { split: "test", index: 3 },
  });
  assert.deepEqual(r, {
    data_source: "x/y",
    prompt: [
      { role: "system", content: "Be brief." },
      { role: "user", content: "What is 2+3?" },
    ],
    reward_model: { style: "rule", ground_truth: "5" },
    extra_info: { split: "test", index: 3 },
  });
  assert.equal(question(r), "What is 2+3?");
  assert.throws(
    () => record({ data_source: "", prompt: "q", ground_truth: "1" }),
    /data_source must be a non-empty string/,
  );
  assert.throws(() => record({ data_source: "a", prompt: "q", ground_truth: undefined }), /ground_truth is missing/);
});

test("a valid record has no problems; each broken field is named with what was found and the fix", () => {
  assert.deepEqual(recordProblems(good(), { require: ["responses"] }), []);
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ prompt: "2+3?" }, "prompt", /Wrap it as \[\{"role": "user"/],
    [{ prompt: [{ role: "human", content: "q" }] }, "prompt[0].role", /system \| user \| assistant \| tool/],
    [{ prompt: [{ role: "user" }] }, "prompt[0].content", /is not a string/],
    [{ data_source: undefined }, "data_source", /is missing/],
    [{ reward_model: { style: "rule" } }, "reward_model.ground_truth", /Put the gold answer/],
    [{ reward_model: undefined }, "reward_model", /"ground_truth": <gold answer>/],
    [{ extra_info: "test" }, "extra_info", /is not an object/],
    [{ responses: "5" }, "responses", /Wrap a single response/],
    [{ responses: ["5", 6] }, "responses[1]", /is not a string/],
    [{ scores: [1] }, "scores", /has 1 entries for 2 responses/],
    [{ scores: [1, NaN] }, "scores[1]", /not a finite number/],
  ];
  for (const [patch, field, fix] of cases) {
    const problems = recordProblems({ ...good(), ...patch });
    assert.equal(problems[0]?.field, field, JSON.stringify(patch));
    assert.match(`${problems[0].problem} ${problems[0].expected} ${problems[0].fix}`, fix);
  }
  const { responses: _, ...noResponses } = good();
  assert.deepEqual(recordProblems(noResponses), []);
  assert.equal(recordProblems(noResponses, { require: ["responses"] })[0].field, "responses");
});

test("validateRecord throws one CellrlError naming the row, the field and the fix", () => {
  assert.throws(
    () => validateRecord({ ...good(), reward_model: { style: "rule" }, prompt: "q" }, { where: "line 7 of gen.jsonl" }),
    (e: unknown) =>
      e instanceof CellrlError &&
      e.code === "invalid_input" &&
      e.message.startsWith(
        'data.validateRecord: line 7 of gen.jsonl: field "prompt" is a string, not a chat (got "q"; expected',
      ) &&
      /1 more problem in this row: reward_model\.ground_truth/.test(e.message) &&
      e.path[0] === "line 7 of gen.jsonl",
  );
});

test("validateRecords lists every bad row (up to maxErrors) in one error", () => {
  const rows = [good(), { ...good(), prompt: 3 }, good(), { ...good(), data_source: "" }, { x: 1 }];
  assert.throws(
    () => validateRecords(rows, { maxErrors: 2 }),
    (e: unknown) =>
      e instanceof CellrlError &&
      /3 of 5 rows are not valid records/.test(e.message) &&
      /row 1: field "prompt"/.test(e.message) &&
      /row 3: field "data_source"/.test(e.message) &&
      /and 1 more/.test(e.message),
  );
});

test("readRecords names bad JSONL rows by their file line (blank lines counted)", async () => {
  const f = path.join(tmp, "gen.jsonl");
  fs.writeFileSync(
    f,
    [JSON.stringify(good()), "", JSON.stringify({ ...good(), responses: undefined })].join("\n") + "\n",
  );
  await assert.rejects(
    readRecords(f, { require: ["responses"] }),
    /line 3 of gen\.jsonl: field "responses" is missing/,
  );
  assert.equal((await readRecords(f)).length, 2);
});

test("the same records read back from JSONL, JSON, parquet and Arrow, plain or gzip", async () => {
  const rows = Array.from({ length: 30 }, (_, i) => ({
    ...good(),
    extra_info: { split: "test", index: i },
    scores: [i % 2, 0.5],
  }));
  for (const name of ["r.jsonl", "r.jsonl.gz", "r.json", "r.json.gz", "r.parquet", "r.arrow"]) {
    const f = path.join(tmp, name);
    writeRecords(f, rows);
    assert.deepEqual(await readRecords(f, { require: ["responses", "scores"] }), rows, name);
    assert.equal(await countRows(f), 30, name);
    const where: string[] = [];
    for await (const r of streamRows(f)) where.push(r.where);
    assert.equal(where[29], name.includes("jsonl") ? `line 30 of ${name}` : `row 29 of ${name}`);
  }
  fs.writeFileSync(path.join(tmp, "wrapped.json"), JSON.stringify({ data: rows.slice(0, 2) }));
  assert.equal((await readRows(path.join(tmp, "wrapped.json"))).length, 2);
});

test("arquero tables convert to and from records (typed arrays become arrays again)", async () => {
  const rows = [good(), { ...good(), data_source: "b" }];
  const t = toTable(rows);
  assert.deepEqual(t.columnNames(), ["data_source", "prompt", "ability", "reward_model", "extra_info", "responses"]);
  assert.deepEqual(fromTable(t), rows);
  const f = path.join(tmp, "t.arrow");
  writeRecords(
    f,
    rows.map((r) => ({ ...r, scores: [1, 0] })),
  );
  const back = await readTable(f);
  assert.deepEqual(fromTable(back)[0].scores, [1, 0]);
  assert.deepEqual(back.groupby("data_source").count().objects(), [
    { data_source: "openai/gsm8k", count: 1 },
    { data_source: "b", count: 1 },
  ]);
});

test("formatOf reads through .gz and rejects unknown extensions with the known list", () => {
  assert.equal(formatOf("a/b.jsonl.gz"), "jsonl");
  assert.equal(formatOf("x.PARQUET"), "parquet");
  assert.equal(formatOf("x.feather"), "arrow");
  assert.throws(
    () => formatOf("x.csv"),
    (e: unknown) => e instanceof CellrlError && /\.jsonl/.test(e.message) && /Rename the file/.test(e.message),
  );
});

test("writeRecords warns when GPQA rows would be written uncompressed", () => {
  const seen: string[] = [];
  resetWarnings((m) => seen.push(m));
  try {
    // a made-up row under GPQA's data_source name (never real GPQA text in a test)
    const row = { ...good(), data_source: "Idavidrein/gpqa", reward_model: { style: "rule", ground_truth: "B" } };
    writeRecords(path.join(tmp, "mc.jsonl.gz"), [row]);
    assert.deepEqual(seen, []);
    writeRecords(path.join(tmp, "mc.jsonl"), [row]);
    assert.equal(seen.length, 1);
    assert.match(seen[0], /GPQA rows uncompressed.*Name the file \*\.gz/);
  } finally {
    resetWarnings((m) => console.warn(m)); // the default sink again
  }
});
