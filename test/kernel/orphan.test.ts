// A kernel whose launcher dies (a killed notebook server or client) exits by itself instead of running on, unseen,
// with a cell possibly spinning: the interrupt watchdog thread polls the parent process, as ipykernel does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { kernelEnv } from "./jupyter.js";

const MAIN = path.join(__dirname, "..", "..", "kernel", "main.js");

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Alive and not a zombie (an orphan's new parent may reap it late). */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test(
  "a kernel exits within seconds when the process that launched it dies",
  { skip: process.platform !== "linux" ? "reads /proc" : false },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-orphan-"));
    const conn = path.join(dir, "kernel.json");
    const ports = [];
    for (let i = 0; i < 5; i++) ports.push(await freePort());
    const [shell_port, iopub_port, stdin_port, control_port, hb_port] = ports;
    fs.writeFileSync(
      conn,
      JSON.stringify({
        transport: "tcp",
        ip: "127.0.0.1",
        shell_port,
        iopub_port,
        stdin_port,
        control_port,
        hb_port,
        key: "",
        signature_scheme: "hmac-sha256",
      }),
    );
    // bash starts the kernel in the background, prints its pid, then exits after a while: the kernel is orphaned.
    const launcher = spawn(
      "bash",
      ["-c", `"${process.execPath}" "${MAIN}" --config-path "${conn}" >/dev/null 2>&1 & echo $!; sleep 6`],
      {
        env: { ...kernelEnv(), CELLRL_KERNEL_PREWARM: "0" },
        stdio: ["ignore", "pipe", "ignore"],
      },
    );
    let pid = 0;
    try {
      pid = await new Promise<number>((resolve, reject) => {
        launcher.stdout.once("data", (d) => resolve(Number(String(d).trim())));
        launcher.once("error", reject);
      });
      assert.ok(pid > 0);
      await new Promise((r) => launcher.once("exit", r));
      assert.ok(alive(pid), "the kernel is still running right after its launcher exited (it started fine)");
      const t0 = Date.now();
      while (alive(pid) && Date.now() - t0 < 15_000) await sleep(200);
      assert.ok(!alive(pid), "the orphaned kernel should exit within 15 s of its parent's death");
    } finally {
      if (pid && alive(pid)) process.kill(pid, "SIGKILL");
      launcher.kill("SIGKILL");
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
