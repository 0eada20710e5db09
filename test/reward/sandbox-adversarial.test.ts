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
    "import os, tempfile\ndef f():\n    with open(os.path.join(tempfile.gettempdir(), 'big'), 'wb') as fh:\n        for _ in range(200):\n            fh.write(b'x' * (1 << 20))\n    return True",
  );
  assert.equal(one.score, 0);
  assert.match(String(one.details.firstFailure), /File too large|EFBIG|OSError/);
  const many = await attack(
    "import os, tempfile\ndef f():\n    for i in range(100):\n        with open(os.path.join(tempfile.gettempdir(), 'f%d' % i), 'wb') as fh:\n            fh.write(b'x' * (10 << 20))\n    return True",
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

// ---- Reward forgery (issue 18): each of these scored 1 with no solution before the fix. ----

/** Score of `program` on a stdin/stdout problem whose answers the program cannot compute (they are arbitrary). */
const stdio = (program: string, outputs: string[], options: CodeRewardOptions = {}) =>
  codeReward(fence(program), { inputs: outputs.map(() => "0\n"), outputs }, undefined, { ...OPTS, ...options });

test("stdio: the output cap tells nothing about the expected output (stack frames, gc, argv, env, files)", async () => {
  // Before: the runner's per-test cap was 2 * len(expected) + 4096 and sat in its stack frame and in the job dict.
  const byCap =
    "import gc, sys\ncaps = []\nf = sys._getframe()\nwhile f is not None:\n" +
    "    for v in list(f.f_locals.values()):\n        if isinstance(v, dict) and isinstance(v.get('cap'), int):\n" +
    "            caps.append(v['cap'])\n    f = f.f_back\n" +
    "for o in gc.get_objects():\n    if isinstance(o, dict) and isinstance(o.get('cap'), int) and 'input' in o:\n" +
    "        caps.append(o['cap'])\n" +
    "c = caps[0] if caps else 0\nprint('YES' if (c - 4096) // 2 == 3 else 'NO')";
  const r = await stdio(byCap, ["YES", "NO", "NO", "YES"]);
  assert.equal(r.score, 0, `forged by the output cap: ${JSON.stringify(r.details.statuses)}`);
  // Nothing in argv, the environment or the file system names an expected output.
  const leak = await stdio(
    "import os, sys\nseen = ' '.join(sys.argv) + ' '.join(os.environ.values())\n" +
      "for d, _, fs in os.walk('/tmp'):\n    for n in fs:\n        seen += open(os.path.join(d, n), errors='replace').read()\n" +
      "print('YES' if 'zq-expected-7' in seen else 'NO')",
    ["YES"],
    { tmpSizeMb: 64 },
  );
  assert.equal(leak.score, 0);
  await healthy();
});

test("call-based: the returned-value cap tells nothing about the expected value", async () => {
  const program =
    "import sys\nclass Solution:\n    def f(self, x):\n        fr = sys._getframe(1)\n        while fr is not None:\n" +
    "            loc = fr.f_locals\n            if 'caps' in loc and 'i' in loc:\n" +
    "                return (loc['caps'][loc['i']] - 4096) // 2 == 4\n            fr = fr.f_back\n        return None";
  const r = await codeReward(
    fence(program),
    { inputs: ["1", "2", "3"], outputs: ["true", "false", "true"], fn_name: "f" },
    undefined,
    OPTS,
  );
  assert.equal(r.score, 0, `forged by the cap: ${JSON.stringify(r.details.statuses)}`);
});

test("functional: forging the pass protocol from inside the program never passes", async () => {
  const gt = { test: "assert f() == 987654321\nassert f() != 987654321 or True", entry_point: "f" };
  const forgeries = [
    // The runner's nonce, reachable as __main__.NONCE, then a forged report on fd 3 and a quiet exit.
    "import os, sys\nm = sys.modules['__main__']\nn = getattr(m, 'NONCE', '')\n" +
      "for i in (-1, 0, 1):\n    try:\n        os.write(3, ('%s %d ok \"\"\\n' % (n, i)).encode())\n    except OSError:\n        pass\n" +
      "os._exit(0)\ndef f():\n    return 0",
    // The same from inside the call.
    "import os, sys\ndef f():\n    n = getattr(sys.modules['__main__'], 'NONCE', '')\n    for i in (0, 1):\n" +
      "        try:\n            os.write(3, ('%s %d ok \"\"\\n' % (n, i)).encode())\n        except OSError:\n            pass\n" +
      "    os._exit(0)",
    // exec replaced by a no-op: every test unit 'passes' without running.
    "import builtins\nbuiltins.exec = lambda *a, **k: None\ndef f():\n    return 0",
    // eval/compile replaced too.
    "import builtins\nbuiltins.compile = lambda *a, **k: compile('pass', 'x', 'exec')\nbuiltins.exec = lambda *a, **k: None\n" +
      "def f():\n    return 0",
    // A value equal to everything.
    "class Any:\n    def __eq__(self, o):\n        return True\n    def __ne__(self, o):\n        return False\n" +
      "    __hash__ = object.__hash__\ndef f():\n    return Any()",
    // An int subclass equal to everything.
    "class I(int):\n    def __eq__(self, o):\n        return True\n    __hash__ = int.__hash__\ndef f():\n    return I(1)",
    // AssertionError swallowed: the test's assert raises something the harness ignores.
    "import builtins\nclass Quiet(BaseException):\n    pass\nbuiltins.AssertionError = Quiet\ndef f():\n    return 0",
    // sys.settrace / excepthook tampering, then a crash.
    "import sys\nsys.excepthook = lambda *a: None\ndef f():\n    raise SystemExit(0)",
  ];
  for (const program of forgeries) {
    const r = await codeReward(fence(program), gt, undefined, OPTS);
    assert.equal(r.score, 0, `forged (${r.details.rule}): ${program}`);
    // With partial credit the second assert passes on its own; the first must not.
    const p = await codeReward(fence(program), gt, undefined, { ...OPTS, partial: true });
    assert.notEqual((p.details.statuses as string[])[0], "pass", `forged with partial credit: ${program}`);
  }
  // A StopIteration raised by the program would end the test's map() early, and all(...) of nothing is True.
  const stop = await codeReward(
    fence("def f(x):\n    raise StopIteration"),
    { test: "assert all(map(lambda x: f(x) == 987654321, [1, 2]))", entry_point: "f" },
    undefined,
    OPTS,
  );
  assert.equal(stop.score, 0, String(stop.details.rule));
  await healthy();
});

test("functional: the program cannot read the test code (frames, gc, memory scan, an earlier job's memory)", async () => {
  const gt = { test: "assert f() == 918273645", entry_point: "f" };
  const readers = [
    // Frames and gc: the job dict, the test source, compiled units.
    "import gc, re, sys\ndef f():\n    texts = []\n    fr = sys._getframe()\n    while fr is not None:\n" +
      "        texts += [v for v in fr.f_locals.values() if isinstance(v, (str, dict, list))]\n        fr = fr.f_back\n" +
      "    texts += [o for o in gc.get_objects() if isinstance(o, (dict, list))]\n" +
      "    m = re.search(r'== (\\d{6,})', repr(texts))\n    return int(m.group(1)) if m else None",
    // Raw memory: every writable mapping of the process.
    "import re\ndef f():\n    pat = re.compile(rb'f\\(\\) ' + rb'== (\\d{6,})')\n" +
      "    with open('/proc/self/maps') as m, open('/proc/self/mem', 'rb', 0) as mem:\n        for line in m:\n" +
      "            parts = line.split()\n            if 'rw' not in parts[1] and 'r' not in parts[1][:1]:\n                continue\n" +
      "            a, b = (int(x, 16) for x in parts[0].split('-'))\n            try:\n" +
      "                mem.seek(a)\n                hit = pat.search(mem.read(b - a))\n            except Exception:\n" +
      "                continue\n            if hit:\n                return int(hit.group(1))\n    return None",
  ];
  for (const program of readers) {
    // Twice: the second run also sees whatever the first left in the warm sandbox.
    for (let k = 0; k < 2; k++) {
      const r = await codeReward(fence(program), gt, undefined, OPTS);
      assert.equal(r.score, 0, `read the expected value (run ${k}): ${program.slice(0, 60)}`);
    }
  }
});

test("call-based results are compared as Python does: big integers exactly", async () => {
  const gt = { inputs: ["1"], outputs: ["12345678901234567890"], fn_name: "f" };
  const near = await codeReward(fence("def f(x):\n    return 12345678901234567891"), gt, undefined, OPTS);
  assert.equal(near.score, 0, "12345678901234567891 == 12345678901234567890 in JavaScript doubles, not in Python");
  const right = await codeReward(fence("def f(x):\n    return 12345678901234567890"), gt, undefined, OPTS);
  assert.equal(right.score, 1, String(right.details.firstFailure));
  const float = await codeReward(fence("def f(x):\n    return 12345678901234567890.0"), gt, undefined, OPTS);
  assert.equal(float.score, 0, "float(12345678901234567890) != 12345678901234567890 in Python");
  const huge = await codeReward(
    fence("def f(x):\n    return 10 ** 5000 + 1"),
    { inputs: ["1"], outputs: ["1" + "0".repeat(4999) + "1"], fn_name: "f" },
    undefined,
    OPTS,
  );
  assert.equal(huge.score, 1, String(huge.details.firstFailure));
});

test("warm sandbox: a nest deeper than PATH_MAX holding 60 MB neither survives nor fills the next job's /tmp", async () => {
  const deep =
    "import os\ndef f():\n    os.chdir('/tmp')\n    for _ in range(120):\n        os.mkdir('d' * 60)\n        os.chdir('d' * 60)\n" +
    "    open('note', 'w').write('from the earlier job')\n" +
    "    with open('fill', 'wb') as fh:\n        for _ in range(60):\n            fh.write(b'x' * (1 << 20))\n    return False";
  const r = await attack(deep, { tmpSizeMb: 64, fileSizeMb: 64 });
  assert.equal(r.score, 0);
  // The next job, in the same warm sandbox: sees nothing, and can use the whole /tmp.
  const next = await attack(
    "import os, tempfile\ndef f():\n    tmp = tempfile.gettempdir()\n" +
      "    if os.listdir(tmp):\n        return os.listdir(tmp)\n" +
      "    with open(os.path.join(tmp, 'mine'), 'wb') as fh:\n        for _ in range(40):\n            fh.write(b'y' * (1 << 20))\n    return True",
    { tmpSizeMb: 64, fileSizeMb: 64 },
  );
  assert.equal(next.score, 1, `the next job was hurt: ${JSON.stringify(next.details.firstFailure)}`);
});

test("one job cannot zero the next one: rlimits, priority or a stopped process left on the runner", async () => {
  const tamper = [
    "import resource\ndef f():\n    for pid in range(1, 64):\n        try:\n" +
      "            resource.prlimit(pid, resource.RLIMIT_AS, (8 << 20, 8 << 20))\n        except (OSError, ValueError):\n            pass\n    return False",
    "import resource\ndef f():\n    for pid in range(1, 64):\n        try:\n" +
      "            resource.prlimit(pid, resource.RLIMIT_NOFILE, (4, 4))\n            resource.prlimit(pid, resource.RLIMIT_NPROC, (1, 1))\n" +
      "        except (OSError, ValueError):\n            pass\n    return False",
    "import os, signal\ndef f():\n    for pid in range(2, 64):\n        if pid != os.getpid():\n            try:\n" +
      "                os.kill(pid, signal.SIGSTOP)\n            except OSError:\n                pass\n    return False",
    "import os\ndef f():\n    for pid in range(1, 64):\n        try:\n            os.setpriority(os.PRIO_PROCESS, pid, 19)\n" +
      "            os.sched_setaffinity(pid, {0})\n        except OSError:\n            pass\n    return False",
  ];
  for (const body of tamper) {
    const r = await attack(body);
    assert.equal(r.score, 0);
    await healthy();
    const s = await stdio("print(input())", ["0"]);
    assert.equal(s.score, 1, `stdio after ${body.slice(0, 50)}: ${JSON.stringify(s.details.firstFailure)}`);
  }
});

test("memory is limited for the whole sandbox: forked children do not each get memoryMb", async () => {
  // 4 children each holding 150 MB under memoryMb 256: together 600 MB.
  const r = await attack(
    "import os, time\ndef f():\n    kids = []\n    for _ in range(4):\n        pid = os.fork()\n        if pid == 0:\n" +
      "            try:\n                x = b'x' * (150 << 20)\n                time.sleep(1.0)\n                os._exit(0)\n" +
      "            except BaseException:\n                os._exit(1)\n        kids.append(pid)\n" +
      "    return all(os.waitpid(p, 0)[1] == 0 for p in kids)",
    { memoryMb: 256, timeoutMs: 4000 },
  );
  assert.equal(r.score, 0, "4 x 150 MB fit under a 256 MB sandbox limit");
  await healthy();
});

test("functional: the program cannot get code into the tester (a module planted in /tmp, a forged or flooded reply, killing it)", async () => {
  // The test imports a module nothing imported yet; the program plants one of that name in the working directory.
  const gt = { test: "import colorsys\nassert f() == 918273645", entry_point: "f" };
  const plant =
    'src = \'import os\\nos.write(3, b"-1 ok \\\\"\\\\"\\\\n0 ok \\\\"\\\\"\\\\n")\\nos._exit(0)\\n\'\n' +
    "for d in ('/tmp', '.'):\n    open(d + '/colorsys.py', 'w').write(src)\ndef f():\n    return 0";
  const planted = await codeReward(fence(plant), gt, undefined, OPTS);
  assert.equal(planted.score, 0, `a planted module ran in the tester: ${planted.details.rule}`);
  const protocol = [
    // Replies written ahead, garbage, a flood on the socket, then silence.
    "import os\nos.write(3, b'{\"v\": true}\\n' * 5 + b'garbage\\n')\ndef f():\n    return 0",
    "import os\ndef f():\n    os.write(3, b'{\"v\": ' + b'[' * 100000 + b'\\n')\n    return 0",
    "import os\ndef f():\n    while True:\n        os.write(3, b'x' * 65536)",
    // Every process it can see, killed (the tester among them), then a quiet exit.
    "import os, signal\ndef f():\n    for p in range(2, 200):\n        if p != os.getpid():\n            try:\n" +
      "                os.kill(p, signal.SIGKILL)\n            except OSError:\n                pass\n    os._exit(0)",
  ];
  for (const program of protocol) {
    const r = await codeReward(fence(program), { test: "assert f() == 918273645", entry_point: "f" }, undefined, OPTS);
    assert.equal(r.score, 0, `${r.details.rule}: ${program.slice(0, 60)}`);
    await healthy();
  }
});
