import type { ChildSpec, RunningChild } from "./child.js";
import type { Directive } from "./directive.js";
import { SupervisorError } from "./errors.js";
import type { SupervisorEvent } from "./events.js";

export type ChildStatus = "running" | "restarting" | "stopped" | "failed";

export interface ChildInfo {
  id: string;
  status: ChildStatus;
  restarts: number;
}

export interface ChildrenHooks {
  /** A current instance failed: its start() rejected (`starting`), or it reported. */
  failed(id: string, generation: number, error: unknown, starting: boolean): Directive;
  emit(event: SupervisorEvent): void;
}

interface Slot {
  readonly spec: ChildSpec;
  status: ChildStatus;
  restarts: number;
  /**
   * Renewed by every start and stop request, unique across all children ever
   * added. A report, a start result or a queued failure that carries an
   * older generation comes from an instance already superseded.
   */
  generation: number;
  instance: RunningChild | undefined;
  /** Starts and stops of this child run one at a time, in request order. */
  lane: Promise<void>;
}

/**
 * A supervisor's children in start order, and the only code that starts and
 * stops them. Its operations never reject: failures go to `hooks.failed`.
 */
export class Children {
  readonly #slots = new Map<string, Slot>();
  #generations = 0;
  /** Removed children still stopping: a child added again under the same id starts after. */
  readonly #removing = new Map<string, Promise<void>>();

  readonly #hooks: ChildrenHooks;

  constructor(hooks: ChildrenHooks) {
    this.#hooks = hooks;
  }

  add(spec: ChildSpec): void {
    if (this.#slots.has(spec.id)) throw new SupervisorError("DUPLICATE_CHILD", `child "${spec.id}" already exists`);
    this.#slots.set(spec.id, {
      spec,
      status: "stopped",
      restarts: 0,
      generation: ++this.#generations,
      instance: undefined,
      lane: this.#removing.get(spec.id) ?? Promise.resolve(),
    });
  }

  ids(): string[] {
    return [...this.#slots.keys()];
  }

  list(): ChildInfo[] {
    return [...this.#slots.values()].map(({ spec, status, restarts }) => ({ id: spec.id, status, restarts }));
  }

  /** Whether `generation` is still the child's latest start or stop. */
  isCurrent(id: string, generation: number): boolean {
    return this.#slots.get(id)?.generation === generation;
  }

  markFailed(id: string): void {
    const slot = this.#slots.get(id);
    if (slot) slot.status = "failed";
  }

  /** Marks children as about to restart and counts the restart. */
  markRestarting(ids: readonly string[]): void {
    for (const id of ids) {
      const slot = this.#slots.get(id);
      if (!slot) continue;
      slot.status = "restarting";
      slot.restarts += 1;
    }
  }

  start(id: string): Promise<void> {
    const slot = this.#slots.get(id);
    if (!slot) return Promise.resolve();
    const generation = (slot.generation = ++this.#generations);
    const report = (error: unknown): Directive =>
      this.#slots.get(id) === slot && slot.generation === generation && slot.status === "running"
        ? this.#hooks.failed(id, generation, error, false)
        : "stop";
    return this.#enqueue(slot, async () => {
      if (slot.generation !== generation) return;
      try {
        // Kept even when superseded meanwhile: the stop queued behind this start stops it.
        slot.instance = await slot.spec.start(report);
      } catch (error) {
        if (slot.generation !== generation) return;
        slot.status = "failed";
        this.#hooks.failed(id, generation, error, true);
        return;
      }
      if (slot.generation !== generation) return;
      slot.status = "running";
      this.#hooks.emit({ type: "child-started", id });
    });
  }

  /** Stops a child, leaving it with `status` ("restarting" when a restart follows). */
  stop(id: string, reason: string, status: "stopped" | "restarting" = "stopped"): Promise<void> {
    const slot = this.#slots.get(id);
    return slot ? this.#halt(slot, reason, status) : Promise.resolve();
  }

  /** Stops a child and forgets it. */
  remove(id: string, reason: string): Promise<void> {
    const slot = this.#slots.get(id);
    if (!slot) return Promise.resolve();
    this.#slots.delete(id);
    const stopped = this.#halt(slot, reason, "stopped");
    this.#removing.set(id, stopped);
    void stopped.then(() => {
      if (this.#removing.get(id) === stopped) this.#removing.delete(id);
    });
    return stopped;
  }

  /** Starts children one after another, in the order given, until `signal` aborts. */
  async startAll(ids: readonly string[], signal: AbortSignal): Promise<void> {
    for (const id of ids) {
      if (signal.aborted) return;
      await this.start(id);
    }
  }

  /** Stops children one after another, in reverse of the order given. */
  async stopAll(ids: readonly string[], reason: string, status: "stopped" | "restarting" = "stopped"): Promise<void> {
    for (const id of [...ids].reverse()) await this.stop(id, reason, status);
  }

  #halt(slot: Slot, reason: string, status: "stopped" | "restarting"): Promise<void> {
    slot.generation = ++this.#generations;
    slot.status = status;
    return this.#enqueue(slot, async () => {
      const instance = slot.instance;
      slot.instance = undefined;
      if (!instance) return;
      try {
        await instance.stop(reason);
        this.#hooks.emit({ type: "child-stopped", id: slot.spec.id, reason });
      } catch (error) {
        this.#hooks.emit({ type: "child-stopped", id: slot.spec.id, reason, error });
      }
    });
  }

  #enqueue(slot: Slot, step: () => Promise<void>): Promise<void> {
    slot.lane = slot.lane.then(step);
    return slot.lane;
  }
}
