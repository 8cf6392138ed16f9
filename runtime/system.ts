import { hostname } from "node:os";
import type { MessagePort } from "node:worker_threads";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { Codec, connectNats, openBucket, replicaCount } from "../nats/index.js";
import { rootSupervisor, Supervisor, systemClock, type Clock, type SupervisorEvent } from "../supervisors/index.js";
import type { HostDeps, KindHost } from "./cluster/host.js";
import { KeyedHost } from "./cluster/keyed-host.js";
import { MalformedEntries, type EntrySource } from "./cluster/malformed.js";
import { Membership, type NodeInfo } from "./cluster/membership.js";
import { PlacementDirectory } from "./cluster/placement.js";
import { PooledHost } from "./cluster/pooled-host.js";
import { StateStore } from "./cluster/state-store.js";
import { NatsStorage } from "./cluster/nats-storage.js";
import { defaultNodeId, type RuntimeConfig } from "./config.js";
import type { ActorAddress, MessageSchemas } from "./contract/address.js";
import type { CallScope } from "./contract/scope.js";
import { ColmenaError } from "./contract/errors.js";
import type { AnyHosted } from "./contract/hosting.js";
import type { ActorRef, Refs } from "./contract/refs.js";
import type { Faults, NodeActors } from "./contract/stats.js";
import type { Storage } from "./contract/storage.js";
import { gatherNodeStats, serveNodeStats } from "./cluster/node-stats.js";
import { inboxPrefix, NODE_BUCKETS, Subjects } from "./contract/subjects.js";
import { Inbound } from "./delivery/inbound.js";
import { NodeRefs } from "./delivery/node-refs.js";
import { Outbound } from "./delivery/outbound.js";
import { PoolBalancer } from "./delivery/balancer.js";
import { Router } from "./delivery/router.js";
import { serveThreadLink, ThreadLink, type ThreadLinkServer } from "./delivery/thread-link.js";
import { createLogger, type Logger } from "./observe/logger.js";
import { scrapeNodes, serveMetrics } from "./cluster/metrics-scrape.js";
import { addCellSource, addPoolSource, type MetricsSnapshot } from "./observe/metrics.js";

export interface ActorSystemOptions {
  config: RuntimeConfig;
  /** Actor kinds this node hosts; it can send to any address. */
  kinds?: AnyHosted[];
  roles?: string[];
  version?: string;
  /** An open connection to use instead of connecting from config.nats (the system will not close it). */
  nc?: NatsConnection;
  log?: Logger;
  clock?: Clock;
  /** What the root supervisor's escalation does (default: process.exit). */
  exit?: (code: number) => void;
  /**
   * Nodes in other threads of this process, by node id, each reached over a
   * port it serves (`servePort` there): pooled asks routed to one of them go
   * over it instead of NATS (delivery/thread-link.ts).
   */
  threadLinks?: ReadonlyMap<string, MessagePort>;
  /** A port another thread's node asks this node's pooled kinds over. */
  servePort?: MessagePort;
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
  /** The node's logs and buckets, as its actors see them. */
  readonly storage: Storage;
  readonly membership: Membership;
  readonly clock: Clock;
  readonly #refs: Refs;
  readonly #router: Router;
  readonly #inbound: Inbound;
  readonly #hosts: KindHost[];
  readonly #root: Supervisor;
  readonly #ownsConnection: boolean;
  readonly #announceDraining: () => Promise<void>;
  readonly #malformed: MalformedEntries;
  #faults: Faults = { count: 0 };
  #statsService: Subscription | undefined;
  #stopped: Promise<void> | undefined;
  /** Takes this node's activations out of the thread's gauges. */
  #unlistMetrics: () => void = () => {};
  /** The serving end of the link another thread of this process asks over, if any. */
  #linkServer: ThreadLinkServer | undefined;

  private constructor(init: {
    nodeId: string;
    nc: NatsConnection;
    log: Logger;
    subjects: Subjects;
    codec: Codec;
    storage: Storage;
    membership: Membership;
    clock: Clock;
    refs: Refs;
    router: Router;
    inbound: Inbound;
    hosts: KindHost[];
    root: Supervisor;
    ownsConnection: boolean;
    announceDraining: () => Promise<void>;
    malformed: MalformedEntries;
  }) {
    this.nodeId = init.nodeId;
    this.nc = init.nc;
    this.log = init.log;
    this.subjects = init.subjects;
    this.codec = init.codec;
    this.storage = init.storage;
    this.membership = init.membership;
    this.clock = init.clock;
    this.#refs = init.refs;
    this.#router = init.router;
    this.#inbound = init.inbound;
    this.#hosts = init.hosts;
    this.#root = init.root;
    this.#ownsConnection = init.ownsConnection;
    this.#announceDraining = init.announceDraining;
    this.#malformed = init.malformed;
  }

  static async start(options: ActorSystemOptions): Promise<ActorSystem> {
    const { config } = options;
    const nodeId = config.nodeId ?? defaultNodeId();
    const log = options.log ?? createLogger({ level: config.log.level, nodeId });
    const clock = options.clock ?? systemClock;
    const inbox = inboxPrefix(options.roles ?? []);
    const nc =
      options.nc ??
      (await connectNats(
        {
          servers: config.nats.servers,
          name: `colmena-${nodeId}`,
          auth: config.nats.auth,
          inboxPrefix: inbox,
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
    const names = kinds.map((k) => k.address.kind);
    const duplicate = names.find((k, i) => names.indexOf(k) !== i);
    if (duplicate) throw new ColmenaError("INVALID", `actor kind ${duplicate} is hosted twice`);

    const replicas = replicaCount(nc, config.nats.replicas);
    const [membersKv, placementKv] = await Promise.all([
      openBucket(nc, subjects.bucket(NODE_BUCKETS.members), { ttlMs: config.runtime.leaseMs, replicas }),
      openBucket(nc, subjects.bucket(NODE_BUCKETS.placement), { replicas }),
    ]);
    const hosts: KindHost[] = [];
    const pooled = new Map<string, PooledHost>();
    const malformed = new MalformedEntries(log);
    const startedAt = Date.now();
    let draining = false;
    const membership = new Membership(membersKv, codec, {
      self: (): NodeInfo => ({
        id: nodeId,
        roles: options.roles ?? [],
        kinds: names,
        version: options.version ?? "0.0.0",
        startedAt,
        load: nodeLoad(hosts, pooled),
        draining,
      }),
      heartbeatMs: config.runtime.heartbeatMs,
      leaseMs: config.runtime.leaseMs,
      clock,
      log,
      malformed,
    });
    await membership.start();

    const onEvent = (event: SupervisorEvent) => log.debug({ supervision: event }, "supervision");
    const root = rootSupervisor({ name: "root", clock, onEvent, ...(options.exit && { exit: options.exit }) }, []);
    await root.start();
    const keyed = new Map<string, KeyedHost>();
    const router = new Router({
      nodeId,
      subjects,
      outbound: new Outbound(nc, codec, subjects, clock, config.runtime.streamCredit, inbox),
      clock,
      log,
      othersHosting: (kind) => membership.othersHosting(kind, nodeId),
      announcedHost: (kind, node) => membership.hostsOf(kind).includes(node),
      balancer: new PoolBalancer((kind) => membership.pools(kind, nodeId)),
      pooled,
      keyed,
      links: new Map([...(options.threadLinks ?? [])].map(([node, port]) => [node, new ThreadLink(port, codec, clock)])),
      streamCredit: config.runtime.streamCredit,
    });
    const state = new StateStore(nc, subjects, codec, malformed, replicas);
    const storage = new NatsStorage(nc, subjects, codec, clock, replicas);
    const inbound = new Inbound({ nc, codec, subjects, clock, log, defaultTimeoutMs: config.runtime.askTimeoutMs });
    const refs = new NodeRefs({ router, clock, subjects, defaultTimeoutMs: config.runtime.askTimeoutMs, initState: (address, key, value) => state.create(address, key, value) });
    const system = new ActorSystem({
      nodeId,
      nc,
      log,
      subjects,
      codec,
      storage,
      membership,
      clock,
      refs,
      router,
      inbound,
      hosts,
      root,
      ownsConnection: !options.nc,
      malformed,
      announceDraining: async () => {
        draining = true;
        await membership.announce().catch((err: unknown) => log.warn({ err }, "could not announce the drain; others see it at the lease's end"));
      },
    });
    const deps: HostDeps = {
      nodeId,
      nc,
      codec,
      subjects,
      clock,
      log,
      inbound,
      placement: new PlacementDirectory(placementKv, nodeId, (id) => membership.isAlive(id), malformed),
      fenced: () => membership.fenced,
      state,
      storage,
      graceMs: config.runtime.shutdownGraceMs,
      refs,
      hostsOf: (kind) => membership.hostsOf(kind),
    };
    for (const kind of kinds) {
      const { address } = kind;
      const supervisor = new Supervisor({ name: address.kind, clock, onEvent, ...(kind.decider && { decider: kind.decider }) }, []);
      await root.add(supervisor.asChild());
      if (address.placement === "pooled") {
        const host = new PooledHost(kind, deps, supervisor);
        pooled.set(address.kind, host);
        hosts.push(host);
      } else {
        const host = new KeyedHost(kind, deps, supervisor);
        keyed.set(address.kind, host);
        hosts.push(host);
      }
    }
    // Self-fencing: a node the others no longer see gives up its keys itself.
    membership.on("fenced", () => {
      for (const host of keyed.values()) void host.fence();
    });
    for (const host of hosts) await host.start();
    if (options.servePort) system.#linkServer = serveThreadLink(options.servePort, { pooled, codec, clock, log });
    const unlistCells = addCellSource(() => hosts.flatMap((h) => h.stats()));
    const unlistPools = addPoolSource(() => [...pooled].map(([kind, host]) => ({ kind, slots: host.load().slots, inFlight: host.stats().reduce((n, s) => n + s.inFlight, 0) })));
    const scrapes = serveMetrics(nc, subjects.metrics(), codec, log);
    system.#unlistMetrics = () => {
      unlistCells();
      unlistPools();
      scrapes.unsubscribe();
    };
    system.#statsService = serveNodeStats(nc, codec, subjects, nodeId, () => system.stats());
    log.info({ kinds: kinds.map((k) => `${k.address.kind}:${k.address.placement}`), roles: options.roles ?? [] }, "actor system started");
    return system;
  }

  /** Every live node's metrics registry (each thread of a process is a node), asked over NATS: what a bridge with `http.clusterMetrics` shows. */
  clusterMetrics(timeoutMs = 2_000): Promise<MetricsSnapshot[]> {
    return scrapeNodes(this.nc, this.subjects.metrics(), this.codec, this.membership.nodes().length, timeoutMs);
  }

  /** A pooled actor: any instance of the kind, preferring this node's. Sends get the default deadline unless told otherwise. */
  pool<M extends MessageSchemas, B>(address: ActorAddress<M, B>): ActorRef<M, B> {
    return this.#refs.pool(address);
  }

  /** A keyed actor: the one activation of kind/key in the cluster. */
  ref<M extends MessageSchemas, B>(address: ActorAddress<M, B>, key: string): ActorRef<M, B> {
    return this.#refs.ref(address, key);
  }

  /** The node's refs under an edge's scope (one request's deadline, trace and signal). */
  within(scope: CallScope): Refs {
    return this.#refs.within(scope);
  }

  /**
   * Stores the first state of a keyed actor without activating it: what its
   * first activation will `load()`. For keys the caller has just minted, most
   * of which never get a message (a conversation nobody continues): no
   * activation, no placement claim, one KV write. Answers false and writes
   * nothing when the key already has state.
   */
  initState<M extends MessageSchemas, B>(address: ActorAddress<M, B>, key: string, state: unknown): Promise<boolean> {
    return this.#refs.initState(address, key, state);
  }

  /**
   * Records a failure that nothing else caught (the CLI's process guard
   * calls this for unhandled rejections and uncaught exceptions): the node
   * stays up, but reports it in its stats and is no longer ready.
   */
  recordFault(origin: string, err: unknown): void {
    this.#faults = { count: this.#faults.count + 1, last: { origin, message: err instanceof Error ? err.message : String(err), at: Date.now() } };
  }

  get faults(): Faults {
    return this.#faults;
  }

  /** Every member node's actors (this one's included), each asked over NATS; one that does not answer within `timeoutMs` shows as unreachable. */
  async clusterStats(timeoutMs = 2_000): Promise<NodeActors[]> {
    const others = this.membership
      .nodes()
      .map((n) => n.id)
      .filter((id) => id !== this.nodeId);
    return [this.stats(), ...(await gatherNodeStats(this.nc, this.codec, this.subjects, others, timeoutMs))];
  }

  stats(): NodeActors & { fenced: boolean; faults: Faults; malformed: Readonly<Record<EntrySource, number>> } {
    return {
      node: this.nodeId,
      supervisor: this.#root.state,
      fenced: this.membership.fenced,
      faults: this.#faults,
      malformed: this.#malformed.counts(),
      kinds: this.#hosts.map((h) => ({
        kind: h.kind.address.kind,
        placement: h.kind.address.placement,
        supervisor: this.#root.children().find((c) => c.id === h.kind.address.kind)?.status ?? "stopped",
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
    // Other nodes stop choosing this one for pooled work before it stops taking any.
    await this.#announceDraining();
    this.#unlistMetrics();
    this.#linkServer?.refuseNew();
    await Promise.all(this.#hosts.map((h) => h.stopIntake()));
    // Reverse order of registration: a kind stops before the kinds it was listed after (and may depend on).
    for (const h of [...this.#hosts].reverse()) await h.stop("shutdown");
    await this.#root.stop("shutdown");
    this.#router.close();
    this.#linkServer?.close();
    this.#inbound.close();
    this.#statsService?.unsubscribe();
    await this.membership.stop();
    if (this.#ownsConnection) await this.nc.drain();
    else await this.nc.flush();
    this.log.info("stopped");
  }
}

function nodeLoad(hosts: KindHost[], pooled: ReadonlyMap<string, PooledHost>): NodeInfo["load"] {
  let inFlight = 0;
  let mailbox = 0;
  for (const h of hosts) for (const s of h.stats()) {
    inFlight += s.inFlight;
    mailbox += s.mailbox;
  }
  const pools: NodeInfo["load"]["pools"] = {};
  for (const [kind, host] of pooled) pools[kind] = host.load();
  return { inFlight, mailbox, pools, rssMb: Math.round(process.memoryUsage.rss() / 1048576), pid: process.pid, host: hostname() };
}
