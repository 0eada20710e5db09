// Public API of lib/distill (filled in by its module).
export {};
