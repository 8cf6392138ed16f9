import { ColmenaError } from "../contract/errors.js";
import type { AnyHosted } from "../contract/hosting.js";
import type { Bucket, BucketOptions, Log, LogSpec, Storage } from "../contract/storage.js";

/**
 * The node's storage as one kind's activations see it: only the logs and
 * buckets the kind declares (`stores`). Opening another is a programming
 * mistake, refused with INVALID at once rather than as a permission
 * violation on a node whose NATS user was cut from the declaration.
 */
export function declaredStorage(storage: Storage, kind: AnyHosted): Storage {
  const { logs, buckets } = kind.stores;
  const undeclared = (what: string, name: string, declared: readonly string[]) =>
    new ColmenaError("INVALID", `actor kind ${kind.address.kind} opens ${what} ${JSON.stringify(name)}, which it does not declare in stores.${what}s (${declared.join(", ") || "none"})`);
  return {
    log(spec: LogSpec): Promise<Log> {
      if (!logs.includes(spec.name)) return Promise.reject(undeclared("log", spec.name, logs));
      return storage.log(spec);
    },
    bucket(name: string, options?: BucketOptions): Promise<Bucket> {
      if (!buckets.includes(name)) return Promise.reject(undeclared("bucket", name, buckets));
      return storage.bucket(name, options);
    },
  };
}
