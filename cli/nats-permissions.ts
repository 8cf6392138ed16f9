import type { Permissions } from "@nats-io/jwt";
import { RAG_API_CALLS } from "../actors/index.js";
import { AUDIT_LOG, KEYS_BUCKET, NATS_API_OPERATIONS, natsApiSubject } from "../bridge/index.js";
import { inboxPrefix, NODE_BUCKETS, stateBucket, Subjects, type AnyHosted } from "../runtime/index.js";
import { ROLES, type Role } from "./config.js";

/**
 * Inbox prefix of outside services: their replies come to `_INBOX.service.…`,
 * the only subjects they may subscribe to, so they cannot read the replies
 * meant for Colmena's own nodes (each role's on `_INBOX.<role>`). Clients
 * set it as their connection's `inboxPrefix`.
 */
export const SERVICE_INBOX_PREFIX = "_INBOX.service";

/**
 * What an outside service may do on NATS, cut from the subjects the service
 * API really serves (bridge/nats-service.ts): request its operations and
 * discover it (`$SRV`), and receive its replies. Nothing else: not the
 * actor subjects (pool, keyed, activate, node, stream), KV, JetStream or
 * membership, neither publishing nor subscribing.
 */
export function servicePermissions(namespace: string): Partial<Permissions> {
  return {
    pub: { allow: [...NATS_API_OPERATIONS.map((op) => natsApiSubject(namespace, op)), "$SRV.>"] },
    sub: { allow: [`${SERVICE_INBOX_PREFIX}.>`] },
  };
}

/**
 * How long a node may answer a request it received, and how often: a
 * streamed answer publishes many frames to one reply subject, so the number
 * is unlimited and the time bounds it. nats-server remembers every reply
 * subject of the connection for that long (pruned once a second past 4096),
 * so the time is also memory on the server: requests per second × ttl
 * entries. Five minutes is five times the default request deadline; a
 * stream still going after it (a deadline raised past it) loses its last
 * frames to a permission violation and its caller times out.
 */
const RESPONSES = { max: -1, ttl: 5 * 60 * 1e9 };

/** A valid subject token that stands for `*` while the runtime's subject code builds a pattern. */
const ANY = "ANY-TOKEN";
const pattern = (subject: string) => subject.split(".").map((t) => (t === ANY ? "*" : t)).join(".");

/** What a node of one role opens in JetStream: its streams (logs) and KV buckets, names inside the namespace. */
export interface RoleStores {
  logs: string[];
  buckets: string[];
}

/**
 * The one table of what a role stores, cut from the runtime's names (the
 * buckets every node opens, a keyed kind's state bucket) and what each
 * hosted kind declares in `stores` (which the runtime enforces), plus, for
 * the bridge, the API-key bucket and the audit.
 */
export function roleStores(role: Role, kinds: readonly AnyHosted[]): RoleStores {
  const logs = new Set<string>(kinds.flatMap((k) => k.stores.logs));
  const buckets = new Set<string>([NODE_BUCKETS.members, NODE_BUCKETS.placement, ...kinds.flatMap((k) => k.stores.buckets)]);
  for (const k of kinds) if (k.placement === "keyed") buckets.add(stateBucket(k.kind));
  if (role === "bridge") {
    buckets.add(KEYS_BUCKET);
    logs.add(AUDIT_LOG);
  }
  return { logs: [...logs].sort(), buckets: [...buckets].sort() };
}

/**
 * The JetStream API a client of one stream uses, in as few patterns as cover
 * it (a user JWT travels in the CONNECT line, which nats-server caps at 4 KiB
 * by default): the stream's own calls (info, create, update; delete and
 * purge come with them), reading entries, its consumers (create, info,
 * delete, next) and their acks.
 */
function streamApi(stream: string): string[] {
  return [
    `$JS.API.STREAM.*.${stream}`,
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    `$JS.API.CONSUMER.*.${stream}.>`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.*`,
    `$JS.ACK.${stream}.>`,
  ];
}

/**
 * The actor subjects a node of one role may publish to: those of the kinds
 * it hosts and of the kinds they declare in `calls` (the runtime refuses
 * them any other), the bridge's those the RAG API calls. A pooled kind's
 * queue and per-node subjects, a keyed kind's actors and activations. A
 * hosted kind without `calls`, or a kind not in `known`, leaves that part
 * open: every actor subject, or both forms of the kind's.
 */
function callSubjects(s: Subjects, role: Role, kinds: readonly AnyHosted[], known: readonly AnyHosted[]): string[] {
  if (kinds.some((k) => k.calls === undefined)) return [s.pool(ANY), s.poolOn(ANY, ANY), s.keyed(ANY, ANY), s.activate(ANY), s.activateOn(ANY, ANY)];
  const names = new Set([...kinds.flatMap((k) => [k.kind, ...k.calls!]), ...(role === "bridge" ? RAG_API_CALLS : [])]);
  const placement = new Map(known.map((k) => [k.kind, k.placement]));
  return [...names].sort().flatMap((name) => {
    const pooled = [s.pool(name), s.poolOn(ANY, name)];
    const keyed = [s.keyed(name, ANY), s.activate(name), s.activateOn(ANY, name)];
    const p = placement.get(name);
    return p === "pooled" ? pooled : p === "keyed" ? keyed : [...pooled, ...keyed];
  });
}

/**
 * What a node of one role may do, cut from the runtime's subject scheme
 * (runtime/contract/subjects.ts), the kinds the role hosts and roleStores:
 *
 * - subscribe only to the subjects of its own kinds (a pooled kind's queue
 *   and per-node subjects; a keyed kind's activations and actors), to
 *   stream control, to node stats and metrics scrapes (each node answers
 *   its own; the bridge asks them all), to its own replies (`_INBOX.<role>.>`, the inbox prefix
 *   its connection uses), and the bridge to the service API; so no role
 *   serves another's kinds or reads another's replies;
 * - publish to the actor subjects of its own kinds and those they call
 *   (callSubjects), to stream control, to the JetStream API of its own
 *   streams and buckets only (and the acks of its consumers), to its own
 *   logs' and buckets' subjects, and answer what it was asked
 *   (allow_responses); never the service API, another role's logs or
 *   buckets, nor the account's JetStream as a whole.
 */
export function rolePermissions(namespace: string, role: Role, kinds: readonly AnyHosted[], known: readonly AnyHosted[] = kinds): Partial<Permissions> {
  const s = new Subjects(namespace);
  const api = NATS_API_OPERATIONS.map((op) => natsApiSubject(namespace, op));
  const serves = kinds.flatMap((k) =>
    k.placement === "keyed" ? [s.activate(k.kind), s.activateOn(ANY, k.kind), s.keyed(k.kind, ANY)] : [s.pool(k.kind), s.poolOn(ANY, k.kind)],
  );
  const bridge = role === "bridge";
  // Every node answers its own stats; the bridge asks every member for theirs (colmena status).
  const calls = [...callSubjects(s, role, kinds, known), s.streamControl(ANY), ...(bridge ? [s.nodeStats(ANY), s.metrics()] : [])];
  const { logs, buckets } = roleStores(role, kinds);
  const kv = buckets.map((b) => s.bucket(b));
  const stores = [
    ...logs.flatMap((l) => [`${s.prefix}.${l}.>`, ...streamApi(s.bucket(l))]),
    ...kv.flatMap((b) => [`$KV.${b}.>`, ...streamApi(`KV_${b}`)]),
  ];
  return {
    sub: { allow: [...serves, s.streamControl(ANY), s.nodeStats(ANY), s.metrics(), `${inboxPrefix([role])}.>`, ...(bridge ? [...api, "$SRV.>"] : [])].map(pattern) },
    pub: { allow: [...calls.map(pattern), "$JS.API.INFO", ...stores] },
    resp: RESPONSES,
  };
}

/**
 * What a node of several roles may do (`colmena up`'s actor thread, `colmena
 * node --roles a,b`, and the operator's commands that run on its creds:
 * `colmena keys`, the audit): the union of every role's permissions, and
 * the inbox of a multi-role node (`_INBOX.node`) beside the roles' own (a
 * process may run one role on these creds: `up`'s bridge thread under
 * `--nats`). So it still cannot read a service's replies (nor those of
 * clients on nats.js's default inbox), use JetStream beyond Colmena's own
 * streams and buckets, nor publish outside the subject scheme.
 */
export function nodePermissions(namespace: string, kindsOf: (role: Role) => readonly AnyHosted[]): Partial<Permissions> {
  const known = ROLES.flatMap((role) => kindsOf(role));
  const each = ROLES.map((role) => rolePermissions(namespace, role, kindsOf(role), known));
  const union = (lists: (string[] | undefined)[]) => [...new Set(lists.flatMap((l) => l ?? []))];
  return {
    sub: { allow: [...union(each.map((p) => p.sub?.allow)), `${inboxPrefix(ROLES)}.>`] },
    pub: { allow: union(each.map((p) => p.pub?.allow)) },
    resp: RESPONSES,
  };
}

