// Ground truth of the code reward, in every shape the public datasets use, normalised to one of three test kinds.
import * as zlib from "node:zlib";
import { describe, fail } from "../core/errors.js";
import { parseJsonExact, stringifyExact } from "./code-compare.js";

/**
 * Tests of one coding problem, normalised.
 * - functional: Python test code run after the program (asserts, or `def check(candidate)` called with `entryPoint`)
 * - stdio: each input is fed on stdin and stdout is compared with the output
 * - call: each input is a JSON-lines argument list for `fnName` (a function or a `Solution` method), as LiveCodeBench
 */
export type CodeTests =
  | { mode: "functional"; test: string; entryPoint?: string; prompt?: string }
  | { mode: "stdio"; inputs: string[]; outputs: string[] }
  | { mode: "call"; fnName: string; inputs: (string | unknown[])[]; outputs: unknown[] };

/** Options of parseCodeTests(). */
export interface ParseCodeTestsOptions {
  /** Function name for call-based tests whose ground truth lacks `fn_name` (e.g. LiveCodeBench public tests). */
  fnName?: string;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

function bad(what: string, got: unknown, fix: string, at: (string | number)[] = []): never {
  return fail(
    "invalid_input",
    `reward.code: ${what} (got ${describe(got)}). ${fix}`,
    { got, path: ["ground_truth", ...at] },
    parseCodeTests,
  );
}

/** Decode the pickled str inside LiveCodeBench's compressed test field (protocols 0-5; str only). */
export function unpickleString(buf: Buffer): string {
  let i = 0;
  let out: string | undefined;
  const need = (n: number) => {
    if (i + n > buf.length) throw new Error("truncated pickle");
  };
  while (i < buf.length) {
    const op = buf[i++];
    switch (op) {
      case 0x80: // PROTO
        need(1);
        i += 1;
        break;
      case 0x95: // FRAME
        need(8);
        i += 8;
        break;
      case 0x8c: {
        // SHORT_BINUNICODE
        need(1);
        const n = buf[i++];
        need(n);
        out = buf.toString("utf8", i, i + n);
        i += n;
        break;
      }
      case 0x58: {
        // BINUNICODE
        need(4);
        const n = buf.readUInt32LE(i);
        i += 4;
        need(n);
        out = buf.toString("utf8", i, i + n);
        i += n;
        break;
      }
      case 0x8d: {
        // BINUNICODE8
        need(8);
        const n = Number(buf.readBigUInt64LE(i));
        i += 8;
        need(n);
        out = buf.toString("utf8", i, i + n);
        i += n;
        break;
      }
      case 0x56: {
        // UNICODE (protocol 0): raw-unicode-escape up to a newline
        const end = buf.indexOf(0x0a, i);
        if (end < 0) throw new Error("truncated pickle");
        out = buf
          .toString("latin1", i, end)
          .replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, a: string, b: string) =>
            String.fromCodePoint(parseInt(a ?? b, 16)),
          );
        i = end + 1;
        break;
      }
      case 0x94: // MEMOIZE
        break;
      case 0x70: {
        // PUT (protocol 0): decimal index up to a newline
        const end = buf.indexOf(0x0a, i);
        if (end < 0) throw new Error("truncated pickle");
        i = end + 1;
        break;
      }
      case 0x71: // BINPUT
        i += 1;
        break;
      case 0x2e: // STOP
        if (out === undefined) throw new Error("pickle holds no string");
        return out;
      default:
        throw new Error(`unsupported pickle opcode 0x${op.toString(16)} (only a pickled str is accepted)`);
    }
  }
  throw new Error("pickle has no STOP");
}

/** LiveCodeBench / verl r1 ground truth: base64(zlib(pickle(json string))). */
function decompressLcb(text: string): unknown {
  const raw = Buffer.from(text.trim(), "base64");
  return parseJsonExact(unpickleString(zlib.inflateSync(raw)));
}

function parseText(text: string): unknown {
  try {
    // Integers beyond 2^53 stay exact (bigint), as Python's json.loads keeps them.
    return parseJsonExact(text);
  } catch {
    /* not JSON: maybe compressed */
  }
  if (/^[A-Za-z0-9+/=\s]+$/.test(text)) {
    try {
      return decompressLcb(text);
    } catch (e) {
      return bad(
        `ground truth is neither JSON nor LiveCodeBench's compressed tests: ${(e as Error).message}`,
        text,
        `Pass {"inputs": [...], "outputs": [...]} or {"test": "...", "entry_point": "f"}, as an object or a ` +
          `JSON string.`,
      );
    }
  }
  return bad(
    "ground truth string is not JSON",
    text,
    `Pass {"inputs": [...], "outputs": [...]} or {"test": "...", "entry_point": "f"}.`,
  );
}

function asText(v: unknown, at: (string | number)[]): string {
  if (typeof v === "string") return v;
  // APPS sometimes stores an input as a list of lines.
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v.join("\n");
  return bad("a stdin/stdout test must be a string", v, "Store each input and output as the exact text.", at);
}

function fromInOut(o: Record<string, unknown>, opts: ParseCodeTestsOptions): CodeTests {
  const { inputs, outputs } = o;
  if (!Array.isArray(inputs) || !Array.isArray(outputs))
    bad(
      "inputs and outputs must be arrays",
      { inputs: describe(inputs), outputs: describe(outputs) },
      `Pass {"inputs": ["1 2\\n"], "outputs": ["3\\n"]}.`,
    );
  if (inputs.length !== outputs.length)
    bad(
      `inputs and outputs differ in length (${inputs.length} vs ${outputs.length})`,
      o,
      "Give one output per input.",
      ["outputs"],
    );
  if (inputs.length === 0)
    bad("there are no tests (inputs is empty)", o, "Give at least one input/output pair.", ["inputs"]);
  const fn = (typeof o.fn_name === "string" && o.fn_name) || opts.fnName;
  if (fn) {
    if (!IDENT.test(fn))
      bad("fn_name must be a Python identifier", fn, `Pass e.g. "fn_name": "maxScore".`, ["fn_name"]);
    const outs = outputs.map((x) => (typeof x === "string" ? parseJsonOutput(x) : x));
    const ins = inputs.map((x, i) =>
      typeof x === "string"
        ? x
        : Array.isArray(x)
          ? // An argument list holding an integer beyond 2^53 goes as JSON lines, so the runner reads it exactly.
            hasBigint(x)
            ? x.map((a) => stringifyExact(a)).join("\n")
            : x
          : bad(
              "a call input must be a JSON-lines string or a list of arguments",
              x,
              `Write the arguments one JSON value per line.`,
              ["inputs", i],
            ),
    );
    return { mode: "call", fnName: fn, inputs: ins as (string | unknown[])[], outputs: outs };
  }
  return {
    mode: "stdio",
    inputs: inputs.map((x, i) => asText(x, ["inputs", i])),
    outputs: outputs.map((x, i) => asText(x, ["outputs", i])),
  };
}

function hasBigint(x: unknown): boolean {
  return typeof x === "bigint" || (typeof x === "object" && x !== null && Object.values(x).some(hasBigint));
}

function parseJsonOutput(x: string): unknown {
  try {
    return parseJsonExact(x);
  } catch {
    return x; // LiveCodeBench outputs are JSON; a bare string is compared as a string
  }
}

function functional(test: unknown, o: Record<string, unknown>): CodeTests {
  if (typeof test !== "string" || !test.trim())
    bad("the test code is empty", test, `Pass {"test": "assert f(1) == 2"}.`, ["test"]);
  const entry = o.entry_point ?? o.entryPoint;
  if (entry !== undefined && entry !== null && (typeof entry !== "string" || !IDENT.test(entry)))
    bad("entry_point must be a Python identifier", entry, `Pass e.g. "entry_point": "has_close_elements".`, [
      "entry_point",
    ]);
  const setup = typeof o.test_setup_code === "string" ? o.test_setup_code : "";
  const out: CodeTests = { mode: "functional", test: setup ? `${setup}\n${test}` : (test as string) };
  if (typeof entry === "string") out.entryPoint = entry;
  if (typeof o.prompt === "string") out.prompt = o.prompt;
  return out;
}

/** An already-normalised CodeTests (from sampleTestsFromPrompt or an earlier parse), checked. */
function normalised(o: Record<string, unknown>): CodeTests {
  if (o.mode === "functional") return functional(o.test, { entry_point: o.entryPoint, prompt: o.prompt });
  const { inputs, outputs } = o;
  if (!Array.isArray(inputs) || !Array.isArray(outputs) || inputs.length !== outputs.length || inputs.length === 0)
    bad(
      "inputs and outputs must be non-empty arrays of the same length",
      { inputs: describe(inputs), outputs: describe(outputs) },
      "Give one output per input.",
    );
  if (o.mode === "stdio")
    return {
      mode: "stdio",
      inputs: inputs.map((x, i) => asText(x, ["inputs", i])),
      outputs: outputs.map((x, i) => asText(x, ["outputs", i])),
    };
  if (typeof o.fnName !== "string" || !IDENT.test(o.fnName))
    bad("fnName must be a Python identifier", o.fnName, `Pass e.g. fnName: "maxScore".`, ["fnName"]);
  return { mode: "call", fnName: o.fnName as string, inputs: inputs as (string | unknown[])[], outputs };
}

/**
 * Normalise a code ground truth: an object or its JSON string, LiveCodeBench's compressed string, HumanEval
 * `{test, entry_point}`, MBPP `{test_list, test_setup_code}`, rLLM `{functional}` / `[{input, output}]`,
 * CodeContests / APPS `{inputs, outputs, fn_name?}` or `{input_output}`. Bad shapes fail naming the field.
 * @example
 * parseCodeTests('{"inputs": ["1 2\\n"], "outputs": ["3\\n"]}')
 * // {mode: "stdio", inputs: ["1 2\n"], outputs: ["3\n"]}
 */
export function parseCodeTests(groundTruth: unknown, options: ParseCodeTestsOptions = {}): CodeTests {
  let gt = typeof groundTruth === "string" ? parseText(groundTruth) : groundTruth;
  if (typeof gt === "string") gt = parseText(gt); // JSON string of a JSON string (double-encoded rows)
  if (Array.isArray(gt)) {
    // rLLM codeforces / LiveCodeBench public tests: [{input, output, testtype?}]
    if (gt.length === 0) bad("the test list is empty", gt, "Give at least one {input, output}.");
    const rows = gt.map((t, i) => {
      if (typeof t !== "object" || t === null || !("input" in t) || !("output" in t))
        bad("each test must be {input, output}", t, `Write [{"input": "1 2\\n", "output": "3\\n"}].`, [i]);
      return t as { input: unknown; output: unknown; testtype?: unknown };
    });
    const fnName = rows.some((r) => r.testtype === "functional") ? options.fnName : undefined;
    if (rows.some((r) => r.testtype === "functional") && !fnName)
      bad(
        "functional tests need the function name",
        rows[0],
        `Pass {fnName: "..."} in the reward options (LiveCodeBench metadata.func_name).`,
      );
    return fromInOut(
      { inputs: rows.map((r) => r.input), outputs: rows.map((r) => r.output), fn_name: fnName },
      options,
    );
  }
  if (typeof gt !== "object" || gt === null)
    bad(
      "ground truth must be an object, a list of tests or a JSON string of one",
      gt,
      `Pass {"inputs": [...], "outputs": [...]} or {"test": "...", "entry_point": "f"}.`,
    );
  const o = gt as Record<string, unknown>;
  if (o.mode === "functional" || o.mode === "stdio" || o.mode === "call") return normalised(o);
  if (typeof o.input_output === "string") return parseCodeTests(o.input_output, options);
  if ("inputs" in o || "outputs" in o) return fromInOut(o, options);
  if ("functional" in o) return functional(o.functional, o);
  if (Array.isArray(o.test_list)) {
    const list = o.test_list as unknown[];
    if (list.length === 0 || list.some((t) => typeof t !== "string"))
      bad("test_list must be a non-empty list of assert strings", list, "Use MBPP's test_list.", ["test_list"]);
    return functional((list as string[]).join("\n"), o);
  }
  if ("test" in o) return functional(o.test, o);
  return bad(
    `ground truth has none of the known test fields (keys: ${Object.keys(o).join(", ") || "none"})`,
    o,
    `Use {"test", "entry_point"} (HumanEval), {"test_list"} (MBPP), {"functional"} (rLLM LeetCode), or ` +
      `{"inputs", "outputs", "fn_name"?} (stdin/stdout or call-based).`,
  );
}
