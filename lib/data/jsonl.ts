import * as fs from "node:fs";
import * as path from "node:path";
import { StringDecoder } from "node:string_decoder";
import * as zlib from "node:zlib";
import { describe, fail } from "../core/errors.js";
import { failUnreadable, isGzip, readBytes, writeFileAtomic } from "./files.js";

/** One parsed JSONL line and its 1-based line number in the file. */
export interface JsonlLine<T = unknown> {
  value: T;
  line: number;
}

/**
 * JSON.stringify replacer: bigints (parquet INT64) become numbers when exact, typed arrays become arrays.
 * @example JSON.stringify({n: 2n}, jsonReplacer) // '{"n":2}'
 */
export function jsonReplacer(_key: string, v: unknown): unknown {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (ArrayBuffer.isView(v) && !(v instanceof DataView))
    return Array.from(v as unknown as ArrayLike<number | bigint>, (x) => (typeof x === "bigint" ? Number(x) : x));
  return v;
}

/**
 * One JSONL line (no newline) for a value; bigints and typed arrays are converted (see jsonReplacer).
 * @example data.toJsonLine({a: 1n}) // '{"a":1}'
 */
export function toJsonLine(value: unknown): string {
  return JSON.stringify(value, jsonReplacer);
}

/**
 * The start of a text input: fails on UTF-16 (a byte-order mark, or NULs between ASCII bytes), naming the source;
 * returns how many bytes of UTF-8 byte-order mark to skip (3 or 0).
 * @example textStart(Buffer.from([0xef, 0xbb, 0xbf, 0x7b]), "in.jsonl", readJsonl) // 3
 */
export function textStart(head: Uint8Array, source: string, from: Function): number {
  const utf16 =
    (head[0] === 0xff && head[1] === 0xfe) ||
    (head[0] === 0xfe && head[1] === 0xff) ||
    (head.length >= 4 && head[0] !== 0 && head[1] === 0 && head[2] !== 0 && head[3] === 0);
  if (utf16) {
    const bytes = Array.from(head.subarray(0, 4), (b) => b.toString(16).padStart(2, "0")).join(" ");
    fail(
      "invalid_input",
      `data.readJsonl: ${source} is UTF-16 text (got the bytes ${bytes}; ` +
        `expected UTF-8). Save it as UTF-8, e.g. iconv -f UTF-16 -t UTF-8 ${source} > fixed.jsonl.`,
      { got: "UTF-16" },
      from,
    );
  }
  return head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
}

function parseLine(text: string, line: number, source: string, from: Function): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    return fail(
      "invalid_input",
      `data.readJsonl: line ${line} of ${source} is not valid JSON (${(e as Error).message}; got ${describe(text)}). ` +
        "Fix or delete that line; each line must hold one JSON object.",
      {
        path: ["line", line],
        got: text.slice(0, 200),
        cause: e,
      },
      from,
    );
  }
}

/**
 * Parse JSONL text into {value, line} pairs: one JSON value per "\n"-separated line (not U+2028), blank lines skipped.
 * @example data.parseJsonlLines('{"a":1}\n\n{"a":2}') // [{value: {a: 1}, line: 1}, {value: {a: 2}, line: 3}]
 */
export function parseJsonlLines<T = unknown>(text: string, options: { source?: string } = {}): JsonlLine<T>[] {
  const { source = "the input" } = options;
  const out: JsonlLine<T>[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const s = lines[i];
    if (s.trim() === "") continue;
    out.push({ value: parseLine(s, i + 1, source, parseJsonlLines) as T, line: i + 1 });
  }
  return out;
}

/**
 * Parse JSONL text into values; errors name the line.
 * @example data.parseJsonl('{"a":1}\n{"a":2}\n') // [{a: 1}, {a: 2}]
 */
export function parseJsonl<T = unknown>(text: string, options: { source?: string } = {}): T[] {
  return parseJsonlLines<T>(text, options).map((l) => l.value);
}

/**
 * Read a whole JSONL file (gzip or not) as {value, line} pairs.
 * @example const lines = data.readJsonlLines("gen.jsonl"); lines[0].line // 1
 */
export function readJsonlLines<T = unknown>(file: string): JsonlLine<T>[] {
  const bytes = Buffer.from(readBytes(file));
  const skip = textStart(bytes.subarray(0, 4), path.basename(file), readJsonlLines);
  return parseJsonlLines<T>(bytes.subarray(skip).toString("utf8"), { source: path.basename(file) });
}

/**
 * Read a whole JSONL file (gzip or not) into an array.
 * @example const rows = data.readJsonl("datasets/math500.jsonl.gz")
 */
export function readJsonl<T = unknown>(file: string): T[] {
  return readJsonlLines<T>(file).map((l) => l.value);
}

function openStream(file: string): AsyncIterable<unknown> {
  let head: Buffer = Buffer.alloc(0);
  try {
    const fd = fs.openSync(file, "r");
    head = Buffer.alloc(2);
    const n = fs.readSync(fd, head, 0, 2, 0);
    head = head.subarray(0, n);
    fs.closeSync(fd);
  } catch (e) {
    failUnreadable("data.streamJsonl: cannot open", file, e);
  }
  const raw = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  return (isGzip(head) ? raw.pipe(zlib.createGunzip()) : raw) as AsyncIterable<unknown>;
}

/**
 * Stream a JSONL file (gzip or not) line by line without loading it whole; yields {value, line}.
 * @example for await (const {value, line} of data.streamJsonl("big.jsonl.gz")) { ... }
 */
export function streamJsonl<T = unknown>(file: string): AsyncGenerator<JsonlLine<T>> {
  return streamJsonlFrom<T>(openStream(file), path.basename(file));
}

/**
 * Parse JSONL from any byte stream (e.g. process.stdin), line by line; `source` names it in errors.
 * @example for await (const {value} of data.streamJsonlFrom(process.stdin, "stdin")) { ... }
 */
export async function* streamJsonlFrom<T = unknown>(
  stream: AsyncIterable<unknown>,
  source = "the input",
): AsyncGenerator<JsonlLine<T>> {
  for await (const { text, line } of jsonlTextFrom(stream, source))
    yield { value: parseLine(text, line, source, streamJsonlFrom) as T, line };
}

/**
 * The non-blank lines of a JSONL file (gzip or not) as text, unparsed: for readers that parse elsewhere (`cellrl
 * score` parses in its worker threads). Same line numbers and errors as streamJsonl.
 * @example for await (const {text, line} of streamJsonlText("big.jsonl.gz")) JSON.parse(text)
 */
export function streamJsonlText(file: string): AsyncGenerator<{ text: string; line: number }> {
  return jsonlTextFrom(openStream(file), path.basename(file));
}

async function* jsonlTextFrom(
  stream: AsyncIterable<unknown>,
  source: string,
): AsyncGenerator<{ text: string; line: number }> {
  const decoder = new StringDecoder("utf8");
  let rest = "";
  let line = 0;
  let first = true;
  try {
    for await (const chunk of stream) {
      let piece = typeof chunk === "string" ? chunk : (chunk as Buffer);
      if (first && piece.length > 0) {
        first = false;
        // a UTF-8 byte-order mark is skipped; UTF-16 is named (it would read as invisible bad characters)
        if (typeof piece === "string") piece = piece.replace(/^\uFEFF/, "");
        else piece = piece.subarray(textStart(piece.subarray(0, 4), source, streamJsonlFrom));
      }
      const text = rest + (typeof piece === "string" ? piece : decoder.write(piece));
      const parts = text.split("\n");
      rest = parts.pop() as string;
      for (const s of parts) {
        line++;
        if (s.trim() !== "") yield { text: s, line };
      }
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "";
    if (!/^Z_/.test(code)) throw e;
    fail(
      "io",
      `data.streamJsonl: ${source} is truncated or corrupt (gzip: ${(e as Error).message}; ${line} complete lines ` +
        "were read before it). Download or copy the file again, or check it with gzip -t.",
      { path: ["line", line + 1], cause: e },
      streamJsonlFrom,
    );
  }
  rest += decoder.end();
  if (rest.trim() !== "") yield { text: rest, line: line + 1 };
}

/**
 * Write rows as JSONL atomically (temp + rename); gzips when the name ends in ".gz".
 * @example data.writeJsonl("out/scored.jsonl", rows)
 */
export function writeJsonl(file: string, rows: Iterable<unknown>): void {
  const parts: string[] = [];
  for (const r of rows) parts.push(toJsonLine(r) + "\n");
  writeFileAtomic(file, parts.join(""));
}

/**
 * An open JSONL file that rows are appended to one at a time, each written through to the OS before `append` returns.
 */
export interface JsonlAppender {
  readonly path: string;
  /** Rows in the file: kept from before (when appending) plus rows written since. */
  readonly count: number;
  append(row: unknown): void;
  /** fsync and close. */
  close(): void;
}

// Every gzip member this appender writes starts with these 10 bytes (deflate level 1 = fastest, mtime 0, OS unix), so
// member boundaries can be found again when resuming; a chance match inside compressed data would need 80 bits to
// agree.
const MEMBER_HEADER = Buffer.from("1f8b0800000000000403", "hex");

/**
 * Byte length of the complete rows at the start of a partial file (a kill mid-write leaves a torn tail), and their
 * count.
 */
function completePrefix(buf: Buffer, gzip: boolean): { end: number; rows: number } {
  if (!gzip) {
    const end = buf.lastIndexOf(0x0a) + 1;
    let rows = 0;
    for (let i = 0; i < end; i++) if (buf[i] === 0x0a) rows++;
    return { end, rows };
  }
  const starts: number[] = [];
  for (let at = buf.indexOf(MEMBER_HEADER); at >= 0; at = buf.indexOf(MEMBER_HEADER, at + 1)) starts.push(at);
  if (starts.length === 0 || starts[0] !== 0) return { end: 0, rows: 0 };
  // every member but the last was followed by another write, so only the last can be torn (or followed by junk)
  const last = starts[starts.length - 1];
  try {
    const { engine } = zlib.inflateRawSync(buf.subarray(last + 10), { info: true }) as unknown as {
      engine: { bytesWritten: number };
    };
    const end = last + 10 + engine.bytesWritten + 8; // 10-byte header, deflate data, CRC32 + size trailer
    if (end <= buf.length) return { end, rows: starts.length };
  } catch {
    // the deflate data of the last member is cut short
  }
  return { end: last, rows: starts.length - 1 };
}

/**
 * Open a JSONL file for row-by-row writing, so a crash loses at most the row being written. `append: true` keeps the
 * complete rows already there and cuts a torn last row; otherwise the file starts empty. `gzip: true` writes each row
 * as its own gzip member (the file is still one valid .gz; nothing is ever on disk in plain text).
 * @example const w = data.openJsonlAppender("out.partial.jsonl.gz", {gzip: true}); w.append(row); w.close()
 */
export function openJsonlAppender(file: string, options: { append?: boolean; gzip?: boolean } = {}): JsonlAppender {
  const { append = false, gzip = false } = options;
  let count = 0;
  if (append && fs.existsSync(file)) {
    const buf = fs.readFileSync(file);
    const { end, rows } = completePrefix(buf, gzip);
    if (end < buf.length) fs.truncateSync(file, end);
    count = rows;
  }
  const fd = fs.openSync(file, append ? "a" : "w");
  let open = true;
  return {
    path: file,
    get count() {
      return count;
    },
    append(row) {
      if (!open)
        fail(
          "io",
          `data.openJsonlAppender: ${file} is closed (got an append after close()). Open it again with {append: true}.`,
        );
      const line = Buffer.from(toJsonLine(row) + "\n", "utf8");
      fs.writeSync(fd, gzip ? zlib.gzipSync(line, { level: 1 }) : line);
      count++;
    },
    close() {
      if (!open) return;
      open = false;
      fs.fsyncSync(fd);
      fs.closeSync(fd);
    },
  };
}

/** A plain JSONL file that complete lines are appended to in batches (the partial output of `cellrl score`). */
export interface JsonlLineWriter {
  readonly path: string;
  /** Lines in the file: kept from before (when appending) plus lines written since. */
  readonly count: number;
  /** Append `rows` complete lines (`text` is their JSON joined and ended by "\n") in one write to the OS. */
  write(text: string, rows: number): void;
  /** fsync and close. */
  close(): void;
}

/**
 * Open a plain JSONL file for batched appends. Each `write` is one write(2) of whole lines, so a kill -9 leaves at most
 * a torn last line, which `append: true` cuts on reopening; fsync runs at most once per `fsyncMs` (power loss may drop
 * the last second, a crash drops nothing written) and at close. Cheaper per row than openJsonlAppender.
 * @example const w = openJsonlLineWriter("out.partial.jsonl", {append: true}); w.write('{"a":1}\n', 1); w.close()
 */
export function openJsonlLineWriter(
  file: string,
  options: { append?: boolean; fsyncMs?: number } = {},
): JsonlLineWriter {
  const { append = false, fsyncMs = 1000 } = options;
  let count = 0;
  if (append && fs.existsSync(file)) {
    const buf = fs.readFileSync(file);
    if (isGzip(buf.subarray(0, 2)))
      fail(
        "invalid_input",
        `data.openJsonlLineWriter: ${file} is gzip (got a compressed file; expected plain JSONL lines). ` +
          "Decompress it first (gunzip), or start a new file.",
      );
    const { end, rows } = completePrefix(buf, false);
    if (end < buf.length) fs.truncateSync(file, end);
    count = rows;
  }
  const fd = fs.openSync(file, append ? "a" : "w");
  let open = true;
  let synced = Date.now();
  return {
    path: file,
    get count() {
      return count;
    },
    write(text, rows) {
      if (!open) fail("io", `data.openJsonlLineWriter: ${file} is closed (got a write after close()). Open it again.`);
      const bytes = Buffer.from(text, "utf8");
      for (let at = 0; at < bytes.length;) at += fs.writeSync(fd, bytes, at, bytes.length - at);
      count += rows;
      if (Date.now() - synced >= fsyncMs) {
        fs.fsyncSync(fd);
        synced = Date.now();
      }
    },
    close() {
      if (!open) return;
      open = false;
      fs.fsyncSync(fd);
      fs.closeSync(fd);
    },
  };
}
