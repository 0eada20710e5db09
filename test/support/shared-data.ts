// Where the data that the repo does not ship lives (non-permissive sets, the reference docs): $CELLRL_SHARED_DIR when
// set (a path that does not exist simulates a clean machine), else ../shared next to the repo, else /work/shared.
// Tests that need it skip with a message naming the missing file, so a clean clone anywhere passes.
import * as fs from "node:fs";
import * as path from "node:path";

/** The repository root (this file is test/support/shared-data.ts). */
export const repoRoot = path.resolve(__dirname, "..", "..");

/** The shared folder (holding data/ and reference/), or null when there is none. */
export const sharedDir: string | null = (() => {
  const env = process.env.CELLRL_SHARED_DIR;
  const candidates = env ? [path.resolve(env)] : [path.resolve(repoRoot, "..", "shared"), "/work/shared"];
  return candidates.find((d) => fs.existsSync(d)) ?? null;
})();

/**
 * Absolute path of `rel` inside the shared folder, or null when the folder or the file is missing.
 * @example const file = sharedPath("data/hendrycks-math/math_test_5000.jsonl");
 */
export function sharedPath(rel: string): string | null {
  if (sharedDir === null) return null;
  const p = path.join(sharedDir, rel);
  return fs.existsSync(p) ? p : null;
}

/**
 * The path of a shared file that a test was not skipped for (throws if it is missing: the test should have skipped).
 * @example const rows = jsonl(shared("data/mbpp/mbpp.jsonl"));
 */
export function shared(rel: string): string {
  const p = sharedPath(rel);
  if (p === null)
    throw new Error(`test/support: ${rel} is not in the shared folder; guard the test with needsShared("${rel}")`);
  return p;
}

/**
 * node:test options that skip a test unless every file is in the shared folder; `why` says why it is not shipped.
 * @example test("LeetCode rows", needsShared("data/rllm-code-tests/leetcode_test.jsonl"), () => {...});
 */
export function needsShared(rels: string | string[], why = "not shipped: license"): { skip: string | false } {
  const missing = (Array.isArray(rels) ? rels : [rels]).filter((r) => sharedPath(r) === null);
  if (missing.length === 0) return { skip: false };
  const looked = process.env.CELLRL_SHARED_DIR
    ? `CELLRL_SHARED_DIR=${process.env.CELLRL_SHARED_DIR}`
    : "../shared, /work/shared";
  return { skip: `needs ${missing.map((r) => `../shared/${r}`).join(", ")} (${why}; looked in ${looked})` };
}
