// Which part of a model response is the program.

/** How the program was found: a ```python fence, an unlabelled ``` fence, or the whole response (after </think>). */
export type ExtractionRule = "python-fence" | "bare-fence" | "whole-response";

/** The program found in a response and the rule that found it. */
export interface ExtractedProgram {
  program: string;
  rule: ExtractionRule;
}

// An opening fence: three or more backticks, an optional info string, end of line. The block runs to the next fence
// line or, for a response cut off mid-block, to the end.
const FENCE = /(^|\n)[ \t]*(`{3,})[ \t]*([^\n`]*)\n([\s\S]*?)(?:\n[ \t]*\2[ \t]*(?=\n|$)|$)/g;
const PYTHON_INFO = /^(python3?|py|python\s.*|py3)$/i;

/**
 * The program of a response: the last ```python block (LiveCodeBench's rule), else the last unlabelled ``` block,
 * else the whole response with any <think>...</think> part removed.
 * @example extractProgram("Here:\n```python\nprint(1)\n```").program // "print(1)"
 */
export function extractProgram(response: string): ExtractedProgram {
  let lastPython: string | undefined;
  let lastBare: string | undefined;
  FENCE.lastIndex = 0;
  for (let m = FENCE.exec(response); m !== null; m = FENCE.exec(response)) {
    const info = m[3].trim();
    if (PYTHON_INFO.test(info)) lastPython = m[4];
    else if (info === "") lastBare = m[4];
    if (m[0].length === 0) FENCE.lastIndex++;
  }
  if (lastPython !== undefined) return { program: lastPython, rule: "python-fence" };
  if (lastBare !== undefined) return { program: lastBare, rule: "bare-fence" };
  const k = response.lastIndexOf("</think>");
  return { program: k >= 0 ? response.slice(k + "</think>".length).trim() : response, rule: "whole-response" };
}
