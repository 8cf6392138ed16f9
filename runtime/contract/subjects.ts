import { createHash } from "node:crypto";
import { ColmenaError } from "./errors.js";

/** Keys longer than this are replaced by a hash so subjects stay short. */
export const MAX_KEY_LENGTH = 64;
const TOKEN = /^[A-Za-z0-9_\-=]+$/;

/**
 * Validates an actor key or name and makes it a single subject token: no
 * whitespace, dots or wildcards. Keys over MAX_KEY_LENGTH become `h-<sha256>`
 * (stable, so every node maps a key to the same subject).
 */
export function subjectToken(key: string, what = "key"): string {
  if (typeof key !== "string" || key.length === 0) throw new ColmenaError("INVALID", `${what} must be a non-empty string`);
  if (!TOKEN.test(key)) {
    throw new ColmenaError("INVALID", `${what} ${JSON.stringify(key.slice(0, 80))} may hold only letters, digits and _-= (no whitespace, dots or wildcards)`);
  }
  if (key.length <= MAX_KEY_LENGTH) return key;
  return `h-${createHash("sha256").update(key).digest("hex").slice(0, 40)}`;
}

/**
 * Every subject and bucket name Colmena uses, under one namespace prefix so
 * several deployments can share a NATS cluster.
 */
export class Subjects {
  readonly prefix: string;

  constructor(prefix = "colmena") {
    this.prefix = subjectToken(prefix, "namespace");
  }

  /** Queue-group subject served by every instance of a pooled kind. */
  pool(kind: string): string {
    return `${this.prefix}.pool.${subjectToken(kind, "actor kind")}`;
  }

  /** Subject served by the single live activation of a keyed actor. */
  keyed(kind: string, key: string): string {
    return `${this.prefix}.keyed.${subjectToken(kind, "actor kind")}.${subjectToken(key)}`;
  }

  /** Activation requests for a keyed kind, answered by a node hosting it. */
  activate(kind: string): string {
    return `${this.prefix}.activate.${subjectToken(kind, "actor kind")}`;
  }

  /** Activation requests aimed at one node (preferred when the node hosts the kind). */
  activateOn(nodeId: string, kind: string): string {
    return `${this.prefix}.node.${subjectToken(nodeId, "node id")}.activate.${subjectToken(kind, "actor kind")}`;
  }

  /** Where one node answers its actors' stats. */
  nodeStats(nodeId: string): string {
    return `${this.prefix}.node.${subjectToken(nodeId, "node id")}.stats`;
  }

  /** Control channel of one stream (credit and cancel, caller → producer). */
  streamControl(streamId: string): string {
    return `${this.prefix}.stream.${subjectToken(streamId, "stream id")}`;
  }

  /** KV bucket and JetStream names cannot hold dots: `<prefix>_<name>`. */
  bucket(name: string): string {
    return `${this.prefix}_${subjectToken(name, "bucket name")}`;
  }

  /** KV key of a keyed actor in the placement directory and state store. */
  actorKey(kind: string, key: string): string {
    return `${subjectToken(kind, "actor kind")}.${subjectToken(key)}`;
  }
}
