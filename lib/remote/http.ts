// One HTTP exchange with node:http / node:https (no dependency): JSON in, text out, a hard per-attempt timeout, and
// transport failures (refused, reset, timeout, aborted) told apart so the retry policy can decide what to do.
import * as http from "node:http";
import * as https from "node:https";

/** What came back from one request (any status). */
export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** How one request failed below HTTP. */
export type TransportKind = "refused" | "reset" | "timeout" | "aborted" | "dns" | "other";

/**
 * A request that got no HTTP answer: connection refused, reset mid-response, timed out or aborted.
 * @example
 * try { await httpRequest(url, {method: "GET", timeoutMs: 10}) }
 * catch (e) { if (e instanceof TransportError) e.kind }
 */
export class TransportError extends Error {
  constructor(
    readonly kind: TransportKind,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = "TransportError";
  }
}

/** Options of httpRequest. */
export interface HttpRequestOptions {
  method: "GET" | "POST";
  /** JSON body (POST). */
  body?: unknown;
  headers?: Record<string, string>;
  /** Abort the attempt after this many ms (connect + response). */
  timeoutMs: number;
  /** Keep-alive agent (one per client). Defaults to node's global agent. */
  agent?: http.Agent;
  signal?: AbortSignal;
}

function kindOf(code: string | undefined): TransportKind {
  if (code === "ECONNREFUSED") return "refused";
  if (code === "ECONNRESET" || code === "EPIPE" || code === "ECONNABORTED" || code === "ERR_STREAM_PREMATURE_CLOSE")
    return "reset";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "dns";
  if (code === "ETIMEDOUT") return "timeout";
  return "other";
}

/**
 * Send one request and read the whole body; rejects with TransportError when no HTTP response arrives in time.
 * @example const r = await httpRequest("http://127.0.0.1:8000/v1/models", {method: "GET", timeoutMs: 5000}); r.status
 */
export function httpRequest(url: string, options: HttpRequestOptions): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new TransportError("other", `not a valid URL: ${url}`));
      return;
    }
    const lib = u.protocol === "https:" ? https : http;
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const headers: Record<string, string | number> = { accept: "application/json", ...options.headers };
    if (payload) {
      headers["content-type"] = "application/json";
      headers["content-length"] = payload.length;
    }
    let settled = false;
    const done = (err: Error | null, res?: HttpResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      if (err) reject(err);
      else resolve(res!);
    };
    const req = lib.request(
      u,
      { method: options.method, headers, agent: options.agent as http.Agent | undefined },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          done(null, {
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        // the server died while sending the body: the partial body is not a result
        res.on("aborted", () =>
          done(
            new TransportError("reset", "the connection closed before the response body was complete", "ECONNRESET"),
          ),
        );
        res.on("error", (e: NodeJS.ErrnoException) => done(new TransportError(kindOf(e.code), e.message, e.code)));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      done(new TransportError("timeout", `no complete response within ${options.timeoutMs} ms`, "ETIMEDOUT"));
    }, options.timeoutMs);
    const onAbort = () => {
      req.destroy();
      done(new TransportError("aborted", "the request was aborted", "ABORT_ERR"));
    };
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    req.on("error", (e: NodeJS.ErrnoException) => done(new TransportError(kindOf(e.code), e.message, e.code)));
    if (payload) req.write(payload);
    req.end();
  });
}
