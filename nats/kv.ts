import type { NatsConnection } from "@nats-io/transport-node";
import { Kvm, type KV } from "@nats-io/kv";

export interface BucketOptions {
  /** Entries older than this are removed by the server (the bucket's max age). */
  ttlMs?: number;
  history?: number;
  storage?: "file" | "memory";
}

/**
 * Opens a KV bucket, creating it when it does not exist yet. Creating an
 * existing bucket with the same settings is idempotent on the server, so every
 * node may call this at start-up.
 */
export async function openBucket(nc: NatsConnection, name: string, options: BucketOptions = {}): Promise<KV> {
  const kvm = new Kvm(nc);
  return kvm.create(name, {
    history: options.history ?? 1,
    storage: options.storage === "memory" ? "memory" : "file",
    ...(options.ttlMs !== undefined && { ttl: options.ttlMs }),
  });
}

/** True when a JetStream error is a failed compare-and-set (wrong last sequence / key exists). */
export function isRevisionConflict(err: unknown): boolean {
  const e = err as { code?: number; api_error?: { err_code?: number }; message?: string };
  return e?.code === 10071 || e?.api_error?.err_code === 10071 || /wrong last sequence/.test(e?.message ?? "");
}
