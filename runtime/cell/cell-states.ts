import { createActor, type Actor } from "xstate";
import type { BackpressureState, LifecycleState } from "../contract/stats.js";
import { backpressureMachine } from "./backpressure-machine.js";
import { lifecycleMachine } from "./lifecycle-machine.js";

/**
 * An activation's two statecharts and the events the cell sends them, named
 * for what happened to the cell. Backpressure moves the lifecycle between
 * running and saturated, and tells the host to pause or resume taking
 * messages from NATS (`onIntake`). Events are sent only on watermark
 * crossings, so admission stays O(1).
 */
export class CellStates {
  readonly #lifecycle: Actor<typeof lifecycleMachine>;
  readonly #backpressure: Actor<typeof backpressureMachine>;

  constructor(onIntake?: (open: boolean) => void) {
    this.#lifecycle = createActor(lifecycleMachine).start();
    this.#backpressure = createActor(
      backpressureMachine.provide({
        actions: {
          stopIntake: () => {
            this.#lifecycle.send({ type: "SATURATE" });
            onIntake?.(false);
          },
          resumeIntake: () => {
            this.#lifecycle.send({ type: "RELIEVE" });
            onIntake?.(true);
          },
        },
      }),
    ).start();
  }

  get lifecycle(): LifecycleState {
    return this.#lifecycle.getSnapshot().value as LifecycleState;
  }

  get backpressure(): BackpressureState {
    return this.#backpressure.getSnapshot().value as BackpressureState;
  }

  /** The mailbox refused a message. */
  full(): void {
    if (this.backpressure !== "shedding") this.#backpressure.send({ type: "FULL" });
  }

  /** The mailbox reached its high watermark. */
  high(): void {
    if (this.backpressure === "accepting") this.#backpressure.send({ type: "HIGH" });
  }

  /** The mailbox is down to its low watermark. */
  low(): void {
    if (this.backpressure !== "accepting") this.#backpressure.send({ type: "LOW" });
  }

  /** A new incarnation is about to be created. */
  starting(): void {
    if (this.lifecycle === "failed") this.#lifecycle.send({ type: "RESTART" });
  }

  /** The incarnation runs. */
  started(): void {
    this.#lifecycle.send({ type: "STARTED" });
  }

  /** A handler crashed; resume keeps the incarnation running. */
  failed(resumed: boolean): void {
    this.#lifecycle.send({ type: "FAIL" });
    if (resumed) this.#lifecycle.send({ type: "RESUME" });
  }

  /** The running incarnation is being ended for a restart. */
  restarting(): void {
    const state = this.lifecycle;
    if (state === "running" || state === "saturated") this.#lifecycle.send({ type: "RESTART" });
  }

  draining(): void {
    const state = this.lifecycle;
    if (state === "running" || state === "saturated" || state === "starting") this.#lifecycle.send({ type: "DRAIN" });
  }

  /** Final: the lifecycle ends in stopped, from wherever it was, and both statecharts stop. */
  stopped(): void {
    const state = this.lifecycle;
    if (state === "draining") this.#lifecycle.send({ type: "DRAINED" });
    else if (state === "failed" || state === "restarting") this.#lifecycle.send({ type: "STOP" });
    else if (state !== "stopped") {
      this.#lifecycle.send({ type: "DRAIN" });
      this.#lifecycle.send({ type: "DRAINED" });
    }
    this.#backpressure.stop();
    this.#lifecycle.stop();
  }
}
