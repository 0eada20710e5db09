// Public API of lib/eval (filled in by its module).
export {};
