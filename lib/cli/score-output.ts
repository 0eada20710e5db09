// Crash-safe output of `cellrl score`: scored rows go, in input order, into <output>.partial.jsonl (plain JSONL, whole
// lines appended in batches, each batch one write), with <output>.partial.json recording which input they belong to.
// A kill leaves at most a torn last line, which a rerun with the same input cuts before resuming after the last complete
// row. Compression (a .gz output) happens once at the end; the final file appears by an atomic rename.
import * as fs from "node:fs";
import { pipeline } from "node:stream/promises";
import * as zlib from "node:zlib";
import { fail } from "../core/errors.js";
import { formatOf } from "../data/files.js";
import { tempSibling as tempPathFor } from "../core/atomic.js";
import { writeRecords } from "../data/io.js";
import { openJsonlLineWriter, readJsonl, streamJsonl, type JsonlLineWriter } from "../data/jsonl.js";

/** What identifies a scoring run, so a partial file is only resumed by the same job. */
export interface RunKey {
  input_sha256: string;
  reward: string | null;
  reward_module: string | null;
  /** The --reward-options JSON, or null. */
  reward_options: string | null;
}

/** The partial output of a run: rows `0..done-1` are already scored and in the file. */
export interface PartialOutput {
  writer: JsonlLineWriter;
  /** Rows already in the partial file when it was opened (resumed). */
  done: number;
  path: string;
  metaPath: string;
}

/**
 * Paths of the partial file and its metadata for an output path.
 * @example partialPaths("out.jsonl").path // "out.jsonl.partial.jsonl"
 */
export function partialPaths(output: string): { path: string; metaPath: string } {
  return { path: `${output}.partial.jsonl`, metaPath: `${output}.partial.json` };
}

/**
 * Open (or resume) the partial output for `output`. A partial file from a different input or reward is never
 * overwritten silently: that fails, unless `restart` is set.
 * @example const p = openPartial("out.jsonl", key, {restart: false}); p.writer.write(line + "\n", 1)
 */
export function openPartial(output: string, key: RunKey, options: { restart?: boolean } = {}): PartialOutput {
  const { path, metaPath } = partialPaths(output);
  let resume = false;
  if (fs.existsSync(path) && !options.restart) {
    let meta: Partial<RunKey> = {};
    try {
      meta = JSON.parse(fs.readFileSync(metaPath, "utf8")) as Partial<RunKey>;
    } catch {
      // no readable metadata: treated as a different run below
    }
    const same =
      meta.input_sha256 === key.input_sha256 &&
      (meta.reward ?? null) === key.reward &&
      (meta.reward_module ?? null) === key.reward_module &&
      (meta.reward_options ?? null) === key.reward_options;
    if (!same)
      fail(
        "invalid_input",
        `cli.score: ${path} holds a partial output of a different run ` +
          `(got input sha256 ${String(meta.input_sha256).slice(0, 12)}…, reward ${meta.reward ?? "routed"}; ` +
          `expected ${key.input_sha256.slice(0, 12)}…, reward ${key.reward ?? "routed"}). ` +
          "Pass --restart to discard it, or move it away.",
        {
          got: meta,
          expected: key,
        },
      );
    resume = true;
  }
  if (!resume)
    fs.writeFileSync(metaPath, JSON.stringify({ ...key, started: new Date().toISOString() }, null, 1) + "\n");
  const writer = openJsonlLineWriter(path, { append: resume });
  return { writer, done: writer.count, path, metaPath };
}

/**
 * The rows already in a partial file (for the summary of a resumed run).
 * @example for await (const {value} of partialRows(p)) summary.add(value.data_source, value.scores)
 */
export function partialRows(p: PartialOutput): AsyncGenerator<{ value: Record<string, unknown>; line: number }> {
  return streamJsonl<Record<string, unknown>>(p.path);
}

/**
 * Close the partial file and turn it into `output` atomically (JSONL: renamed, or gzipped once when the name ends in
 * .gz; parquet / JSON / Arrow via memory), then remove the partial file's metadata.
 * @example await finishPartial(p, "scored.parquet")
 */
export async function finishPartial(p: PartialOutput, output: string): Promise<void> {
  p.writer.close();
  const gz = output.toLowerCase().endsWith(".gz");
  if (formatOf(output) === "jsonl" && !gz) {
    fs.renameSync(p.path, output); // same directory: atomic, and close() has fsynced it
  } else if (formatOf(output) === "jsonl") {
    const tmp = tempPathFor(output);
    try {
      await pipeline(fs.createReadStream(p.path), zlib.createGzip(), fs.createWriteStream(tmp));
      const fd = fs.openSync(tmp, "r+");
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      fs.renameSync(tmp, output);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      fail(
        "io",
        `cli.score: cannot write ${output} (${(e as Error).message}); the scored rows are kept in ${p.path}.`,
        { cause: e },
      );
    }
    fs.rmSync(p.path, { force: true });
  } else {
    writeRecords(output, readJsonl<Record<string, unknown>>(p.path));
    fs.rmSync(p.path, { force: true });
  }
  fs.rmSync(p.metaPath, { force: true });
}
