// Public API of lib/eval.
export { passAtK, meanPassAtK } from "./pass-at-k.js";
export { meanAtK, standardError, bootstrapCI, bootstrapDefaults, majAtK, type BootstrapOptions } from "./aggregate.js";
export { mcnemarExact, compareRuns, type PairedComparison } from "./compare.js";
