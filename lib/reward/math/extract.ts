// Find the final answer in a model response: the last \boxed{} (nested braces), \boxed x, \fbox{}, then
// "#### x" (GSM8K), "the answer is x" / "Answer: x", and optionally the last number.

/** Where an answer can come from, in the order tried by default. */
export type ExtractRule = "boxed" | "gsm8k" | "phrase" | "last-number";

/** Options of extractAnswer. */
export interface ExtractOptions {
  /** Rules to try, first match wins. Defaults to ["boxed", "phrase", "gsm8k"] (no last-number fallback). */
  rules?: ExtractRule[];
}

/** Defaults of extractAnswer. */
export const defaults: Required<ExtractOptions> = { rules: ["boxed", "phrase", "gsm8k"] };

/** What extractAnswer found. */
export interface Extraction {
  /** The answer text (not normalised), or null when no rule matched. */
  answer: string | null;
  /** The rule that matched ("boxed", "fbox", "boxed-space", "gsm8k", "phrase", "last-number"), or "none". */
  rule: string;
  /** How many \boxed{} / \fbox{} the response contains (several distinct ones are a hedging signal). */
  boxedCount: number;
}

/** For each "{" of the text, the index of its matching "}" (-1 if unclosed); one pass, so many boxes stay linear. */
function matchingBraces(s: string): Map<number, number> {
  const match = new Map<number, number>();
  const stack: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92 /* \ */) i++; // skip the escaped char, so \{ and \} do not count
    else if (c === 123) stack.push(i);
    else if (c === 125 && stack.length > 0) match.set(stack.pop()!, i);
  }
  return match;
}

/** Every \boxed{...} / \fbox{...} / "\boxed x" in order, with where it ends. */
export function boxedAnswers(text: string): { content: string; kind: string; start: number }[] {
  const out: { content: string; kind: string; start: number }[] = [];
  let braces: Map<number, number> | null = null;
  let i = 0;
  // Next occurrences, searched again only once passed (one indexOf per box: linear in the text).
  let b = -2, f = -2;
  for (;;) {
    if (b !== -1 && b < i) b = text.indexOf("\\boxed", i);
    if (f !== -1 && f < i) f = text.indexOf("\\fbox", i);
    const k = b < 0 ? f : f < 0 ? b : Math.min(b, f);
    if (k < 0) return out;
    const isBox = k === b;
    let j = k + (isBox ? 6 : 5);
    while (text[j] === " ") j++;
    if (text[j] === "{") {
      braces ??= matchingBraces(text);
      const end = braces.get(j);
      if (end !== undefined) {
        out.push({ content: text.slice(j + 1, end), kind: isBox ? "boxed" : "fbox", start: k });
        i = end + 1;
        continue;
      }
    } else if (isBox && j > k + 6 && /[^\s$]/.test(text[j] ?? "")) {
      // "\boxed 5" / "\boxed x$": up to the next $, space or end.
      const m = /^[^\s$]+/.exec(text.slice(j));
      if (m) out.push({ content: m[0], kind: "boxed-space", start: k });
    }
    i = j;
  }
}

const PHRASE = /(?:final answer|the answer|answer)\s*(?:is|:|=)\s*:?\s*/gi;

// Text after the last answer phrase, up to the end of its sentence or line.
function phraseAnswer(text: string): string | null {
  let last: RegExpExecArray | null = null;
  PHRASE.lastIndex = 0;
  for (let m = PHRASE.exec(text); m; m = PHRASE.exec(text)) last = m;
  if (!last) return null;
  let rest = text.slice(last.index + last[0].length).replace(/^\*+\s*/, "");
  const nl = rest.indexOf("\n");
  if (nl >= 0) rest = rest.slice(0, nl);
  // $...$ or \(...\) right away: take the math.
  const math = /^\$+([^$]+)\$+|^\\\(([\s\S]+?)\\\)|^\\\[([\s\S]+?)\\\]/.exec(rest);
  if (math) return (math[1] ?? math[2] ?? math[3]).trim();
  const sentence = rest.split(/\.(?:\s|$)/)[0];
  const ans = sentence.replace(/\*+$/, "").replace(/[.\s]+$/, "").trim();
  return ans.length > 0 && ans.length <= 100 ? ans : null;
}

function gsm8kAnswer(text: string): string | null {
  const k = text.lastIndexOf("####");
  if (k < 0) return null;
  const line = text.slice(k + 4).split("\n")[0].trim();
  return line.length > 0 ? line.replace(/[.\s]+$/, "") : null;
}

const NUMBER = /-?\d[\d,]*(?:\.\d+)?(?:\/\d+)?|-?\.\d+/g;

function lastNumber(text: string): string | null {
  let last: string | null = null;
  NUMBER.lastIndex = 0;
  for (let m = NUMBER.exec(text); m; m = NUMBER.exec(text)) last = m[0];
  return last === null ? null : last.replace(/,(?=\d{3}(?!\d))/g, "").replace(/,+$/, "");
}

/**
 * The final answer of a response and the rule that found it; only the LAST \boxed{} counts.
 * @example extractAnswer("so x = \\boxed{\\frac{1}{2}}.").answer // "\\frac{1}{2}"
 */
export function extractAnswer(text: string, options: ExtractOptions = {}): Extraction {
  const rules = options.rules ?? defaults.rules;
  let boxed: ReturnType<typeof boxedAnswers> | null = null;
  const getBoxed = () => (boxed ??= text.includes("\\boxed") || text.includes("\\fbox") ? boxedAnswers(text) : []);
  for (const rule of rules) {
    if (rule === "boxed") {
      const all = getBoxed();
      if (all.length > 0) {
        const last = all[all.length - 1];
        return { answer: last.content, rule: last.kind, boxedCount: all.length };
      }
    } else if (rule === "gsm8k") {
      const a = gsm8kAnswer(text);
      if (a !== null) return { answer: a, rule: "gsm8k", boxedCount: getBoxed().length };
    } else if (rule === "phrase") {
      const a = phraseAnswer(text);
      if (a !== null) return { answer: a, rule: "phrase", boxedCount: getBoxed().length };
    } else if (rule === "last-number") {
      const a = lastNumber(text);
      if (a !== null) return { answer: a, rule: "last-number", boxedCount: getBoxed().length };
    }
  }
  return { answer: null, rule: "none", boxedCount: getBoxed().length };
}
