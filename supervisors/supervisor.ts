import type { Actor, StateValue } from "xstate";
import { createActor, waitFor } from "xstate";
import type { Backoff } from "./backoff.js";
import { defaultBackoff } from "./backoff.js";
import type { ChildSpec, FailureReporter } from "./child.js";
import type { ChildInfo } from "./children.js";
import { Children } from "./children.js";
import type { Clock } from "./clock.js";
import { systemClock } from "./clock.js";
import type { Decider, Directive } from "./directive.js";
import { defaultDecider } from "./directive.js";
import { SupervisorError } from "./errors.js";
import type { SupervisorEvent } from "./events.js";
import type { Intensity } from "./intensity.js";
import { defaultIntensity } from "./intensity.js";
import type { Strategy } from "./strategy.js";
import { supervisorMachine } from "./supervisor-machine.js";

export interface SupervisorOptions {
  name: string;
  /** Default one-for-one. */
  strategy?: Strategy;
  /** Default 5 restarts within 10 000 ms, as a sliding window. */
  intensity?: Intensity;
  /** Default 100 ms doubling up to 10 000 ms, jitter 0.2. */
  backoff?: Backoff;
  /** Default: restart on every failure. */
  decider?: Decider;
  /** Default systemClock. */
  clock?: Clock;
  /** Default Math.random. */
  random?: () => number;
  /** Told of starts, failures, restarts, stops and escalation; must not throw. */
  onEvent?: (event: SupervisorEvent) => void;
}

/**
 * Starts children, watches their failures and applies OTP directives and
 * strategies, with restart intensity and exponential backoff. Driven by
 * `supervisorMachine`.
 */
export class Supervisor {
  readonly name: string;
  readonly #decider: Decider;
  readonly #emit: (event: SupervisorEvent) => void;
  readonly #children: Children;
  readonly #actor: Actor<typeof supervisorMachine>;

  constructor(options: SupervisorOptions, children: ChildSpec[]) {
    this.name = options.name;
    this.#decider = options.decider ?? defaultDecider;
    this.#emit = options.onEvent ?? (() => {});
    this.#children = new Children({
      failed: (id, generation, error, starting) => this.#failed(id, generation, error, starting),
      emit: this.#emit,
    });
    for (const spec of children) this.#children.add(spec);
    const clock = options.clock ?? systemClock;
    this.#actor = createActor(supervisorMachine, {
      clock,
      input: {
        name: options.name,
        children: this.#children,
        strategy: options.strategy ?? "one-for-one",
        intensity: options.intensity ?? defaultIntensity,
        backoff: options.backoff ?? defaultBackoff,
        clock,
        random: options.random ?? Math.random,
        emit: this.#emit,
      },
    }).start();
  }

  /** The statechart state, e.g. "running" or "restarting.backoff". */
  get state(): string {
    return stateName(this.#actor.getSnapshot().value);
  }

  /**
   * Starts the children in order; resolves once each has had its first start
   * (failed starts are already in the hands of supervision). Escalation calls
   * `parentReport`.
   */
  async start(parentReport?: FailureReporter): Promise<void> {
    const event = { type: "START", parentReport } as const;
    if (!this.#actor.getSnapshot().can(event)) {
      throw new SupervisorError("INVALID_STATE", `supervisor "${this.name}" cannot start while ${this.state}`);
    }
    this.#actor.send(event);
    await waitFor(this.#actor, (snapshot) => !snapshot.matches("starting"));
  }

  /** Stops the children in reverse order; resolves once all have stopped. */
  async stop(reason = "supervisor stopped"): Promise<void> {
    this.#actor.send({ type: "STOP", reason });
    await waitFor(this.#actor, (snapshot) => snapshot.matches("stopped") || snapshot.matches("escalated"));
  }

  /** Adds a child at run time; it starts at once (or with start() if not started yet). */
  async add(spec: ChildSpec): Promise<void> {
    const snapshot = this.#actor.getSnapshot();
    if (!snapshot.matches("idle") && !snapshot.hasTag("active")) {
      throw new SupervisorError("INVALID_STATE", `cannot add "${spec.id}" to supervisor "${this.name}" while ${this.state}`);
    }
    this.#children.add(spec);
    if (snapshot.hasTag("active")) await this.#children.start(spec.id);
  }

  /** Stops a child and forgets it; unknown ids are ignored. */
  remove(id: string): Promise<void> {
    return this.#children.remove(id, "removed");
  }

  /** This supervisor as a child of another; its id is the supervisor's name. */
  asChild(): ChildSpec {
    return {
      id: this.name,
      start: async (report) => {
        await this.start(report);
        return { stop: (reason) => this.stop(reason) };
      },
    };
  }

  children(): ChildInfo[] {
    return this.#children.list();
  }

  #failed(id: string, generation: number, error: unknown, starting: boolean): Directive {
    const decided = this.#decider(error);
    // A child that never started has no state to resume.
    const directive = starting && decided === "resume" ? "restart" : decided;
    this.#emit({ type: "child-failed", id, error, directive });
    switch (directive) {
      case "resume":
        break;
      case "stop":
        void this.#children.remove(id, "stopped by supervisor");
        break;
      case "restart":
        this.#children.markFailed(id);
        this.#actor.send({ type: "CHILD_FAILED", id, generation, error });
        break;
      case "escalate":
        this.#children.markFailed(id);
        this.#actor.send({ type: "ESCALATE", id, error });
        break;
    }
    return directive;
  }
}

function stateName(value: StateValue): string {
  if (typeof value === "string") return value;
  return Object.entries(value)
    .map(([key, child]) => (child ? `${key}.${stateName(child)}` : key))
    .join(",");
}
