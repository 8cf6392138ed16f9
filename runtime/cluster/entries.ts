import { z } from "zod";
import type { Codec } from "../../nats/index.js";
import { ColmenaError } from "../contract/errors.js";
import { ActorKeySchema } from "../contract/subjects.js";
import { zodIssues } from "../contract/zod-issues.js";

/**
 * What the runtime's KV buckets hold, and the one reader of each. Anyone
 * who can write to a bucket can put anything in it, so every entry is
 * checked before it is used: a reader returns a valid value or throws a
 * ColmenaError (DECODE for bytes that are not msgpack or UTF-8, INVALID
 * for a value of the wrong shape), never anything else.
 */

const count = z.number().finite().nonnegative();

/** How busy a node's instances of one pooled kind are. */
export const PoolLoadSchema = z.object({
  /** Messages in flight plus queued, over every instance. */
  busy: count,
  /** Messages the instances run at once (instances × concurrency). */
  slots: count,
});

export type PoolLoad = z.infer<typeof PoolLoadSchema>;

/** Loose: fields this version does not know (a newer node's, during a rolling upgrade) pass through unchecked rather than vanish. */
export const NodeInfoSchema = z.looseObject({
  id: ActorKeySchema,
  roles: z.array(z.string().max(64)).max(64),
  kinds: z.array(ActorKeySchema).max(1_024),
  version: z.string().max(128),
  startedAt: z.number().finite(),
  load: z.looseObject({
    inFlight: count,
    mailbox: count,
    rssMb: count,
    pid: z.number().int().nonnegative(),
    /** With pid, names the process: the threads of one process share both, while processes on other machines (or containers, all pid 1) may share a pid. Absent from older nodes. */
    host: z.string().max(255).optional(),
    /** Per pooled kind this node hosts (absent from nodes older than load-aware routing). */
    pools: z.record(ActorKeySchema, PoolLoadSchema).optional(),
  }),
  /** Shutting down: takes no new pooled work, finishes what it has. */
  draining: z.boolean().optional(),
});

/** A node as its membership entry announces it. */
export type NodeInfo = z.infer<typeof NodeInfoSchema>;

/** A membership entry: the NodeInfo of the node named by its key. */
export function readNodeInfo(codec: Codec, key: string, bytes: Uint8Array): NodeInfo {
  const info = parse(NodeInfoSchema, decode(codec, bytes), "membership entry");
  if (info.id !== key) throw new ColmenaError("INVALID", `membership entry ${JSON.stringify(key.slice(0, 80))} announces node ${JSON.stringify(info.id)}`);
  return info;
}

/** A placement entry: the id of the node that owns the key (UTF-8, a subject token). */
export function readOwner(bytes: Uint8Array): string {
  let owner: string;
  try {
    owner = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new ColmenaError("DECODE", "placement entry is not UTF-8", { cause });
  }
  return parse(ActorKeySchema, owner, "placement entry");
}

/** A keyed actor's saved state: any msgpack value, or one that passes the actor's own schema when it gives one. */
export function readState<T>(codec: Codec, bytes: Uint8Array, schema?: z.ZodType<T>): T {
  const value = decode(codec, bytes);
  return schema === undefined ? (value as T) : parse(schema, value, "saved state");
}

function decode(codec: Codec, bytes: Uint8Array): unknown {
  try {
    return codec.decode(bytes);
  } catch (err) {
    throw ColmenaError.from(err);
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ColmenaError("INVALID", `${what}: ${zodIssues(parsed.error, { root: "(value)" }).slice(0, 3).join("; ")}`);
  return parsed.data;
}
