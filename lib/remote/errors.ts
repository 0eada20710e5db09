// Errors of the remote client. A request error names the URL, the HTTP status (or the transport failure), an excerpt
// of the body and the fix; a batch error keeps every finished result (err.partial) and names the failed inputs.
import { CellrlError, describe } from "../core/errors.js";

/** Facts about one failed request. */
export interface RequestErrorInfo {
  url: string;
  method: string;
  /** HTTP status, or null when no response arrived. */
  status: number | null;
  /** Start of the response body (up to 300 characters), or "". */
  body: string;
  attempts: number;
  /** Transport failure kind ("refused", "timeout", ...) when no HTTP response arrived. */
  transport?: string;
}

/**
 * One request that failed for good (after retries, or at once when retrying cannot help).
 * @example catch (e) { if (e instanceof remote.RemoteRequestError) console.log(e.url, e.status, e.body) }
 */
export class RemoteRequestError extends CellrlError {
  readonly url: string;
  readonly method: string;
  readonly status: number | null;
  readonly body: string;
  readonly attempts: number;
  readonly transport?: string;
  constructor(message: string, info: RequestErrorInfo, cause?: unknown) {
    super("remote", message, { got: info.status ?? info.transport, cause });
    this.name = "RemoteRequestError";
    this.url = info.url;
    this.method = info.method;
    this.status = info.status;
    this.body = info.body;
    this.attempts = info.attempts;
    this.transport = info.transport;
  }
}

/** One input of a batch whose request failed. */
export interface RequestFailure {
  /** Index of the input (prompt, row) in the batch. */
  index: number;
  /** Short form of the input, for messages. */
  input: string;
  error: Error;
}

/** Per-input outcome of a batch: the value of every finished input (null where it failed) and the failures. */
export interface Settled<T> {
  values: (T | null)[];
  failures: RequestFailure[];
}

/**
 * A batch where some requests failed: `partial` holds every finished result, `failures` the failed inputs.
 * @example catch (e) { if (e instanceof remote.RemoteBatchError) { keep(e.partial); retry(e.failedIndices) } }
 */
export class RemoteBatchError<P = unknown> extends CellrlError {
  readonly partial: P;
  readonly failures: RequestFailure[];
  readonly failedIndices: number[];
  constructor(where: string, what: string, total: number, failures: RequestFailure[], partial: P, from?: Function) {
    const shown = failures
      .slice(0, 3)
      .map((f) => `${what} ${f.index} (${f.input}): ${f.error.message}`)
      .join("\n  ");
    const more = failures.length > 3 ? `\n  ... and ${failures.length - 3} more` : "";
    const idx = failures.map((f) => f.index);
    super(
      "remote",
      `${where}: ${failures.length} of ${total} requests failed ` +
        `(${what}s ${idx.slice(0, 20).join(", ")}${idx.length > 20 ? ", ..." : ""}):\n  ${shown}${more}\n` +
        `The ${total - failures.length} finished results are kept in err.partial; err.failedIndices lists ` +
        `the ${what}s to send again.`,
      { got: failures.length, expected: 0, cause: failures[0]?.error },
    );
    this.name = "RemoteBatchError";
    this.partial = partial;
    this.failures = failures;
    this.failedIndices = idx;
    if (from) Error.captureStackTrace(this, from);
  }
}

/**
 * A short printable form of an input (prompt text or ids).
 * @example remote.inputLabel([1, 2, 3]) // "3 tokens"
 */
export function inputLabel(x: unknown): string {
  if (typeof x === "string") return describe(x);
  if (Array.isArray(x) && x.every((v) => typeof v === "number")) return `${x.length} tokens`;
  return describe(x);
}

/**
 * The first `n` characters of a body, on one line.
 * @example remote.excerpt("<html>\n  502 Bad Gateway</html>", 20) // "<html> 502 Bad Ga..."
 */
export function excerpt(body: string, n = 300): string {
  const one = body.replace(/\s+/g, " ").trim();
  return one.length > n ? one.slice(0, n - 3) + "..." : one;
}

/**
 * The server's own error message from an error body (OpenAI / vLLM / llama.cpp shapes), or "".
 * @example remote.serverMessage('{"error": {"message": "boom", "code": 500}}') // "boom"
 */
export function serverMessage(body: string): string {
  try {
    const j = JSON.parse(body) as Record<string, unknown>;
    const e = j.error;
    if (e && typeof e === "object" && typeof (e as { message?: unknown }).message === "string")
      return (e as { message: string }).message;
    if (typeof e === "string") return e;
    if (typeof j.message === "string") return j.message;
    if (typeof j.detail === "string") return j.detail;
  } catch {
    /* not JSON */
  }
  return "";
}

/**
 * What to do about a failed request, from its status (or transport failure) and the server's message.
 * @example remote.fixFor(null, "refused", "", {url, timeoutMs: 1000}) // "Is the server running? ..."
 */
export function fixFor(
  status: number | null,
  transport: string | undefined,
  message: string,
  ctx: { url: string; timeoutMs: number; model?: string },
): string {
  const m = message.toLowerCase();
  if (status === null) {
    if (transport === "refused")
      return (
        "Is the server running? Start one with `npx cellrl serve --model DIR --port P` or `vllm serve MODEL`, " +
        "and check the host and port in the URL"
      );
    if (transport === "timeout")
      return (
        `The server took longer than timeoutMs = ${ctx.timeoutMs} ms; raise options.timeoutMs, ask for fewer ` +
        `tokens, or lower options.concurrency`
      );
    if (transport === "reset")
      return "The server closed the connection (crashed, restarted or overloaded); check its log";
    if (transport === "dns") return "The host name does not resolve; check the URL";
    if (transport === "aborted") return "The request was cancelled (options.signal)";
    return "Check the URL and that the server speaks HTTP";
  }
  if (status === 401 || status === 403)
    return "Pass the server's key as options.apiKey (vLLM --api-key), or set the CELLRL_API_KEY environment variable";
  if (status === 404) {
    if (m.includes("model"))
      return (
        `The server does not serve model ${JSON.stringify(ctx.model ?? "")}; list its models with GET ` +
        `/v1/models and pass options.model`
      );
    return `Check the URL: cellrl appends /v1/... to the base URL (the request went to ${ctx.url})`;
  }
  if (m.includes("logprobs") && (m.includes("max") || m.includes("greater")))
    return "Ask for fewer top logprobs, or start vLLM with --max-logprobs K (cellrl serve: --max-logprobs K)";
  if (m.includes("context length") || m.includes("maximum context") || m.includes("too long"))
    return "Shorten the prompt or lower maxNewTokens";
  if (status === 429) return "The server is rate limiting; lower options.concurrency or wait";
  if (status >= 500) return "The server failed; see its log";
  if (status === 400 || status === 422) return "The server rejected the request; its message above says which field";
  return "See the server's message above";
}
