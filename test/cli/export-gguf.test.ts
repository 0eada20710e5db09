// `cellrl export-gguf`: a shipped checkpoint becomes a GGUF file whose header names its architecture, sizes and
// vocabulary; bad command lines exit 2 with the usage, a missing checkpoint exits 1 naming the path.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runCli } from "../../lib/cli/main.js";
import { readGgufHeader } from "../../lib/model/gguf-format.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-export-gguf-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const CKPT = path.join(__dirname, "..", "..", "datasets", "checkpoints", "sort5-base");

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const saved = { log: console.log, error: console.error };
  console.log = (...a: unknown[]) => void (out += a.join(" ") + "\n");
  console.error = (...a: unknown[]) => void (err += a.join(" ") + "\n");
  try {
    return { code: await runCli(args), out, err };
  } finally {
    Object.assign(console, saved);
  }
}

test("export-gguf writes the checkpoint with its tokenizer as the vocabulary", async () => {
  const file = path.join(tmp, "sort5.gguf");
  const r = await cli(["export-gguf", "--model", CKPT, "--output", file, "--name", "sort5"]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /wrote .*sort5\.gguf \(llama, 2 layers, hidden 64, vocab 41, 20 tensors/);
  const h = readGgufHeader(file);
  assert.equal(h.metadata["general.name"], "sort5");
  assert.equal(h.metadata["llama.embedding_length"], 64);
  assert.deepEqual((h.metadata["tokenizer.ggml.tokens"] as string[]).slice(0, 5), [
    "<pad>",
    "<bos>",
    "<eos>",
    "Ġ",
    "0",
  ]);
  const r2 = await cli(["export-gguf", "--model", CKPT, "--output", path.join(tmp, "ids.gguf"), "--no-tokenizer"]);
  assert.equal(r2.code, 0, r2.err);
  assert.equal((readGgufHeader(path.join(tmp, "ids.gguf")).metadata["tokenizer.ggml.tokens"] as string[])[3], "[3]");
});

test("export-gguf: usage errors exit 2, a missing checkpoint exits 1, nothing is written", async () => {
  for (const [args, msg] of [
    [["--output", path.join(tmp, "a.gguf")], /--model is missing/],
    [["--model", CKPT], /--output is missing/],
    [["--model", CKPT, "--output", path.join(tmp, "a.bin")], /must end in \.gguf/],
  ] as [string[], RegExp][]) {
    const r = await cli(["export-gguf", ...args]);
    assert.equal(r.code, 2);
    assert.match(r.err, msg);
    assert.match(r.err, /Usage:/);
  }
  const r = await cli(["export-gguf", "--model", path.join(tmp, "nope"), "--output", path.join(tmp, "b.gguf")]);
  assert.equal(r.code, 1);
  assert.match(r.err, /nope is not a checkpoint directory/);
  assert.ok(!fs.existsSync(path.join(tmp, "a.gguf")) && !fs.existsSync(path.join(tmp, "b.gguf")));
});
