// Types of jupyter-env.mjs (for TypeScript tests and benchmarks that reuse it).
export declare const REPO: string;
export declare const JUPYTER_DIR: string;
export declare const APT_PACKAGES: string[];
export declare function which(cmd: string): string | null;
export declare function findJupyter(): {
  python: string;
  modules: Record<string, boolean>;
  jupyter: string | null;
} | null;
export declare function isDebianLike(): boolean;
export declare function installHint(): string;
export declare function jupyterEnv(base?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
