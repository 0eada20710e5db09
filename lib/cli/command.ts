// What a `cellrl <command>` is, and the small argument/usage helpers every command shares.
import * as fs from "node:fs";
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
export function intOption(v: unknown, name: string, options: { min?: number } = {}): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  const { min = -Infinity } = options;
  if (typeof v !== "string" || !/^-?\d+$/.test(v.trim()) || n < min)
    throw new UsageError(
      `${name} must be a whole number${min > -Infinity ? ` >= ${min}` : ""} (got ${JSON.stringify(v)})`,
    );
  return n;
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
