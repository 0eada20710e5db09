// The package as a user meets it outside a notebook: `require("cellrl")` / `import ... from "cellrl"` in a plain Node
// script (runtime and types, from the built dist/), and the `cellrl` binary that npm links. Needs `npm run build`
// (npm test builds first).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import ts from "typescript";

const ROOT = path.join(__dirname, "..", "..");
const built =
  fs.existsSync(path.join(ROOT, "dist", "index.js")) && fs.existsSync(path.join(ROOT, "dist", "index.d.ts"));
const skip = built ? false : "dist/ is missing: run `npm run build` first";

test("a plain Node script requires cellrl and computes with it (the built package, not the sources)", { skip }, () => {
  const script = [
    'const c = require("cellrl");',
    'if (!require.resolve("cellrl").endsWith(require("path").join("dist", "index.js"))) throw new Error("resolved " + require.resolve("cellrl"));',
    "(async () => {",
    "  const info = await c.useBackend();",
    '  const A = c.update.advantage("grpo", { rewards: [1, 0, 0, 1], groups: [0, 0, 0, 0] });',
    '  console.log(JSON.stringify({ backend: info.name, adv: Array.from(A), ns: ["model", "rollout", "reward", "update", "distill", "evals", "viz", "remote", "data", "tasks"].filter((k) => typeof c[k] === "object") }));',
    "})().catch((e) => { console.error(e); process.exit(1); });",
  ].join("\n");
  const r = spawnSync(process.execPath, ["-e", script], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
  assert.equal(out.backend, "wasm");
  assert.deepEqual(
    out.adv.map((x: number) => Math.sign(x)),
    [1, -1, -1, 1],
  );
  assert.equal(out.ns.length, 10, `namespaces: ${out.ns}`);
});

test(
  "a TypeScript file importing from cellrl type-checks against dist/index.d.ts, and a wrong call does not",
  { skip },
  () => {
    fs.mkdirSync(path.join(ROOT, "build"), { recursive: true }); // inside the repo, so "cellrl" resolves to this package
    const dir = fs.mkdtempSync(path.join(ROOT, "build", ".typecheck-"));
    try {
      const good = path.join(dir, "good.ts"),
        bad = path.join(dir, "bad.ts");
      fs.writeFileSync(
        good,
        'import { update, model, type CellrlError } from "cellrl";\nconst A: Float32Array = update.advantage("grpo", { rewards: [1, 0], groups: [0, 0] });\nconst o: model.AdamWOptions = { lr: 1e-3 };\nexport const x: [Float32Array, model.AdamWOptions, CellrlError | null] = [A, o, null];\n',
      );
      fs.writeFileSync(
        bad,
        'import { update } from "cellrl";\nexport const y: string = update.advantage("grpo", { rewards: [1, 0], groups: [0, 0] });\n',
      );
      const options: ts.CompilerOptions = {
        strict: true,
        noEmit: true,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        target: ts.ScriptTarget.ES2022,
        skipLibCheck: true,
        types: ["node"],
      };
      const diags = (file: string) =>
        ts
          .getPreEmitDiagnostics(ts.createProgram([file], options))
          .filter((d) => d.file?.fileName === file)
          .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      assert.deepEqual(diags(good), []);
      const errs = diags(bad);
      assert.equal(errs.length, 1, errs.join("\n"));
      assert.match(errs[0], /Float32Array.*not assignable to type 'string'/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);

test("the cellrl binary npm links runs the CLI: --help lists the commands, a bad command exits 2", { skip }, () => {
  const bin = path.join(ROOT, "node_modules", ".bin", "cellrl");
  if (!fs.existsSync(bin))
    return assert.fail("node_modules/.bin/cellrl is missing: package.json's bin is not linked (run npm install)");
  const help = spawnSync(bin, ["--help"], { encoding: "utf8", timeout: 60_000 });
  assert.equal(help.status, 0, help.stderr);
  for (const cmd of ["grade-math", "score", "eval", "serve", "verl"])
    assert.match(help.stdout, new RegExp(`\\b${cmd}\\b`));
  const bad = spawnSync(bin, ["scroe"], { encoding: "utf8", timeout: 60_000 });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /score/);
});
