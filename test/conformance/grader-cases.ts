// The ported grader suites (test/conformance/grader/*.jsonl) and cellrl's verdict on each case under its project's
// harness; used by grader.test.ts and grade-math-cli.test.ts.
import * as fs from "node:fs";
import * as path from "node:path";
import { gradeMath } from "../../lib/reward/math/grade.js";
import type { ExtractRule } from "../../lib/reward/math/extract.js";

/** One ported case. */
export interface GraderCase {
  id: string;
  suite: string;
  gold: unknown;
  pred: unknown;
  expected: boolean;
  harness: Record<string, unknown>;
  trimmed?: boolean;
  excluded?: string;
}

const DIR = path.join(__dirname, "grader");
export const FILES = ["math-verify.jsonl", "lighteval.jsonl", "nemo-skills.jsonl"];

/** The cases of one fixture file. */
export function graderCases(file: string): GraderCase[] {
  return fs
    .readFileSync(path.join(DIR, file), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as GraderCase);
}

// Math-Verify's extraction targets as cellrl rules: "latex" reads boxes, answer phrases and LaTeX; "expr" plain numbers.
function rulesFor(match: string): ExtractRule[] {
  const m = match.split(",");
  const rules: ExtractRule[] = [];
  if (m.includes("latex")) rules.push("boxed", "phrase", "latex");
  if (m.includes("expr")) rules.push("last-number");
  return rules;
}

/** cellrl's verdict on one case under that project's harness. */
export function verdict(c: GraderCase): boolean {
  if (typeof c.harness.match === "string")
    return gradeMath(c.gold, c.pred as string, {
      mode: "response",
      rules: rulesFor(c.harness.match),
      percent: "fraction",
    }).equal;
  return gradeMath(c.gold, typeof c.pred === "number" ? String(c.pred) : (c.pred as string)).equal;
}

/** Pass counts of one fixture file (excluded cases apart). */
export function conformance(file: string): { total: number; excluded: number; passed: number; failures: GraderCase[] } {
  const cases = graderCases(file);
  const counted = cases.filter((c) => c.excluded === undefined);
  const failures = counted.filter((c) => verdict(c) !== c.expected);
  return {
    total: cases.length,
    excluded: cases.length - counted.length,
    passed: counted.length - failures.length,
    failures,
  };
}
