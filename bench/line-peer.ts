// A child process that answers one JSON line per JSON command line (used for both the tfjs and the torch peer), so
// run.ts can alternate measurements of the two and each tfjs config gets a fresh wasm heap (it never shrinks).
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";

/** A running line-protocol child. */
export interface LinePeer {
  ask(msg: object): Promise<Record<string, unknown>>;
  close(): Promise<void>;
  /** Last stderr output (for error messages). */
  stderr(): string;
}

/**
 * Spawn `cmd args` and talk JSON lines to it; a reply line must start with "{" (other stdout lines are echoed to
 * stderr, so a chatty library cannot break the protocol).
 * @example const p = startLinePeer("/usr/bin/python3", ["bench/torch_peer.py"]); await p.ask({ cmd: "info" })
 */
export function startLinePeer(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): LinePeer {
  const proc: ChildProcessWithoutNullStreams = spawn(cmd, args, { env, stdio: "pipe" });
  const waiting: { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }[] = [];
  let err = "";
  proc.stderr.on("data", (d) => {
    err = (err + String(d)).slice(-4000);
  });
  createInterface({ input: proc.stdout }).on("line", (l) => {
    if (!l.startsWith("{")) return void process.stderr.write(`[peer] ${l}\n`);
    const w = waiting.shift();
    try {
      w?.resolve(JSON.parse(l));
    } catch (e) {
      w?.reject(e as Error);
    }
  });
  const exited = new Promise<void>((resolve) =>
    proc.on("exit", (code) => {
      for (const w of waiting.splice(0)) w.reject(new Error(`${cmd} exited with code ${code}: ${err.slice(-800)}`));
      resolve();
    }),
  );
  return {
    ask: (msg) =>
      new Promise((resolve, reject) => {
        if (proc.exitCode !== null || proc.signalCode !== null)
          return reject(new Error(`${cmd} is not running: ${err.slice(-800)}`));
        waiting.push({ resolve, reject });
        proc.stdin.write(JSON.stringify(msg) + "\n");
      }),
    close: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.stdin.end(JSON.stringify({ cmd: "quit" }) + "\n");
      await exited;
    },
    stderr: () => err,
  };
}
