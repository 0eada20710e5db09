// What a `cellrl <command>` is, and the small argument/usage helpers every command shares.
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { fail } from "../core/errors.js";

/** One subcommand: its help text and what it runs. Export it as `command` from lib/cli/<name>.ts. */
export interface CliCommand {
  name: string;
  /** One line, shown by `cellrl --help`. */
  summary: string;
  /** The full help text, shown by `cellrl <name> --help` and after a usage error. */
  usage: string;
  /** Run with the arguments after the command name; resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}

/**
 * A mistake in the command line (exit code 2); the message says what to change.
 * @example throw new UsageError("--input is missing")
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Option spec in node:util parseArgs form. */
export type OptionSpec = Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>;

/**
 * Parse `--name value` options strictly (unknown options and stray arguments are usage errors); `--help` is always
 * known.
 * @example const {values} = parseOptions(argv, {input: {type: "string"}}); values.input
 */
export function parseOptions(
  argv: string[],
  spec: OptionSpec,
): { values: Record<string, string | boolean | string[] | undefined>; help: boolean } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...spec, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length > 0)
      throw new UsageError(
        `unexpected argument ${JSON.stringify(positionals[0])}; every input is passed as an --option`,
      );
    const { help, ...rest } = values as Record<string, string | boolean | string[] | undefined>;
    return { values: rest, help: help === true };
  } catch (e) {
    if (e instanceof UsageError) throw e;
    // node's messages read like "Unknown option '--inptu'"; keep them and let the caller add the usage
    throw new UsageError((e as Error).message.replace(/\. To specify a positional.*$/s, ""));
  }
}

/**
 * A whole-number option value, or a usage error naming the option.
 * @example intOption(values.workers, "--workers", {min: 0}) // 4
 */
export function intOption(v: unknown, name: string, options: { min?: number; max?: number } = {}): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  const { min = -Number.MAX_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = options;
  if (typeof v !== "string" || !/^-?\d+$/.test(v.trim()) || n < min || n > max) {
    const range =
      min > -Number.MAX_SAFE_INTEGER && max < Number.MAX_SAFE_INTEGER
        ? ` in [${min}, ${max}], i.e. >= ${min} and <= ${max}`
        : min > -Number.MAX_SAFE_INTEGER
          ? ` >= ${min}`
          : max < Number.MAX_SAFE_INTEGER
            ? ` <= ${max}`
            : ` with |N| <= ${Number.MAX_SAFE_INTEGER}`;
    throw new UsageError(`${name} must be a whole number${range} (got ${JSON.stringify(v)})`);
  }
  return n;
}

/**
 * Check that an output file can be created before any work is done: its directory exists, is a directory and is
 * writable. Fails with a message naming the option and the path.
 * @example checkOutputPath("out/scored.jsonl", "--output")
 */
export function checkOutputPath(file: string, option: string): void {
  const dir = path.dirname(path.resolve(file));
  let problem: string | null = null;
  try {
    if (!fs.statSync(dir).isDirectory()) problem = `${dir} is not a directory`;
    else fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    problem = explainSystemError(e, [dir]) ?? `${dir} cannot be written (${(e as Error).message})`;
  }
  if (problem)
    fail(
      "io",
      `cli.checkOutputPath: ${option} ${file} cannot be written: ${problem}. ` +
        `Create the directory or pick another path.`,
      { got: file },
    );
}

const systemErrors: Record<string, string> = {
  ENOENT: "does not exist",
  ENOTDIR: "is not a directory (a file is in the way)",
  EISDIR: "is a directory (expected a file)",
  EACCES: "cannot be accessed (permission denied)",
  EPERM: "cannot be accessed (permission denied)",
  EROFS: "is on a read-only file system",
  ENOSPC: "cannot be written: no space left on the device",
  EDQUOT: "cannot be written: disk quota exceeded",
  EMFILE: "cannot be opened: too many open files",
};

/**
 * A user-facing sentence for an error caused by the environment, not by cellrl: a file-system error on a path, or
 * a gzip stream that ends early or is corrupt (named after `inputs`); null for anything else (a bug keeps its
 * stack). Used by the CLI so a user mistake never prints a stack trace.
 * @example explainSystemError(Object.assign(new Error("x"), {code: "EROFS", path: "/ro/o.jsonl"})) // "/ro/o.jsonl ..."
 */
export function explainSystemError(e: unknown, inputs: string[] = []): string | null {
  const err = e as NodeJS.ErrnoException | null;
  if (!err || typeof err !== "object") return null;
  const code = typeof err.code === "string" ? err.code : "";
  if (code in systemErrors) {
    let p = typeof err.path === "string" ? err.path : (inputs[0] ?? "a file");
    // a missing file in a missing directory: name the directory that is missing
    if (code === "ENOENT" && typeof err.path === "string" && !fs.existsSync(path.dirname(p))) p = path.dirname(p);
    return `${p} ${systemErrors[code]} (${code}${err.syscall ? ` on ${err.syscall}` : ""})`;
  }
  if (
    /^Z_/.test(code) ||
    /unexpected end of file|incorrect header check|invalid (block|stored|distance)/.test(err.message ?? "")
  )
    return (
      `${inputs.length ? inputs.join(" or ") : "a gzip input"} is truncated or corrupt (gzip: ${err.message}). ` +
      "Download or copy the file again, or check it with gzip -t"
    );
  return null;
}

/**
 * Parse a command-line option that holds a JSON object; a bad value is a UsageError that shows `example`.
 * @example jsonObjectOption(values["reward-options"], "--reward-options", '{"rules": ["gsm8k"]}')
 */
export function jsonObjectOption(v: unknown, name: string, example: string): Record<string, unknown> | undefined {
  if (v === undefined) return undefined;
  try {
    const o = JSON.parse(v as string) as unknown;
    if (typeof o === "object" && o !== null && !Array.isArray(o)) return o as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new UsageError(`${name} must be a JSON object, e.g. '${example}' (got ${JSON.stringify(v)})`);
}

/**
 * Fail with "not_found" unless the file an option names exists (relative paths are from the working directory).
 * @example checkFileOption("cli.eval", "--input", "gen.jsonl")
 */
export function checkFileOption(where: string, flag: string, file: string): void {
  if (!fs.existsSync(file))
    fail("not_found", `${where}: ${flag} ${file} does not exist (looked in ${process.cwd()}). Check the path.`);
}
