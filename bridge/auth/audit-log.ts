import { DeliverPolicy } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { ensureStream, isNotFound, jetStreamError, jetStreamManagerOf, jetStreamOf } from "../../nats/index.js";
import { Subjects, type Logger } from "../../runtime/index.js";

/** The audit's name in the namespace: stream `<ns>_audit`, subjects `<ns>.audit.>`. */
export const AUDIT_LOG = "audit";

/**
 * What the audit keeps: every authentication decision on /v1/* (allowed or
 * denied), every admin operation and every key change. Identities are key
 * ids and JWT subjects, never a key, a token or a digest.
 */
export interface AuditEvent {
  /** ISO 8601. */
  at: string;
  kind: "auth" | "admin" | "key";
  allowed: boolean;
  /** `key:<id>`, `jwt:<subject>` or `ip:<address>`; absent when no credential checked out. */
  caller?: string;
  role?: string;
  ip?: string;
  method?: string;
  /** The route's pattern (`/v1/documents/:id`), or the path for one that matched none. */
  route?: string;
  status?: number;
  code?: string;
  /** Why a request was refused, as its error message says it. */
  reason?: string;
  trace?: string;
  node?: string;
  /** A key change: what was done to which key. */
  key?: { op: "create" | "revoke"; id: string; role: string; tier: string };
}

export interface AuditRetention {
  maxAgeMs: number;
  maxBytes?: number;
}

/**
 * The audit stream `<ns>_audit` in JetStream, subjects
 * `<ns>.audit.<kind>.<allowed|denied>`, JSON bodies (any NATS tool reads
 * them). Appending never waits on the server nor fails a request: a lost
 * publish is logged and counted in `lost`.
 */
export class AuditLog {
  readonly #nc: NatsConnection;
  readonly #root: string;
  readonly #stream: string;
  readonly #log: Pick<Logger, "warn">;
  readonly #node: string | undefined;
  #lost = 0;

  private constructor(nc: NatsConnection, namespace: string, log: Pick<Logger, "warn">, node?: string) {
    const subjects = new Subjects(namespace);
    this.#nc = nc;
    this.#root = `${subjects.prefix}.${AUDIT_LOG}`;
    this.#stream = subjects.bucket(AUDIT_LOG);
    this.#log = log;
    this.#node = node;
  }

  /** Creates the stream, or brings its retention up to date. */
  static async open(nc: NatsConnection, namespace: string, retention: AuditRetention, log: Pick<Logger, "warn">, node?: string): Promise<AuditLog> {
    const audit = new AuditLog(nc, namespace, log, node);
    await ensureStream(nc, {
      name: audit.#stream,
      subjects: [`${audit.#root}.>`],
      maxAgeMs: retention.maxAgeMs,
      ...(retention.maxBytes !== undefined && { maxBytes: retention.maxBytes }),
      description: "Colmena's audit: authentication decisions, admin operations, key changes",
    });
    return audit;
  }

  /** Events that could not be stored. */
  get lost(): number {
    return this.#lost;
  }

  /** The stream as it is, created or not (for `colmena audit`: its retention is the nodes' to set). */
  static existing(nc: NatsConnection, namespace: string, log: Pick<Logger, "warn">, node?: string): AuditLog {
    return new AuditLog(nc, namespace, log, node);
  }

  /** The stream when the nodes keep one (auth or `auth.audit.enabled`), else undefined: for `colmena keys`. */
  static async ifKept(nc: NatsConnection, namespace: string, log: Pick<Logger, "warn">): Promise<AuditLog | undefined> {
    const audit = new AuditLog(nc, namespace, log);
    try {
      await (await jetStreamManagerOf(nc)).streams.info(audit.#stream);
      return audit;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw jetStreamError(err, "cannot look up the audit stream");
    }
  }

  record(event: Omit<AuditEvent, "at" | "node">): void {
    void this.append(event);
  }

  /** As `record`, settling once the server has the event (or it was lost). */
  async append(event: Omit<AuditEvent, "at" | "node">): Promise<void> {
    const full: AuditEvent = { at: new Date().toISOString(), ...event, ...(this.#node !== undefined && { node: this.#node }) };
    const subject = `${this.#root}.${event.kind}.${event.allowed ? "allowed" : "denied"}`;
    await jetStreamOf(this.#nc)
      .publish(subject, JSON.stringify(full))
      .then(
        () => undefined,
        (err: unknown) => {
          this.#lost++;
          this.#log.warn({ err, kind: event.kind }, "an audit event was not stored");
        },
      );
  }

  /**
   * The events since a time, oldest first, optionally only the denied ones;
   * ends once caught up unless `follow`.
   */
  async *read(options: { sinceMs: number; deniedOnly?: boolean; follow?: boolean }): AsyncGenerator<AuditEvent> {
    const consumer = await jetStreamOf(this.#nc)
      .consumers.get(this.#stream, {
        filter_subjects: `${this.#root}.*.${options.deniedOnly ? "denied" : "*"}`,
        deliver_policy: DeliverPolicy.StartTime,
        opt_start_time: new Date(options.sinceMs).toISOString(),
      })
      .catch((err: unknown) => {
        throw jetStreamError(err, "cannot read the audit stream");
      });
    if (!options.follow && (await consumer.info()).num_pending === 0) return;
    const messages = await consumer.consume();
    try {
      for await (const m of messages) {
        yield m.json<AuditEvent>();
        if (!options.follow && m.info.pending === 0) return;
      }
    } finally {
      await messages.close();
    }
  }
}
