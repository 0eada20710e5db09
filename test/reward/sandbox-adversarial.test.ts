// Hostile programs against the sandbox. Each attack is written so that it would PASS its test (score 1) if it got
// out; contained, it scores 0, returns promptly, and the host and the next job are unaffected.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { codeReward, type CodeRewardOptions } from "../../lib/reward/code.js";
import { closeSandboxes, sandboxStatus } from "../../lib/reward/sandbox.js";

const OPTS: CodeRewardOptions = { timeoutMs: 1500, memoryMb: 256, outputBytes: 1 << 20 };
const fence = (code: string) => "```python\n" + code + "\n```";
/** The attack runs inside f(); the test passes only if f() returns True, i.e. only if the attack worked. */
const attack = (body: string, options: CodeRewardOptions = {}) =>
  codeReward(fence(body), { test: "assert f() is True", entry_point: "f" }, undefined, { ...OPTS, ...options });

const hostDir = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-adv-"));
fs.chmodSync(hostDir, 0o755);
const hostSecretFile = path.join(hostDir, "secret.txt");
fs.writeFileSync(hostSecretFile, "host-secret-content", { mode: 0o644 });
after(() => {
  closeSandboxes();
  fs.rmSync(hostDir, { recursive: true, force: true });
});

async function healthy(): Promise<void> {
  const r = await codeReward(
    fence("def f(x):\n    return x * 2"),
    { test: "assert f(21) == 42", entry_point: "f" },
    undefined,
    OPTS,
  );
  assert.equal(r.score, 1, `sandbox unhealthy after an attack: ${JSON.stringify(r.details.firstFailure)}`);
}

test("the sandbox is real here: bubblewrap with a user namespace", async () => {
  const s = await sandboxStatus();
  assert.equal(s.level, "bwrap", s.reasons.join("; "));
});

test("fork bomb: stopped by the process limit and the timeout; every process is gone afterwards", async () => {
  const t = Date.now();
  const r = await attack(
    "import os\ndef f():\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            pass",
  );
  assert.equal(r.score, 0);
  assert.equal(r.details.rule, "timeout");
  assert.ok(Date.now() - t < 15000);
  await healthy();
});

test("memory bomb: RLIMIT_AS turns it into a MemoryError", async () => {
  const r = await attack(
    "def f():\n    blocks = []\n    while True:\n        blocks.append(bytearray(50 * 1024 * 1024))\n    return True",
  );
  assert.equal(r.score, 0);
  assert.equal(r.details.rule, "runtime-error");
  assert.match(String(r.details.firstFailure), /MemoryError/);
  const big = await attack("def f():\n    x = bytearray(8 * 1024 ** 3)\n    return True");
  assert.match(String(big.details.firstFailure), /MemoryError/);
  await healthy();
});

test("infinite loop and sleep: killed at the per-test timeout", async () => {
  for (const body of [
    "def f():\n    while True:\n        pass",
    "import time\ndef f():\n    time.sleep(3600)\n    return True",
  ]) {
    const t = Date.now();
    const r = await attack(body);
    assert.equal(r.score, 0);
    assert.equal(r.details.rule, "timeout");
    assert.equal(r.details.timeouts, 1);
    assert.ok(Date.now() - t < 10000, `took ${Date.now() - t} ms`);
  }
  // The same in stdio mode (one sandboxed run per test).
  const r = await codeReward(
    fence("import time\ntime.sleep(3600)"),
    { inputs: ["", ""], outputs: ["1", "2"] },
    undefined,
    OPTS,
  );
  assert.equal(r.details.rule, "timeout");
  await healthy();
});

test("disk fill: the file-size limit and the 64 MiB private /tmp stop it", async () => {
  const one = await attack(
    "def f():\n    with open('/tmp/big', 'wb') as fh:\n        for _ in range(200):\n            fh.write(b'x' * (1 << 20))\n    return True",
  );
  assert.equal(one.score, 0);
  assert.match(String(one.details.firstFailure), /File too large|EFBIG|OSError/);
  const many = await attack(
    "def f():\n    for i in range(100):\n        with open('/tmp/f%d' % i, 'wb') as fh:\n            fh.write(b'x' * (10 << 20))\n    return True",
  );
  assert.equal(many.score, 0);
  assert.match(String(many.details.firstFailure), /No space left on device/);
  const shm = await attack(
    "def f():\n    for i in range(100):\n        with open('/dev/shm/f%d' % i, 'wb') as fh:\n            fh.write(b'x' * (10 << 20))\n    return True",
  );
  assert.equal(shm.score, 0);
  await healthy();
});

test("network: no route to a host service on localhost, nor to the internet", async () => {
  let connections = 0;
  const server = net.createServer((s) => {
    connections++;
    s.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  try {
    const r = await attack(
      `import socket\ndef f():\n    for host, port in [("127.0.0.1", ${port}), ("1.1.1.1", 80), ("localhost", ${port})]:\n` +
        "        try:\n            socket.create_connection((host, port), timeout=0.5).close()\n            return True\n        except OSError:\n            pass\n    return False",
    );
    assert.equal(r.score, 0);
    assert.equal(r.details.rule, "wrong-answer");
    assert.equal(connections, 0);
  } finally {
    server.close();
  }
});

test("host secrets: no host environment, no /root, /etc/shadow, home or host temp files, no runner memory", async () => {
  process.env.CELLRL_ADVERSARIAL_SECRET = "s3cr3t-value-" + process.pid;
  try {
    const probes = [
      `any("s3cr3t-value" in v for v in os.environ.values())`,
      `"CELLRL_ADVERSARIAL_SECRET" in os.environ`,
      `readable("/etc/shadow")`,
      `listable("/root")`,
      `listable("/home")`,
      `listable("/work")`,
      `readable(${JSON.stringify(hostSecretFile)})`,
      `readable("/proc/1/environ") and b"s3cr3t" in open("/proc/1/environ", "rb").read()`,
      `readable("/proc/1/mem")`,
      `listable("/proc/1/fd")`,
      `os.getuid() == 0`,
    ];
    const body =
      "import os\n" +
      "def readable(p):\n    try:\n        open(p, 'rb').read(1)\n        return True\n    except OSError:\n        return False\n" +
      "def listable(p):\n    try:\n        return len(os.listdir(p)) > 0\n    except OSError:\n        return False\n" +
      `def f():\n    hits = [i for i, ok in enumerate([${probes.join(", ")}]) if ok]\n    return True if hits else hits`;
    const r = await attack(body);
    assert.equal(r.score, 0);
    // The failing assert shows `f() is True` was False: the list of probes that worked is empty.
    assert.equal(r.details.rule, "wrong-answer", String(r.details.firstFailure));
    // Each probe on its own, so a leak names itself.
    for (const p of probes) {
      const one = await attack(body.replace(/hits = \[.*\]\n/, `hits = [0] if (${p}) else []\n`));
      assert.equal(one.score, 0, `leak: ${p}`);
    }
  } finally {
    delete process.env.CELLRL_ADVERSARIAL_SECRET;
  }
});

test("writing outside the private temp dir fails, and nothing reaches the host", async () => {
  const target = path.join(hostDir, "pwned.txt");
  const r = await attack(
    "import os\ndef f():\n    ok = False\n" +
      `    for p in ["/usr/cellrl_pwned", "/etc/cellrl_pwned", "/cellrl_pwned", "/dev/cellrl_pwned", "/proc/cellrl_pwned", ${JSON.stringify(target)}]:\n` +
      "        try:\n            os.makedirs(os.path.dirname(p), exist_ok=True)\n            open(p, 'w').write('x')\n            ok = ok or not p.startswith('/tmp/')\n        except OSError:\n            pass\n" +
      "    return ok",
  );
  assert.equal(r.score, 0);
  assert.equal(fs.existsSync(target), false);
  assert.equal(fs.existsSync("/cellrl_pwned"), false);
});

test("killing its parent, init and everything it can see leaves the host and the sandbox running", async () => {
  // A host process owned by the sandbox's uid: visible to it only if the pid namespace leaked.
  const sentinel = spawn("sleep", ["30"], {
    stdio: "ignore",
    ...(process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}),
  });
  try {
    const r = await attack(
      "import os, signal\ndef f():\n    for pid in (os.getppid(), 1, -1):\n        try:\n            os.kill(pid, signal.SIGKILL)\n        except OSError:\n            pass\n" +
        "    os._exit(0)",
    );
    assert.equal(r.score, 0);
    assert.equal(sentinel.exitCode, null);
    assert.equal(sentinel.signalCode, null);
    assert.doesNotThrow(() => process.kill(sentinel.pid!, 0));
    await healthy();
  } finally {
    sentinel.kill("SIGKILL");
  }
});

test("setsid + double fork escape: the daemon dies with the job", async () => {
  const marker = `cellrl-escape-marker-${process.pid}-${Date.now()}`;
  const r = await attack(
    "import os\ndef f():\n    if os.fork() == 0:\n        os.setsid()\n        if os.fork() == 0:\n" +
      `            os.execv("/usr/bin/python3", ["python3", "-c", "import time\\nwhile True: time.sleep(0.1)", "${marker}"])\n` +
      "        os._exit(0)\n    import time\n    time.sleep(0.3)\n    return False",
  );
  assert.equal(r.score, 0);
  const survivors = fs
    .readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker);
      } catch {
        return false;
      }
    });
  assert.deepEqual(survivors, []);
  await healthy();
});

test("stdout flood: cut at the output limit, fast", async () => {
  const t = Date.now();
  const r = await attack("import sys\ndef f():\n    while True:\n        sys.stdout.write('x' * 65536)");
  assert.equal(r.score, 0);
  assert.equal(r.details.rule, "output-limit");
  const s = await codeReward(
    fence("while True:\n    print('y' * 1000)"),
    { inputs: [""], outputs: ["1"] },
    undefined,
    OPTS,
  );
  assert.equal(s.details.rule, "output-limit");
  assert.ok(Date.now() - t < 10000);
});

test("exiting before the tests run never counts as passing", async () => {
  const gt = { test: "assert f() is True", entry_point: "f" };
  for (const program of [
    "import os\nos._exit(0)\ndef f():\n    return True",
    "import sys\nsys.exit(0)\ndef f():\n    return True",
    "import os\ndef f():\n    os._exit(0)",
    "import sys\ndef f():\n    sys.exit(0)",
    "import atexit, os\natexit.register(lambda: print('ok'))\ndef f():\n    os._exit(0)",
  ]) {
    const r = await codeReward(fence(program), gt, undefined, OPTS);
    assert.equal(r.score, 0, program);
    assert.notEqual(r.details.rule, "all-passed");
  }
  const partial = await codeReward(fence("import os\ndef f():\n    os._exit(0)"), gt, undefined, {
    ...OPTS,
    partial: true,
  });
  assert.equal(partial.score, 0);
});

test(
  "dangerous system calls are refused by the seccomp filter (ptrace, bpf, io_uring, userfaultfd, keys, namespaces, mount)",
  { skip: process.arch !== "x64" && process.arch !== "arm64" },
  async () => {
    const nr =
      process.arch === "x64"
        ? {
            ptrace: 101,
            bpf: 321,
            io_uring_setup: 425,
            userfaultfd: 323,
            keyctl: 250,
            unshare: 272,
            mount: 165,
            perf_event_open: 298,
          }
        : {
            ptrace: 117,
            bpf: 280,
            io_uring_setup: 425,
            userfaultfd: 282,
            keyctl: 219,
            unshare: 97,
            mount: 40,
            perf_event_open: 241,
          };
    const calls = [
      `("ptrace", ${nr.ptrace}, (16, 1, 0, 0))`,
      `("bpf", ${nr.bpf}, (0, 0, 0))`,
      `("io_uring_setup", ${nr.io_uring_setup}, (1, 0))`,
      `("userfaultfd", ${nr.userfaultfd}, (0,))`,
      `("keyctl", ${nr.keyctl}, (0, -4))`,
      `("unshare", ${nr.unshare}, (0x00020000,))`,
      `("mount", ${nr.mount}, (b"none", b"/tmp", b"tmpfs", 0, 0))`,
      `("perf_event_open", ${nr.perf_event_open}, (0, 0, -1, -1, 0))`,
    ];
    // A call counts as getting through unless it failed with EPERM (1), the filter's answer.
    const body =
      "import ctypes\ndef f():\n    libc = ctypes.CDLL(None, use_errno=True)\n    through = []\n" +
      `    for name, nr, args in [${calls.join(", ")}]:\n` +
      "        if libc.syscall(nr, *args) != -1 or ctypes.get_errno() != 1:\n            through.append(name)\n" +
      "    return True if through else through";
    const r = await attack(body);
    assert.equal(r.score, 0);
    assert.equal(r.details.rule, "wrong-answer", String(r.details.firstFailure));
    // Without the filter io_uring_setup and keyctl get through here (checked by hand), so this test can fail.
    await healthy();
  },
);

test("a job that leaves processes or IPC objects behind gets a fresh sandbox; the next job is unaffected", async () => {
  // SysV shared memory outlives the process that made it; the runner notices and recycles the sandbox.
  const ipc = await attack(
    "import ctypes\ndef f():\n    libc = ctypes.CDLL(None)\n    return libc.shmget(1234, 4096, 0o1666) < 0",
  );
  assert.equal(ipc.score, 0);
  const check = await attack("import ctypes\ndef f():\n    return ctypes.CDLL(None).shmget(1234, 4096, 0o666) >= 0");
  assert.equal(check.score, 0, "a shared-memory segment from an earlier job was visible");
  // Files left in /tmp are wiped between jobs.
  await attack("def f():\n    open('/tmp/leftover', 'w').write('x')\n    return False");
  const seen = await attack("import os\ndef f():\n    return os.path.exists('/tmp/leftover')");
  assert.equal(seen.score, 0, "a file from an earlier job was visible");
});
