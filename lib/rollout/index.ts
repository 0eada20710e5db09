// Public API of lib/rollout (filled in by its module).
export {};
