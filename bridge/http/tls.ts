import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import { z } from "zod";
import { ColmenaError } from "../../runtime/index.js";

/**
 * HTTPS for the bridge, from PEM files: its certificate (chain) and private
 * key, and optionally a CA bundle, which makes the bridge ask every client
 * for a certificate signed by it and refuse a connection without one.
 * With `tls` set the bridge speaks HTTPS only; plain HTTP is not answered.
 */
export const TlsOptionsSchema = z.strictObject({
  cert: z.string().min(1),
  key: z.string().min(1),
  ca: z.string().min(1).optional(),
});

export type TlsOptions = z.output<typeof TlsOptionsSchema>;

/** What node's https server takes, read from the files. */
export interface TlsServerOptions {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
  requestCert: boolean;
  rejectUnauthorized: boolean;
}

/**
 * Reads the files and checks that they make a working TLS context (PEM, the
 * key matching the certificate): a missing, unreadable or mismatched file
 * is INVALID, naming the config key and the path, so start-up stops on it
 * (cli/startup-check.ts) instead of at the first connection.
 */
export function readTlsFiles(tls: TlsOptions): TlsServerOptions {
  const read = (field: keyof TlsOptions, path: string) => {
    try {
      return readFileSync(path);
    } catch (cause) {
      throw new ColmenaError("INVALID", `http.tls.${field}: cannot read ${path}: ${(cause as Error).message}`, { cause, details: { key: `http.tls.${field}`, path } });
    }
  };
  const cert = read("cert", tls.cert);
  const key = read("key", tls.key);
  const ca = tls.ca === undefined ? undefined : read("ca", tls.ca);
  try {
    createSecureContext({ cert, key, ...(ca && { ca }) });
  } catch (cause) {
    const files = [tls.cert, tls.key, ...(tls.ca === undefined ? [] : [tls.ca])].join(", ");
    throw new ColmenaError("INVALID", `http.tls: ${files} do not make a TLS context (PEM files, the key matching the certificate): ${(cause as Error).message}`, {
      cause,
      details: { key: "http.tls", path: tls.cert },
    });
  }
  return { cert, key, ...(ca && { ca }), requestCert: ca !== undefined, rejectUnauthorized: true };
}
