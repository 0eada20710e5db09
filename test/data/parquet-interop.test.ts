// Parquet interop with an independent implementation: arrow-rs's Parquet (parquet-wasm, WebAssembly) and Arrow JS
// (apache-arrow). Every other parquet test round-trips through cellrl's own reader and writer (hyparquet /
// hyparquet-writer); these check the two directions verl depends on against code that shares nothing with them:
// 1. files cellrl writes (writeVerlDataset, exportVerlRun) read by arrow-rs with the nested Arrow types verl's loaders
//    (pandas / pyarrow, HF datasets) expect, every value equal row by row;
// 2. files arrow-rs writes in verl's main_generation output layout (the dataset columns + `responses`) read back by
//    remote.readVerlOutputs / data.readRecords / data.streamRows, with the writer settings pyarrow and others use.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as arrow from "apache-arrow";
import { parquetMetadata } from "hyparquet";
import * as pw from "parquet-wasm"; // resolves to parquet-wasm/node (CommonJS, loads its .wasm synchronously)
import { readJsonl } from "../../lib/data/jsonl.js";
import { readRecords, streamRows } from "../../lib/data/io.js";
import type { GeneratedRecord, VerlRecord } from "../../lib/data/record.js";
import { CellrlError } from "../../lib/core/errors.js";
import { verlRows, writeVerlDataset } from "../../lib/remote/verl-dataset.js";
import { exportVerlRun } from "../../lib/remote/verl-export.js";
import { readVerlOutputs } from "../../lib/remote/verl-import.js";
import { records as generate } from "../../lib/tasks/index.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-parquet-interop-"));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const DATASETS = path.join(__dirname, "..", "..", "datasets");
const shipped = <R = VerlRecord>(name: string): R[] => readJsonl<R>(path.join(DATASETS, name));

// ---- arrow-rs as the reader: parquet bytes -> Arrow table -> plain JS ----------------------------------------------

/** Read parquet bytes with arrow-rs (parquet-wasm) into an Arrow JS table (via Arrow IPC, as its docs show). */
function readWithArrowRs(bytes: Uint8Array): arrow.Table {
  return arrow.tableFromIPC(pw.readParquet(bytes).intoIPCStream());
}

/** An Arrow value as plain JS: vectors and typed arrays -> arrays, struct rows -> objects, exact int64 -> number. */
function plain(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") {
    assert.ok(Number.isSafeInteger(Number(v)), `int64 ${v} is not a safe integer`);
    return Number(v);
  }
  if (v instanceof arrow.Vector) return [...v].map(plain);
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<unknown>, plain);
  if (typeof v === "object" && typeof (v as { toJSON?: unknown }).toJSON === "function") {
    return Object.fromEntries(
      Object.entries((v as { toJSON(): Record<string, unknown> }).toJSON()).map(([k, x]) => [k, plain(x)]),
    );
  }
  return v;
}

/** Drop object fields that are null or undefined, recursively (a struct field absent from a row reads back null); list elements keep their nulls. */
function dropNullFields(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNullFields);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== null && x !== undefined)
        .map(([k, x]) => [k, dropNullFields(x)]),
    );
  }
  return v;
}

/** Column name -> Arrow type as Arrow JS prints it, e.g. "List<Struct<{role:Utf8, content:Utf8}>>". */
function arrowTypes(t: arrow.Table): Record<string, string> {
  return Object.fromEntries(t.schema.fields.map((f) => [f.name, String(f.type)]));
}

/** Assert arrow-rs reads back every written row (struct fields absent in a row read as null; compared without them). */
function assertRowsEqual(got: unknown[], want: readonly unknown[], what: string): void {
  assert.equal(got.length, want.length, `${what}: row count`);
  for (let i = 0; i < want.length; i++)
    assert.deepEqual(dropNullFields(got[i]), dropNullFields(want[i]), `${what}: row ${i}`);
}

const PROMPT_T = "List<Struct<{role:Utf8, content:Utf8}>>";

test("arrow-rs reads cellrl's verl dataset of all of GSM8K's test set: verl's nested types, every value equal", () => {
  const records = shipped("gsm8k_test.jsonl.gz");
  const file = path.join(tmp, "gsm8k-test.parquet");
  const out = writeVerlDataset(file, records, { split: "test" });
  assert.equal(out.rows, 1319);
  const t = readWithArrowRs(fs.readFileSync(file));
  // the types verl's RLHFDataset / pandas rely on: a chat column of {role, content} structs (in that order, as verl's
  // data_process scripts write it), reward_model and extra_info structs, strings as Utf8 and extra_info.index as int64
  assert.deepEqual(arrowTypes(t), {
    data_source: "Utf8",
    prompt: PROMPT_T,
    ability: "Utf8",
    reward_model: "Struct<{style:Utf8, ground_truth:Utf8}>",
    extra_info: "Struct<{split:Utf8, index:Int64, solution:Utf8}>",
  });
  // the standard 3-level list: the element field is named "element", as pyarrow (use_compliant_nested_type) writes it
  const prompt = t.schema.fields.find((f) => f.name === "prompt")!;
  assert.equal((prompt.type as arrow.List).children[0].name, "element");
  assert.ok(
    t.schema.fields.every((f) => f.nullable),
    "every column is nullable (OPTIONAL), as pyarrow writes them",
  );
  assertRowsEqual(t.toArray().map(plain), verlRows(records, { split: "test" }), "gsm8k");
});

test("arrow-rs reads eval sets mixed in one file: extra_info structs unioned across sources, ints int64, code tests kept as text", () => {
  // MATH-500 (extra_info level an int), HumanEval (ground truth = JSON text of the tests, as verl's code sets store
  // it), MMLU-Pro with its responses and extra_info lists (upstream_preds with nulls inside, upstream_scores ints)
  const math = shipped("math500_test.jsonl.gz").slice(0, 120);
  const he = shipped("humaneval_test.jsonl.gz").slice(0, 40);
  const mmlu = shipped<GeneratedRecord>("mmlu_pro_stem_300x4.jsonl.gz").slice(0, 200);
  assert.ok(
    mmlu.some((r) => (r.extra_info?.upstream_preds as unknown[]).includes(null)),
    "the sample has null list elements",
  );
  const records = [...math, ...he, ...mmlu];
  const file = path.join(tmp, "mixed-evals.parquet");
  writeVerlDataset(file, records, { keep: ["responses"], reindex: true });
  const t = readWithArrowRs(fs.readFileSync(file));
  const types = arrowTypes(t);
  assert.equal(types.prompt, PROMPT_T);
  assert.equal(types.reward_model, "Struct<{style:Utf8, ground_truth:Utf8}>");
  assert.equal(types.responses, "List<Utf8>");
  assert.equal(
    types.extra_info,
    "Struct<{split:Utf8, index:Int64, unique_id:Utf8, subject:Utf8, level:Int64, solution:Utf8, task_id:Utf8, canonical_solution:Utf8, " +
      "question_id:Int64, category:Utf8, src:Utf8, model:Utf8, upstream_preds:List<Utf8>, upstream_scores:List<Int64>, upstream_grader:Utf8}>",
  );
  const rows = t.toArray().map(plain) as Record<string, unknown>[];
  assertRowsEqual(rows, verlRows(records, { keep: ["responses"], reindex: true }), "math500 + humaneval + mmlu-pro");
  // a row of one source reads the other sources' extra_info fields as null (pandas: None / NaN), not as missing
  assert.deepEqual((rows[0].extra_info as Record<string, unknown>).upstream_preds, null);
});

test("arrow-rs reads task records whose ground truths are objects as native structs (countdown + pair-sum)", () => {
  const records = [...generate("countdown", 64, { seed: 3 }), ...generate("pair-sum", 64, { seed: 4 })];
  const file = path.join(tmp, "tasks.parquet");
  writeVerlDataset(file, records);
  const t = readWithArrowRs(fs.readFileSync(file));
  const types = arrowTypes(t);
  assert.equal(types.prompt, PROMPT_T);
  assert.equal(
    types.reward_model,
    "Struct<{style:Utf8, ground_truth:Struct<{target:Int64, numbers:List<Int64>, minValue:Int64}>}>",
  );
  assert.match(
    types.extra_info,
    /^Struct<\{split:Utf8, index:Int64, answer:Utf8, count:Int64, maxNumber:Int64, maxTarget:Int64/,
  );
  const rows = t.toArray().map(plain) as VerlRecord[];
  assertRowsEqual(rows, verlRows(records), "countdown + pair-sum");
  assert.deepEqual(rows[0].reward_model.ground_truth, {
    ...(records[0].reward_model.ground_truth as object),
    minValue: null,
  });
});

test("arrow-rs reads exportVerlRun's train / val parquet; a ground-truth column mixing strings and objects is JSON text (Utf8)", () => {
  const train = [...generate("countdown", 32, { seed: 5 }), ...generate("sort", 32, { seed: 6 })];
  const gsm = shipped("gsm8k_test.jsonl.gz").slice(0, 16);
  const val = [...generate("pair-sum", 16, { seed: 7, split: "test" }), ...gsm];
  const dir = path.join(tmp, "run");
  exportVerlRun(dir, {
    train,
    val,
    settings: { algorithm: "grpo", model: "Qwen/Qwen2.5-0.5B-Instruct", batchSize: 8, step: { n: 4 } },
  });
  for (const [name, records, split] of [
    ["train", train, "train"],
    ["val", val, "test"],
  ] as const) {
    const t = readWithArrowRs(fs.readFileSync(path.join(dir, `${name}.parquet`)));
    const types = arrowTypes(t);
    assert.equal(types.prompt, PROMPT_T, name);
    // JSON-annotated BYTE_ARRAY (converted_type JSON) is Utf8 to arrow-rs, and to pyarrow without arrow extensions
    assert.equal(types.reward_model, "Struct<{style:Utf8, ground_truth:Utf8}>", name);
    const rows = t.toArray().map(plain) as VerlRecord[];
    const decoded = rows.map((r) => ({
      ...r,
      reward_model: { ...r.reward_model, ground_truth: JSON.parse(r.reward_model.ground_truth as string) },
    }));
    assertRowsEqual(decoded, verlRows(records, { split }), name);
  }
  // In such a mixed column a plain-string ground truth is JSON text too: a GSM8K row of val.parquet reads as '"18"'
  // (quotes included) in arrow-rs / pyarrow / HF datasets. cellrl_reward.py decodes it before verl's
  // default_compute_score sees it (test/remote/verl-reward.test.ts); this pins what an independent reader sees.
  const v = readWithArrowRs(fs.readFileSync(path.join(dir, "val.parquet")));
  const gsmRow = (v.toArray().map(plain) as VerlRecord[]).find((r) => r.data_source === "openai/gsm8k")!;
  assert.equal(gsmRow.reward_model.ground_truth, JSON.stringify(gsm[0].reward_model.ground_truth));
});

// ---- arrow-rs as the writer: verl's main_generation output -> cellrl's readers --------------------------------------

type ArrowFieldSpec = [name: string, type: arrow.DataType];
const utf8 = () => new arrow.Utf8();
const listOf = (item: arrow.DataType, itemName: string, large = false) =>
  new (large ? arrow.LargeList : arrow.List)(new arrow.Field(itemName, item, true));
const struct = (fields: ArrowFieldSpec[]) => new arrow.Struct(fields.map(([n, t]) => new arrow.Field(n, t, true)));

/** JS values in the shape Arrow JS builders take for `type` (int64 as bigint), recursively. */
function toArrowValue(v: unknown, type: arrow.DataType): unknown {
  if (v === null || v === undefined) return null;
  if (arrow.DataType.isInt(type) && type.bitWidth === 64) return BigInt(v as number);
  if (arrow.DataType.isList(type) || arrow.DataType.isLargeList(type))
    return (v as unknown[]).map((x) => toArrowValue(x, type.children[0].type));
  if (arrow.DataType.isStruct(type)) {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(type.children.map((f) => [f.name, toArrowValue(o[f.name], f.type)]));
  }
  return v;
}

/** An Arrow table with exactly these column types, from row objects. */
function arrowTable(rows: readonly Record<string, unknown>[], columns: ArrowFieldSpec[]): arrow.Table {
  const vectors: Record<string, arrow.Vector> = {};
  for (const [name, type] of columns)
    vectors[name] = arrow.vectorFromArray(
      rows.map((r) => toArrowValue(r[name], type)),
      type,
    );
  return new arrow.Table(vectors);
}

/** Write an Arrow table as parquet with arrow-rs (parquet-wasm); `configure` sets writer properties. */
function writeWithArrowRs(
  table: arrow.Table,
  configure?: (b: pw.WriterPropertiesBuilder) => pw.WriterPropertiesBuilder,
): Uint8Array {
  const props = configure ? configure(new pw.WriterPropertiesBuilder()).build() : undefined;
  return pw.writeParquet(pw.Table.fromIPCStream(arrow.tableToIPC(table, "stream")), props);
}

/** The column types pandas / pyarrow give verl's main_generation output of Qwen2.5-Math's MATH generations. */
function mainGenerationColumns(itemName: string, large = false): ArrowFieldSpec[] {
  const text = () => (large ? new arrow.LargeUtf8() : new arrow.Utf8());
  const list = (item: arrow.DataType, name: string) => listOf(item, name, large);
  return [
    ["data_source", text()],
    [
      "prompt",
      list(
        struct([
          ["role", text()],
          ["content", text()],
        ]),
        itemName,
      ),
    ],
    ["ability", text()],
    [
      "reward_model",
      struct([
        ["style", text()],
        ["ground_truth", text()],
      ]),
    ],
    [
      "extra_info",
      struct([
        ["split", text()],
        ["index", new arrow.Int64()],
        ["idx", new arrow.Int64()],
        ["level", text()],
        ["subject", text()],
        ["upstream_scores", list(new arrow.Int64(), itemName)],
        ["upstream_preds", list(text(), itemName)],
        ["upstream_rm_scores", list(new arrow.Float64(), itemName)],
        ["upstream_grader", text()],
      ]),
    ],
    ["responses", list(text(), itemName)],
  ];
}

const qwen = () => shipped<GeneratedRecord>("qwen25_math_cot_100x8.jsonl.gz");

// pyarrow's defaults (snappy, dictionary pages, data page v1, list element "element"), arrow-rs's own defaults,
// uncompressed v2 data pages, and many small row groups and pages (what a streaming reader has to stitch)
// (`file` = what the footer then says of the responses column, checked so that each setting really took effect)
type WriterCase = {
  name: string;
  itemName: string;
  configure?: (b: pw.WriterPropertiesBuilder) => pw.WriterPropertiesBuilder;
  file: { codec: string; pages: string[]; rowGroups: number };
};
const writers: WriterCase[] = [
  {
    name: "pyarrow-like: snappy, dictionary, v1 pages",
    itemName: "element",
    configure: (b) =>
      b.setCompression(pw.Compression.SNAPPY).setDictionaryEnabled(true).setWriterVersion(pw.WriterVersion.V1),
    file: { codec: "SNAPPY", pages: ["DATA_PAGE:RLE_DICTIONARY", "DICTIONARY_PAGE:PLAIN"], rowGroups: 1 },
  },
  {
    name: 'parquet-wasm defaults (uncompressed, dictionary), list items named "item"',
    itemName: "item",
    file: { codec: "UNCOMPRESSED", pages: ["DATA_PAGE:RLE_DICTIONARY", "DICTIONARY_PAGE:PLAIN"], rowGroups: 1 },
  },
  {
    name: "uncompressed, no dictionary, v2 data pages (DELTA_BYTE_ARRAY)",
    itemName: "element",
    configure: (b) =>
      b.setCompression(pw.Compression.UNCOMPRESSED).setDictionaryEnabled(false).setWriterVersion(pw.WriterVersion.V2),
    file: { codec: "UNCOMPRESSED", pages: ["DATA_PAGE_V2:DELTA_BYTE_ARRAY"], rowGroups: 1 },
  },
  {
    name: "snappy, 7-row groups",
    itemName: "element",
    configure: (b) => b.setCompression(pw.Compression.SNAPPY).setMaxRowGroupSize(7),
    file: { codec: "SNAPPY", pages: ["DATA_PAGE:RLE_DICTIONARY", "DICTIONARY_PAGE:PLAIN"], rowGroups: 15 },
  },
];

/** Codec, page kinds and row-group count of a file's responses column, from its footer. */
function footerOf(bytes: Uint8Array): { codec: string; pages: string[]; rowGroups: number } {
  const meta = parquetMetadata(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
  );
  const col = meta.row_groups[0].columns.find((c) => c.meta_data!.path_in_schema[0] === "responses")!.meta_data!;
  return {
    codec: col.codec,
    pages: (col.encoding_stats ?? []).map((s) => `${s.page_type}:${s.encoding}`).sort(),
    rowGroups: meta.row_groups.length,
  };
}

for (const w of writers) {
  test(`cellrl reads verl main_generation output written by arrow-rs (${w.name}): readVerlOutputs, readRecords and streamRows give the rows back`, async () => {
    const source = qwen();
    const columns = mainGenerationColumns(w.itemName);
    const file = path.join(tmp, `gen-${writers.indexOf(w)}.parquet`);
    const bytes = writeWithArrowRs(arrowTable(source, columns), w.configure);
    assert.deepEqual(footerOf(bytes), w.file);
    fs.writeFileSync(file, bytes);
    // the file is what it claims: arrow-rs reads its own output with the intended types
    const back = readWithArrowRs(fs.readFileSync(file));
    assert.equal(arrowTypes(back).responses, "List<Utf8>");
    assert.equal((back.schema.fields[1].type as arrow.List).children[0].name, w.itemName);
    const viaVerl = await readVerlOutputs(file);
    assert.deepEqual(viaVerl, source);
    assert.deepEqual(await readRecords(file, { require: ["responses"] }), source);
    const streamed: unknown[] = [];
    for await (const { value } of streamRows(file)) streamed.push(value);
    assert.deepEqual(streamed, source);
    // a step choice on a main_generation file (no step column) is refused with the steps present
    await assert.rejects(readVerlOutputs(file, { steps: "last" }), (e: CellrlError) =>
      /no rows of step/.test(e.message),
    );
  });
}

test("cellrl reads arrow-rs main_generation output with large_string / large_list columns (polars' and HF datasets' LargeList)", async () => {
  const source = qwen().slice(0, 30);
  const file = path.join(tmp, "gen-large.parquet");
  fs.writeFileSync(file, writeWithArrowRs(arrowTable(source, mainGenerationColumns("element", true))));
  const types = arrowTypes(readWithArrowRs(fs.readFileSync(file))); // arrow-rs restores them from the ARROW:schema it stored
  assert.equal(types.data_source, "LargeUtf8");
  assert.equal(types.responses, "LargeList<LargeUtf8>");
  assert.deepEqual(await readVerlOutputs(file), source);
});

test("cellrl reads arrow-rs output of MMLU-Pro generations: null list elements, a struct column in (content, role) order", async () => {
  // pandas' dict -> struct inference keeps the dict's key order; a chat built as {content, role} is such a file
  const source = shipped<GeneratedRecord>("mmlu_pro_stem_300x4.jsonl.gz");
  const cols: ArrowFieldSpec[] = [
    ["data_source", utf8()],
    [
      "prompt",
      listOf(
        struct([
          ["content", utf8()],
          ["role", utf8()],
        ]),
        "element",
      ),
    ],
    ["ability", utf8()],
    [
      "reward_model",
      struct([
        ["style", utf8()],
        ["ground_truth", utf8()],
      ]),
    ],
    [
      "extra_info",
      struct([
        ["split", utf8()],
        ["index", new arrow.Int64()],
        ["question_id", new arrow.Int64()],
        ["category", utf8()],
        ["src", utf8()],
        ["model", utf8()],
        ["upstream_preds", listOf(utf8(), "element")],
        ["upstream_scores", listOf(new arrow.Int64(), "element")],
        ["upstream_grader", utf8()],
      ]),
    ],
    ["responses", listOf(utf8(), "element")],
  ];
  const file = path.join(tmp, "gen-mmlu.parquet");
  fs.writeFileSync(
    file,
    writeWithArrowRs(arrowTable(source, cols), (b) => b.setCompression(pw.Compression.SNAPPY)),
  );
  const got = await readVerlOutputs(file);
  assert.equal(got.length, 1200);
  // field order differs from the source's {role, content}; the values are the same
  assert.deepEqual(
    got.map((r) => dropNullFields(r)),
    source.map((r) => dropNullFields(r)),
  );
  assert.deepEqual(Object.keys(got[0].prompt[0]), ["content", "role"]);
});

test("a zstd parquet written by arrow-rs fails in cellrl with the codec named and the fix (rewrite with snappy)", async () => {
  const file = path.join(tmp, "gen-zstd.parquet");
  fs.writeFileSync(
    file,
    writeWithArrowRs(arrowTable(qwen().slice(0, 5), mainGenerationColumns("element")), (b) =>
      b.setCompression(pw.Compression.ZSTD),
    ),
  );
  await assert.rejects(
    readRecords(file),
    (e: CellrlError) => /compression|codec/i.test(e.message) && /snappy/.test(e.message) && e.message.includes(file),
  );
});
