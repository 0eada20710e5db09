// Every relative link in README.md, CONTRIBUTING.md and docs/*.md must point to a file of the repository (not to
// ../shared/..., not to a build output), and a #fragment into a markdown file must name one of its headings.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.join(__dirname, "..", "..");
const IGNORED = ["node_modules", "dist", "build", ".jupyter", "test/output"];

function docFiles(): string[] {
  const docs = fs
    .readdirSync(path.join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`);
  return ["README.md", "CONTRIBUTING.md", ...docs].filter((f) => fs.existsSync(path.join(ROOT, f)));
}

/** Markdown links outside code: inline `[text](target)` and reference definitions `[id]: target`. */
export function linksOf(markdown: string): { target: string; line: number }[] {
  const out: { target: string; line: number }[] = [];
  let fenced = false;
  markdown.split("\n").forEach((raw, i) => {
    if (/^\s*(```|~~~)/.test(raw)) fenced = !fenced;
    if (fenced) return;
    const line = raw.replace(/`[^`]*`/g, "");
    for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g))
      out.push({ target: m[1]!, line: i + 1 });
    const def = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(line);
    if (def) out.push({ target: def[1]!, line: i + 1 });
  });
  return out;
}

/** GitHub's heading anchors of a markdown file. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const h = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const base = h[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const k = seen.get(base) ?? 0;
    seen.set(base, k + 1);
    out.add(k === 0 ? base : `${base}-${k}`);
  }
  return out;
}

test("every relative link in README.md, CONTRIBUTING.md and docs/*.md resolves to a file in the repo", () => {
  const bad: string[] = [];
  let checked = 0;
  for (const file of docFiles()) {
    const text = fs.readFileSync(path.join(ROOT, file), "utf8");
    for (const { target, line } of linksOf(text)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      checked++;
      const [rel, fragment] = target.split("#") as [string, string | undefined];
      const abs = rel === "" ? path.join(ROOT, file) : path.resolve(ROOT, path.dirname(file), decodeURIComponent(rel));
      const inRepo = path.relative(ROOT, abs);
      const where = `${file}:${line} -> ${target}`;
      if (inRepo.startsWith("..") || path.isAbsolute(inRepo)) bad.push(`${where} (outside the repository)`);
      else if (IGNORED.some((d) => inRepo === d || inRepo.startsWith(d + path.sep)))
        bad.push(`${where} (a git-ignored path)`);
      else if (!fs.existsSync(abs)) bad.push(`${where} (no such file)`);
      else if (fragment && abs.endsWith(".md") && !anchorsOf(fs.readFileSync(abs, "utf8")).has(fragment))
        bad.push(`${where} (no heading #${fragment} in ${inRepo})`);
    }
  }
  assert.ok(checked > 10, `expected the docs to have relative links (found ${checked})`);
  assert.deepEqual(bad, [], `broken links; fix the path or drop the link:\n${bad.join("\n")}`);
});

test("every repository path the docs quote in backticks (lib/..., test/..., scripts/...) exists", () => {
  const bad: string[] = [];
  for (const file of docFiles().filter((f) => f !== "docs/api.md")) {
    fs.readFileSync(path.join(ROOT, file), "utf8")
      .split("\n")
      .forEach((line, i) => {
        for (const m of line.matchAll(/`((?:lib|test|scripts|bench|kernel|notebooks|datasets|docs|\.ci)\/[^`\s]*)`/g)) {
          const rel = m[1]!.replace(/\/$/, "").split(":")[0]!;
          if (/[*<{]|\.\.\./.test(rel) || IGNORED.some((d) => rel.startsWith(d + "/"))) continue; // patterns, generated output
          if (!fs.existsSync(path.join(ROOT, rel))) bad.push(`${file}:${i + 1}: ${rel}`);
        }
      });
  }
  assert.deepEqual(bad, [], `paths that are not in the repository (renamed or removed?):\n${bad.join("\n")}`);
});

test("the docs name no file outside the repository (../shared/..., shared/reference/...)", () => {
  const bad: string[] = [];
  // docs/api.md is generated from TSDoc, whose examples may show a user's own path to data the repo cannot ship.
  for (const file of docFiles().filter((f) => f !== "docs/api.md")) {
    fs.readFileSync(path.join(ROOT, file), "utf8")
      .split("\n")
      .forEach((line, i) => {
        if (/(^|[\s`("'])(\.\.\/)+shared\/|(^|[\s`("'])shared\/reference\//.test(line))
          bad.push(`${file}:${i + 1}: ${line.trim()}`);
      });
  }
  assert.deepEqual(bad, [], `files that are not in the repository:\n${bad.join("\n")}`);
});
