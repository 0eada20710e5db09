import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parquetMetadata } from "hyparquet";
import { CellrlError } from "../../lib/core/errors.js";
import { readJsonl } from "../../lib/data/jsonl.js";
import { parquetBytes, parquetRowCount, readParquet, streamParquet, writeParquet } from "../../lib/data/parquet.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-data-parquet-"));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const DATASETS = path.join(__dirname, "..", "..", "datasets");

const verlRows = [
  {
    data_source: "openai/gsm8k",
    prompt: [{ role: "user", content: "Janet has 3 apples..." }],
    ability: "math",
    reward_model: { style: "rule", ground_truth: "18" },
    extra_info: { split: "test", index: 0 },
    responses: ["... #### 18", "... #### 17"],
    scores: [1, 0],
  },
  {
    data_source: "openai/gsm8k",
    prompt: [
      { role: "system", content: "Think." },
      { role: "user", content: "2+2?" },
    ],
    ability: "math",
    reward_model: { style: "rule", ground_truth: "4" },
    extra_info: { split: "test", index: 1 },
    responses: [],
    scores: [0.5],
  },
];

test("verl records round-trip through parquet with nested columns written natively", async () => {
  const f = path.join(tmp, "verl.parquet");
  writeParquet(f, verlRows);
  assert.deepEqual(await readParquet(f), verlRows);
  // the footer spells verl's layout: prompt list<struct<role, content>>, reward_model struct, responses list<string>
  const meta = parquetMetadata(new Uint8Array(fs.readFileSync(f)).buffer);
  const names = meta.schema.map((s) => `${s.name}:${s.repetition_type ?? ""}:${s.converted_type ?? s.type ?? ""}`);
  assert.deepEqual(names.slice(0, 9), [
    "root::",
    "data_source:OPTIONAL:UTF8",
    "prompt:OPTIONAL:LIST",
    "list:REPEATED:",
    "element:OPTIONAL:",
    "role:OPTIONAL:UTF8",
    "content:OPTIONAL:UTF8",
    "ability:OPTIONAL:UTF8",
    "reward_model:OPTIONAL:",
  ]);
  assert.ok(names.includes("index:OPTIONAL:INT64"));
  assert.ok(names.includes("scores:OPTIONAL:LIST") && names.includes("element:OPTIONAL:DOUBLE"));
});

test("a field whose type differs between rows is stored as JSON text and decoded back", async () => {
  const rows = [
    { data_source: "code", reward_model: { style: "rule", ground_truth: { inputs: ["1\n"], outputs: ["2\n"] } } },
    { data_source: "math", reward_model: { style: "rule", ground_truth: "\\frac{1}{2}" } },
    { data_source: "num", reward_model: { style: "rule", ground_truth: 7 } },
  ];
  const f = path.join(tmp, "mixed.parquet");
  writeParquet(f, rows);
  assert.deepEqual(await readParquet(f), rows);
  const meta = parquetMetadata(new Uint8Array(fs.readFileSync(f)).buffer);
  assert.equal(meta.schema.find((s) => s.name === "ground_truth")?.converted_type, "JSON");
});

test("missing struct fields read back as null (as pyarrow writes them); {json} keeps a column verbatim", async () => {
  const rows = [{ extra_info: { split: "test", index: 0 } }, { extra_info: { split: "train" } }];
  const f = path.join(tmp, "sparse.parquet");
  writeParquet(f, rows);
  assert.deepEqual(await readParquet(f), [
    { extra_info: { split: "test", index: 0 } },
    { extra_info: { split: "train", index: null } },
  ]);
  writeParquet(f, rows, { json: ["extra_info"] });
  assert.deepEqual(await readParquet(f), rows);
});

test("a real dataset round-trips, streams in batches, and counts rows from the footer", async () => {
  const rows = readJsonl<Record<string, unknown>>(path.join(DATASETS, "math500_test.jsonl.gz"));
  const f = path.join(tmp, "math500.parquet");
  writeParquet(f, rows, { rowGroupSize: 128 });
  assert.equal(await parquetRowCount(f), 500);
  assert.deepEqual(await readParquet(f), rows);
  const offsets: number[] = [];
  const streamed: unknown[] = [];
  for await (const { rows: batch, offset } of streamParquet(f, { batchSize: 200 })) {
    offsets.push(offset);
    streamed.push(...batch);
  }
  assert.deepEqual(offsets, [0, 200, 400]);
  assert.deepEqual(streamed, rows);
  assert.deepEqual(await readParquet(f, { columns: ["data_source"] }).then((r) => r[499]), {
    data_source: "HuggingFaceH4/MATH-500",
  });
});

test("gzipped parquet is read by content; a truncated file fails with a clear message", async () => {
  const bytes = parquetBytes(verlRows);
  const gz = path.join(tmp, "verl.parquet.gz");
  fs.writeFileSync(gz, require("node:zlib").gzipSync(bytes));
  assert.deepEqual(await readParquet(gz), verlRows);
  const cut = path.join(tmp, "cut.parquet");
  fs.writeFileSync(cut, bytes.subarray(0, bytes.length - 20));
  await assert.rejects(
    readParquet(cut),
    (e: unknown) => e instanceof CellrlError && /not a readable parquet file/.test(e.message) && /PAR1/.test(e.message),
  );
});

test("writing no columns fails with the fix", () => {
  assert.throws(
    () => parquetBytes([]),
    (e: unknown) => e instanceof CellrlError && /no columns to write/.test(e.message),
  );
});
