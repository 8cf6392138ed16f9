import type { NatsConnection } from "@nats-io/transport-node";
import { Codec } from "../nats/codec.js";
import { connectNats } from "../nats/connection.js";
import { openBucket } from "../nats/kv.js";
import { Subjects } from "../nats/subjects.js";
import { rootSupervisor, Supervisor, systemClock, type Clock, type SupervisorEvent } from "../supervisors/index.js";
import type { ActorKind, AnyKind, Behavior, MessageSchemas, Refs } from "./actor-def.js";
import type { CellStats } from "./actor-cell.js";
import { ActorRef } from "./actor-ref.js";
import { defaultNodeId, type RuntimeConfig } from "./config.js";
import { ColmenaError } from "./errors.js";
import type { HostDeps, KindHost } from "./host.js";
import { Inbound } from "./inbound.js";
import { KeyedHost } from "./keyed-host.js";
import { createLogger, type Logger } from "./logger.js";
import { Membership, type NodeInfo } from "./membership.js";
import { Outbound } from "./outbound.js";
import { PlacementDirectory } from "./placement.js";
import { PooledHost } from "./pooled-host.js";
import { Router } from "./router.js";
import { StateStore } from "./state-store.js";

export interface ActorSystemOptions {
  config: RuntimeConfig;
  /** Actor kinds this node hosts; it can send to any kind. */
  kinds?: AnyKind[];
  roles?: string[];
  version?: string;
  /** An open connection to use instead of connecting from config.nats (the system will not close it). */
  nc?: NatsConnection;
  log?: Logger;
  clock?: Clock;
  /** What the root supervisor's escalation does (default: process.exit). */
  exit?: (code: number) => void;
}

export interface KindStats {
  kind: string;
  placement: "pooled" | "keyed";
  supervisor: string;
  activations: CellStats[];
}

/**
 * One node: the NATS connection, the actor kinds it hosts under a root
 * supervisor, its membership and the refs it hands out. `shutdown` stops
 * intake, lets in-flight work finish within the grace period, stops every
 * actor (saving keyed state), leaves the cluster and flushes NATS.
 */
export class ActorSystem implements Refs {
  readonly nodeId: string;
  readonly nc: NatsConnection;
  readonly log: Logger;
  readonly subjects: Subjects;
  readonly codec: Codec;
  readonly membership: Membership;
  readonly #config: RuntimeConfig;
  readonly #router: Router;
  readonly #hosts: KindHost[];
  readonly #root: Supervisor;
  readonly #ownsConnection: boolean;
  readonly #state: StateStore;
  #stopped: Promise<void> | undefined;

  private constructor(init: {
    nodeId: string;
    nc: NatsConnection;
    log: Logger;
    subjects: Subjects;
    codec: Codec;
    membership: Membership;
    config: RuntimeConfig;
    router: Router;
    hosts: KindHost[];
    root: Supervisor;
    ownsConnection: boolean;
    state: StateStore;
  }) {
    this.nodeId = init.nodeId;
    this.nc = init.nc;
    this.log = init.log;
    this.subjects = init.subjects;
    this.codec = init.codec;
    this.membership = init.membership;
    this.#config = init.config;
    this.#router = init.router;
    this.#hosts = init.hosts;
    this.#root = init.root;
    this.#ownsConnection = init.ownsConnection;
    this.#state = init.state;
  }

  static async start(options: ActorSystemOptions): Promise<ActorSystem> {
    const { config } = options;
    const nodeId = config.nodeId ?? defaultNodeId();
    const log = options.log ?? createLogger({ level: config.log.level, nodeId });
    const clock = options.clock ?? systemClock;
    const nc =
      options.nc ??
      (await connectNats(
        {
          servers: config.nats.servers,
          name: `colmena-${nodeId}`,
          auth: config.nats.auth,
          ...(config.nats.tls && { tls: config.nats.tls }),
          maxReconnectAttempts: config.nats.maxReconnectAttempts,
          reconnectTimeWaitMs: config.nats.reconnectTimeWaitMs,
          reconnectJitterMs: config.nats.reconnectJitterMs,
        },
        log,
      ));
    const maxPayload = Math.min(config.nats.maxPayload, nc.info?.max_payload ?? Infinity);
    const codec = new Codec(maxPayload);
    const subjects = new Subjects(config.namespace);
    const kinds = options.kinds ?? [];
    const duplicate = kinds.find((k, i) => kinds.findIndex((o) => o.kind === k.kind) !== i);
    if (duplicate) throw new ColmenaError("INVALID", `actor kind ${duplicate.kind} is hosted twice`);

    const [membersKv, placementKv] = await Promise.all([
      openBucket(nc, subjects.bucket("members"), { ttlMs: config.runtime.leaseMs }),
      openBucket(nc, subjects.bucket("placement")),
    ]);
    const hosts: KindHost[] = [];
    const startedAt = Date.now();
    const membership = new Membership(membersKv, codec, {
      self: (): NodeInfo => ({
        id: nodeId,
        roles: options.roles ?? [],
        kinds: kinds.map((k) => k.kind),
        version: options.version ?? "0.0.0",
        startedAt,
        load: nodeLoad(hosts),
      }),
      heartbeatMs: config.runtime.heartbeatMs,
      leaseMs: config.runtime.leaseMs,
      clock,
      log,
    });
    await membership.start();

    const onEvent = (event: SupervisorEvent) => log.debug({ supervision: event }, "supervision");
    const root = rootSupervisor({ name: "root", clock, onEvent, ...(options.exit && { exit: options.exit }) }, []);
    await root.start();
    const pooled = new Map<string, PooledHost>();
    const keyed = new Map<string, KeyedHost>();
    const router = new Router({
      nodeId,
      subjects,
      outbound: new Outbound(nc, codec, subjects, config.runtime.streamCredit),
      clock,
      log,
      membership,
      pooled,
      keyed,
      streamCredit: config.runtime.streamCredit,
    });
    const state = new StateStore(nc, subjects, codec);
    const system = new ActorSystem({ nodeId, nc, log, subjects, codec, membership, config, router, hosts, root, ownsConnection: !options.nc, state });
    const deps: HostDeps = {
      nodeId,
      nc,
      codec,
      subjects,
      clock,
      log,
      inbound: new Inbound({ nc, codec, subjects, clock, log, askTimeoutMs: config.runtime.askTimeoutMs }),
      placement: new PlacementDirectory(placementKv, nodeId, (id) => membership.isAlive(id)),
      state,
      graceMs: config.runtime.shutdownGraceMs,
      actors: system,
    };
    for (const kind of kinds) {
      const supervisor = new Supervisor({ name: kind.kind, clock, onEvent, ...(kind.decider && { decider: kind.decider }) }, []);
      await root.add(supervisor.asChild());
      const host = kind.placement === "pooled" ? new PooledHost(kind, deps, supervisor) : new KeyedHost(kind, deps, supervisor);
      if (host instanceof PooledHost) pooled.set(kind.kind, host);
      else keyed.set(kind.kind, host);
      hosts.push(host);
    }
    for (const host of hosts) await host.start();
    log.info({ kinds: kinds.map((k) => `${k.kind}:${k.placement}`), roles: options.roles ?? [] }, "actor system started");
    return system;
  }

  /** A pooled actor: any instance of the kind, preferring this node's. */
  pool<M extends MessageSchemas, B extends Behavior<M>>(kind: ActorKind<M, B>): ActorRef<M, B> {
    if (kind.placement !== "pooled") throw new ColmenaError("INVALID", `${kind.kind} is keyed: use ref(kind, key)`);
    return new ActorRef(this.#router, kind, undefined, this.#config.runtime.askTimeoutMs);
  }

  /** A keyed actor: the one activation of kind/key in the cluster. */
  ref<M extends MessageSchemas, B extends Behavior<M>>(kind: ActorKind<M, B>, key: string): ActorRef<M, B> {
    if (kind.placement !== "keyed") throw new ColmenaError("INVALID", `${kind.kind} is pooled: use pool(kind)`);
    this.subjects.keyed(kind.kind, key); // validates the key now rather than at send time
    return new ActorRef(this.#router, kind, key, this.#config.runtime.askTimeoutMs);
  }

  /**
   * Stores the first state of a keyed actor without activating it: what its
   * first activation will `load()`. For keys the caller has just minted, most
   * of which never get a message (a conversation nobody continues): no
   * activation, no placement claim, one KV write. Answers false and writes
   * nothing when the key already has state.
   */
  async initState<M extends MessageSchemas, B extends Behavior<M>>(kind: ActorKind<M, B>, key: string, state: unknown): Promise<boolean> {
    if (kind.placement !== "keyed") throw new ColmenaError("INVALID", `${kind.kind} is pooled: it has no state to initialise`);
    this.subjects.keyed(kind.kind, key);
    return this.#state.create(kind, key, state);
  }

  stats(): { node: string; supervisor: string; kinds: KindStats[] } {
    return {
      node: this.nodeId,
      supervisor: this.#root.state,
      kinds: this.#hosts.map((h) => ({
        kind: h.kind.kind,
        placement: h.kind.placement,
        supervisor: this.#root.children().find((c) => c.id === h.kind.kind)?.status ?? "stopped",
        activations: h.stats(),
      })),
    };
  }

  /** Graceful: stop intake, finish in-flight work (bounded by shutdownGraceMs), stop actors, leave, flush. Idempotent. */
  shutdown(): Promise<void> {
    this.#stopped ??= this.#shutdown();
    return this.#stopped;
  }

  async #shutdown(): Promise<void> {
    this.log.info("shutting down");
    await Promise.all(this.#hosts.map((h) => h.stopIntake()));
    // Reverse order of registration: a kind stops before the kinds it was listed after (and may depend on).
    for (const h of [...this.#hosts].reverse()) await h.stop("shutdown");
    await this.#root.stop("shutdown");
    this.#router.close();
    await this.membership.stop();
    if (this.#ownsConnection) await this.nc.drain();
    else await this.nc.flush();
    this.log.info("stopped");
  }
}

function nodeLoad(hosts: KindHost[]): NodeInfo["load"] {
  let inFlight = 0;
  let mailbox = 0;
  for (const h of hosts) for (const s of h.stats()) {
    inFlight += s.inFlight;
    mailbox += s.mailbox;
  }
  return { inFlight, mailbox, rssMb: Math.round(process.memoryUsage.rss() / 1048576), pid: process.pid };
}
