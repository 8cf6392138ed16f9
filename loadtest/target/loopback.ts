import { createServer } from "node:net";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/**
 * Loads go to this machine only: a load generator that cannot be pointed at
 * somebody else's server by a typo. Throws for any other host.
 */
export function assertLoopback(url: string, flag: string): void {
  for (const one of url.split(",")) {
    let host: string;
    try {
      host = new URL(one.trim()).hostname;
    } catch {
      throw new Error(`${flag}: not a URL: ${JSON.stringify(one)}`);
    }
    if (!LOOPBACK.has(host)) throw new Error(`${flag}: the load generator only targets this machine (127.0.0.1, localhost, ::1), got ${JSON.stringify(host)}`);
  }
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}
