import type { NatsConnection } from "@nats-io/transport-node";
import { Kvm, type KV } from "@nats-io/kv";
import { DiscardPolicy } from "@nats-io/jetstream";
import { jetStreamManagerOf, nanos, untilLeader } from "./jetstream.js";

export interface BucketOptions {
  /** Entries older than this are removed by the server (the bucket's max age). */
  ttlMs?: number;
  history?: number;
  storage?: "file" | "memory";
  /**
   * At most this many bytes; the oldest entries make room for new ones (for
   * caches: a KV bucket otherwise refuses writes once full).
   */
  maxBytes?: number;
  /** Copies kept in a cluster (default 1); changed on an existing bucket too. */
  replicas?: number;
}

/**
 * Opens a KV bucket, creating it when it does not exist yet, so every node
 * may call this at start-up. An existing bucket keeps its settings on
 * create, so a TTL or size changed in the configuration is applied here:
 * without that the old one would silently stay. Its reads are the
 * leader's (read-your-writes across a server loss), not a replica's.
 */
export async function openBucket(nc: NatsConnection, name: string, options: BucketOptions = {}): Promise<KV> {
  const kvm = new Kvm(nc);
  const kv = await kvm.create(name, {
    history: options.history ?? 1,
    replicas: options.replicas ?? 1,
    storage: options.storage === "memory" ? "memory" : "file",
    ...(options.ttlMs !== undefined && { ttl: options.ttlMs }),
    // Reads go to the stream's leader, not to any replica (direct get): on a cluster a follower that has not caught
    // up answers "no such key" for a write already acknowledged, as one did right after a server was killed.
    allow_direct: false,
  });
  const ttlMs = options.ttlMs ?? 0;
  const jsm = await jetStreamManagerOf(nc);
  const stream = `KV_${name}`;
  const { config } = await jsm.streams.info(stream);
  const want = {
    max_age: nanos(ttlMs),
    max_bytes: options.maxBytes ?? -1,
    discard: options.maxBytes === undefined ? config.discard : DiscardPolicy.Old,
    num_replicas: options.replicas ?? 1,
  };
  if (config.max_age !== want.max_age || config.max_bytes !== want.max_bytes || config.discard !== want.discard || config.num_replicas !== want.num_replicas) {
    // The duplicate window may not exceed the max age (as the client sets it on create).
    await jsm.streams.update(stream, { ...config, ...want, duplicate_window: nanos(ttlMs > 0 ? Math.min(ttlMs, 120_000) : 120_000) });
  }
  await untilLeader(jsm, stream);
  return kv;
}

/**
 * How many copies a node should keep of what it creates: `auto` is 3 when the
 * server it is connected to reports a cluster of 3 or more servers (its
 * INFO's connect_urls), else 1.
 */
export function replicaCount(nc: NatsConnection, setting: "auto" | number): number {
  if (setting !== "auto") return setting;
  return (nc.info?.connect_urls?.length ?? 0) >= 3 ? 3 : 1;
}

/** True when a JetStream error is a failed compare-and-set (wrong last sequence / key exists). */
export function isRevisionConflict(err: unknown): boolean {
  const e = err as { code?: number; api_error?: { err_code?: number }; message?: string };
  return e?.code === 10071 || e?.api_error?.err_code === 10071 || /wrong last sequence/.test(e?.message ?? "");
}
