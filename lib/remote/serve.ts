// `cellrl serve` as a function: a cellrl model behind the OpenAI-compatible API vLLM serves (GET /v1/models,
// POST /v1/completions and /v1/chat/completions with logprobs, echo, prompt_logprobs, n, seed, stop, and streaming
// as server-sent events; /tokenize, /detokenize, /health), on node:http, bound to 127.0.0.1 unless told otherwise. Requests run one at a time (the
// model is synchronous), so one server can be shared by several notebooks without contention bugs.
import * as http from "node:http";
import { CellrlError, describe, fail } from "../core/errors.js";
import { checkIntAtLeast } from "../core/checks.js";
import { Rng } from "../core/random.js";
import type { LlamaModel } from "../model/llama.js";
import { tokenizerFiles, type TokenizerFiles } from "../model/tokenizer-io.js";
import type { Tokenizer } from "../model/tokenizer-types.js";
import { generate } from "../model/generate.js";
import { ApiError, chatCompletions, completions, detokenize, tokenize, type ServeContext } from "./serve-api.js";
import { streamChat, streamCompletions, type ChunkSink } from "./serve-stream.js";

/** What route() returns for a response it already wrote (an event stream). */
const STREAMED: unique symbol = Symbol("streamed");

/** Options of serve. */
export interface ServeOptions {
  /** TCP port; 0 picks a free one. Defaults to 8000 (vLLM's). */
  port?: number;
  /** Interface to bind. Defaults to "127.0.0.1" (this machine only; "0.0.0.0" exposes the model to the network). */
  host?: string;
  /** Model name clients send and GET /v1/models lists. Defaults to "cellrl". */
  name?: string;
  /** Seed of the sampling stream for requests without a seed. Defaults to 0. */
  seed?: number;
  /** Largest logprobs / top_logprobs / prompt_logprobs (vLLM --max-logprobs). Defaults to 20. */
  maxLogprobs?: number;
  /** Largest n per request. Defaults to 64. */
  maxN?: number;
  /** Largest prompts x n per request (a 400 beyond). Defaults to 256. */
  maxSequences?: number;
  /** Largest max_tokens, and the default of chat requests that send none. Defaults to 4096 (and the context). */
  maxTokens?: number;
  /** Rows generated per batch; between batches /health answers and a dropped request stops. Defaults to 32. */
  batchRows?: number;
  /** Chat template (text, or chatml / qwen2.5 / plain) overriding the tokenizer's. Defaults to the tokenizer's. */
  chatTemplate?: string | null;
  /** Require "Authorization: Bearer <key>" on every route but /health. Defaults to none. */
  apiKey?: string | null;
  /** Largest request body in bytes. Defaults to 16 MiB. */
  maxBodyBytes?: number;
  /** One line per request (method, path, status, ms), or null. Defaults to null. */
  log?: ((line: string) => void) | null;
}

/**
 * Defaults of serve.
 * @example remote.serveDefaults.host // "127.0.0.1"
 */
export const serveDefaults = {
  port: 8000,
  host: "127.0.0.1",
  name: "cellrl",
  seed: 0,
  maxLogprobs: 20,
  maxN: 64,
  maxSequences: 256,
  maxTokens: 4096,
  batchRows: 32,
  maxBodyBytes: 16 << 20,
};

/** A running server. */
export interface RunningServer {
  /** Base URL, e.g. "http://127.0.0.1:8000" (clients append /v1/...). */
  url: string;
  port: number;
  host: string;
  name: string;
  /** Requests answered so far. */
  readonly requests: number;
  /** Stop listening and close every connection. */
  close(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function errorBody(status: number, message: string, type: string, param: string | null) {
  return { error: { message, type, param, code: status } };
}

/**
 * Serve a model over the OpenAI-compatible API; resolves once listening.
 * @example
 * const srv = await remote.serve(m, tok, {port: 0})
 * const policy = await remote.RemotePolicy.connect(srv.url)
 * await srv.close()
 */
export async function serve(
  model: LlamaModel,
  tokenizer: Tokenizer,
  options: ServeOptions = {},
): Promise<RunningServer> {
  const o = {
    ...serveDefaults,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  } as typeof serveDefaults & ServeOptions;
  if (!model || typeof (model as { forward?: unknown }).forward !== "function")
    fail(
      "invalid_input",
      `remote.serve: model must be a model.LlamaModel (got ${describe(model)}). Load one with ` +
        `model.loadCheckpoint(dir).`,
      {},
      serve,
    );
  if (!tokenizer || typeof tokenizer.encode !== "function")
    fail(
      "invalid_input",
      `remote.serve: tokenizer must be the model's tokenizer (got ${describe(tokenizer)}). loadCheckpoint ` +
        `returns it when the checkpoint has tokenizer.json.`,
      {},
      serve,
    );
  if (tokenizer.vocabSize > model.config.vocab_size)
    fail(
      "shape_mismatch",
      `remote.serve: the tokenizer has ${tokenizer.vocabSize} ids but the model's vocab_size ` +
        `is ${model.config.vocab_size}. Serve the tokenizer the model was trained with.`,
      {},
      serve,
    );
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535)
    fail(
      "invalid_option",
      `remote.serve: options.port must be an integer in [0, 65535] (got ${describe(o.port)}). Use 0 for a free port.`,
      { path: ["port"] },
      serve,
    );
  for (const k of ["maxLogprobs", "maxN", "maxSequences", "maxTokens", "batchRows", "maxBodyBytes"] as const)
    checkIntAtLeast({ where: "remote.serve", from: serve }, `options.${k}`, o[k], 1, undefined, [k]);
  const ctx: ServeContext = {
    model,
    tokenizer,
    name: o.name,
    rng: new Rng(o.seed),
    maxLogprobs: o.maxLogprobs,
    maxN: o.maxN,
    maxSequences: o.maxSequences,
    maxTokens: o.maxTokens,
    batchRows: o.batchRows,
    chatTemplate: o.chatTemplate ?? null,
  };
  // Generation requests run one at a time (each in batches that yield to the loop); the rest answer at once.
  let queue: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(f: () => Promise<T>): Promise<T> => {
    const p = queue.then(f);
    queue = p.catch(() => undefined);
    return p;
  };
  // Set after an internal error when a one-token probe fails too (e.g. the wasm heap is exhausted): /health then
  // answers 503 so a supervisor restarts the server; it re-probes, and answers 200 again once the model runs.
  let broken: string | null = null;
  const probe = (): string | null => {
    try {
      generate(model, [[0]], { maxNewTokens: 1, temperature: 0, ignoreEos: true });
      return null;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  };
  let files: TokenizerFiles | null = null;
  let requests = 0;
  const started = Math.floor(Date.now() / 1000);

  // stream: true: validated before the queue (a bad request is a plain JSON 4xx), then sent as server-sent events
  // while holding the queue; a client that leaves stops it at the next decode step (ctx.between throws)
  const streamed = (
    res: http.ServerResponse,
    ctx: ServeContext,
    run: (sink: ChunkSink) => Promise<void>,
  ): Promise<typeof STREAMED> =>
    exclusive(async (): Promise<typeof STREAMED> => {
      await ctx.between?.();
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      await run((chunk) => {
        if (!res.destroyed) res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      });
      res.end("data: [DONE]\n\n");
      return STREAMED;
    });
  const wantsStream = (body: unknown) => (body as { stream?: unknown } | null)?.stream === true;

  const route = async (
    method: string,
    path: string,
    body: unknown,
    ctx: ServeContext,
    res: http.ServerResponse,
  ): Promise<unknown> => {
    const key = `${method} ${path}`;
    switch (key) {
      case "GET /v1/models":
        return {
          object: "list",
          data: [
            {
              id: o.name,
              object: "model",
              created: started,
              owned_by: "cellrl",
              root: o.name,
              parent: null,
              max_model_len: model.config.max_position_embeddings,
            },
          ],
        };
      case "POST /v1/completions":
        if (wantsStream(body)) return streamed(res, ctx, streamCompletions(ctx, body));
        return exclusive(() => completions(ctx, body));
      case "POST /v1/chat/completions":
        if (wantsStream(body)) return streamed(res, ctx, streamChat(ctx, body));
        return exclusive(() => chatCompletions(ctx, body));
      case "POST /tokenize":
      case "POST /v1/tokenize":
        return tokenize(ctx, body);
      case "POST /detokenize":
      case "POST /v1/detokenize":
        return detokenize(ctx, body);
      case "GET /cellrl/tokenizer":
        files ??= tokenizerFiles(tokenizer);
        return files;
      case "GET /version":
        return { version: "cellrl" };
    }
    const known = [
      "/v1/models",
      "/v1/completions",
      "/v1/chat/completions",
      "/tokenize",
      "/detokenize",
      "/health",
      "/cellrl/tokenizer",
      "/version",
    ];
    if (known.includes(path)) throw new ApiError(405, `Method ${method} is not allowed on ${path}.`);
    throw new ApiError(404, `Not Found: ${method} ${path}. cellrl serve answers ${known.join(", ")}.`);
  };

  const server = http.createServer((req, res) => {
    const t0 = Date.now();
    const path = (req.url ?? "/").split("?")[0];
    const method = req.method ?? "GET";
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > o.maxBodyBytes) tooBig = true;
      else chunks.push(c);
    });
    // a client that leaves before its answer: the request stops at the next batch boundary (logged as 499)
    let gone = false;
    res.on("error", () => undefined); // a write racing a closed socket: the close handler below records it
    res.on("close", () => {
      if (!res.writableFinished) gone = true;
    });
    const between = async () => {
      await new Promise((r) => setImmediate(r));
      if (gone) throw new ApiError(499, "The client closed the request.", null, "ClientClosedRequest");
    };
    req.on("end", async () => {
      let status = 200;
      try {
        if (path === "/health" && method === "GET") {
          if (broken !== null) broken = probe();
          if (broken !== null)
            throw new ApiError(
              503,
              `The model cannot run (${broken}). Restart the server.`,
              null,
              "ServiceUnavailable",
            );
          res.writeHead(200, { "content-length": 0 });
          res.end();
          return;
        }
        if (o.apiKey && req.headers.authorization !== `Bearer ${o.apiKey}`)
          throw new ApiError(
            401,
            "Unauthorized: send Authorization: Bearer <key> (the --api-key of this server).",
            null,
            "AuthenticationError",
          );
        if (tooBig) throw new ApiError(413, `The request body is larger than ${o.maxBodyBytes} bytes.`);
        let body: unknown = undefined;
        if (method === "POST") {
          const text = Buffer.concat(chunks).toString("utf8");
          try {
            body = text === "" ? {} : JSON.parse(text);
          } catch {
            throw new ApiError(400, `The request body is not valid JSON (got ${describe(text)}).`);
          }
        }
        const out = await route(method, path, body, { ...ctx, between }, res);
        if (out !== STREAMED) send(res, 200, out);
      } catch (e) {
        if (e instanceof ApiError) status = e.status;
        else if (e instanceof CellrlError && e.code !== "backend")
          status = 400; // bad options caught by the model code
        else status = 500;
        const msg = e instanceof Error ? e.message : String(e);
        if (status === 500) broken = probe();
        if (gone) return;
        const err = errorBody(
          status,
          msg,
          e instanceof ApiError ? e.type : status === 400 ? "BadRequestError" : "InternalServerError",
          e instanceof ApiError ? e.param : null,
        );
        // an event stream already under way: the error is its last event (vLLM's way), then [DONE]
        if (res.headersSent) res.end(`data: ${JSON.stringify(err)}\n\ndata: [DONE]\n\n`);
        else send(res, status, err);
      } finally {
        requests++;
        o.log?.(`${method} ${path} ${status} ${Date.now() - t0} ms`);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => {
      const fix =
        e.code === "EADDRINUSE"
          ? "The port is taken; pick another --port, or 0 for a free one"
          : "Check the host and port";
      reject(
        new CellrlError(
          "io",
          `remote.serve: cannot listen on ${o.host}:${o.port} (got ${e.code ?? e.message}). ${fix}.`,
          {
            cause: e,
          },
        ),
      );
    });
    server.listen(o.port, o.host, () => resolve());
  });
  const addr = server.address() as { port: number; address: string };
  const hostForUrl = o.host.includes(":") ? `[${o.host}]` : o.host === "0.0.0.0" ? "127.0.0.1" : o.host;
  return {
    url: `http://${hostForUrl}:${addr.port}`,
    port: addr.port,
    host: o.host,
    name: o.name,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
