import { fail, nearest } from "./errors.js";

/** Metadata shown when a registry is listed. */
export interface RegistryInfo {
  /** Where the method comes from, e.g. "arXiv:2402.03300". */
  paper?: string;
  /** One line: what it computes. */
  summary?: string;
}

/** A registry entry. */
export interface RegistryEntry<F> extends RegistryInfo {
  name: string;
  fn: F;
  builtin: boolean;
}

/** Named functions of one kind (advantage estimators, losses, rewards...), in verl's register-by-name style. */
export interface Registry<F> {
  readonly kind: string;
  /**
   * Add `fn` under `name`. Replacing a built-in needs `{override: true}`; names added from a notebook may be re-added.
   */
  add(name: string, fn: F, info?: RegistryInfo & { override?: boolean }): F;
  /** The function for a name, or the function itself when one is passed. Unknown names list the known ones. */
  get(nameOrFn: string | F): F;
  has(name: string): boolean;
  names(): string[];
  entries(): RegistryEntry<F>[];
  /** Rows `{name, paper, summary, builtin}` (wrap with `aq.from` for a table). */
  rows(): { name: string; paper: string; summary: string; builtin: boolean }[];
}

let loadingBuiltins = true;
/** Built-ins register while cellrl loads; anything registered after `sealBuiltins()` counts as user code. */
export function sealBuiltins(): void {
  loadingBuiltins = false;
}

/**
 * Create a registry of named functions.
 * @example const rewards = registry<RewardFn>("reward"); rewards.add("exact", exactMatch)
 */
export function registry<F>(kind: string): Registry<F> {
  const map = new Map<string, RegistryEntry<F>>();
  const reg: Registry<F> = {
    kind,
    add(name, fn, info = {}) {
      if (typeof name !== "string" || name.length === 0)
        fail("invalid_option", `${kind}.add: name must be a non-empty string (got ${String(name)}).`);
      if (typeof fn !== "function")
        fail("invalid_option", `${kind}.add: "${name}" must be registered with a function (got ${typeof fn}).`);
      const old = map.get(name);
      if (old && old.builtin && !info.override && !loadingBuiltins)
        fail("invalid_option", `${kind}.add: "${name}" is a built-in ${kind}; pass {override: true} to replace it.`);
      map.set(name, { name, fn, builtin: loadingBuiltins, paper: info.paper, summary: info.summary });
      return fn;
    },
    get(nameOrFn) {
      if (typeof nameOrFn === "function") return nameOrFn;
      const e = map.get(nameOrFn as string);
      if (e) return e.fn;
      const known = [...map.keys()];
      const near = nearest(String(nameOrFn), known);
      return fail(
        "unknown_name",
        `${kind}: unknown ${kind} ${JSON.stringify(nameOrFn)} (known: ${known.join(", ") || "none"}).` +
          (near ? ` Did you mean "${near}"?` : ` Register your own with ${kind}s.add(name, fn).`),
        { got: nameOrFn, expected: known },
      );
    },
    has: (name) => map.has(name),
    names: () => [...map.keys()],
    entries: () => [...map.values()],
    rows: () =>
      [...map.values()].map((e) => ({
        name: e.name,
        paper: e.paper ?? "",
        summary: e.summary ?? "",
        builtin: e.builtin,
      })),
  };
  return reg;
}
