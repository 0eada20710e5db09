// Shared answer handling of the task verifiers: where the answer is, canonical integers, partial credit.

/**
 * The answer part of a response: the content of the last <answer>...</answer> if there is one, else the whole
 * response; surrounding whitespace removed.
 * @example answerOf("<think>..</think><answer> 42 </answer>") // "42"
 */
export function answerOf(response: string): string {
  const close = response.lastIndexOf("</answer>");
  if (close >= 0) {
    const open = response.lastIndexOf("<answer>", close);
    if (open >= 0) return response.slice(open + 8, close).trim();
  }
  return response.trim();
}

/**
 * The integer a canonical decimal string denotes ("-12", "0", "7"), or null ("007", "+3", "1.0", "" are not canonical).
 */
export function canonicalInt(s: string): bigint | null {
  return /^(?:0|-?[1-9]\d*)$/.test(s) ? BigInt(s) : null;
}

/**
 * Fraction of positions where `pred` matches `gold`, over the longer of the two (so padding never helps).
 * `align` "right" compares numbers digit by digit from the units.
 * @example positionalCredit("1234", "1244") // 0.75
 */
export function positionalCredit(gold: string, pred: string, align: "left" | "right" = "left"): number {
  const n = Math.max(gold.length, pred.length);
  if (n === 0) return 0;
  let same = 0;
  for (let i = 0; i < Math.min(gold.length, pred.length); i++) {
    const g = align === "left" ? gold[i] : gold[gold.length - 1 - i];
    const p = align === "left" ? pred[i] : pred[pred.length - 1 - i];
    if (g === p) same++;
  }
  return same / n;
}

/** Exact-match verdict with optional partial credit (weight 0 = off). */
export function exactVerdict(
  gold: string,
  pred: string,
  partialWeight: number,
  align: "left" | "right",
): { score: number; details: Record<string, unknown> } {
  if (pred === "") return { score: 0, details: { extracted: pred, gold, rule: "empty" } };
  if (pred === gold) return { score: 1, details: { extracted: pred, gold, rule: "exact" } };
  const credit = partialWeight > 0 ? partialWeight * positionalCredit(gold, pred, align) : 0;
  return { score: credit, details: { extracted: pred, gold, rule: credit > 0 ? "partial" : "wrong" } };
}
