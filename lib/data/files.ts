import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { fail } from "../core/errors.js";
import { writeFileAtomic as writeAtomic } from "../core/atomic.js";

/** The file formats cellrl reads records from (".gz" on top of any of them is undone transparently). */
export type DataFormat = "jsonl" | "json" | "parquet" | "arrow";

const EXT: Record<string, DataFormat> = {
  ".jsonl": "jsonl",
  ".ndjson": "jsonl",
  ".json": "json",
  ".parquet": "parquet",
  ".pq": "parquet",
  ".arrow": "arrow",
  ".feather": "arrow",
  ".ipc": "arrow",
  ".arrows": "arrow",
};

/**
 * The format of a data file from its name, looking through a trailing ".gz".
 * @example data.formatOf("out/test.jsonl.gz") // "jsonl"
 */
export function formatOf(file: string): DataFormat {
  const base = file.toLowerCase().replace(/\.gz$/, "");
  const fmt = EXT[path.extname(base)];
  if (!fmt)
    fail(
      "invalid_input",
      `data.formatOf: cannot tell the format of ${JSON.stringify(file)} ` +
        `(got extension ${JSON.stringify(path.extname(base))}; ` +
        `expected one of ${Object.keys(EXT).join(", ")}, optionally + .gz). Rename the file or pass {format}.`,
      { got: file, expected: Object.keys(EXT) },
      formatOf,
    );
  return fmt;
}

/**
 * True when the bytes start with the gzip magic number (so ".gz" names are not required to decompress).
 * @example data.isGzip(fs.readFileSync("rows.jsonl.gz")) // true
 */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Fail for a file that cannot be opened: "not_found" for ENOENT, else "io"; the message names the file, the error
 * code and the working directory. `what` starts the message, e.g. "data.readBytes: cannot read".
 */
export function failUnreadable(what: string, file: string, e: unknown, from?: Function): never {
  const code = (e as NodeJS.ErrnoException).code;
  return fail(
    code === "ENOENT" ? "not_found" : "io",
    `${what} ${JSON.stringify(file)} (${code ?? (e as Error).message}). Check the path (relative to ${process.cwd()}).`,
    { got: file, cause: e },
    from,
  );
}

/**
 * Read a whole file, gunzipping it when it is gzip (by content, not by name). Missing files fail with the path.
 * @example const bytes = data.readBytes("datasets/gsm8k_test.jsonl.gz")
 */
export function readBytes(file: string): Uint8Array {
  let raw: Buffer;
  try {
    raw = fs.readFileSync(file);
  } catch (e) {
    return failUnreadable("data.readBytes: cannot read", file, e, readBytes);
  }
  if (!isGzip(raw)) return raw;
  try {
    return zlib.gunzipSync(raw);
  } catch (e) {
    return fail(
      "io",
      `data.readBytes: ${JSON.stringify(file)} starts like gzip but does not decompress (${(e as Error).message}). ` +
        "The file is truncated or corrupt; regenerate it.",
      { got: file, cause: e },
      readBytes,
    );
  }
}

/**
 * Write a file atomically (temp file + rename, so readers never see half a file); gzips when the name ends in ".gz".
 * @example data.writeFileAtomic("out/rows.jsonl.gz", text)
 */
export function writeFileAtomic(file: string, content: string | Uint8Array): void {
  const bytes = typeof content === "string" ? Buffer.from(content, "utf8") : content;
  writeAtomic(file, file.toLowerCase().endsWith(".gz") ? zlib.gzipSync(bytes, { level: 9 }) : bytes);
}
