// Public API of lib/model (filled in by its module).
export {};
