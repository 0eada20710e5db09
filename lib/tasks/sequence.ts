// Sorting and reversal of short symbol strings: "sort 52913=" -> "12359", "rev abcde=" -> "edcba".
import { defineTask } from "./define.js";
import { answerOf, exactVerdict } from "./answer.js";
import { choiceKnob, intKnob, rejectUnknown } from "./knobs.js";
import type { TaskItem, Verdict } from "./types.js";

/** Knobs of the sort and reverse tasks. */
export interface SequenceOptions {
  /** Length of the string. Defaults to 5. */
  length: number;
  /** Symbols drawn from: "digits" (0-9) or "letters" (a-z). Defaults to "digits". */
  symbols: "digits" | "letters";
}

/** Default knobs of sort and reverse. */
export const sequenceDefaults: SequenceOptions = { length: 5, symbols: "digits" };

const SYMBOLS = { digits: "0123456789", letters: "abcdefghijklmnopqrstuvwxyz" };

function resolve(task: string, o: Partial<SequenceOptions>): SequenceOptions {
  rejectUnknown(task, o, sequenceDefaults);
  const r = { ...sequenceDefaults, ...o };
  return {
    length: intKnob(task, "length", r.length, 1, 40),
    symbols: choiceKnob(task, "symbols", r.symbols, ["digits", "letters"] as const)[0],
  };
}

function make(word: string, cmd: string, answer: string, o: SequenceOptions): TaskItem {
  return { prompt: `${cmd} ${word}=`, groundTruth: answer, answer, info: { length: o.length, symbols: o.symbols } };
}

// options.partialWeight > 0 gives that weight times the fraction of positions right to wrong answers.
function verify(response: string, groundTruth: unknown, options: Record<string, unknown> = {}): Verdict {
  return exactVerdict(String(groundTruth), answerOf(response), Number(options.partialWeight ?? 0), "left");
}

function draw(rng: { int(n: number): number }, o: SequenceOptions): string {
  const abc = SYMBOLS[o.symbols];
  let s = "";
  for (let i = 0; i < o.length; i++) s += abc[rng.int(abc.length)];
  return s;
}

/**
 * Sort the symbols ascending ("sort 52913=" -> "12359").
 * @example tasks.records("sort", 4, {seed: 1, length: 6, symbols: "letters"})
 */
export const sort = defineTask<SequenceOptions>({
  name: "sort",
  dataSource: "cellrl/sort",
  summary: "sort the symbols ascending",
  alphabet: " =0123456789abcdefghijklmnopqrstuvwxyz",
  defaults: sequenceDefaults,
  resolve: (o) => resolve("sort", o),
  generate(rng, o) {
    const w = draw(rng, o);
    return make(w, "sort", [...w].sort().join(""), o);
  },
  verify,
});

/**
 * Reverse the string ("rev abcde=" -> "edcba").
 * @example tasks.records("reverse", 4, {seed: 1, length: 8, symbols: "letters"})
 */
export const reverse = defineTask<SequenceOptions>({
  name: "reverse",
  dataSource: "cellrl/reverse",
  summary: "reverse the string",
  alphabet: " =0123456789abcdefghijklmnopqrstuvwxyz",
  defaults: sequenceDefaults,
  resolve: (o) => resolve("reverse", o),
  generate(rng, o) {
    const w = draw(rng, o);
    return make(w, "rev", [...w].reverse().join(""), o);
  },
  verify,
});
