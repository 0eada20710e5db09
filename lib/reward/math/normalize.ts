// Normalise an extracted answer string before comparing: the steps of Hendrycks' strip_string and its successors
// (Qwen2.5-Math, Math-Verify), written as one ordered list so each step can be read and tested.

/** "W(x)=1orW(x)=-1", "(11,7)or(7,11)": "or"/"and" glued between two answers (no space on the left). */
export const GLUED_OR = /([\d)}])(?:or|and)(?=[A-Za-z(\\-])/g;

/** A normalised answer and what normalising removed (for details and the percent rule). */
export interface NormalizedAnswer {
  /** The cleaned LaTeX, still with spaces where they separate tokens. */
  text: string;
  /** Compact form used for the exact-string rule (no insignificant spaces). */
  compact: string;
  /** A trailing % or \% was removed. */
  percent: boolean;
  /** A degree mark (^\circ, °) was removed. */
  degrees: boolean;
  /** Unit words removed from the end ("cm^2", "dollars"), or "". */
  units: string;
}

const WRAPPERS = [
  "text",
  "textbf",
  "textit",
  "textrm",
  "textsf",
  "textnormal",
  "mbox",
  "hbox",
  "mathrm",
  "mathbf",
  "mathit",
  "mathsf",
  "mathnormal",
  "operatorname",
  "boldsymbol",
  "bm",
  "mathbb",
];

// Unit words stripped from the end of a numeric answer ("1320 km" -> "1320"). Only removed when what is left has no
// letters of its own, so "3 m" loses its unit but "2m" (two times m) does not.
const UNITS = new Set(
  (
    "cm mm km m meter meters metre metres centimeter centimeters centimetres kilometer kilometers millimeter " +
    "millimeters " +
    "in inch inches ft foot feet yd yard yards mi mile miles unit units sq square cubic " +
    "degree degrees deg radian radians rad dollar dollars cent cents euro euros " +
    "s sec second seconds min minute minutes h hr hrs hour hours day days week weeks month months year years " +
    "g gram grams kg kilogram kilograms mg lb lbs pound pounds oz ounce ounces ton tons " +
    "l liter liters litre litres ml gallon gallons quart quarts cup cups mph kph kmh " +
    "percent percentage pct people persons students children times ways points"
  ).split(" "),
);

function unwrapCommand(s: string, name: string): string {
  const head = "\\" + name;
  let out = "";
  let i = 0;
  for (;;) {
    const k = s.indexOf(head, i);
    if (k < 0) return out + s.slice(i);
    const after = k + head.length;
    // \text must be followed by "{" (possibly after spaces), not by more letters (\textbf is its own entry).
    let j = after;
    while (s[j] === " ") j++;
    if (s[j] !== "{" || /[a-zA-Z]/.test(s[after] ?? "")) {
      out += s.slice(i, after);
      i = after;
      continue;
    }
    let depth = 0;
    let end = -1;
    for (let q = j; q < s.length; q++) {
      if (s[q] === "{") depth++;
      else if (s[q] === "}" && --depth === 0) {
        end = q;
        break;
      }
    }
    if (end < 0) return out + s.slice(i);
    out += s.slice(i, k) + " " + s.slice(j + 1, end) + " ";
    i = end + 1;
  }
}

function stripDelimiters(s: string): string {
  for (;;) {
    const t = s.trim();
    let u = t;
    if (u.startsWith("$$") && u.endsWith("$$") && u.length >= 4) u = u.slice(2, -2);
    else if (u.startsWith("$") && u.endsWith("$") && u.length >= 2) u = u.slice(1, -1);
    else if (u.startsWith("\\(") && u.endsWith("\\)")) u = u.slice(2, -2);
    else if (u.startsWith("\\[") && u.endsWith("\\]")) u = u.slice(2, -2);
    if (u === t) return t;
    s = u;
  }
}

function stripUnits(s: string): { s: string; units: string } {
  let units = "";
  for (let k = 0; k < 4; k++) {
    const m = /^(.*?)(\s*)([a-zA-Z]+)\s*(\^\s*\{?\s*[23]\s*\}?|²|³)?$/.exec(s);
    if (!m) break;
    const [, rest, space, word, power] = m;
    if (!UNITS.has(word.toLowerCase())) break;
    // A number, a closing brace (\frac{..}{..}) or \pi must come before the unit ...
    if (!/(?:[\d}]|\\pi)\s*$/.test(rest)) break;
    // ... and what is left must have no letters of its own (apart from \commands), else the "unit" is a variable.
    if (/[a-zA-Z]/.test(rest.replace(/\\[a-zA-Z]+/g, ""))) break;
    if (space === "" && word.length === 1) break; // "5m" stays (5 times m); "5 m" loses its unit
    units = (word + (power ?? "") + " " + units).trim();
    s = rest.trim();
  }
  return { s, units };
}

// "A \approx B": the exact A counts and the approximation is dropped ("\frac{\sqrt3}{3} \approx 0.577"); when A only
// names the answer ("x \approx 11") the approximation is the answer.
function dropApprox(s: string): string {
  const k = s.search(/\\approx(?![a-zA-Z])/);
  if (k < 0) return s;
  const left = s.slice(0, k);
  const last = left.slice(left.lastIndexOf("=") + 1).trim();
  if (/^(?:[a-zA-Z](?:_\{?\w+\}?)?|\\[a-zA-Z]+)$/.test(last) && !left.includes("="))
    return left + "=" + s.slice(k + 7).replace(/\\approx.*$/s, "");
  return left.trim().length > 0 ? left : s.slice(k + 7);
}

// A number followed by words in \text{} is the number: "17\text{ apples}", "125\textnormal{ miles}".
const TRAILING_WORDS =
  /^(.*?(?:\d|\}|\\pi))\s*\\(?:text|textnormal|textrm|textit|textbf|mbox|mathrm)\s*\{\s*[a-zA-Z][a-zA-Z .'-]*\}\s*(?:\^\s*\{?\s*[23]\s*\}?)?\s*$/s;

/**
 * Normalise an answer: drop $ and \( \), \left/\right, spacing commands, \text{} wrappers, units, degree marks,
 * percent signs, dollar signs and thousands separators; \dfrac/\tfrac become \frac; "27.0" becomes "27"; ASCII
 * relations (>=, <=, !=, \lt, \gt) become LaTeX ones; an "\approx" tail and a trailing "\text{words}" are dropped.
 * @example normalizeAnswer("\\$1{,}000.00").compact // "1000"
 */
export function normalizeAnswer(raw: string): NormalizedAnswer {
  let s = stripDelimiters(raw);
  // Doubled backslashes before a command ("\\frac", a string escaped twice) outside a matrix are one backslash.
  if (s.includes("\\\\") && !s.includes("\\begin")) s = s.replace(/\\\\(?=[a-zA-Z])/g, "\\");
  // A box left in the answer is its content; an unclosed one ("\\boxed{W(n) = 1 ...", a cut-off gold) is what follows
  // it.
  if (/^\\(?:boxed|fbox)\s*\{/.test(s)) {
    const open = s.indexOf("{");
    let depth = 0,
      close = -1;
    for (let q = open; q < s.length; q++) {
      if (s[q] === "{") depth++;
      else if (s[q] === "}" && --depth === 0) {
        close = q;
        break;
      }
    }
    if (close < 0 || close === s.length - 1) s = s.slice(open + 1, close < 0 ? undefined : close);
  }
  // "(11,7)or(7,11)", "W(x)=1orW(x)=-1": "or"/"and" glued between two answers separates them.
  const connectors = s.includes("or") || s.includes("and");
  if (connectors) s = s.replace(GLUED_OR, "$1, ");
  // "14 {, }916": a thousands separator in braces, spaced.
  if (s.includes("{")) s = s.replace(/(\d)\s*\{\s*,\s*\}\s*(?=\d{3}(?!\d))/g, "$1,");
  // A lone trailing backslash is a cut-off artefact ("185\\"): the answer is what precedes it.
  if (s.endsWith("\\")) s = s.replace(/(?<!\\)\\$/, "").trim();
  if (/[<>!]=|\\[lg]t(?![a-zA-Z])/.test(s)) {
    s = s.replace(/>=/g, "\\ge ").replace(/<=/g, "\\le ").replace(/!=/g, "\\ne ");
    s = s.replace(/\\lt(?![a-zA-Z])/g, "<").replace(/\\gt(?![a-zA-Z])/g, ">");
  }
  if (s.includes("\\approx")) s = dropApprox(s);
  if (/\\(?:text|mbox|mathrm)/.test(s)) {
    const words = TRAILING_WORDS.exec(s);
    // ... but not a time of day: "4:30\text{ p.m.}" keeps its "p.m." (it is compared as text)
    // ... nor a second answer in words ("13\text{ or fourteen}")
    const tail = words ? s.slice(words[1].length) : "";
    if (
      words &&
      !/\\(?:text|mbox|mathrm)/.test(words[1]) &&
      !/\{\s*[ap]\.?\s*m\.?\s*\}/i.test(tail) &&
      !/\b(?:or|and|not|plus|minus|times)\b/i.test(tail)
    )
      s = words[1];
  }
  // \left. and \right. are invisible delimiters: drop the dot with the command.
  s = s.replace(/\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg)(?![a-zA-Z])(?:\s*\.)?/g, "");
  s = s.replace(/\\(?:displaystyle|textstyle|scriptstyle|limits)(?![a-zA-Z])/g, "");
  s = s.replace(/\\[dtc]frac(?![a-zA-Z])/g, "\\frac").replace(/\\[dt]binom(?![a-zA-Z])/g, "\\binom");
  // Spacing commands vanish; a matrix row break "\\\\" is matched first so its second backslash is not eaten.
  s = s.replace(/\\\\|\\! *|\\[,;: ]/g, (m) => (m === "\\\\" ? m : m.startsWith("\\!") ? "" : " "));
  s = s.replace(/\\q?quad(?![a-zA-Z])/g, " ").replace(/~/g, " ");
  s = s.replace(/\{,\}/g, ",");
  for (const w of WRAPPERS) if (s.includes("\\" + w)) s = unwrapCommand(s, w);
  s = s.replace(/\\\$/g, " ").replace(/\$/g, " ");
  s = s.replace(/\\(?:le|leq|leqslant)(?![a-zA-Z])/g, "\\le ").replace(/\\(?:ge|geq|geqslant)(?![a-zA-Z])/g, "\\ge ");
  s = s.replace(/\\(?:neq)(?![a-zA-Z])/g, "\\ne ").replace(/\\varnothing(?![a-zA-Z])/g, "\\emptyset");
  s = s.replace(/\\(?:vert|lvert|rvert|mid)(?![a-zA-Z])/g, "|");
  s = s.replace(/\\infin(?:ity)?(?![a-zA-Z])/g, "\\infty").replace(/\\to(?![a-zA-Z])/g, "\\to ");
  let degrees = false;
  s = s.replace(/\^\s*\{?\s*\\circ\s*\}?|°|\\degree(?![a-zA-Z])|\\circ(?![a-zA-Z])/g, () => {
    degrees = true;
    return " ";
  });
  // Sentence punctuation after the answer goes ("\frac13.", "(1,2),"), an ellipsis stays ("1, 2, 3, ...").
  s = s.trim();
  if (/[.,;\s]$/.test(s) && !/(?:\.\.\.|\\[lc]?dots)$/.test(s)) s = s.replace(/[.,;\s]+$/, "");
  let percent = false;
  s = s.replace(/\s*\\?%$/, () => {
    percent = true;
    return "";
  });
  const u = stripUnits(s.trim());
  s = u.s.trim();
  if (/(^| )(?:percent|percentage|pct)$/.test(u.units)) percent = true;
  // A matrix in brackets or parentheses is the matrix: "\left[\begin{array}{cc}...\end{array}\right]".
  if (s.includes("\\begin"))
    s = s.replace(/^[[(]\s*(\\begin\{([a-zA-Z]*matrix|array)\}[\s\S]*\\end\{\2\})\s*[\])]$/, "$1");
  // "x \in [-2,7]" -> "[-2,7]"; "\approx 3.1" -> "3.1"
  s = s.replace(/^[a-zA-Z]\s*\\in(?![a-zA-Z])\s*/, "").replace(/^(?:\\approx|=)\s*/, "");
  if (connectors) s = s.replace(/(?:,\s*)?\s(?:and|or)\s+/g, ", ").replace(/\)\s*(?:and|or)\s*\(/g, "), (");
  // Thousands separators inside a brace group: \frac{12}{5,525}
  s = s.replace(/\{(-?\d{1,3}(?:,\d{3})+)\}/g, (_m, n: string) => "{" + n.replace(/,/g, "") + "}");
  // A whole answer written with thousands separators: 10,080 / 11,111,111,100 / 58,500.25
  // (No space after the commas: "8, 221" is a list of two answers.)
  if (/^-?\d{1,3}(,\d{3})+(\.\d+)?$/.test(s)) s = s.replace(/,/g, "");
  // 27.0 -> 27, .5 -> 0.5, 3. -> 3
  s = s.replace(/^(-?\d+)\.0*$/, "$1").replace(/^(-?)\./, "$10.");
  s = s.trim();
  const compact = s
    .replace(/(\\[a-zA-Z]+)\s+(?=[a-zA-Z0-9])/g, "$1\u0001")
    .replace(/\s+/g, "")
    .replace(/\u0001/g, " ");
  return { text: s, compact, percent, degrees, units: u.units };
}
