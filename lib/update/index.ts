// Public API of lib/update (filled in by its module).
export {};
