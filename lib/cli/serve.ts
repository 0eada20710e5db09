// `cellrl serve --model DIR --port P`: a cellrl (or any Llama / Qwen2) checkpoint behind the OpenAI-compatible API
// vLLM serves, so RemotePolicy / remoteTeacher, the openai clients and curl all talk to it. Stops on Ctrl-C / SIGTERM.
import * as fs from "node:fs";
import { useBackend } from "../core/backend.js";
import { fail } from "../core/errors.js";
import { chatTemplates } from "../model/chat-template.js";
import { loadCheckpoint } from "../model/checkpoint.js";
import { serve, serveDefaults } from "../remote/serve.js";
import { intOption, parseOptions, UsageError, type CliCommand } from "./command.js";

const usage = `Usage:
  cellrl serve --model DIR [--port ${serveDefaults.port}] [--host ${serveDefaults.host}]
      Serve the checkpoint in DIR (config.json, model.safetensors, tokenizer.json) over the OpenAI-compatible API:
      GET /v1/models, POST /v1/completions and /v1/chat/completions (n, temperature, top_p, top_k, min_p, seed, stop,
      max_tokens, logprobs / top_logprobs, echo, prompt_logprobs, return_token_ids, stream + stream_options),
      /tokenize, /detokenize, /health. stream: true answers server-sent events in vLLM's chunk format (one token
      per choice per chunk, with its logprobs; a client that disconnects stops the generation). Logprobs are raw
      (temperature 1), as vLLM reports them by default. Requests are answered one at a time.

Options:
  --model DIR                 checkpoint directory (model.saveCheckpoint writes one; HF Llama / Qwen2 dirs work too)
  --port P                    TCP port, 0 for a free one (default ${serveDefaults.port})
  --host H                    interface (default ${serveDefaults.host}: this machine only; 0.0.0.0 exposes it to the
                              network)
  --served-model-name NAME    the model name clients send (default: DIR as given, like vLLM)
  --chat-template T           chat template: chatml, qwen2.5, plain, or a Jinja file (default: the tokenizer's)
  --seed N                    sampling seed for requests without one (default ${serveDefaults.seed})
  --max-logprobs K            largest logprobs / prompt_logprobs accepted (default ${serveDefaults.maxLogprobs})
  --max-sequences N           largest prompts x n per request (default ${serveDefaults.maxSequences})
  --max-tokens N              largest max_tokens per request (default ${serveDefaults.maxTokens})
  --api-key KEY               require "Authorization: Bearer KEY" on every route but /health (default:
                              CELLRL_API_KEY if set, else none)
  -q, --quiet                 no per-request log on stderr
  -h, --help                  this help

Example:
  npx cellrl serve --model runs/gsm8k/step-100 --port 8000
  curl http://127.0.0.1:8000/v1/completions -H 'content-type: application/json' \\
       -d '{"prompt": "2+3=", "max_tokens": 8, "logprobs": 1}'
  curl -N http://127.0.0.1:8000/v1/completions -H 'content-type: application/json' \\
       -d '{"prompt": "2+3=", "max_tokens": 8, "stream": true, "stream_options": {"include_usage": true}}'`;

async function run(argv: string[]): Promise<number> {
  const { values, help } = parseOptions(argv, {
    model: { type: "string" },
    port: { type: "string" },
    host: { type: "string" },
    "served-model-name": { type: "string" },
    "chat-template": { type: "string" },
    seed: { type: "string" },
    "max-logprobs": { type: "string" },
    "max-sequences": { type: "string" },
    "max-tokens": { type: "string" },
    "api-key": { type: "string" },
    quiet: { type: "boolean", short: "q" },
  });
  if (help) {
    console.log(usage);
    return 0;
  }
  const dir = values.model as string | undefined;
  if (!dir) throw new UsageError("--model is missing (the checkpoint directory to serve)");
  const port = intOption(values.port, "--port", { min: 0 }) ?? serveDefaults.port;
  if (port > 65535) throw new UsageError(`--port must be at most 65535 (got ${port})`);
  const seed = intOption(values.seed, "--seed") ?? serveDefaults.seed;
  const maxLogprobs = intOption(values["max-logprobs"], "--max-logprobs", { min: 1 }) ?? serveDefaults.maxLogprobs;
  const maxSequences = intOption(values["max-sequences"], "--max-sequences", { min: 1 }) ?? serveDefaults.maxSequences;
  const maxTokens = intOption(values["max-tokens"], "--max-tokens", { min: 1 }) ?? serveDefaults.maxTokens;
  let chatTemplate: string | null = null;
  const ct = values["chat-template"] as string | undefined;
  if (ct !== undefined) {
    if (chatTemplates[ct] !== undefined) chatTemplate = ct;
    else if (fs.existsSync(ct)) chatTemplate = fs.readFileSync(ct, "utf8");
    else
      throw new UsageError(
        `--chat-template must be ${Object.keys(chatTemplates).join(", ")} or a Jinja file ` +
          `(got ${JSON.stringify(ct)}, which is neither)`,
      );
  }
  if (!fs.existsSync(dir))
    fail(
      "not_found",
      `cli.serve: --model ${dir} does not exist (expected a checkpoint directory with config.json). Check the path.`,
      { got: dir },
    );
  await useBackend();
  const { model, tokenizer } = loadCheckpoint(dir, { trainable: false });
  if (!tokenizer)
    fail(
      "invalid_input",
      `cli.serve: ${dir} has no tokenizer.json (expected the model's tokenizer next to its weights). ` +
        "Save it with model.saveCheckpoint(dir, m, {tokenizer}).",
      { got: dir },
    );
  const name = (values["served-model-name"] as string | undefined) ?? dir;
  const quiet = values.quiet === true;
  const srv = await serve(model, tokenizer, {
    port,
    host: (values.host as string | undefined) ?? serveDefaults.host,
    name,
    seed,
    maxLogprobs,
    maxSequences,
    maxTokens,
    chatTemplate,
    apiKey: (values["api-key"] as string | undefined) ?? process.env.CELLRL_API_KEY ?? null,
    log: quiet ? null : (line) => console.error(line),
  });
  const c = model.config;
  // the first stdout line is machine-readable: scripts (and the tests) read the port from it
  console.log(
    `cellrl serve: ${name} at ${srv.url}/v1 (vocab ${c.vocab_size}, context ${c.max_position_embeddings}, ` +
      `${c.num_hidden_layers} layers); Ctrl-C stops`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await srv.close();
  model.dispose();
  console.error(`cellrl serve: stopped after ${srv.requests} requests`);
  return 0;
}

/** The `cellrl serve` command. */
export const command: CliCommand = {
  name: "serve",
  summary: "serve a checkpoint over the OpenAI-compatible API (completions, chat, logprobs) on 127.0.0.1",
  usage,
  run,
};
