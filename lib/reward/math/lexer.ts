// Tokens of a (normalised) LaTeX answer: numbers, single-letter names, \commands and operator characters.

/** One token: a number literal, a letter, a \command (name without the backslash) or an operator character. */
export interface Token {
  k: "num" | "id" | "cmd" | "op";
  v: string;
}

const UNICODE: Record<string, Token> = {
  π: { k: "cmd", v: "pi" },
  "∞": { k: "cmd", v: "infty" },
  "√": { k: "cmd", v: "sqrt" },
  "·": { k: "op", v: "*" },
  "×": { k: "op", v: "*" },
  "÷": { k: "op", v: "/" },
  "−": { k: "op", v: "-" },
  "–": { k: "op", v: "-" },
  "≤": { k: "cmd", v: "le" },
  "≥": { k: "cmd", v: "ge" },
  "≠": { k: "cmd", v: "ne" },
  "∪": { k: "cmd", v: "cup" },
  "∩": { k: "cmd", v: "cap" },
  "±": { k: "cmd", v: "pm" },
  θ: { k: "cmd", v: "theta" },
  α: { k: "cmd", v: "alpha" },
  β: { k: "cmd", v: "beta" },
};

// Escaped characters: \{ \} are set braces, \\ separates matrix rows, spacing commands vanish.
const ESCAPED: Record<string, Token | null> = {
  "{": { k: "op", v: "\\{" },
  "}": { k: "op", v: "\\}" },
  "\\": { k: "op", v: "\\\\" },
  "%": { k: "op", v: "%" },
  $: null,
  ",": null,
  ";": null,
  "!": null,
  ":": null,
  " ": null,
  "|": { k: "op", v: "|" },
};

/** Thrown for text the lexer or parser does not understand; the grader then compares strings only. */
export class MathSyntaxError extends Error {}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Split a normalised answer into tokens; throws MathSyntaxError on characters it cannot place. */
export function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 126 /* ~ */) {
      i++;
    } else if (isDigit(c) || (c === 46 && isDigit(s.charCodeAt(i + 1)))) {
      let j = i;
      while (j < s.length && isDigit(s.charCodeAt(j))) j++;
      if (s[j] === "." && isDigit(s.charCodeAt(j + 1))) {
        j++;
        while (j < s.length && isDigit(s.charCodeAt(j))) j++;
      }
      out.push({ k: "num", v: s.slice(i, j) });
      i = j;
    } else if (isLetter(c)) {
      out.push({ k: "id", v: s[i] });
      i++;
    } else if (c === 92 /* \ */) {
      let j = i + 1;
      while (j < s.length && isLetter(s.charCodeAt(j))) j++;
      if (j > i + 1) {
        out.push({ k: "cmd", v: s.slice(i + 1, j) });
        i = j;
      } else {
        const e = ESCAPED[s[i + 1]];
        if (e === undefined) throw new MathSyntaxError(`unknown escape \\${s[i + 1]}`);
        if (e !== null) out.push(e);
        i += 2;
      }
    } else {
      const ch = s[i];
      const u = UNICODE[ch];
      if (u) out.push(u);
      else if ("+-*/^_!()[]{}|,=<>&;%':".includes(ch)) out.push({ k: "op", v: ch });
      else throw new MathSyntaxError(`unexpected character ${JSON.stringify(ch)}`);
      i++;
    }
  }
  return out;
}
