// Types of kernel-install.mjs (for TypeScript tests that reuse it).
export declare function kernelSpec(): {
  argv: string[];
  display_name: string;
  language: string;
  interrupt_mode: string;
  env: Record<string, string>;
  metadata: Record<string, unknown>;
};
export declare function writeSpec(dir: string): string;
