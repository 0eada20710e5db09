// Public API of lib/remote (filled in by its module).
export {};
