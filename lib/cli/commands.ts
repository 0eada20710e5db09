// The `cellrl` subcommands. Each lives in lib/cli/<name>.ts and exports `command: CliCommand`; it is loaded only
// when run, so `cellrl --help` stays fast. To add one (e.g. eval, serve): write the file and add one line below.
import { registry } from "../core/registry.js";
import type { CliCommand } from "./command.js";

/**
 * Lazy loaders of the subcommands by name; `commands.rows()` lists them with their one-line summaries.
 * @example const cmd = await commands.get("score")(); await cmd.run(["--help"])
 */
export const commands = registry<() => Promise<CliCommand>>("command");

commands.add("grade-math", async () => (await import("./grade-math.js")).command, {
  summary: "is a predicted math answer equal to the gold one? (--gold G --pred P, or --input F.jsonl)",
});
commands.add("score", async () => (await import("./score.js")).command, {
  summary: "score every response of a records file in parallel; writes scores + details, prints mean@k per data_source",
});
commands.add("eval", async () => (await import("./eval.js")).command, {
  summary:
    "r1-style eval report of generations: mean@k, pass@k, maj@k, CIs, agreement with upstream labels, breakdowns",
});
commands.add("serve", async () => (await import("./serve.js")).command, {
  summary: "serve a checkpoint over the OpenAI-compatible API (completions, chat, logprobs) on 127.0.0.1",
});
commands.add("export-gguf", async () => (await import("./export-gguf.js")).command, {
  summary: "write a checkpoint as an fp32 GGUF file for llama.cpp (llama / qwen2, with its tokenizer)",
});
commands.add("verl", async () => (await import("./verl.js")).command, {
  summary:
    "verl export (parquet dataset + GRPO / FlowRL / GKD config and command) and import (generations, rollout dumps)",
});
