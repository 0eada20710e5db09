// `cellrl export-gguf --model DIR --output F.gguf`: a checkpoint as an fp32 GGUF file for llama.cpp (llama-cli,
// llama-server, Ollama, LM Studio, node-llama-cpp / remote.LlamaCppPolicy), with its tokenizer as the vocabulary.
import * as fs from "node:fs";
import { useBackend } from "../core/backend.js";
import { fail } from "../core/errors.js";
import { loadCheckpoint } from "../model/checkpoint.js";
import { saveGguf } from "../model/gguf.js";
import { checkOutputPath, parseOptions, UsageError, type CliCommand } from "./command.js";

const usage = `Usage:
  cellrl export-gguf --model DIR --output F.gguf [--name N] [--no-tokenizer]
      Write the checkpoint in DIR (config.json, model.safetensors, tokenizer.json) as an fp32 GGUF file:
      architecture llama or qwen2 with llama.cpp's tensor names and q/k layout, and the tokenizer as a GPT-2 style
      vocabulary (char tokenizers in byte-level form; byte-level BPE as it is). llama.cpp then scores the same
      tokens within 1e-5 of cellrl (test/remote/llama-cpp-parity.test.ts).

Options:
  --model DIR       checkpoint directory (model.saveCheckpoint writes one; HF Llama / Qwen2 dirs work too)
  --output F        the .gguf file to write (replaced atomically if it exists)
  --name N          general.name in the file (default: the output file name)
  --no-tokenizer    write placeholder tokens "[id]" instead of the tokenizer (llama.cpp on token ids only)
  -h, --help        this help

Example:
  npx cellrl export-gguf --model datasets/checkpoints/sort5-base --output sort5.gguf
  llama-cli -m sort5.gguf -p "sort 46972=" -n 6 --temp 0      # or: remote.LlamaCppPolicy.load("sort5.gguf")`;

async function run(argv: string[]): Promise<number> {
  const { values, help } = parseOptions(argv, {
    model: { type: "string" },
    output: { type: "string" },
    name: { type: "string" },
    "no-tokenizer": { type: "boolean" },
  });
  if (help) {
    console.log(usage);
    return 0;
  }
  const dir = values.model as string | undefined;
  const out = values.output as string | undefined;
  if (!dir) throw new UsageError("--model is missing (the checkpoint directory to export)");
  if (!out) throw new UsageError("--output is missing (the .gguf file to write)");
  if (!/\.gguf$/i.test(out)) throw new UsageError(`--output must end in .gguf (got ${JSON.stringify(out)})`);
  if (!fs.existsSync(dir) || !fs.existsSync(`${dir}/config.json`))
    fail(
      "not_found",
      `cli.export-gguf: --model ${dir} is not a checkpoint directory (expected config.json in it). Check the path.`,
      { got: dir },
    );
  checkOutputPath(out, "--output");
  await useBackend();
  const noTok = values["no-tokenizer"] === true;
  const { model, tokenizer } = loadCheckpoint(dir, { trainable: false, tokenizer: !noTok });
  try {
    if (!noTok && !tokenizer)
      fail(
        "invalid_input",
        `cli.export-gguf: ${dir} has no tokenizer.json (expected the model's tokenizer next to its weights). ` +
          "Pass --no-tokenizer to write placeholder tokens.",
        { got: dir },
      );
    const r = saveGguf(out, model, { tokenizer: noTok ? null : tokenizer, name: values.name as string | undefined });
    const c = model.config;
    console.log(
      `cellrl export-gguf: wrote ${r.file} (${r.architecture}, ${c.num_hidden_layers} layers, hidden ` +
        `${c.hidden_size}, vocab ${r.vocabSize}, ${r.tensors} tensors, ${(r.bytes / 2 ** 20).toFixed(1)} MiB, fp32)`,
    );
  } finally {
    model.dispose();
  }
  return 0;
}

/** The `cellrl export-gguf` command. */
export const command: CliCommand = {
  name: "export-gguf",
  summary: "write a checkpoint as an fp32 GGUF file for llama.cpp (llama / qwen2, with its tokenizer)",
  usage,
  run,
};
