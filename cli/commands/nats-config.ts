import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { clusterConfig, isNatsError, NatsError, type ClusterConfigOptions } from "../../nats/index.js";

export type NatsConfigOptions = Omit<ClusterConfigOptions, "storeDir"> & { out: string; storeDir?: string };

/** The flag each option of clusterConfig comes from, so its complaint names what the operator typed. */
const FLAG: Record<string, string> = { servers: "--servers", hosts: "--hosts", name: "--name", clientPort: "--client-port", clusterPort: "--cluster-port", monitorPort: "--monitor-port", storeDir: "--store-dir" };

/** `colmena nats config --out DIR ...`: one nats-server configuration file per server of a JetStream cluster, and how to start each. */
export async function natsConfig(options: NatsConfigOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const { out: dir, storeDir, ...rest } = options;
  let config;
  try {
    config = clusterConfig({ ...rest, storeDir: storeDir ?? resolve(dir, "jetstream") });
  } catch (err) {
    const option = isNatsError(err, "INVALID") ? (err.details?.option as string | undefined) : undefined;
    if (!isNatsError(err) || option === undefined) throw err;
    const named = err.message.replace(/\b(servers|hosts|name|clientPort|clusterPort|monitorPort|storeDir)\b(?=[:'])/g, (o) => FLAG[o] ?? o);
    throw new NatsError("INVALID", named, { details: { option: FLAG[option] ?? option } });
  }
  await mkdir(dir, { recursive: true });
  out.write(`a ${config.servers.length}-server JetStream cluster "${options.name}":\n`);
  for (const s of config.servers) {
    const file = join(dir, `${s.name}.conf`);
    await writeFile(file, s.text);
    out.write(`  ${s.name}: nats-server -c ${file}   (on ${s.host}: clients ${s.clientPort}, routes ${s.clusterPort}, monitoring http://${s.host}:${s.monitorPort}, JetStream in ${s.storeDir})\n`);
  }
  out.write(`nodes join it with: colmena node --nats ${config.clientUrls} --roles ...\n`);
  out.write(`(streams and buckets then get 3 replicas: nats.replicas is auto)\n`);
}
