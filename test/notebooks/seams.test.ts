// The notebooks are written on the library's seams: verl records go into rollout.sample, reward.score(ro) grades every
// row against its own record, update.step cuts per-row fields to the micro-batch. So no notebook digs the prompt text
// out of a record, re-joins completions to records by hand, or slices rows itself. And the shipped checkpoints' chat
// templates render a task record as its question text, the text the tiny models were fine-tuned on: sampling records
// gives the notebooks the same prompts (and RESULT lines) as sampling the raw text did.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadTokenizer } from "../../lib/model/tokenizer-io.js";
import { chatPrompts } from "../../lib/model/chat-template.js";
import { records as taskRecords } from "../../lib/tasks/registry.js";
import { question } from "../../lib/data/record.js";

const ROOT = path.resolve(__dirname, "..", "..");
const NOTEBOOKS = path.join(ROOT, "notebooks");
const CHECKPOINTS = path.join(ROOT, "datasets", "checkpoints");

const codeCells = (file: string) =>
  (JSON.parse(fs.readFileSync(path.join(NOTEBOOKS, file), "utf8")) as { cells: { cell_type: string; source: string[] }[] }).cells
    .filter((c) => c.cell_type === "code")
    .map((c) => c.source.join(""));

test("no notebook reads prompt[0].content, re-joins rows to records, or calls update.take", () => {
  const banned: [RegExp, string][] = [
    [/prompt\)?(\s+as\s+any\)?)?\[0\]\.content/, "prompt[0].content (pass the records to rollout.sample; data.question(rec) for the text)"],
    [/\b\w*[rR]ecs\[\w+\.group\[/, "recs[ro.group[i]] (reward.score(ro) grades each row against its record; ro.table has data_source/ground_truth)"],
    [/update\.take\b/, "update.take (pass the per-row fields to update.step)"],
    [/\bscoreResponseSync\(\w+\[\w+\.group\[/, "a per-row reward.scoreResponseSync re-join (use reward.scoreSync(ro))"],
  ];
  const found: string[] = [];
  for (const file of fs.readdirSync(NOTEBOOKS).filter((f) => f.endsWith(".ipynb")).sort())
    codeCells(file).forEach((src, i) => {
      for (const [re, what] of banned) if (re.test(src)) found.push(`${file} code cell ${i}: ${what}`);
    });
  assert.deepEqual(found, []);
});

test("each shipped checkpoint's chat template renders a task record as its question text", () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(CHECKPOINTS, "manifest.json"), "utf8")) as {
    checkpoints: { name: string; dir: string; data: { task: string; knobs: Record<string, unknown> } }[];
  };
  for (const c of manifest.checkpoints) {
    const tok = loadTokenizer(path.join(CHECKPOINTS, c.dir));
    const recs = taskRecords(c.data.task, 20, { seed: 3, ...c.data.knobs });
    const { texts, format } = chatPrompts(
      recs.map((r) => r.prompt),
      { tokenizer: tok },
    );
    assert.equal(format, "tokenizer chat template", `${c.name} ships a chat template`);
    assert.deepEqual(texts, recs.map(question), `${c.name}: the template must write the question as it is`);
  }
});
