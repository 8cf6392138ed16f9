import type { Subscription } from "@nats-io/transport-node";
import { z } from "zod";
import { Supervisor } from "../../supervisors/index.js";
import { ActorCell } from "../cell/actor-cell.js";
import { ColmenaError } from "../contract/errors.js";
import { ActorKeySchema } from "../contract/subjects.js";
import { zodIssues } from "../contract/zod-issues.js";
import type { AnyHosted } from "../contract/hosting.js";
import type { CellStats } from "../contract/stats.js";
import type { Activation, KeyedTargets } from "../delivery/targets.js";
import { declaredStorage } from "./declared-storage.js";
import { cellOptions, drainQuietly, type HostDeps, type KindHost } from "./host.js";
import { KeyHandover } from "./key-handover.js";
import { preferredNode } from "./rendezvous.js";

interface Active {
  cell: ActorCell;
  sub: Subscription;
  revision: number;
}

/**
 * `direct`: sent to this node because it is the key's place: activate here,
 * do not forward. `prepare`: the key is about to be handed over to this
 * node: get ready for it (key-handover.ts), do not activate yet.
 */
const ActivateRequest = z.object({ key: ActorKeySchema, direct: z.boolean().optional(), prepare: z.boolean().optional() });

/** How long a forwarded activation may take before this node activates the key itself. */
const FORWARD_TIMEOUT_MS = 2_000;

/**
 * A keyed (virtual) kind on one node. An activation exists on first message.
 * Its place is the key's rendezvous choice among the live nodes hosting the
 * kind (`spread` puts the keys of one group on different nodes): a node asked
 * to activate a key whose place is another node forwards the request there,
 * and activates it itself only when that node does not answer. The node that
 * activates claims the key in the placement directory, starts the actor under
 * the kind's supervisor and subscribes to the key's subject. After `idleMs`
 * without messages the activation passivates: it finishes its work, runs
 * onStop (which saves state), unsubscribes and releases the claim. A kind
 * with `handover` also moves its active keys to their place when that
 * changes to another node (key-handover.ts).
 */
export class KeyedHost implements KindHost, KeyedTargets {
  readonly kind: AnyHosted;
  readonly #deps: HostDeps;
  readonly #supervisor: Supervisor;
  readonly #active = new Map<string, Active>();
  readonly #pending = new Map<string, Promise<Activation>>();
  readonly #passivating = new Map<string, Promise<void>>();
  #activationSubs: Subscription[] = [];
  #sweepTimer: unknown;
  #stopping = false;
  #intakeStopped: Promise<void> | undefined;
  readonly #handover: KeyHandover;

  constructor(kind: AnyHosted, deps: HostDeps, supervisor: Supervisor) {
    this.kind = kind;
    this.#deps = deps;
    this.#supervisor = supervisor;
    this.#handover = new KeyHandover(
      { kind, nodeId: deps.nodeId, nc: deps.nc, codec: deps.codec, subjects: deps.subjects, clock: deps.clock, log: deps.log, storage: declaredStorage(deps.storage, kind) },
      {
        activeKeys: () => this.#active.keys(),
        placeOf: (key) => this.#placeOf(key),
        canMove: () => !this.#stopping && !this.#deps.fenced(),
        passivate: (key, reason) => this.#passivate(key, reason),
      },
    );
  }

  #placeOf(key: string): string | undefined {
    return preferredNode(key, this.kind.spread, this.#deps.hostsOf(this.kind.address.kind));
  }

  async start(): Promise<void> {
    const { nc, subjects } = this.#deps;
    const onActivate = (err: Error | null, m: import("@nats-io/transport-node").Msg) => {
      if (err || !m.reply) return;
      void this.#answerActivation(m);
    };
    this.#activationSubs = [
      nc.subscribe(subjects.activate(this.kind.address.kind), { queue: this.kind.address.kind, callback: onActivate }),
      nc.subscribe(subjects.activateOn(this.#deps.nodeId, this.kind.address.kind), { callback: onActivate }),
    ];
    await nc.flush();
    this.#scheduleSweep();
  }

  /** The local activation, if this node holds the key right now. */
  local(key: string): ActorCell | undefined {
    return this.#active.get(key)?.cell;
  }

  /**
   * Makes sure the key is active somewhere: at its place when that is another
   * node that answers (`forward`), else here when the directory lets this
   * node have it.
   */
  activate(key: string, forward = true): Promise<Activation> {
    const active = this.#active.get(key);
    if (active) return Promise.resolve({ local: active.cell });
    if (this.#stopping) return Promise.reject(new ColmenaError("UNAVAILABLE", `node ${this.#deps.nodeId} is shutting down`));
    if (this.#deps.fenced()) return Promise.reject(new ColmenaError("UNAVAILABLE", `node ${this.#deps.nodeId} has lost its membership lease`, { retryAfterMs: 1_000 }));
    let pending = this.#pending.get(key);
    if (!pending) {
      const previous = this.#passivating.get(key) ?? this.#handover.preparing(key) ?? Promise.resolve();
      pending = previous.then(() => this.#placeOrActivate(key, forward)).finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  async #placeOrActivate(key: string, forward: boolean): Promise<Activation> {
    const { nodeId, nc, codec, subjects, log } = this.#deps;
    const place = this.#handover.leavingTo(key) ?? (forward ? this.#placeOf(key) : undefined);
    if (place === undefined || place === nodeId) return this.#activate(key);
    try {
      const reply = codec.decode<{ owner?: unknown; error?: unknown }>(
        (await nc.request(subjects.activateOn(place, this.kind.address.kind), codec.encode({ key, direct: true }), { timeout: FORWARD_TIMEOUT_MS })).data,
      );
      if (typeof reply.owner === "string") return { owner: reply.owner };
      throw ColmenaError.fromWire(reply.error);
    } catch (err) {
      log.debug({ kind: this.kind.address.kind, key, place, err: ColmenaError.from(err).message }, "the key's place did not take it; activating here");
      return this.#activate(key);
    }
  }

  stopIntake(): Promise<void> {
    this.#intakeStopped ??= this.#stopIntake();
    return this.#intakeStopped;
  }

  async #stopIntake(): Promise<void> {
    this.#stopping = true;
    if (this.#sweepTimer !== undefined) this.#deps.clock.clearTimeout(this.#sweepTimer);
    await Promise.all([...this.#activationSubs, ...[...this.#active.values()].map((a) => a.sub)].map(drainQuietly));
  }

  async stop(reason: string): Promise<void> {
    await this.stopIntake();
    await this.#handover.stop();
    await Promise.allSettled([...this.#pending.values()]);
    await Promise.all([...this.#active.keys()].map((key) => this.#passivate(key, reason)));
  }

  /** Self-fencing: passivates every activation (its state saved where the store can still be reached), as a partitioned node must. */
  async fence(): Promise<void> {
    await Promise.all([...this.#active.keys()].map((key) => this.#passivate(key, "this node lost its membership lease")));
  }

  stats(): CellStats[] {
    return [...this.#active.values()].map((a) => a.cell.stats());
  }

  *cells(): Iterable<ActorCell> {
    for (const a of this.#active.values()) yield a.cell;
  }

  async #activate(key: string): Promise<Activation> {
    const { placement, subjects, nc, inbound, log, clock } = this.#deps;
    const actorKey = subjects.actorKey(this.kind.address.kind, key);
    const claim = await placement.claim(actorKey);
    if (!claim.mine) return { owner: claim.owner };
    const cell = new ActorCell({ ...cellOptions(this.#deps, this.kind, key), onTerminate: () => void this.#passivate(key, "stopped by its supervisor") });
    try {
      await this.#supervisor.add(cell.childSpec());
    } catch (err) {
      cell.dispose("activation failed");
      await placement.release(actorKey, claim.revision);
      throw new ColmenaError("UNAVAILABLE", `${this.kind.address.kind}/${key} failed to activate: ${(err as Error).message}`, { cause: err });
    }
    const sub = nc.subscribe(subjects.keyed(this.kind.address.kind, key), {
      callback: (err, m) => {
        if (!err) inbound.handle(m, this.kind.address, cell.admit);
      },
    });
    this.#active.set(key, { cell, sub, revision: claim.revision });
    await nc.flush();
    log.debug({ kind: this.kind.address.kind, key }, "activated");
    return { local: cell };
  }

  #passivate(key: string, reason: string): Promise<void> {
    const active = this.#active.get(key);
    if (!active) return this.#passivating.get(key) ?? Promise.resolve();
    this.#active.delete(key);
    const done = this.#deactivate(key, active, reason)
      .catch((err: unknown) => this.#deps.log.error({ err, kind: this.kind.address.kind, key }, "passivation failed"))
      .finally(() => this.#passivating.delete(key));
    this.#passivating.set(key, done);
    return done;
  }

  async #deactivate(key: string, active: Active, reason: string): Promise<void> {
    const { cell, sub, revision } = active;
    await drainQuietly(sub);
    await cell.drain(this.#deps.graceMs);
    await this.#supervisor.remove(cell.key).catch((err: unknown) => this.#deps.log.warn({ err, key }, "stopping an activation failed"));
    cell.dispose(reason);
    await this.#deps.placement.release(this.#deps.subjects.actorKey(this.kind.address.kind, key), revision).catch((err: unknown) => {
      this.#deps.log.warn({ err, key }, "could not release a placement claim; it lapses with this node's lease");
    });
    this.#deps.log.debug({ kind: this.kind.address.kind, key, reason }, "passivated");
  }

  /** Never rejects: a request that cannot be answered (the connection closed meanwhile) is logged. */
  async #answerActivation(m: import("@nats-io/transport-node").Msg): Promise<void> {
    const { codec } = this.#deps;
    let reply: unknown;
    try {
      const { key, direct, prepare } = ActivateRequest.parse(codec.decode(m.data));
      if (prepare === true) {
        await this.#handover.prepare(key);
        reply = { prepared: true };
      } else {
        const where = await this.activate(key, direct !== true);
        reply = { owner: "local" in where ? this.#deps.nodeId : where.owner };
      }
    } catch (err) {
      const error = err instanceof z.ZodError ? new ColmenaError("INVALID", `activation request needs {key}: ${zodIssues(err).join("; ")}`) : ColmenaError.from(err);
      reply = { error: error.toWire() };
    }
    try {
      m.respond(codec.encode(reply));
    } catch (err) {
      this.#deps.log.warn({ err, kind: this.kind.address.kind }, "could not answer an activation request");
    }
  }

  #scheduleSweep(): void {
    const every = Math.max(50, Math.min(1_000, Math.floor(this.kind.idleMs / 2)));
    this.#sweepTimer = this.#deps.clock.setTimeout(() => {
      const cutoff = this.#deps.clock.now() - this.kind.idleMs;
      for (const [key, a] of this.#active) if (a.cell.idle && a.cell.lastActive < cutoff) void this.#passivate(key, "idle");
      if (this.kind.handover !== undefined) this.#handover.tick();
      if (!this.#stopping) this.#scheduleSweep();
    }, every);
  }
}
