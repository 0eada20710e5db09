// Infer a nested parquet schema from JS rows, so verl's columns are written natively:
// prompt as list<struct<role, content>>, reward_model and extra_info as structs, responses as list<string>.
// Values whose types disagree across rows (e.g. ground_truth a string in one row and an object in another)
// fall back to a JSON-encoded string leaf (converted_type JSON), which hyparquet decodes on read.
import type { SchemaElement } from "hyparquet";

/** The inferred type of a column or nested field. */
export type ValueType =
  | { k: "null" }
  | { k: "bool" }
  | { k: "int" }
  | { k: "double" }
  | { k: "string" }
  | { k: "json" }
  | { k: "list"; item: ValueType }
  | { k: "struct"; fields: Map<string, ValueType> };

const NULL: ValueType = { k: "null" };
const JSON_T: ValueType = { k: "json" };

/**
 * The type of one JS value.
 * @example typeOfValue([{role: "user", content: "q"}]) // {k: "list", item: {k: "struct", ...}}
 */
export function typeOfValue(v: unknown): ValueType {
  if (v === null || v === undefined) return NULL;
  if (typeof v === "boolean") return { k: "bool" };
  if (typeof v === "bigint") return { k: "int" };
  if (typeof v === "number") return Number.isInteger(v) && Number.isSafeInteger(v) ? { k: "int" } : { k: "double" };
  if (typeof v === "string") return { k: "string" };
  if (Array.isArray(v)) {
    let item: ValueType = NULL;
    for (const x of v) item = mergeTypes(item, typeOfValue(x));
    return { k: "list", item };
  }
  if (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    const fields = new Map<string, ValueType>();
    for (const [key, x] of Object.entries(v as Record<string, unknown>)) fields.set(key, typeOfValue(x));
    return fields.size === 0 ? JSON_T : { k: "struct", fields };
  }
  return JSON_T; // typed arrays, dates, class instances: stored as JSON text
}

/**
 * The narrowest type holding both (int + double = double; anything else that disagrees = json).
 * @example mergeTypes({k: "int"}, {k: "double"}) // {k: "double"}
 */
export function mergeTypes(a: ValueType, b: ValueType): ValueType {
  if (a.k === "null") return b;
  if (b.k === "null") return a;
  if (a.k === "json" || b.k === "json") return JSON_T;
  if ((a.k === "int" && b.k === "double") || (a.k === "double" && b.k === "int")) return { k: "double" };
  if (a.k !== b.k) return JSON_T;
  if (a.k === "list" && b.k === "list") return { k: "list", item: mergeTypes(a.item, b.item) };
  if (a.k === "struct" && b.k === "struct") {
    const fields = new Map(a.fields);
    for (const [key, t] of b.fields) fields.set(key, mergeTypes(fields.get(key) ?? NULL, t));
    return { k: "struct", fields };
  }
  return a;
}

/**
 * Schema elements (pre-order, as parquet's footer lists them) for one column; every level is OPTIONAL (nullable).
 * @example
 * schemaElements("responses", {k: "list", item: {k: "string"}}) // [responses LIST, list REPEATED, element UTF8]
 */
export function schemaElements(name: string, t: ValueType): SchemaElement[] {
  const leaf = (type: SchemaElement["type"], extra: Partial<SchemaElement> = {}): SchemaElement[] => [
    { name, type, repetition_type: "OPTIONAL", ...extra },
  ];
  switch (t.k) {
    case "null":
    case "string":
      return leaf("BYTE_ARRAY", { converted_type: "UTF8" });
    case "json":
      return leaf("BYTE_ARRAY", { converted_type: "JSON" });
    case "bool":
      return leaf("BOOLEAN");
    case "int":
      return leaf("INT64");
    case "double":
      return leaf("DOUBLE");
    case "list":
      // the standard 3-level list (what pyarrow writes for list<...>): <name> LIST / repeated "list" / "element"
      return [
        { name, repetition_type: "OPTIONAL", converted_type: "LIST", num_children: 1 },
        { name: "list", repetition_type: "REPEATED", num_children: 1 },
        ...schemaElements("element", t.item),
      ];
    case "struct": {
      const out: SchemaElement[] = [{ name, repetition_type: "OPTIONAL", num_children: t.fields.size }];
      for (const [key, ft] of t.fields) out.push(...schemaElements(key, ft));
      return out;
    }
  }
}

/**
 * Convert a value to what hyparquet-writer expects for type `t` (INT64 as bigint, structs with every field).
 * @example prepareValue({index: 3}, typeOfValue({index: 3})) // {index: 3n}
 */
export function prepareValue(v: unknown, t: ValueType): unknown {
  if (v === null || v === undefined) return null;
  switch (t.k) {
    case "int":
      return typeof v === "bigint" ? v : BigInt(v as number);
    case "list":
      return (v as unknown[]).map((x) => prepareValue(x, t.item));
    case "struct": {
      const o = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [key, ft] of t.fields) out[key] = prepareValue(o[key], ft);
      return out;
    }
    case "json":
      return typeof v === "bigint" ? Number(v) : v;
    default:
      return v;
  }
}
