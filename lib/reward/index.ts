// Public API of lib/reward (filled in by its module).
export {};
