import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { CellrlError } from "../../lib/core/errors.js";
import {
  openJsonlAppender,
  openJsonlLineWriter,
  parseJsonl,
  parseJsonlLines,
  readJsonl,
  readJsonlLines,
  streamJsonl,
  streamJsonlText,
  toJsonLine,
  writeJsonl,
} from "../../lib/data/jsonl.js";
import { readBytes, writeFileAtomic } from "../../lib/data/files.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-data-jsonl-"));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test("parseJsonl splits on \\n only (U+2028 stays inside strings), skips blank lines and keeps line numbers", () => {
  const text = '{"a":"x\u2028y"}\n\n  \n{"a":2}\r\n{"a":3}';
  assert.deepEqual(parseJsonl(text), [{ a: "x\u2028y" }, { a: 2 }, { a: 3 }]);
  assert.deepEqual(
    parseJsonlLines(text).map((l) => l.line),
    [1, 4, 5],
  );
});

test("a bad JSON line fails with its line number, the text and the fix", () => {
  assert.throws(
    () => parseJsonl('{"a":1}\n\n{"a": nope}\n', { source: "x.jsonl" }),
    (e: unknown) =>
      e instanceof CellrlError &&
      e.code === "invalid_input" &&
      /line 3 of x\.jsonl is not valid JSON/.test(e.message) &&
      /Fix or delete that line/.test(e.message) &&
      e.path[1] === 3,
  );
});

test("gzip is undone by content, and streamJsonl matches readJsonl on plain and gzip files", async () => {
  const rows = Array.from({ length: 2500 }, (_, i) => ({ i, s: "é".repeat(i % 7), u: "a\u2028b" }));
  const plain = path.join(tmp, "rows.jsonl");
  const gz = path.join(tmp, "rows.jsonl.gz");
  const disguised = path.join(tmp, "gzip-named-plain.jsonl"); // gzip bytes without a .gz name
  writeJsonl(plain, rows);
  writeJsonl(gz, rows);
  fs.copyFileSync(gz, disguised);
  assert.equal(readBytes(gz)[0], "{".charCodeAt(0));
  assert.equal(fs.readFileSync(gz)[0], 0x1f);
  for (const f of [plain, gz, disguised]) {
    assert.deepEqual(readJsonl(f), rows);
    const streamed: unknown[] = [];
    const lines: number[] = [];
    for await (const { value, line } of streamJsonl(f)) {
      streamed.push(value);
      lines.push(line);
    }
    assert.deepEqual(streamed, rows);
    assert.equal(lines[2499], 2500);
  }
});

test("streamJsonl reports a bad line of a gzip file by its line number", async () => {
  const f = path.join(tmp, "bad.jsonl.gz");
  writeFileAtomic(f, '{"a":1}\n{"a":2}\n{oops\n{"a":4}\n');
  const seen: unknown[] = [];
  await assert.rejects(async () => {
    for await (const { value } of streamJsonl(f)) seen.push(value);
  }, /line 3 of bad\.jsonl\.gz is not valid JSON/);
  assert.deepEqual(seen, [{ a: 1 }, { a: 2 }]);
});

test("missing files fail with not_found and the path", () => {
  assert.throws(
    () => readJsonl(path.join(tmp, "nope.jsonl")),
    (e: unknown) => e instanceof CellrlError && e.code === "not_found" && /nope\.jsonl/.test(e.message),
  );
  assert.throws(
    () => streamJsonl(path.join(tmp, "nope.jsonl")),
    (e: unknown) => e instanceof CellrlError && e.code === "not_found",
  );
});

test("toJsonLine turns bigints and typed arrays into plain JSON", () => {
  assert.equal(
    toJsonLine({ a: 3n, b: new Float64Array([1, 0.5]), c: 2n ** 70n }),
    '{"a":3,"b":[1,0.5],"c":"1180591620717411303424"}',
  );
});

const torn: [string, boolean, Buffer][] = [
  ["a cut plain line", false, Buffer.from('{"i":5,"te')],
  ["a cut gzip member", true, zlib.gzipSync('{"i":5,"text":"abc"}\n', { level: 1 }).subarray(0, 14)],
  ["bytes that are not a member", true, Buffer.from("junk after the last row")],
];
for (const [what, gzip, tail] of torn) {
  test(`the appender keeps complete rows and cuts ${what} when resuming`, () => {
    const f = path.join(tmp, `app-${what.replace(/ /g, "-")}.jsonl${gzip ? ".gz" : ""}`);
    const w = openJsonlAppender(f, { gzip });
    for (let i = 0; i < 5; i++) w.append({ i, text: "x".repeat(i * 50) });
    w.close();
    fs.appendFileSync(f, tail); // as left by a kill in the middle of writing row 5
    const again = openJsonlAppender(f, { append: true, gzip });
    assert.equal(again.count, 5);
    again.append({ i: 5 });
    again.close();
    assert.deepEqual(
      readJsonl<{ i: number }>(f).map((r) => r.i),
      [0, 1, 2, 3, 4, 5],
    );
    if (gzip) assert.equal(fs.readFileSync(f)[0], 0x1f); // never plain text on disk
  });
}

test("readJsonlLines names rows by file line", () => {
  const f = path.join(tmp, "lines.jsonl");
  fs.writeFileSync(f, '\n{"a":1}\n\n{"a":2}\n');
  assert.deepEqual(readJsonlLines(f), [
    { value: { a: 1 }, line: 2 },
    { value: { a: 2 }, line: 4 },
  ]);
});

test("streamJsonlText yields the non-blank lines unparsed, with the line numbers streamJsonl gives", async () => {
  const f = path.join(tmp, "text.jsonl.gz");
  fs.writeFileSync(f, zlib.gzipSync('{"a":1}\n\n{"a": 2}\nnot json\n'));
  const got: { text: string; line: number }[] = [];
  for await (const l of streamJsonlText(f)) got.push(l);
  assert.deepEqual(got, [
    { text: '{"a":1}', line: 1 },
    { text: '{"a": 2}', line: 3 },
    { text: "not json", line: 4 },
  ]);
});

test("openJsonlLineWriter appends whole lines, cuts a torn tail on reopening, and refuses a gzip file", () => {
  const f = path.join(tmp, "lines.partial.jsonl");
  const w = openJsonlLineWriter(f);
  w.write('{"a":1}\n{"a":2}\n', 2);
  w.write("", 0);
  w.close();
  assert.throws(() => w.write('{"a":3}\n', 1), /is closed/);
  fs.appendFileSync(f, '{"a":3, "b"'); // as if killed in the middle of a write
  const again = openJsonlLineWriter(f, { append: true });
  assert.equal(again.count, 2);
  again.write('{"a":3}\n', 1);
  again.close();
  assert.deepEqual(readJsonl(f), [{ a: 1 }, { a: 2 }, { a: 3 }]);
  const gz = path.join(tmp, "old.partial.jsonl.gz");
  fs.writeFileSync(gz, zlib.gzipSync('{"a":1}\n'));
  assert.throws(() => openJsonlLineWriter(gz, { append: true }), /is gzip .*Decompress it first/);
});
