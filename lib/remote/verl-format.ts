// Writing verl's configuration: Hydra command-line overrides (key=value) and the same values as a YAML file.
// Floats keep a dot and a signed exponent ("1.0e-06") so PyYAML, OmegaConf and Hydra's override grammar all read a
// float; strings that would read as something else are quoted.

/** A config value verl accepts. */
export type VerlValue = string | number | boolean | null | string[];

/**
 * A number as Hydra and YAML both read it back (1e-6 → "1.0e-06", 0.2 → "0.2", 8 → "8").
 * `float` writes whole numbers as floats (1 → "1.0") for keys verl declares as floats.
 * @example remote.verlNumber(1e-6) // "1.0e-06"
 */
export function verlNumber(x: number, float = false): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return float ? `${x}.0` : String(x);
  const s = String(x);
  if (!/e/i.test(s) && Math.abs(x) >= 1e-3) return s;
  const [m, e] = x.toExponential().split("e");
  const exp = Number(e);
  return `${m.includes(".") ? m : m + ".0"}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
}

const PLAIN = /^[A-Za-z_~$/.][A-Za-z0-9_./:~$@+-]*$/;
const LOOKS_TYPED = /^(true|false|null|none|yes|no|on|off|nan|inf|[-+]?[0-9.].*)$/i;

function str(s: string): string {
  return PLAIN.test(s) && !LOOKS_TYPED.test(s) ? s : JSON.stringify(s);
}

/**
 * A value in Hydra override syntax.
 * @example remote.hydraValue(["console", "wandb"]) // '["console","wandb"]'
 */
export function hydraValue(v: VerlValue, float = false): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") return verlNumber(v, float);
  if (Array.isArray(v)) return `[${v.map((x) => JSON.stringify(x)).join(",")}]`;
  return str(v);
}

/**
 * One override argument, single-quoted for a POSIX shell when it needs it.
 * @example remote.shellArg("trainer.logger=[\"console\"]") // `'trainer.logger=["console"]'`
 */
export function shellArg(s: string): string {
  if (/^[A-Za-z0-9_./:=+,@%-]+$/.test(s)) return s;
  // a shell variable (the run script's $HERE) must expand: double quotes, and nothing else in it needs quoting
  if (/^[A-Za-z0-9_./:=+,@%${}-]+$/.test(s)) return `"${s}"`;
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}

/**
 * Dotted keys as a nested YAML mapping ("a.b.c: 1" → a: b: c: 1); `+key` loses its plus (new keys are fine in a
 * file).
 * @example remote.toYaml({"data.train_files": "train.parquet", "algorithm.adv_estimator": "grpo"})
 */
export function toYaml(
  values: Record<string, VerlValue>,
  options: { indent?: number; isFloat?: (key: string) => boolean } = {},
): string {
  const { indent = 2, isFloat = () => false } = options;
  type Tree = { [k: string]: Tree | VerlValue };
  const root: Tree = {};
  for (const [key, v] of Object.entries(values)) {
    const parts = key.replace(/^\+/, "").split(".");
    let node = root;
    for (const p of parts.slice(0, -1)) {
      const next = node[p];
      if (next === undefined || next === null || typeof next !== "object" || Array.isArray(next)) node[p] = {};
      node = node[p] as Tree;
    }
    node[parts[parts.length - 1]] =
      typeof v === "number" && isFloat(key.replace(/^\+/, "")) ? ({ __float: v } as unknown as VerlValue) : v;
  }
  const lines: string[] = [];
  const walk = (t: Tree, depth: number) => {
    for (const [k, v] of Object.entries(t)) {
      const pad = " ".repeat(depth * indent);
      if (v !== null && typeof v === "object" && !Array.isArray(v) && "__float" in v)
        lines.push(`${pad}${k}: ${verlNumber((v as unknown as { __float: number }).__float, true)}`);
      else if (v !== null && typeof v === "object" && !Array.isArray(v)) {
        lines.push(`${pad}${k}:`);
        walk(v as Tree, depth + 1);
      } else if (Array.isArray(v)) lines.push(`${pad}${k}: [${v.map((x) => JSON.stringify(x)).join(", ")}]`);
      else lines.push(`${pad}${k}: ${hydraValue(v as VerlValue)}`);
    }
  };
  walk(root, 0);
  return lines.join("\n") + "\n";
}
