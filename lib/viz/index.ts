// Public API of lib/viz (filled in by its module).
export {};
