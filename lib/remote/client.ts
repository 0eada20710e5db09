// A small client for OpenAI-compatible servers (vLLM, SGLang, llama.cpp, `cellrl serve`): base-URL handling,
// bearer auth, a keep-alive agent, per-attempt timeouts, and retries with seeded-jitter backoff on 429 / 5xx /
// transport failures. Every error names the URL, the status or failure, an excerpt of the body, and the fix.
import * as http from "node:http";
import * as https from "node:https";
import { describe, fail } from "../core/errors.js";
import { checkIntAtLeast } from "../core/checks.js";
import { Rng } from "../core/random.js";
import { excerpt, fixFor, RemoteRequestError, serverMessage } from "./errors.js";
import { httpRequest, TransportError, type HttpResponse } from "./http.js";
import { collectStream } from "./sse.js";
import { backoffDelay, isRetryableStatus, retryAfterMs, retryDefaults, sleep, type RetryOptions } from "./retry.js";

/** What a retry looked like (for logging and tests). */
export interface RetryEvent {
  url: string;
  /** The attempt that failed (0-based). */
  attempt: number;
  /** Wait before the next attempt. */
  delayMs: number;
  status: number | null;
  transport?: string;
}

/** Options of RemoteClient (and of RemotePolicy / remoteTeacher, which own one). */
export interface ClientOptions extends RetryOptions {
  /** Model name sent with every request. Defaults to the first model of GET /v1/models. */
  model?: string;
  /** Bearer token (vLLM --api-key). Defaults to the CELLRL_API_KEY environment variable, else none. */
  apiKey?: string;
  /** Per-attempt timeout in ms (connect + whole response). Defaults to 120000. */
  timeoutMs?: number;
  /** Most requests in flight at once. Defaults to 8. */
  concurrency?: number;
  /** Extra HTTP headers. Defaults to none. */
  headers?: Record<string, string>;
  /** Seed of the backoff jitter. Defaults to 0. */
  seed?: number;
  /** Random stream of the backoff jitter (instead of seed). */
  rng?: Rng;
  /** Cancels waiting and in-flight requests. */
  signal?: AbortSignal;
  /** Called before each retry. */
  onRetry?: (e: RetryEvent) => void;
}

/**
 * Defaults of RemoteClient.
 * @example remote.clientDefaults.concurrency // 8
 */
export const clientDefaults = { timeoutMs: 120000, concurrency: 8, ...retryDefaults };

/** One model of GET /v1/models. */
export interface ModelInfo {
  id: string;
  max_model_len?: number;
  [key: string]: unknown;
}

/**
 * Normalise a server URL to its `/v1` base ("http://h:8000", "http://h:8000/", ".../v1" all work).
 * @example remote.baseUrlOf("http://127.0.0.1:8000") // "http://127.0.0.1:8000/v1"
 */
export function baseUrlOf(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return fail(
      "invalid_option",
      `remote.baseUrlOf: the server URL is not a URL (got ${describe(url)}; expected e.g. ` +
        `"http://127.0.0.1:8000"). Include the scheme and port.`,
      { got: url },
      baseUrlOf,
    );
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    fail(
      "invalid_option",
      `remote.baseUrlOf: the server URL must be http or https (got ${describe(url)}). Use e.g. ` +
        `"http://127.0.0.1:8000".`,
      { got: url },
      baseUrlOf,
    );
  let p = u.pathname.replace(/\/+$/, "");
  if (p.endsWith("/v1")) p = p.slice(0, -3);
  return `${u.origin}${p}/v1`;
}

/**
 * A client for one OpenAI-compatible server.
 * @example const c = new remote.RemoteClient("http://127.0.0.1:8000"); await c.listModels(); c.close()
 */
export class RemoteClient {
  /** The `/v1` base URL. */
  readonly baseUrl: string;
  /** The URL without `/v1` (vLLM serves /health, /tokenize there). */
  readonly rootUrl: string;
  readonly options: Required<
    Omit<ClientOptions, "model" | "apiKey" | "headers" | "rng" | "signal" | "onRetry" | "seed">
  > &
    ClientOptions;
  model: string | undefined;
  private readonly agent: http.Agent;
  private readonly rng: Rng;

  constructor(url: string, options: ClientOptions = {}) {
    this.baseUrl = baseUrlOf(url);
    this.rootUrl = this.baseUrl.slice(0, -3);
    const o = {
      ...clientDefaults,
      ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
    } as RemoteClient["options"];
    const at = { where: "remote.RemoteClient", from: RemoteClient };
    for (const k of ["concurrency", "timeoutMs"] as const)
      checkIntAtLeast(at, `options.${k}`, o[k], 1, undefined, ["options", k]);
    checkIntAtLeast(at, "options.retries", o.retries, 0, "Use 0 to never retry.", ["options", "retries"]);
    for (const k of ["backoffMs", "maxBackoffMs", "maxRetryAfterMs"] as const)
      if (!(o[k] >= 0) || !Number.isFinite(o[k]))
        fail(
          "invalid_option",
          `remote.RemoteClient: options.${k} must be a number >= 0 (got ${describe(o[k])}).`,
          { path: ["options", k] },
          RemoteClient,
        );
    this.options = o;
    this.model = options.model;
    this.rng = options.rng ?? new Rng(options.seed ?? 0);
    this.agent = this.baseUrl.startsWith("https:")
      ? new https.Agent({ keepAlive: true })
      : new http.Agent({ keepAlive: true });
  }

  /** Headers of every request (auth, user headers). */
  private headers(): Record<string, string> {
    const key = this.options.apiKey ?? process.env.CELLRL_API_KEY;
    return { ...(key ? { authorization: `Bearer ${key}` } : {}), ...this.options.headers };
  }

  /** Absolute URL of a path: "/completions" → base + path; "/health" and other root paths with `root: true`. */
  urlOf(path: string, root = false): string {
    return (root ? this.rootUrl : this.baseUrl) + path;
  }

  /**
   * Send a request and parse the JSON answer, retrying retryable failures; throws RemoteRequestError. With
   * `stream: true` the answer is an event stream (the body must ask for one), folded into the stream: false body.
   * @example await client.request("POST", "/completions", {prompt: "1+1=", max_tokens: 4}, "remote.myFn")
   */
  async request(
    method: "GET" | "POST",
    path: string,
    body: unknown,
    where: string,
    options: { root?: boolean; timeoutMs?: number; stream?: boolean } = {},
  ): Promise<unknown> {
    const url = this.urlOf(path, options.root);
    const o = this.options;
    const timeoutMs = options.timeoutMs ?? o.timeoutMs;
    let last: {
      status: number | null;
      transport?: string;
      code?: string;
      body: string;
      message: string;
      cause?: unknown;
    } = { status: null, body: "", message: "" };
    let attempts = 0;
    for (let attempt = 0; attempt <= o.retries; attempt++) {
      attempts = attempt + 1;
      let res: HttpResponse | null = null;
      let retryAfter: number | undefined;
      try {
        res = await httpRequest(url, {
          method,
          body,
          headers: options.stream ? { accept: "text/event-stream", ...this.headers() } : this.headers(),
          timeoutMs,
          agent: this.agent,
          signal: o.signal,
        });
      } catch (e) {
        const t = e instanceof TransportError ? e : new TransportError("other", String(e));
        last = { status: null, transport: t.kind, code: t.code, body: "", message: t.message, cause: e };
        if (t.kind === "aborted" || (t.kind === "other" && t.code === undefined)) break;
      }
      if (res) {
        if (res.status >= 200 && res.status < 300 && options.stream) {
          try {
            const got = collectStream(res.body, { where, url });
            if (got.ok) return got.body;
            // the server's error event (after a 200): retried like the status it names
            last = { status: got.status ?? 500, body: res.body, message: got.message };
            if (!isRetryableStatus(last.status!)) break;
          } catch (e) {
            // cut short or garbled: often a proxy or a dying server, so worth another try
            last = { status: res.status, body: res.body, message: "the event stream is incomplete", cause: e };
          }
        } else if (res.status >= 200 && res.status < 300) {
          try {
            return JSON.parse(res.body);
          } catch (e) {
            // a truncated or garbled body: often a proxy or a dying server, so worth another try
            last = { status: res.status, body: res.body, message: "the body is not JSON", cause: e };
          }
        } else {
          last = { status: res.status, body: res.body, message: serverMessage(res.body) };
          if (!isRetryableStatus(res.status)) break;
          retryAfter = retryAfterMs(res.headers["retry-after"]);
        }
      }
      if (attempt === o.retries) break;
      const delayMs = backoffDelay(attempt, this.rng, o, retryAfter);
      o.onRetry?.({ url, attempt, delayMs, status: last.status, transport: last.transport });
      try {
        await sleep(delayMs, o.signal);
      } catch {
        last = { status: null, transport: "aborted", body: "", message: "the request was aborted" };
        break;
      }
    }
    const what =
      last.status === null
        ? `${transportText(last.transport)}${last.code ? ` (${last.code})` : ""}`
        : last.status >= 200 && last.status < 300
          ? options.stream
            ? `HTTP ${last.status} with an event stream that is incomplete or malformed: ` +
              `${(last.cause as Error | undefined)?.message ?? ""} ${JSON.stringify(excerpt(last.body, 200))}`
            : `HTTP ${last.status} with a body that is not JSON: ${JSON.stringify(excerpt(last.body, 200))}`
          : `HTTP ${last.status}` +
            (last.message ? `: ${JSON.stringify(excerpt(last.message, 300))}` : "") +
            (last.body && !last.message ? `; body ${JSON.stringify(excerpt(last.body, 200))}` : "");
    const fix =
      last.status !== null && last.status >= 200 && last.status < 300
        ? options.stream
          ? "The stream ended early or is not OpenAI's chunk format; retry, or send stream: false"
          : "The server answered with something that is not JSON; check that the URL points at an " +
            "OpenAI-compatible server"
        : fixFor(last.status, last.transport, last.message, { url, timeoutMs, model: this.model });
    throw new RemoteRequestError(
      `${where}: ${method} ${url} failed after ${attempts} attempt${attempts === 1 ? "" : "s"} (got ${what}; ` +
        `expected ${options.stream ? "an event stream ending with data: [DONE]" : "a JSON response"}). ${fix}.`,
      { url, method, status: last.status, body: excerpt(last.body), attempts, transport: last.transport },
      last.cause,
    );
  }

  /**
   * The models the server serves (GET /v1/models).
   * @example (await client.listModels()).map((m) => m.id)
   */
  async listModels(where = "remote.RemoteClient.listModels"): Promise<ModelInfo[]> {
    const j = (await this.request("GET", "/models", undefined, where)) as { data?: unknown };
    if (!j || !Array.isArray(j.data) || j.data.some((m) => !m || typeof (m as ModelInfo).id !== "string"))
      fail(
        "remote",
        `${where}: GET ${this.urlOf("/models")} did not list models (got ${describe(j)}; expected {data: ` +
          `[{id, ...}]}). Check the URL points at an OpenAI-compatible server.`,
        { got: describe(j) },
      );
    return j.data as ModelInfo[];
  }

  /**
   * The model name to send: options.model, else the server's first model (fetched once).
   * @example await client.ensureModel() // "Qwen/Qwen2.5-0.5B-Instruct"
   */
  async ensureModel(where = "remote.RemoteClient.ensureModel"): Promise<string> {
    if (this.model !== undefined) return this.model;
    const models = await this.listModels(where);
    if (models.length === 0)
      fail(
        "remote",
        `${where}: ${this.urlOf("/models")} lists no models (got an empty list). Check the server finished ` +
          `loading its model.`,
        {},
      );
    this.model = models[0].id;
    return this.model;
  }

  /** Close idle keep-alive connections (the client stays usable; new connections open on demand). */
  close(): void {
    this.agent.destroy();
  }
}

function transportText(kind: string | undefined): string {
  switch (kind) {
    case "refused":
      return "connection refused";
    case "reset":
      return "connection closed before a complete response";
    case "timeout":
      return "no response in time";
    case "aborted":
      return "aborted";
    case "dns":
      return "host not found";
    default:
      return "a network error";
  }
}
