import { createHash } from "node:crypto";
import { z } from "zod";
import { ColmenaError } from "./errors.js";

/** Keys longer than this are replaced by a hash so subjects and KV keys stay short. */
export const MAX_KEY_LENGTH = 64;
/**
 * The longest actor key, or any other name that becomes a subject token
 * (characters). Every entry point refuses a longer one with INVALID: a ref,
 * an activation request from another node, a message field that names a key.
 * Past MAX_KEY_LENGTH a key is hashed, so every subject and KV key built from
 * one stays far under the server's control-line limit (4 KiB) whatever it is.
 */
export const MAX_ACTOR_KEY_LENGTH = 256;
const TOKEN = /^[A-Za-z0-9_\-=]+$/;

/** An actor key as a message field (an activation request, a key another actor is told about). */
export const ActorKeySchema = z.string().min(1).max(MAX_ACTOR_KEY_LENGTH).regex(TOKEN, "may hold only letters, digits and _-=");

/**
 * Validates an actor key or name and makes it a single subject token: no
 * whitespace, dots or wildcards, at most MAX_ACTOR_KEY_LENGTH characters.
 * Keys over MAX_KEY_LENGTH become `h-<sha256>` (stable, so every node maps a
 * key to the same subject and KV key).
 */
export function subjectToken(key: string, what = "key"): string {
  if (typeof key !== "string" || key.length === 0) throw new ColmenaError("INVALID", `${what} must be a non-empty string`);
  if (key.length > MAX_ACTOR_KEY_LENGTH) throw new ColmenaError("INVALID", `${what} has ${key.length} characters; at most ${MAX_ACTOR_KEY_LENGTH} are allowed`);
  if (!TOKEN.test(key)) {
    throw new ColmenaError("INVALID", `${what} ${JSON.stringify(key.slice(0, 80))} may hold only letters, digits and _-= (no whitespace, dots or wildcards)`);
  }
  if (key.length <= MAX_KEY_LENGTH) return key;
  return `h-${createHash("sha256").update(key).digest("hex").slice(0, 40)}`;
}

/** The buckets every node opens (names inside the namespace): membership leases and keyed-actor placement. */
export const NODE_BUCKETS = { members: "members", placement: "placement" } as const;

/** The bucket (name inside the namespace) holding a keyed kind's actor state. */
export const stateBucket = (kind: string): string => `state-${kind}`;

/**
 * Where the replies to a node's requests come: `_INBOX.<role>` for a node
 * of one role, `_INBOX.node` for a node of several. Its NATS connection and
 * its requester use it, and a role's NATS user may subscribe to its own
 * prefix only, so no role reads the replies meant for another
 * (cli/nats-permissions.ts).
 */
export function inboxPrefix(roles: readonly string[]): string {
  return `_INBOX.${roles.length === 1 ? subjectToken(roles[0]!, "role") : "node"}`;
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

  /** The keyed subject of a kind with the key left out, for span attributes whose cardinality must stay bounded. */
  keyedTemplate(kind: string): string {
    return `${this.prefix}.keyed.${subjectToken(kind, "actor kind")}.{key}`;
  }

  /** Metrics scrapes, answered by every node (runtime/cluster/metrics-scrape.ts). */
  metrics(): string {
    return `${this.prefix}.metrics`;
  }

  /** Activation requests for a keyed kind, answered by a node hosting it. */
  activate(kind: string): string {
    return `${this.prefix}.activate.${subjectToken(kind, "actor kind")}`;
  }

  /** Activation requests aimed at one node (preferred when the node hosts the kind). */
  activateOn(nodeId: string, kind: string): string {
    return `${this.prefix}.node.${subjectToken(nodeId, "node id")}.activate.${subjectToken(kind, "actor kind")}`;
  }

  /** The instances of a pooled kind on one node (a queue group among them), for a caller that chose that node. */
  poolOn(nodeId: string, kind: string): string {
    return `${this.prefix}.node.${subjectToken(nodeId, "node id")}.pool.${subjectToken(kind, "actor kind")}`;
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

  /** KV key of a keyed actor in the placement directory. */
  actorKey(kind: string, key: string): string {
    return `${subjectToken(kind, "actor kind")}.${subjectToken(key)}`;
  }

  /** KV key of a keyed actor's state in its kind's bucket (`bucket("state-<kind>")`): hashed past MAX_KEY_LENGTH, as in subjects. */
  stateKey(key: string): string {
    return subjectToken(key);
  }
}
