import { readFile } from "node:fs/promises";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { Packr } from "msgpackr";
import { answered, clientFailure, errorName, type Driver, type Outcome, type Request } from "./driver.js";

export interface NatsDriverOptions {
  /** nats://127.0.0.1:4222 */
  url: string;
  /** Subject prefix of the deployment: requests go to `<namespace>.api.query` / `.ingest`. */
  namespace: string;
  /** Sent as the query's `timeout_ms`, and the NATS request's own timeout (plus a second). */
  requestTimeoutMs: number;
  /** The service user's credentials file; its replies come to SERVICE_INBOX_PREFIX, the one inbox that user may read. */
  creds?: string;
}

/** Where a Colmena NATS server lets its `service` user receive replies (colmena up prints it beside the creds). */
export const SERVICE_INBOX_PREFIX = "_INBOX.service";

/**
 * The NATS service API as any msgpack client sees it: a request to
 * `<ns>.api.<op>` with a msgpack body. Failures come back with the services
 * error headers (`Nats-Service-Error-Code`: the HTTP status of the code) and a
 * body `{error: {code, message, retry_after_ms?}}`.
 */
export class NatsDriver implements Driver {
  readonly name = "nats";
  readonly #packr = new Packr({ useRecords: false });

  private constructor(
    readonly nc: NatsConnection,
    readonly options: NatsDriverOptions,
  ) {}

  static async connect(options: NatsDriverOptions): Promise<NatsDriver> {
    const nc = await connect({
      servers: options.url,
      name: "colmena-loadtest",
      ...(options.creds !== undefined && { authenticator: credsAuthenticator(await readFile(options.creds)), inboxPrefix: SERVICE_INBOX_PREFIX }),
    });
    return new NatsDriver(nc, options);
  }

  async send(request: Request, signal: AbortSignal): Promise<Outcome> {
    const body = request.op === "query" ? { ...request.body, timeout_ms: this.options.requestTimeoutMs } : request.body;
    try {
      const reply = this.nc.request(`${this.options.namespace}.api.${request.op}`, this.#packr.pack(body), { timeout: this.options.requestTimeoutMs + 1_000 });
      const msg = await abortable(reply, signal);
      const errorStatus = msg.headers?.get("Nats-Service-Error-Code");
      const decoded = msg.data.length > 0 ? (this.#packr.unpack(msg.data) as Record<string, unknown>) : {};
      if (errorStatus) {
        const error = (decoded.error ?? {}) as { code?: unknown; retry_after_ms?: unknown };
        return answered(Number(errorStatus) || 500, typeof error.code === "string" ? error.code : undefined, { retryHint: typeof error.retry_after_ms === "number" });
      }
      return answered(200, undefined, { retryHint: false, ...(request.op === "query" && typeof decoded.cached === "boolean" && { cached: decoded.cached }) });
    } catch (err) {
      if (signal.aborted) return clientFailure("timeout");
      const name = errorName(err);
      if (/NoResponders|503/i.test(name) || /no responders/i.test(String((err as Error)?.message))) return clientFailure("no responders");
      return clientFailure(name === "TimeoutError" ? "timeout" : name);
    }
  }

  async remove(id: string): Promise<boolean> {
    const msg = await this.nc.request(`${this.options.namespace}.api.delete`, this.#packr.pack({ id }), { timeout: this.options.requestTimeoutMs });
    return !msg.headers?.get("Nats-Service-Error-Code");
  }

  async close(): Promise<void> {
    await this.nc.drain().catch(() => this.nc.close());
  }
}

/** The reply, or a rejection as soon as `signal` aborts (the reply, if it ever comes, is ignored). A copy of the runtime's `abortable`: the load test imports nothing of the product it drives. */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error("aborted"));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error("aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
