// Kernel start (issue 18): "Socket is blocked by a bind or unbind operation" came from tslab starting its receive
// loops before binding: an event on a socket during its (asynchronous) bind makes zeromq throw EBUSY in the pending
// receive, the loop dies and the kernel never answers. The server must bind every socket first, retrying a busy or
// taken port, and only then receive. Checked directly (call order on the sockets), then by starting kernels
// repeatedly while two processes keep both cores busy.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { createRequire } from "node:module";
import { runSession, outputsOf } from "./jupyter.js";

const req = createRequire(__filename);
const tslabDir = path.dirname(req.resolve("tslab/package.json"));
const zmq = createRequire(path.join(tslabDir, "package.json"))("zeromq");

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

test("the kernel server binds every socket before it starts receiving, and retries a busy bind", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-kernel-start-"));
  const file = path.join(dir, "connection.json");
  const ports = [];
  for (let i = 0; i < 5; i++) ports.push(await freePort());
  fs.writeFileSync(
    file,
    JSON.stringify({
      transport: "tcp",
      ip: "127.0.0.1",
      iopub_port: ports[0],
      shell_port: ports[1],
      control_port: ports[2],
      stdin_port: ports[3],
      hb_port: ports[4],
      key: "k",
      signature_scheme: "hmac-sha256",
    }),
  );
  const events: string[] = [];
  const proto = zmq.Socket.prototype;
  const receive = proto.receive;
  Object.defineProperty(proto, "receive", {
    configurable: true,
    writable: true,
    value: function (this: unknown) {
      events.push("receive");
      return receive.call(this);
    },
  });
  const { CellrlServer } = req("../../kernel/server.js") as {
    CellrlServer: new (...args: unknown[]) => any;
  };
  let failOnce = true;
  class Probe extends CellrlServer {
    async bindSocket(sock: unknown, port: number) {
      events.push(`bind ${port}`);
      if (failOnce) {
        failOnce = false;
        throw Object.assign(new Error("Socket is blocked by a bind or unbind operation"), { code: "EBUSY" });
      }
      await super.bindSocket(sock, port);
      events.push(`bound ${port}`);
    }
  }
  const server = new Probe({ close() {} }, file, {});
  try {
    await server.init();
    await new Promise((r) => setTimeout(r, 50));
    const firstReceive = events.indexOf("receive");
    const lastBound = events.map((e) => e.startsWith("bound")).lastIndexOf(true);
    assert.equal(events.filter((e) => e.startsWith("bound")).length, 5, events.join(", "));
    assert.ok(firstReceive > lastBound, `a receive before every bind finished: ${events.join(", ")}`);
  } finally {
    Object.defineProperty(proto, "receive", { configurable: true, writable: false, value: receive });
    server.closed = true;
    for (const s of [server.iopub, server.shell, server.control, server.stdin, server.hb]) s?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("kernels start and answer 5 times in a row while both cores are busy", (t) => {
  const burn = "const end = Date.now() + 120000; while (Date.now() < end) {}";
  const burners = [0, 1].map(() => spawn(process.execPath, ["-e", burn], { stdio: "ignore" }));
  try {
    for (let i = 0; i < 5; i++) {
      const t0 = Date.now();
      const [r] = runSession([{ code: `${i} * 7` }], { timeoutMs: 120_000 });
      assert.equal(r.reply?.status, "ok", `start ${i}: ${JSON.stringify(r.reply)}`);
      assert.equal(outputsOf(r, "execute_result")[0]?.content.data["text/plain"], String(i * 7));
      t.diagnostic(`start ${i}: ${Date.now() - t0} ms`);
    }
  } finally {
    for (const b of burners) b.kill("SIGKILL");
  }
});
