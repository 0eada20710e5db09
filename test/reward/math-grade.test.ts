// gradeMath on hand-written cases: every policy of docs/rewards.md has a row here (expectations written by hand).
import { test } from "node:test";
import assert from "node:assert/strict";
import { gradeMath } from "../../lib/reward/math/grade.js";
import { normalizeAnswer } from "../../lib/reward/math/normalize.js";
import { CellrlError } from "../../lib/core/errors.js";

const EQUAL: [unknown, string, string][] = [
  // [gold, pred, rule that should decide]
  ["\\frac{1}{2}", "0.5", "numeric"],
  ["\\frac12", "\\dfrac{1}{2}", "exact-rational"],
  ["\\tfrac{3}{4}", "3/4", "exact-rational"],
  ["27.0", "27", "string"],
  [27, "27", "string"],
  [204, "\\boxed{204}", "string"],
  ["12\\frac{3}{5}", "63/5", "exact-rational"], // mixed number
  ["137 \\frac{1}{2}", "275/2", "exact-rational"],
  ["10,\\!080", "10080", "string"], // thousands separators
  ["10{,}000", "10000", "string"],
  ["\\$32,\\!348", "32348", "string"], // dollars
  ["1,000,000", "10^6", "exact-rational"],
  ["10\\%", "10", "exact-rational"], // percent sign dropped
  ["10\\%", "0.1", "percent"], // percent as a fraction
  ["0.1", "10\\%", "percent"],
  ["90^\\circ", "90", "string"], // degrees
  ["864 \\mbox{ inches}^2", "864", "string"], // units
  ["1320", "1320 km", "string"],
  ["5.4 \\text{ cents}", "5.4", "string"],
  ["\\frac{\\sqrt{3}}{3}", "\\frac{1}{\\sqrt3}", "numeric"], // radicals
  ["3\\sqrt{13}", "\\sqrt{117}", "numeric"],
  ["11\\sqrt2", "11 \\sqrt{2}", "numeric"],
  ["\\pi", "3.1416", "numeric"], // a decimal within half a unit of its last digit (and 1e-4 relative)
  ["\\frac{1}{3}", "0.3333", "numeric"],
  ["6 - 5i", "-5i + 6", "numeric"], // complex
  ["\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac\\pi2)", "tuple"],
  ["(x+1)^2", "x^2+2x+1", "symbolic"], // random-point evaluation
  ["\\frac{x+2}{7}", "\\frac{x}{7}+\\frac{2}{7}", "symbolic"],
  ["\\sec^2 y", "\\tan^2 y + 1", "symbolic"],
  ["m n-\\lfloor m / 2\\rfloor", "mn - \\lfloor \\frac{m}{2} \\rfloor", "symbolic"],
  ["\\binom{2n}{n}", "\\frac{(2n)!}{n!^2}", "symbolic"],
  ["2^{1009}", "2 \\cdot 2^{1008}", "exact-rational"],
  ["x=5", "5", "exact-rational"], // equation with a named left side
  ["5", "x = 5", "exact-rational"],
  ["y = 2x + 3", "2x+3", "symbolic"],
  ["f(x)=2 x", "2x", "symbolic"],
  ["5x - 7y + 11z + 4 = 0", "10x - 14y + 22z + 8 = 0", "equation"], // proportional equations
  ["x + y = 1", "y = 1 - x", "equation"],
  ["3, 5, 7", "7, 5, 3", "set"], // multiple answers: order free
  ["1 \\pm \\sqrt{19}", "1+\\sqrt{19}, 1-\\sqrt{19}", "set"],
  ["\\{1\\pm\\sqrt{5},-2\\}", "-2, 1+\\sqrt5, 1-\\sqrt5", "set"],
  ["7, -2, \\text{ and } -5", "-5, -2, 7", "set"],
  ["(-\\infty,1)\\cup(1,\\infty)", "(1, \\infty) \\cup (-\\infty, 1)", "interval-union"],
  ["(3,4]", "\\left(3, 4\\right]", "string"],
  ["x \\in [-2,7]", "[-2, 7]", "string"],
  [
    "\\begin{pmatrix} -1/3 \\\\ 2/3 \\\\ 5/3 \\end{pmatrix}",
    "\\begin{pmatrix}-\\frac13\\\\\\frac23\\\\\\frac53\\end{pmatrix}",
    "matrix",
  ],
  ["\\begin{pmatrix} 2 \\\\ 1 \\\\ 3 \\end{pmatrix}", "(2, 1, 3)", "vector"],
  ["\\text{Evelyn}", "evelyn", "text"],
  ["\\text{(C)}", "C", "symbolic"],
  ["52_8", "52", "exact-rational"], // base subscripts are dropped
  ["\\frac{12}{5,\\!525}", "\\frac{12}{5525}", "string"],
  [["$69$,$84$"], "84, 69", "set"], // OlympiadBench list gold
  ["\\boxed{9\\sqrt{2}}", "9\\sqrt2", "numeric"], // AReaL gold wrapped in \boxed
  ["Janet sells 9 eggs.\n#### 18", "18", "string"], // GSM8K raw answer as gold
  // issue 14: the categories Math-Verify accepts
  ["\\{1,2,3\\}", "\\boxed{1} and \\boxed{2} and \\boxed{3}", "set"], // several boxes form one answer
  ["\\boxed{1}, \\boxed{2}", "2, 1", "set"], // a gold with two boxes is not cut to the last
  ["(3,2)", "(p,q)=(3,2)", "tuple"], // equation whose left side is not a plain variable
  ["81", "\\boxed{(x+y)^2=81}", "exact-rational"],
  ["x \\ge 5", "x >= 5", "string"], // ASCII relations
  ["x \\le 2", "x <= 2", "string"],
  ["x \\neq 3", "x != 3", "string"],
  ["x < 3", "x \\lt 3", "string"],
  ["x > 5", "5 \\lt x", "equation"],
  ["(-793,10)", "-793<a<10", "tuple"], // a relation and the same interval
  ["x \\in [-2,7]", "-2\\le x\\le 7", "tuple"],
  ["(5, \\infty)", "x > 5", "tuple"],
  ["\\frac{\\sqrt{3}}{3}", "\\frac{\\sqrt{3}}{3} \\approx 0.577", "string"], // \approx tails
  ["11", "x \\approx 11", "exact-rational"],
  ["17", "17\\text{ apples}", "string"], // label text after a number
  ["28\\%", "28 pct", "string"],
  ["\\{-2021, 2021\\}", "{-2021, 2021}", "set"], // braces without backslashes
  [
    "\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix}",
    "\\left[\\begin{array}{cc}1 & 2 \\\\ 3 & 4\\end{array}\\right]",
    "matrix",
  ],
  [
    "\\begin{pmatrix}6 & 8 \\\\ 10 & 12\\end{pmatrix}",
    "\\begin{pmatrix}1 & 2 \\\\ 3 & 4\\end{pmatrix} + \\begin{pmatrix}5 & 6 \\\\ 7 & 8\\end{pmatrix}",
    "matrix",
  ],
  ["12", "so \\boxed{12}. (Put the answer in \\boxed{}.)", "string"], // an empty trailing box is skipped
  // policy cases (docs/rewards.md, "Where cellrl's grader differs from Math-Verify")
  ["185", "185\\", "string"], // a lone trailing backslash is dropped
  ["11", "x = 5+5+1 = 7 = 11", "exact-rational"], // a chain counts by its last part, a false step is not graded
  ["\\frac{639}{40}", "\\boxed{15\\frac{39}{40}}, \\boxed{\\frac{639}{40}}", "exact-rational"], // one value written twice
  ["C", "C. x = 42", "choice"], // an option letter and the option it starts
  ["40/9", "4 4/9", "exact-rational"], // a plain-text mixed number
  ["\\sum_{k=1}^{10} k^2", "385", "exact-rational"], // sums with constant bounds are added up
  ["\\sum_{i=1}^{3}\\sum_{j=1}^{3} ij", "36", "exact-rational"], // an index named i is not the imaginary unit
  ["F_n = \\sum_{k=0}^{n-1} F_k F_{n-k-1}", "F_n = \\sum_{k=0}^{n-1} F_{n-k-1} F_k", "symbolic"], // otherwise compared unevaluated
  ["\\sum_{k=0}^{n-1} (k+1)", "\\sum_{k=1}^{n} k", "symbolic"], // a shifted index
];

const NOT_EQUAL: [unknown, string][] = [
  ["10", "0.1"], // no percent sign: not scaled
  ["3986729", "3986730"], // integers compare exactly, never with a relative tolerance
  ["10000", "9999.857142857143"], // precise decimals must match to their last digit
  ["\\frac{1}{3}", "0.333"], // 3e-4 relative error > 1e-4
  ["0.5", "0.54"],
  ["\\pi", "3.14"],
  ["\\frac{3}{8}", "\\frac{5}{16}"],
  ["(3,4]", "(3,4)"], // open vs closed
  ["(1,2)", "(2,1)"], // tuples are ordered
  ["\\sin^2 t", "\\tan^2 t"],
  ["2n", "2m"],
  ["2n", "4"],
  ["x^2", "x^3"],
  ["x + y = 1", "x - y = 1"],
  ["x > 1", "x < 1"],
  ["3, 5, 7", "3, 5"],
  ["\\infty", "\\frac{1}{0}"], // division by zero is undefined, not infinity
  ["0", "\\frac{1}{2004!}"], // huge values never underflow to 0
  ["1\\frac{1}{10}", "1\\frac{8}{91}"],
  ["\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{pmatrix} 1 & 2 \\\\ 3 & 5 \\end{pmatrix}"],
  ["1.22", "1,22"], // in an answer a comma separates items: no decimal comma (free text: see the last-number rule)
  ["0", "20x + 23y + 26z - 69 = 0"], // "... = 0" is an equation, not the value 0
  ["13", "14 = 13"], // a left side with no variable names nothing
  ["7 = 11a+c", "11a+c"], // a gold equation is not its side
  ["a + 3z = 0", "0"],
  ["(3,1)", "{1,3}"], // a bare list against a tuple keeps its order
  ["x > 5", "x < 5"],
  ["\\frac{1}{3}", "\\frac{1}{3}, \\frac{1}{2}"],
  ["12", "11 6/6"], // an improper "mixed number" is not read (neither 12 nor 11)
  ["11", "11 6/6"],
  ["0", "4 4/0"],
  ["\\sum_{k=0}^{n-1} k", "\\sum_{k=1}^{n} k"],
  ["\\sum_{k=1}^{3} k", "3k"],
  ["F_n = \\sum_{k=0}^{n-1} F_k F_{n-k-1}", "F_n = \\sum_{k=0}^{n-2} F_k F_{n-k-2}"],
];

test("equal answers, and the rule that decides each", () => {
  for (const [gold, pred, rule] of EQUAL) {
    const r = gradeMath(gold, pred);
    assert.equal(r.equal, true, `${JSON.stringify(gold)} vs ${JSON.stringify(pred)}: ${JSON.stringify(r.details)}`);
    assert.equal(r.details.rule, rule, `${JSON.stringify(gold)} vs ${JSON.stringify(pred)}`);
  }
});

test("different answers are not equal", () => {
  for (const [gold, pred] of NOT_EQUAL) {
    const r = gradeMath(gold, pred);
    assert.equal(r.equal, false, `${JSON.stringify(gold)} vs ${JSON.stringify(pred)}: ${JSON.stringify(r.details)}`);
  }
});

test("hack resistance: empty, gold as a substring, hedged lists, absurd sizes", () => {
  assert.equal(gradeMath("13", "").details.rule, "empty");
  assert.equal(gradeMath("13", "\\boxed{}").equal, false);
  for (const pred of ["C. or D.", "C. x = 4, D. x = 5", "(C) (D)"])
    assert.equal(gradeMath("C", pred).equal, false, pred);
  for (const pred of [
    "13 or 14",
    "113",
    "13, 14",
    "\\{13, 14\\}",
    "1313",
    "13 = 14",
    "x = 13 = 14",
    "13 \\text{ or } 31",
    "13\\text{ or fourteen}",
    "13or14",
    "13:1",
    "AB = 14",
    "14 = 13",
    "\\boxed{13} and \\boxed{14}",
    "13 < x < 14",
    "x > 13",
  ])
    assert.equal(gradeMath("13", pred).equal, false, pred);
  // A 10^(10^10) tower and 5000 nested parentheses are graded (as wrong) without hanging or throwing.
  assert.equal(gradeMath("7", "10^{10^{10}}").equal, false);
  assert.equal(gradeMath("7", "(".repeat(5000) + "7" + ")".repeat(5000)).equal, false);
  assert.equal(gradeMath("7", "x".repeat(100000)).equal, false);
});

test("bad gold is a clear error naming the field", () => {
  assert.throws(
    () => gradeMath("", "1"),
    (e: unknown) => e instanceof CellrlError && /ground_truth/.test(e.message),
  );
  assert.throws(() => gradeMath({ a: 1 }, "1"), CellrlError);
  assert.throws(() => gradeMath("1", 5 as unknown as string), CellrlError);
  assert.throws(
    () => gradeMath("1", "1", { mode: "free" as "answer" }),
    (e: unknown) => e instanceof CellrlError && /mode must be "answer" or "response" \(got "free"\)/.test(e.message),
  );
});

test("normalizeAnswer removes what it reports", () => {
  const n = normalizeAnswer("$\\left( 10\\% \\right)$");
  assert.equal(n.compact, "(10\\%)"); // inner % is not trailing: kept
  const m = normalizeAnswer("\\text{ } 15\\mbox{ cm}^2");
  assert.deepEqual([m.compact, m.units], ["15", "cm^2"]);
  const p = normalizeAnswer("45\\%");
  assert.deepEqual([p.compact, p.percent], ["45", true]);
  const d = normalizeAnswer("30^{\\circ}");
  assert.deepEqual([d.compact, d.degrees], ["30", true]);
  assert.equal(normalizeAnswer("2m").compact, "2m"); // a one-letter unit glued to a number is a variable
  assert.equal(normalizeAnswer("5 m").compact, "5");
});

test("a gold with several boxes keeps them all (it is never cut to the last)", () => {
  assert.equal(gradeMath("\\boxed{1} \\text{ or } \\boxed{2}", "1, 2").equal, true);
  assert.equal(gradeMath("\\boxed{1} \\text{ or } \\boxed{2}", "2").equal, false);
  assert.equal(gradeMath("$x = \\boxed{3}$ and $y = \\boxed{5}$", "3, 5").equal, true);
  assert.equal(gradeMath("\\boxed{7} (that is, \\boxed{7})", "7").equal, true);
});

test("percent: 'either' (default) reads a one-sided % both ways; 'fraction' reads a predicted % only as /100 (Math-Verify)", () => {
  assert.equal(gradeMath("10", "10\\%").equal, true);
  assert.equal(gradeMath("10", "10\\%", { percent: "fraction" }).equal, false);
  assert.equal(gradeMath("0.1", "10\\%", { percent: "fraction" }).equal, true);
  assert.equal(gradeMath("10\\%", "10", { percent: "fraction" }).equal, true); // a gold % still accepts both
  assert.equal(gradeMath("10\\%", "0.1", { percent: "fraction" }).equal, true);
  assert.throws(() => gradeMath("1", "1", { percent: "half" as "either" }), /percent must be "either" or "fraction"/);
});
