import { Pool } from "undici";
import { answered, clientFailure, errorName, type Driver, type Outcome, type Request } from "./driver.js";

export interface HttpDriverOptions {
  /** The HTTP bridge, e.g. http://127.0.0.1:8080. */
  url: string;
  /** Sockets at most. Requests beyond it wait in the pool (and that wait counts as latency). */
  connections: number;
  apiKey?: string;
}

const PATHS: Record<Request["op"], string> = { query: "/v1/query", ingest: "/v1/documents" };

/**
 * `POST /v1/query` and `POST /v1/documents` over one undici Pool. Every
 * answer's body is read to the end (a socket is reused only then); a query's
 * `cached` flag, an error body's code and a `Retry-After` header make the
 * outcome.
 */
export class HttpDriver implements Driver {
  readonly name = "http";
  readonly #pool: Pool;
  readonly #headers: Record<string, string>;

  constructor(options: HttpDriverOptions) {
    this.#pool = new Pool(options.url, { connections: options.connections, pipelining: 1, headersTimeout: 0, bodyTimeout: 0, keepAliveTimeout: 30_000 });
    this.#headers = { "content-type": "application/json", ...(options.apiKey && { authorization: `Bearer ${options.apiKey}` }) };
  }

  async send(request: Request, signal: AbortSignal): Promise<Outcome> {
    try {
      const res = await this.#pool.request({ method: "POST", path: PATHS[request.op], headers: this.#headers, body: JSON.stringify(request.body), signal });
      const text = await res.body.text();
      const retryHint = res.headers["retry-after"] !== undefined;
      const body = parseJson(text);
      if (res.statusCode >= 200 && res.statusCode < 300) {
        const cached = request.op === "query" && typeof body?.cached === "boolean" ? body.cached : undefined;
        return answered(res.statusCode, undefined, { retryHint, ...(cached !== undefined && { cached }) });
      }
      const code = typeof body?.error?.code === "string" ? body.error.code : undefined;
      return answered(res.statusCode, code, { retryHint });
    } catch (err) {
      return clientFailure(signal.aborted ? "timeout" : errorName(err));
    }
  }

  async remove(id: string): Promise<boolean> {
    const res = await this.#pool.request({ method: "DELETE", path: `/v1/documents/${encodeURIComponent(id)}`, headers: this.#headers });
    await res.body.text();
    return res.statusCode === 200;
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}

interface AnswerBody {
  cached?: unknown;
  error?: { code?: unknown };
}

function parseJson(text: string): AnswerBody | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === "object" ? (v as AnswerBody) : undefined;
  } catch {
    return undefined;
  }
}
