import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface TestCertificates {
  /** The CA that signs both certificates (PEM path). */
  ca: string;
  /** A server certificate for 127.0.0.1 and localhost, and its key. */
  serverCert: string;
  serverKey: string;
  /** A client certificate (clientAuth), and its key. */
  clientCert: string;
  clientKey: string;
}

/** Whether the `openssl` binary is on PATH (Debian's `openssl` package). */
export const hasOpenssl = (): Promise<boolean> => run("openssl", ["version"]).then(
  () => true,
  () => false,
);

/** A throwaway CA and a server and a client certificate signed by it, made with the `openssl` binary in `dir` (P-256 keys, valid one day). */
export async function makeCertificates(dir: string): Promise<TestCertificates> {
  const f = (name: string) => join(dir, name);
  const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await run("openssl", ["req", "-x509", ...key, "-keyout", f("ca.key"), "-out", f("ca.pem"), "-days", "1", "-subj", "/CN=colmena test CA"]);
  const signed = async (name: string, ext: string) => {
    await writeFile(f(`${name}.ext`), ext);
    await run("openssl", ["req", ...key, "-keyout", f(`${name}.key`), "-out", f(`${name}.csr`), "-subj", `/CN=colmena test ${name}`]);
    await run("openssl", ["x509", "-req", "-in", f(`${name}.csr`), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-CAcreateserial", "-out", f(`${name}.pem`), "-days", "1", "-extfile", f(`${name}.ext`)]);
  };
  await signed("server", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  await signed("client", "extendedKeyUsage=clientAuth\n");
  return { ca: f("ca.pem"), serverCert: f("server.pem"), serverKey: f("server.key"), clientCert: f("client.pem"), clientKey: f("client.key") };
}
