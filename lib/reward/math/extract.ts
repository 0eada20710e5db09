// Find the final answer in a model response: the last \boxed{} (nested braces), \boxed x, \fbox{} (several boxes
// side by side are one answer), then "#### x" (GSM8K), "the answer is x" / "Answer: x", the last LaTeX expression,
// and optionally the last number.
import { GLUED_OR } from "./normalize.js";

/**
 * Where an answer can come from. "latex" is the last $...$, \[...\], \(...\) of the text (or the whole text when it
 * is one math expression), or the last plain number when that comes later, as Math-Verify reads free text.
 */
export type ExtractRule = "boxed" | "gsm8k" | "phrase" | "latex" | "last-number";

/** Options of extractAnswer. */
export interface ExtractOptions {
  /** Rules to try, first match wins. Defaults to ["boxed", "phrase", "gsm8k"] (no last-number fallback). */
  rules?: ExtractRule[];
  /**
   * A "final answer" phrase written after the last \boxed{} wins over the box (Math-Verify keeps the rightmost of the
   * two). Defaults to false: the box wins wherever it is.
   */
  phraseAfterBox?: boolean;
}

/** Defaults of extractAnswer. */
export const defaults: Required<ExtractOptions> = { rules: ["boxed", "phrase", "gsm8k"], phraseAfterBox: false };

/** The rules of a free-text response read as Math-Verify does: box, answer phrase, last LaTeX or number. */
export const responseRules: ExtractRule[] = ["boxed", "phrase", "latex", "last-number"];

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
    if (c === 92 /* \ */)
      i++; // skip the escaped char, so \{ and \} do not count
    else if (c === 123) stack.push(i);
    else if (c === 125 && stack.length > 0) match.set(stack.pop()!, i);
  }
  return match;
}

/** Every \boxed{...} / \fbox{...} / "\boxed x" in order, with where it ends. */
export function boxedAnswers(text: string): { content: string; kind: string; start: number; end: number }[] {
  const out: { content: string; kind: string; start: number; end: number }[] = [];
  let braces: Map<number, number> | null = null;
  let i = 0;
  // Next occurrences, searched again only once passed (one indexOf per box: linear in the text).
  let b = -2,
    f = -2;
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
        out.push({ content: text.slice(j + 1, end), kind: isBox ? "boxed" : "fbox", start: k, end: end + 1 });
        i = end + 1;
        continue;
      }
    } else if (isBox && j > k + 6 && /[^\s$]/.test(text[j] ?? "")) {
      // "\boxed 5" / "\boxed x$": up to the next $, space or end.
      const m = /^[^\s$]+/.exec(text.slice(j));
      if (m) out.push({ content: m[0], kind: "boxed-space", start: k, end: j + m[0].length });
    }
    i = j;
  }
}

// What may stand between boxes that together form one answer: "\boxed{1}, \boxed{2} and \boxed{3}",
// "\boxed{-2} \quad \text{and} \quad \boxed{1}" (math delimiters, spacing, commas, "and"). "or" separates
// alternatives, not parts: "$\boxed{12}$ or $\boxed{13}$" is a hedge, graded on its last box (multipleBoxed: "reject"
// scores it 0).
const BOX_GAP =
  /^(?:\s|\$|\\[()[\]]|\\q?quad(?![a-zA-Z])|\\[,;: ]|[,;&]|\band\b|\\text\{\s*(?:,?\s*and\s*|,)\}|\b[a-zA-Z](?:_\{?\w+\}?)?\s*=)*$/;

/**
 * The boxes that make the final answer: the last non-empty box, with the boxes right before it that only commas,
 * "and", spacing or math delimiters separate from it (one answer written as several boxes). Identical contents
 * count once; empty boxes are skipped. Returns [] when there is no non-empty box.
 * @example boxedGroup("so \\boxed{1} and \\boxed{2}").map((b) => b.content) // ["1", "2"]
 */
export function boxedGroup(text: string, all = boxedAnswers(text)): ReturnType<typeof boxedAnswers> {
  const boxes = all.filter((b) => b.content.trim() !== "");
  if (boxes.length === 0) return [];
  const group = [boxes[boxes.length - 1]];
  for (let k = boxes.length - 2; k >= 0; k--) {
    const gap = text.slice(boxes[k].end, group[0].start);
    if (gap.length > 80 || !BOX_GAP.test(gap)) break;
    group.unshift(boxes[k]);
  }
  const seen = new Set<string>();
  return group.filter((b) => {
    const key = b.content.replace(/\s+/g, "");
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The answer text of a group of boxes: one box as is, several joined as a list ("1, 2"). */
export function joinBoxes(group: readonly { content: string }[]): string {
  return group.length === 1 ? group[0].content : group.map((b) => b.content.trim()).join(", ");
}

/** "\\boxed{20}$ percent": a percent word right after a box (past its math delimiters) belongs to the answer. */
export function percentAfter(text: string, end: number): boolean {
  return /^(?:\$|\\[)\]]|\s)*(?:\\?%|percent(?:age)?\b|pct\b)/.test(text.slice(end, end + 40));
}

const PHRASE = /(?:final answer|the answer|answer)\s*(?:is|:|=)\s*:?\s*/gi;
const MATH_START = /^\$+([^$]+)\$+|^\\\(([\s\S]+?)\\\)|^\\\[([\s\S]+?)\\\]/;

// Words that deny or hedge a number ("not 13", "about 13", "more than 13"): the sentence is kept whole.
const HEDGE_WORDS = (
  "not no never isn't aren't cannot can't except without unless unknown about approximately around roughly nearly " +
  "almost over under more less least most between or"
).split(" ");
const HEDGED = new RegExp(`\\b(?:${HEDGE_WORDS.join("|")})\\b|n't\\b`, "i");

// Text after the last answer phrase, up to the end of its sentence or line. "Final Answer: The volume is 120."
// gives what follows the last " is " (120); a sentence with no math and a single number gives that number.
function phraseAnswer(text: string, from = 0): string | null {
  let last: RegExpExecArray | null = null;
  PHRASE.lastIndex = from;
  for (let m = PHRASE.exec(text); m; m = PHRASE.exec(text)) last = m;
  if (!last) return null;
  let rest = text.slice(last.index + last[0].length).replace(/^(?:\*+|\\?")\s*/, "");
  // $...$ or \(...\) right away: take the math (display math may go on over lines).
  const math = MATH_START.exec(rest);
  if (math) return leadingMath(rest.split("\n\n")[0]) ?? (math[1] ?? math[2] ?? math[3]).trim();
  const nl = rest.indexOf("\n");
  if (nl >= 0) rest = rest.slice(0, nl);
  let sentence = rest
    .split(/\.(?:\s|$)/)[0]
    .replace(/\*+$/, "")
    .replace(/[.\s]+$/, "")
    .trim();
  const is = sentence.lastIndexOf(" is ");
  if (is >= 0 && !/\$/.test(sentence.slice(is))) sentence = sentence.slice(is + 4).trim();
  else if (is >= 0) {
    const m = MATH_START.exec(sentence.slice(is + 4).trim());
    if (m) return (m[1] ?? m[2] ?? m[3]).trim();
  }
  if (sentence.length === 0 || sentence.length > 100) return null;
  // Words around one number ("Jane started 3 hours ago"): the number; never when the words deny or hedge it ("not 13",
  // "about 13", "more than 13").
  if (/[a-zA-Z]{3,}/.test(sentence.replace(/\\[a-zA-Z]+/g, "")) && !sentence.includes("$") && !HEDGED.test(sentence)) {
    const nums = sentence.match(/(?<![\w.])-?\d[\d,]*(?:\.\d+)?(?:\/\d+)?%?/g);
    if (nums && nums.length === 1) return nums[0];
  }
  return sentence;
}

function gsm8kAnswer(text: string): string | null {
  const k = text.lastIndexOf("####");
  if (k < 0) return null;
  const line = text
    .slice(k + 4)
    .split("\n")[0]
    .trim();
  return line.length > 0 ? line.replace(/[.\s]+$/, "") : null;
}

// A plain-text number: thousands separators (1,000,000 or 1 000), a decimal comma when the digits after it are not a
// group of three (2,74; 0,111), a mixed number (4 4/9), a trailing percent word; never glued to a letter before it
// (AZYUK2A has no number).
const NUMBER =
  /(?<![A-Za-z\d.\/])[-+]?(?:(?:\d{1,3}(?: \d{3})+|\d+) \d+\/\d+(?![\d\/]|\.\d)|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d{1,3}(?: \d{3})+(?![\d,])(?:\.\d+)?|\d+(?:[.,]\d+)?(?:\/\d+)?|\.\d+)(?:\s*(?:%|percent(?:age)?\b|pct\b))?/g;
// Plain arithmetic: numbers (or parenthesised ones) joined by + - * × ÷ / ^ on one line, "(1/2) / (3/4)", "4 + 4/9".
const OPERAND = String.raw`\(?-?\d+(?:\.\d+)?\)?`;
const EXPRESSION = new RegExp(String.raw`(?<![\w.\/^])${OPERAND}(?:[ \t]*[+\-*×÷\/^][ \t]*${OPERAND})+`, "g");

/** A plain-text number as a LaTeX answer: separators removed, decimal comma as a point, percent as \\%. */
function numberText(m: string): string {
  let s = m.replace(/\s*(?:%|percent(?:age)?|pct)$/, (p) => (p.trim() ? "\\%" : ""));
  const pct = s.endsWith("\\%");
  if (pct) s = s.slice(0, -2);
  s = s.replace(/^\+/, "");
  const mixed = /^(-?)([\d ]+) (\d+\/\d+)$/.exec(s);
  if (mixed) s = `${mixed[1]}${mixed[2].replace(/ /g, "")} ${mixed[3]}`;
  else if (/^-?\d{1,3}(?:[, ]\d{3})+(?:\.\d+)?$/.test(s) && !/^-?0,/.test(s)) s = s.replace(/[, ]/g, "");
  else if (/^-?\d+,\d+$/.test(s)) s = s.replace(",", ".");
  return s + (pct ? "\\%" : "");
}

// The last number or arithmetic expression of a text (the one that ends last; the longer one when both end together).
function lastNumberMatch(text: string): { s: string; end: number } | null {
  let best: { s: string; start: number; end: number } | null = null;
  for (const re of [NUMBER, EXPRESSION]) {
    let last: RegExpExecArray | null = null;
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) last = m;
    if (!last) continue;
    const end = last.index + last[0].trimEnd().length;
    const s = re === NUMBER ? numberText(last[0]) : last[0].trim();
    if (!best || end > best.end || (end === best.end && last.index < best.start)) best = { s, start: last.index, end };
  }
  return best && { s: best.s, end: best.end };
}

function lastNumber(text: string): string | null {
  return lastNumberMatch(text)?.s ?? null;
}

// Math environments of a text in order: $$..$$, \[..\] (may span lines), $..$, \(..\) (one line), with the end of
// each and a percent word right after it ("$28$ %"). One pass: the next closer of each kind is searched once and
// reused, so a text full of unclosed openers ("\(" x 30,000) stays linear.
const ENV_GAP = /^\s*(?:,?\s*(?:and|or)|,)\s*$/;
// A bare fraction outside any environment: "so each is (\\frac{2}{5}) tons".
const BARE_FRAC = /-?\\[dt]?frac\{-?\d+(?:[.,]\d+)?\}\{-?\d+(?:[.,]\d+)?\}/g;
const OPENER = /\$\$|\\\[|\\\(|\$/g;
const PCT_AFTER = /\s*(?:\\?%|percent(?:age)?\b|pct\b)/y;

function latexEnvs(text: string): { content: string; start: number; end: number }[] {
  const out: { content: string; start: number; end: number }[] = [];
  const next: Record<string, number> = { $$: -2, "\\[": -2, "\\(": -2 };
  // The first unescaped `close` at or after `from` (cached: later openers reuse it while it lies ahead).
  const closer = (close: string, from: number): number => {
    if (next[close] === -1 || next[close] >= from) return next[close];
    let c = text.indexOf(close, from);
    while (c > 0 && text[c - 1] === "\\" && close[0] === "$") c = text.indexOf(close, c + 1);
    next[close] = c;
    return c;
  };
  OPENER.lastIndex = 0;
  for (let m = OPENER.exec(text); m; m = OPENER.exec(text)) {
    const k = m.index,
      o = m[0];
    const before = k > 0 ? text[k - 1] : "";
    if (before === "\\" || (o === "$" && /[\d$]/.test(before))) continue;
    let contentEnd = -1,
      end = -1;
    if (o === "$") {
      for (let j = k + 1; j < text.length; j++) {
        const ch = text[j];
        if (ch === "\n") break;
        if (ch === "$" && text[j - 1] !== "\\") {
          contentEnd = j;
          end = j + 1;
          break;
        }
      }
    } else {
      const close = o === "$$" ? "$$" : o === "\\[" ? "\\]" : "\\)";
      const c = closer(close, k + 2);
      if (c >= 0 && !(o === "\\(" && text.slice(k + 2, c).includes("\n"))) {
        contentEnd = c;
        end = c + 2;
      }
    }
    if (end < 0 || contentEnd <= k + o.length) continue;
    let content = text.slice(k + o.length, contentEnd);
    PCT_AFTER.lastIndex = end;
    const pct = PCT_AFTER.exec(text);
    if (pct && !/%\s*$/.test(content)) {
      content += "\\%";
      end += pct[0].length;
    }
    OPENER.lastIndex = end;
    // Words in the environment ("$? just about 1$", a stray dollar sign): not an answer.
    if (content.trim() !== "" && !hasWords(content)) out.push({ content, start: k, end });
  }
  if (text.includes("frac")) {
    // Bare fractions outside every environment (both lists are in text order: one merge).
    const spans = out.slice();
    let e = 0;
    BARE_FRAC.lastIndex = 0;
    for (let m = BARE_FRAC.exec(text); m; m = BARE_FRAC.exec(text)) {
      const at = m.index;
      while (e < spans.length && spans[e].end <= at) e++;
      if (e < spans.length && spans[e].start <= at) continue;
      out.push({ content: m[0], start: at, end: at + m[0].length });
    }
    out.sort((a, b) => a.end - b.end);
  }
  return out;
}

// Two words in a row outside \commands, \text{...} and environment names: prose, not math.
function hasWords(s: string): boolean {
  const bare = s
    .replace(/\\(?:text\w*|mbox|mathrm|operatorname|begin|end)\s*\{[^{}]*\}/g, " ")
    .replace(/\\[a-zA-Z]+/g, " ");
  return /[a-zA-Z]{3,}\s+[a-zA-Z]{2,}/.test(bare);
}

// The math right at the start of `rest`, with the environments that "and"/"or"/commas join to it ("$12$ and $13$").
function leadingMath(rest: string): string | null {
  const envs = latexEnvs(rest);
  if (envs.length === 0 || rest.slice(0, envs[0].start).trim() !== "") return null;
  const group = [envs[0]];
  for (let k = 1; k < envs.length && group.length < 6; k++) {
    if (!ENV_GAP.test(rest.slice(group[group.length - 1].end, envs[k].start))) break;
    group.push(envs[k]);
  }
  return group.map((e) => e.content.trim()).join(", ");
}

// Whole text that is one math expression (no words): "\\frac{10}{9}", "x^2 + 2*x + 1", "(1,2)".
function wholeMath(text: string): string | null {
  const t = text.trim();
  if (t.length === 0 || t.length > 300 || t.includes("\n")) return null;
  const bare = t
    .replace(GLUED_OR, "$1, ")
    .replace(/\\(?:text|mathrm|textbf|mbox)\{[^{}]*\}/g, " ")
    .replace(/\\[a-zA-Z]+/g, " ");
  if (/[a-zA-Z]{2,}|[^\x00-\x7f°²³π√·×÷−–≤≥≠∞]/.test(bare)) return null;
  return t;
}

/**
 * The last LaTeX expression of a free-text response (Math-Verify's plain-LaTeX rule): the last math environment, with
 * the environments right before it that "and"/"or"/commas join to it ("$-2$ and $1$"), or the last plain number when
 * it comes later in the text (when the "last-number" rule is on too); a text that is one expression is taken whole.
 */
function latexAnswer(text: string, withNumbers: boolean): string | null {
  const whole = wholeMath(text);
  if (whole !== null) return whole;
  const envs = latexEnvs(text);
  const num = withNumbers ? lastNumberMatch(text) : null;
  if (envs.length === 0) return num?.s ?? null;
  const lastEnv = envs[envs.length - 1];
  if (num && num.end > lastEnv.end) return num.s;
  const group = [lastEnv];
  for (let k = envs.length - 2; k >= 0 && group.length < 6; k--) {
    if (!ENV_GAP.test(text.slice(envs[k].end, group[0].start))) break;
    group.unshift(envs[k]);
  }
  return group.map((e) => lastValue(e.content.trim())).join(", ");
}

// "\\frac{1}{2} \\$ = \\frac{10}{9}": a computation in running text ends with its value (no letters left of the "=").
function lastValue(s: string): string {
  const k = s.lastIndexOf("=");
  if (k < 0 || /[<>!\\]$/.test(s.slice(0, k))) return s;
  const left = s.slice(0, k).replace(/\\[a-zA-Z]+/g, " ");
  return /[a-zA-Z]/.test(left) ? s : s.slice(k + 1).trim();
}

/**
 * The final answer of a response and the rule that found it. Only the LAST \boxed{} counts, together with the boxes
 * right before it that form one answer with it ("\\boxed{1} and \\boxed{2}" gives "1, 2"); an empty box is skipped.
 * @example extractAnswer("so x = \\boxed{\\frac{1}{2}}.").answer // "\\frac{1}{2}"
 */
export function extractAnswer(text: string, options: ExtractOptions = {}): Extraction {
  const rules = options.rules ?? defaults.rules;
  let boxed: ReturnType<typeof boxedAnswers> | null = null;
  const getBoxed = () => (boxed ??= text.includes("\\boxed") || text.includes("\\fbox") ? boxedAnswers(text) : []);
  for (const rule of rules) {
    if (rule === "boxed") {
      const all = getBoxed();
      const group = all.length > 0 ? boxedGroup(text, all) : [];
      if (group.length > 0) {
        const last = group[group.length - 1];
        if (options.phraseAfterBox && rules.includes("phrase")) {
          const a = phraseAnswer(text, last.end);
          if (a !== null) return { answer: a, rule: "phrase", boxedCount: all.length };
        }
        const answer = joinBoxes(group);
        const pct = group.length === 1 && !/%\s*$/.test(answer) && percentAfter(text, last.end);
        return { answer: pct ? answer + "\\%" : answer, rule: last.kind, boxedCount: all.length };
      }
    } else if (rule === "gsm8k") {
      const a = gsm8kAnswer(text);
      if (a !== null) return { answer: a, rule: "gsm8k", boxedCount: getBoxed().length };
    } else if (rule === "phrase") {
      const a = phraseAnswer(text);
      if (a !== null) return { answer: a, rule: "phrase", boxedCount: getBoxed().length };
    } else if (rule === "latex") {
      const a = latexAnswer(text, rules.includes("last-number"));
      if (a !== null) return { answer: a, rule: "latex", boxedCount: getBoxed().length };
    } else if (rule === "last-number") {
      const a = lastNumber(text);
      if (a !== null) return { answer: a, rule: "last-number", boxedCount: getBoxed().length };
    }
  }
  return { answer: null, rule: "none", boxedCount: getBoxed().length };
}
