// Tests recovered from a problem statement's own examples, for prompt sets shipped without hidden tests (the QwQ
// LiveCodeBench v5 file): AtCoder "Sample Input k / Sample Output k" blocks, LeetCode "Input: a = .. / Output: ..".
import type { CodeTests } from "./code-tests.js";

const STDIO_SAMPLE = /Sample Input (\d+)\n\n([\s\S]*?)\n\nSample Output \1\n\n([\s\S]*?)(?=\n\n|\n?$)/g;
const CALL_EXAMPLE = /Input:\s*([^\n]*)\nOutput:\s*([^\n]*)/g;

function splitArgs(text: string): string[] | null {
  // "n = 5, queries = [[2,4],[0,2]]" -> ["5", "[[2,4],[0,2]]"]: split on top-level commas that start "name =".
  const parts: string[] = [];
  let depth = 0;
  let inStr = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inStr) {
      if (c === "\\") i++;
      else if (c === '"') inStr = false;
    } else if (c === '"') inStr = true;
    else if ("[{(".includes(c)) depth++;
    else if ("]})".includes(c)) depth--;
    else if (c === "," && depth === 0 && /^\s*[A-Za-z_]\w*\s*=/.test(text.slice(i + 1))) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  const values: string[] = [];
  for (const p of parts) {
    const m = /^\s*[A-Za-z_]\w*\s*=\s*([\s\S]*?)\s*$/.exec(p);
    if (!m) return null;
    values.push(m[1]);
  }
  return values;
}

function jsonValue(text: string): string | null {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return null;
  }
}

/**
 * Tests from the examples written in a problem statement: stdin/stdout pairs ("Sample Input 1 ... Sample Output 1")
 * or, with a `class Solution` starter, call-based tests from "Input: x = .. Output: ..". Null when none are found.
 * Samples are a weak check (a hard-coded answer passes them): use hidden tests when the dataset has them.
 * @example
 * sampleTestsFromPrompt("Sample Input 1\n\n4\n8 2 5 1\n\nSample Output 1\n\n3\n")
 * // {mode: "stdio", inputs: ["4\n8 2 5 1\n"], outputs: ["3\n"]}
 */
export function sampleTestsFromPrompt(prompt: string): CodeTests | null {
  const text = prompt.replace(/\r\n?/g, "\n");
  const starter = /class Solution[\s\S]*?def\s+([A-Za-z_]\w*)\s*\(\s*self/.exec(text);
  if (starter) {
    const inputs: string[] = [];
    const outputs: unknown[] = [];
    CALL_EXAMPLE.lastIndex = 0;
    for (let m = CALL_EXAMPLE.exec(text); m !== null; m = CALL_EXAMPLE.exec(text)) {
      const args = splitArgs(m[1]);
      const out = jsonValue(m[2].trim());
      if (!args || out === null) continue;
      const json = args.map(jsonValue);
      if (json.some((v) => v === null)) continue;
      inputs.push(json.join("\n"));
      outputs.push(JSON.parse(out));
    }
    return inputs.length ? { mode: "call", fnName: starter[1], inputs, outputs } : null;
  }
  const inputs: string[] = [];
  const outputs: string[] = [];
  STDIO_SAMPLE.lastIndex = 0;
  for (let m = STDIO_SAMPLE.exec(text); m !== null; m = STDIO_SAMPLE.exec(text)) {
    inputs.push(m[2] + "\n");
    outputs.push(m[3] + "\n");
  }
  return inputs.length ? { mode: "stdio", inputs, outputs } : null;
}
