/** A non-2xx answer of the bridge. */
export class BridgeError extends Error {
  override readonly name = "BridgeError";
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** The CLI's client commands talk to a running node's HTTP bridge. */
export class BridgeClient {
  readonly #base: string;
  readonly #apiKey: string | undefined;

  constructor(url: string, apiKey?: string) {
    this.#base = url.replace(/\/+$/, "");
    this.#apiKey = apiKey;
  }

  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.fetch(method, path, body);
    return (await res.json()) as T;
  }

  /** Any non-2xx answer becomes an Error with the bridge's {error: {code, message}}. */
  async fetch(method: string, path: string, body?: unknown): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${this.#base}${path}`, {
        method,
        headers: { ...(body !== undefined && { "content-type": "application/json" }), ...(this.#apiKey && { authorization: `Bearer ${this.#apiKey}` }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    } catch (cause) {
      throw new Error(`cannot reach Colmena at ${this.#base} (is \`colmena up\` running?): ${(cause as Error).message}`, { cause });
    }
    if (!res.ok) {
      const text = await res.text();
      let message = text;
      try {
        const e = JSON.parse(text) as { error?: { code?: string; message?: string } };
        if (e.error) message = `${e.error.code}: ${e.error.message}`;
      } catch {
        // not JSON: keep the text
      }
      throw new BridgeError(`${method} ${path} → ${res.status} ${message}`, res.status);
    }
    return res;
  }
}
