// Public API of lib/tasks: procedural tasks (seeded generator + verifier) for tiny models on a CPU. Each task is
// callable (`tasks.arith(100, {seed: 0})`); `tasks.records("arith", 100, {seed: 0})` does the same by name.
export type { Task, TaskSpec, TaskItem, TaskRecord, Verdict, RecordsOptions } from "./types.js";
export { defineTask } from "./define.js";
export { tasks, registerTask, records, alphabet, distinctCorrect } from "./registry.js";
export { arith, type ArithOptions } from "./arith.js";
export { countdown, type CountdownOptions, type CountdownTruth } from "./countdown.js";
export { sort, reverse, type SequenceOptions } from "./sequence.js";
export { modular, type ModularOptions } from "./modular.js";
export { pairSum, derange, type PairSumOptions, type DerangeOptions } from "./many-answers.js";
