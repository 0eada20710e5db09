#!/usr/bin/env node
// `npx cellrl <command> [options]`: dispatch to a subcommand of lib/cli/commands.ts and turn errors into messages
// and exit codes (0 done, 1 failed, 2 bad command line, 130 interrupted).
import { CellrlError, nearest } from "../core/errors.js";
import { explainSystemError, UsageError } from "./command.js";
import { commands } from "./commands.js";

const VERSION = (() => {
  try {
    return (require("../../package.json") as { version: string }).version;
  } catch {
    return "unknown";
  }
})();

/**
 * The top-level help text: every command with its summary.
 * @example console.log(mainUsage())
 */
export function mainUsage(): string {
  const rows = commands.rows();
  const width = Math.max(...rows.map((r) => r.name.length));
  return [
    "Usage: cellrl <command> [options]",
    "",
    "Commands:",
    ...rows.map((r) => `  ${r.name.padEnd(width)}  ${r.summary}`),
    "",
    "Run `cellrl <command> --help` for a command's options.",
  ].join("\n");
}

/**
 * Run the CLI with the given arguments (without "node" and the script); resolves to the exit code.
 * @example await runCli(["grade-math", "--gold", "1/2", "--pred", "0.5"]) // prints "true", returns 0
 */
export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(mainUsage());
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-v") {
    console.log(VERSION);
    return 0;
  }
  if (!commands.has(name)) {
    const near = nearest(name, commands.names());
    console.error(
      `cellrl: unknown command ${JSON.stringify(name)}.${near ? ` Did you mean "${near}"?` : ""}\n\n${mainUsage()}`,
    );
    return 2;
  }
  const command = await commands.get(name)();
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`cellrl ${name}: ${e.message}.\n\n${command.usage}`);
      return 2;
    }
    if (e instanceof CellrlError) {
      // cli messages already start with "cli.<name>: "; others keep their "data.fn: " so the source is visible
      console.error(`cellrl ${name}: ${e.message.replace(/^cli\.[\w-]+: /, "")}`);
      return 1;
    }
    // the environment, not cellrl: a missing directory, a read-only disk, a truncated .gz input
    const known = explainSystemError(e, inputsOf(rest));
    if (known !== null) {
      console.error(`cellrl ${name}: ${known}.`);
      return 1;
    }
    console.error(`cellrl ${name}: unexpected error (please report it with the command you ran):`);
    console.error(e);
    return 1;
  }
}

// The input files named on a command line (--input F, --compare G, --model DIR), for messages about them.
function inputsOf(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const m = /^--(input|compare|model)(?:=(.*))?$/.exec(argv[i]);
    if (m) out.push(m[2] ?? argv[++i] ?? "");
  }
  return out.filter((x) => x !== "");
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
