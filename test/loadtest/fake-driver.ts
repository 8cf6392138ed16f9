import { answered, type Driver, type Outcome, type Request } from "../../loadtest/index.js";
import type { VirtualClock } from "./virtual-clock.js";

/** What the fake server does with the n-th request (0-based): how long it takes, and the answer. */
export type Script = (n: number, request: Request, now: number) => { delayMs: number; outcome?: Outcome };

/** An in-process endpoint on a virtual clock: each request waits its scripted delay (aborts end it early). */
export class FakeDriver implements Driver {
  readonly name = "fake";
  count = 0;

  constructor(
    readonly clock: VirtualClock,
    readonly script: Script,
  ) {}

  send(request: Request, signal: AbortSignal): Promise<Outcome> {
    const { delayMs, outcome } = this.script(this.count++, request, this.clock.now());
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => resolve(outcome ?? answered(200, undefined, { retryHint: false, cached: false })), delayMs);
      signal.addEventListener("abort", () => {
        this.clock.clearTimeout(timer);
        resolve({ code: "client aborted", ok: false, shed: false, retryHint: false });
      });
    });
  }

  async remove(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {}
}

/** A single FIFO server taking `serviceMs` per request: capacity 1000 / serviceMs per second. */
export function queueingServer(clock: VirtualClock, serviceMs: number): Script {
  let busyUntil = 0;
  return () => {
    busyUntil = Math.max(clock.now(), busyUntil) + serviceMs;
    return { delayMs: busyUntil - clock.now() };
  };
}
