// Kill test (issue 18): a process saving a checkpoint in a loop is killed with SIGKILL at a random moment, several
// times; the checkpoint must stay loadable (the last complete save, or the previous one put back), and the hidden
// temp directories the killed saves left must be gone after the next load and save.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Rng } from "../../lib/core/random.js";
import { loadCheckpoint, saveCheckpoint } from "../../lib/model/checkpoint.js";

const ROOT = path.join(__dirname, "..", "..");
const KILLS = Number(process.env.CELLRL_KILL_ROUNDS ?? 5);

const child = (dir: string) => `
import { presets } from ${JSON.stringify(path.join(ROOT, "lib/model/config.ts"))};
import { LlamaModel } from ${JSON.stringify(path.join(ROOT, "lib/model/llama.ts"))};
import { saveCheckpoint } from ${JSON.stringify(path.join(ROOT, "lib/model/checkpoint.ts"))};
const m = new LlamaModel({ ...presets.tiny, num_hidden_layers: 8 });
for (let i = 0; ; i++) {
  saveCheckpoint(${JSON.stringify(dir)}, m, { extra: { i } });
  process.stdout.write("saved " + i + "\\n");
}
`;

test(`a save loop killed with SIGKILL ${KILLS} times: it stays loadable, leftovers are cleaned`, async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cellrl-ckpt-kill-"));
  try {
    const dir = path.join(tmp, "ckpt");
    const script = path.join(tmp, "save-loop.ts");
    fs.writeFileSync(script, child(dir));
    const rng = new Rng(18);
    let leftovers = 0;
    for (let round = 0; round < KILLS; round++) {
      const p = spawn(process.execPath, ["--import", "tsx", script], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
      let err = "";
      p.stderr.on("data", (d) => (err += d));
      const exited = new Promise<NodeJS.Signals | null>((r) => p.on("exit", (_c, s) => r(s)));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no save within 120 s: ${err}`)), 120_000);
        p.stdout.on("data", () => {
          clearTimeout(timer);
          resolve();
        });
        p.on("exit", () => reject(new Error(`the save loop exited: ${err}`)));
      });
      await new Promise((r) => setTimeout(r, rng.int(120)));
      p.kill("SIGKILL");
      assert.equal(await exited, "SIGKILL");
      leftovers = fs.readdirSync(tmp).filter((f) => f.startsWith(".ckpt.")).length;
      t.diagnostic(`round ${round}: ${leftovers} hidden temp directories next to the checkpoint`);
    }
    assert.ok(leftovers > 0, "the kills landed inside saves (else this test proves nothing)");
    const { model, extra } = loadCheckpoint(dir);
    assert.equal(typeof (extra as { i: number }).i, "number");
    assert.deepEqual(
      fs.readdirSync(tmp).filter((f) => f.startsWith(".ckpt.")),
      [],
      "the load removed the killed saves' temp directories",
    );
    saveCheckpoint(dir, model);
    model.dispose();
    assert.deepEqual(fs.readdirSync(tmp).sort(), ["ckpt", "save-loop.ts"]);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
