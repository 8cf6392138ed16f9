import type { NatsConnection } from "@nats-io/transport-node";
import { Kvm, type KV } from "@nats-io/kv";
import { jetStreamManagerOf, nanos } from "./jetstream.js";

export interface BucketOptions {
  /** Entries older than this are removed by the server (the bucket's max age). */
  ttlMs?: number;
  history?: number;
  storage?: "file" | "memory";
}

/**
 * Opens a KV bucket, creating it when it does not exist yet, so every node
 * may call this at start-up. An existing bucket keeps its settings on
 * create, so a TTL changed in the configuration is applied here: without
 * that the old one would silently stay.
 */
export async function openBucket(nc: NatsConnection, name: string, options: BucketOptions = {}): Promise<KV> {
  const kvm = new Kvm(nc);
  const kv = await kvm.create(name, {
    history: options.history ?? 1,
    storage: options.storage === "memory" ? "memory" : "file",
    ...(options.ttlMs !== undefined && { ttl: options.ttlMs }),
  });
  const ttlMs = options.ttlMs ?? 0;
  const status = await kv.status();
  if (status.ttl !== ttlMs) {
    const jsm = await jetStreamManagerOf(nc);
    const stream = `KV_${name}`;
    const { config } = await jsm.streams.info(stream);
    // The duplicate window may not exceed the max age (as the client sets it on create).
    await jsm.streams.update(stream, { ...config, max_age: nanos(ttlMs), duplicate_window: nanos(ttlMs > 0 ? Math.min(ttlMs, 120_000) : 120_000) });
  }
  return kv;
}

/** True when a JetStream error is a failed compare-and-set (wrong last sequence / key exists). */
export function isRevisionConflict(err: unknown): boolean {
  const e = err as { code?: number; api_error?: { err_code?: number }; message?: string };
  return e?.code === 10071 || e?.api_error?.err_code === 10071 || /wrong last sequence/.test(e?.message ?? "");
}
