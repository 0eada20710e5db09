// Spawn `cellrl` the way a user runs it (a separate node process; via tsx so no build step is needed).
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";

export const ROOT = path.join(__dirname, "..", "..");
export const FIXTURES = path.join(__dirname, "fixtures");
const MAIN = path.join(ROOT, "lib", "cli", "main.ts");

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Start the CLI; `done` resolves when it exits. */
export function startCli(
  args: string[],
  options: { env?: Record<string, string>; input?: string } = {},
): { child: ChildProcess; done: Promise<CliRun> } {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => (stdout += d));
  child.stderr?.on("data", (d) => (stderr += d));
  child.stdin?.end(options.input ?? "");
  const done = new Promise<CliRun>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

/** Run the CLI to completion. */
export function runCli(
  args: string[],
  options: { env?: Record<string, string>; input?: string } = {},
): Promise<CliRun> {
  return startCli(args, options).done;
}
