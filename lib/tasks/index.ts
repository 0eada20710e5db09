// Public API of lib/tasks (filled in by its module).
export {};
