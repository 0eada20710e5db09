// docs/api.md is generated from lib/index.ts and the TSDoc of each export (scripts/api-docs.ts): regenerating it in
// memory must give the committed file, so the signature reference cannot drift from the code.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { API_DOCS_PATH, collectApi, renderApi } from "../../scripts/api-docs.js";

const sections = collectApi();

test("docs/api.md matches the exports and TSDoc of lib/index.ts", () => {
  const want = renderApi(sections);
  const have = fs.existsSync(API_DOCS_PATH) ? fs.readFileSync(API_DOCS_PATH, "utf8") : "";
  if (have === want) return;
  const a = have.split("\n");
  const b = want.split("\n");
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  assert.fail(
    `docs/api.md is stale: run \`npm run docs:api\` and commit it (first difference at line ${i + 1}: ` +
      `have ${JSON.stringify(a[i] ?? "<end of file>")}, generated ${JSON.stringify(b[i] ?? "<end of file>")}).`,
  );
});

test("every public export has a TSDoc line (CONTRIBUTING: one TSDoc line per export)", () => {
  const missing = sections.flatMap((s) =>
    s.entries.filter((e) => !e.summary && !e.aliasOf).map((e) => s.prefix + e.name),
  );
  assert.ok(
    sections.some((s) => s.entries.length > 0),
    "expected scripts/api-docs.ts to find the exports of lib/index.ts",
  );
  assert.deepEqual(
    missing,
    [],
    `exports without a TSDoc comment: ${missing.join(", ")}. Add a /** one line */ above each.`,
  );
});

test("every `namespace.name` the README and the guides mention is a public export", () => {
  const known = new Set(sections.flatMap((s) => s.entries.map((e) => s.prefix + e.name)));
  const root = path.join(__dirname, "..", "..");
  const files = [
    "README.md",
    ...fs
      .readdirSync(path.join(root, "docs"))
      .filter((f) => f.endsWith(".md") && f !== "api.md")
      .map((f) => `docs/${f}`),
  ];
  // `ns.name` not followed by `.x` (HF tensor names, file names, deeper members are not checked) nor by `:` (a message prefix)
  const re =
    /(?<![\w.$/-])(model|data|tasks|reward|rollout|update|distill|evals|viz|remote)\.([A-Za-z]\w*)(?![\w:]|\.\w)/g;
  const bad: string[] = [];
  for (const file of files)
    fs.readFileSync(path.join(root, file), "utf8")
      .split("\n")
      .forEach((line, i) => {
        // verl / HF config lines (rollout.n, rollout.temperature next to data.max_response_length) share the spelling
        if (/`actor\.|actor_rollout_ref\.|\w\.[a-z]+_[a-z_]+/.test(line)) return;
        for (const [, ns, name] of line.matchAll(re)) {
          if (name!.includes("_") || /^(md|ts|py|json|jsonl|yaml|rst|txt|safetensors)$/.test(name!)) continue; // snake_case: verl / HF names
          if (!known.has(`${ns}.${name}`)) bad.push(`${file}:${i + 1}: ${ns}.${name}`);
        }
      });
  assert.deepEqual(
    bad,
    [],
    `the docs name exports that do not exist (renamed or made internal?); see docs/api.md:\n${bad.join("\n")}`,
  );
});
