// `cellrl serve` as a user runs it: a child process on a free loopback port serving a checkpoint saved here, used
// through RemotePolicy, then stopped with SIGTERM (exit 0). Every wait is bounded; the child is always killed.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ChildProcess } from "node:child_process";
import { saveCheckpoint } from "../../lib/model/checkpoint.js";
import { generate } from "../../lib/model/generate.js";
import { Rng } from "../../lib/core/random.js";
import { RemotePolicy } from "../../lib/remote/remote-policy.js";
import { startCli } from "../cli/run-cli.js";
import { runCli } from "../../lib/cli/main.js";
import { setup, tinyModel, tok } from "./helpers.js";

let dir = "";
let child: ChildProcess | null = null;
before(async () => {
  await setup();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-serve-"));
});
after(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  fs.rmSync(dir, { recursive: true, force: true });
});

function firstLine(c: ChildProcess, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = "";
    const t = setTimeout(() => reject(new Error(`no startup line within ${ms} ms; stdout so far: ${buf}`)), ms);
    c.stdout!.on("data", (d) => {
      buf += d;
      const i = buf.indexOf("\n");
      if (i >= 0) {
        clearTimeout(t);
        resolve(buf.slice(0, i));
      }
    });
    c.once("exit", (code) => {
      clearTimeout(t);
      reject(new Error(`cellrl serve exited early (code ${code}); stdout: ${buf}`));
    });
  });
}

test("cellrl serve --model DIR --port 0: answers the OpenAI API on 127.0.0.1 and stops cleanly on SIGTERM", async () => {
  const m = tinyModel(5);
  const ckpt = path.join(dir, "tiny");
  saveCheckpoint(ckpt, m, { tokenizer: tok });
  const run = startCli([
    "serve",
    "--model",
    ckpt,
    "--port",
    "0",
    "--served-model-name",
    "tiny-ckpt",
    "--max-logprobs",
    "5",
  ]);
  child = run.child;
  const line = await firstLine(run.child, 60_000);
  const url = /at (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(line)?.[1];
  assert.ok(url, line);
  const policy = await RemotePolicy.connect(url, { timeoutMs: 20_000, retries: 0 });
  assert.equal(policy.name, "remote:tiny-ckpt");
  const out = await policy.generate(["12+3=", "4="], { n: 2, maxNewTokens: 5, seed: 9 });
  // the served weights are the saved ones: same samples as the in-memory model with the same per-prompt seed
  const local = generate(m, [tok.encode("12+3=")], {
    n: 2,
    maxNewTokens: 5,
    seed: new Rng(9).nextU32() >>> 1,
    tokenizer: tok,
  });
  assert.deepEqual(out.ids.slice(0, 2), local.ids);
  // the command streams too: the same samples as server-sent events
  const streaming = await RemotePolicy.connect(url, { timeoutMs: 20_000, retries: 0, stream: true });
  assert.deepEqual(await streaming.generate(["12+3=", "4="], { n: 2, maxNewTokens: 5, seed: 9 }), out);
  streaming.close();
  await assert.rejects(
    policy.score({ ids: [tok.encode("1+2=3")] }, { topK: 6 }),
    /HTTP 400: \"Requested prompt logprobs of 6, which is greater than max allowed: 5\.\".*start vLLM with --max-logprobs K \(cellrl serve: --max-logprobs K\)/,
  );
  policy.close();
  m.dispose();
  run.child.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const done = await Promise.race([run.done, new Promise<null>((r) => (timer = setTimeout(() => r(null), 20_000)))]);
  clearTimeout(timer);
  assert.ok(done, "cellrl serve did not stop within 20 s of SIGTERM");
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stderr, /POST \/v1\/completions 200/);
  assert.match(done.stderr, /stopped after \d+ requests/);
});

test("cellrl serve: a missing --model is a usage error; a directory without a tokenizer says how to save one", async () => {
  const errs: string[] = [];
  const orig = console.error;
  console.error = (...a: unknown[]) => void errs.push(a.join(" "));
  try {
    assert.equal(await runCli(["serve"]), 2);
    assert.match(errs.join("\n"), /--model is missing/);
    const bare = path.join(dir, "bare");
    const m = tinyModel(6);
    saveCheckpoint(bare, m);
    m.dispose();
    errs.length = 0;
    assert.equal(await runCli(["serve", "--model", bare, "--port", "0"]), 1);
    assert.match(
      errs.join("\n"),
      /has no tokenizer\.json .* Save it with model\.saveCheckpoint\(dir, m, \{tokenizer\}\)/,
    );
    errs.length = 0;
    assert.equal(await runCli(["serve", "--model", bare, "--chat-template", "nope"]), 2);
    assert.match(errs.join("\n"), /--chat-template must be qwen2\.5, chatml, plain or a Jinja file/);
  } finally {
    console.error = orig;
  }
});
