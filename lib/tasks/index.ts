// Public API of lib/tasks: procedural tasks (seeded generator + verifier) for tiny models on a CPU.
export type { Task, TaskSpec, TaskItem, TaskRecord, Verdict, GenerateOptions } from "./types.js";
export { defineTask } from "./define.js";
export { tasks, register, taskForSource, generate, alphabet, distinctCorrect } from "./registry.js";
export { answerOf, canonicalInt, positionalCredit } from "./answer.js";
export { evalIntExpr, ExprError, type Frac } from "./expr.js";
export { arith, arithDefaults, type ArithOptions } from "./arith.js";
export { countdown, countdownDefaults, type CountdownOptions, type CountdownTruth } from "./countdown.js";
export { sort, reverse, sequenceDefaults, type SequenceOptions } from "./sequence.js";
export { modular, modularDefaults, type ModularOptions } from "./modular.js";
export { pairSum, pairSumDefaults, derange, derangeDefaults, type PairSumOptions, type DerangeOptions } from "./many-answers.js";
