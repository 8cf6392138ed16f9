import type { Clock, TimerHandle } from "../supervisors/index.js";
import { monotonicClock, sleep } from "./clock.js";
import { clientFailure, errorName, type Driver, type Outcome, type Request } from "./drivers/driver.js";
import type { Recorder } from "./recorder.js";
import { arrivals, validatePhases, type Arrival, type Phase } from "./schedule.js";

export interface OpenLoopOptions {
  phases: readonly Phase[];
  driver: Driver;
  /** The request for an arrival (the workload). */
  next(arrival: Arrival): Request;
  recorder: Recorder;
  /** Requests outstanding at most; an arrival beyond it is dropped by the client, and counted. */
  maxInFlight: number;
  /** Stop scheduling after this many arrivals. */
  maxRequests?: number;
  /** A request unanswered after this long is abandoned as "client timeout". */
  requestTimeoutMs: number;
  /** After the schedule, wait at most this long for outstanding answers, then abandon them. */
  drainTimeoutMs: number;
  /** Default monotonicClock: latencies are differences of its readings. */
  clock?: Clock;
  /** Stops scheduling at once (outstanding requests still drain). */
  signal?: AbortSignal;
  /** Sees every answer (tests, live progress). */
  observe?(result: Observation): void;
}

export interface Observation {
  arrival: Arrival;
  request: Request;
  /** Clock readings. */
  dueAt: number;
  sentAt: number;
  doneAt: number;
  /** From the due time: the client's own lag and every queue on the way count. */
  latencyMs: number;
  outcome: Outcome;
}

export interface OpenLoopResult {
  /** Clock readings: the schedule's start and when the last answer came (or was abandoned). */
  startedAt: number;
  endedAt: number;
  scheduled: number;
  dropped: number;
  /** Still unanswered at the end of the drain and abandoned. */
  abandoned: number;
}

const TIMEOUT = "timeout";
const ABANDONED = "abandoned";

/**
 * Runs one open-loop schedule: each request is sent at its due time whatever
 * happened to the ones before it, and its latency runs from that due time, so
 * a slow or stalled server shows as latency, not only as lower throughput (no
 * coordinated omission). Bounded three ways: the schedule ends, `maxRequests`,
 * and `maxInFlight` (overflow is dropped and counted, never queued).
 */
export async function runOpenLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  validatePhases(o.phases);
  if (!(o.maxInFlight >= 1)) throw new RangeError(`maxInFlight must be at least 1, got ${o.maxInFlight}`);
  const clock = o.clock ?? monotonicClock;
  const start = clock.now();
  let offset = 0;
  for (const phase of o.phases) {
    o.recorder.begin(phase, start + offset);
    offset += phase.durationMs;
  }

  const outstanding = new Set<AbortController>();
  let scheduled = 0;
  let dropped = 0;
  let abandoned = 0;
  let lastDone = start;
  let idle: (() => void) | undefined;

  const fire = (arrival: Arrival) => {
    const dueAt = start + arrival.at;
    scheduled += 1;
    o.recorder.scheduled(arrival.phase.name, dueAt);
    if (outstanding.size >= o.maxInFlight) {
      dropped += 1;
      o.recorder.dropped(arrival.phase.name, dueAt);
      return;
    }
    const request = o.next(arrival);
    const controller = new AbortController();
    outstanding.add(controller);
    const timeout = clock.setTimeout(() => controller.abort(TIMEOUT), o.requestTimeoutMs);
    const sentAt = clock.now();
    o.recorder.sent(arrival.phase.name, dueAt, sentAt);
    void (async () => {
      let outcome: Outcome;
      try {
        outcome = await o.driver.send(request, controller.signal);
      } catch (err) {
        outcome = clientFailure(errorName(err));
      }
      if (controller.signal.aborted && !outcome.ok && outcome.code.startsWith("client")) {
        const reason = controller.signal.reason === ABANDONED ? ABANDONED : TIMEOUT;
        if (reason === ABANDONED) abandoned += 1;
        outcome = clientFailure(reason);
      }
      clock.clearTimeout(timeout);
      outstanding.delete(controller);
      const doneAt = clock.now();
      lastDone = Math.max(lastDone, doneAt);
      o.recorder.completed(arrival.phase.name, request.op, dueAt, doneAt, outcome);
      try {
        o.observe?.({ arrival, request, dueAt, sentAt, doneAt, latencyMs: doneAt - dueAt, outcome });
      } finally {
        if (outstanding.size === 0) idle?.();
      }
    })();
  };

  const schedule = arrivals(o.phases, o.maxRequests);
  await new Promise<void>((resolve) => {
    let timer: TimerHandle = undefined;
    const stop = () => {
      clock.clearTimeout(timer);
      resolve();
    };
    if (o.signal?.aborted) return resolve();
    o.signal?.addEventListener("abort", stop, { once: true });
    let next = schedule.next();
    const pump = () => {
      // A microsecond of slack: float rounding must not leave a due arrival waiting on a zero-length timer forever.
      const elapsed = clock.now() - start + 0.001;
      while (!next.done && next.value.at <= elapsed) {
        fire(next.value);
        next = schedule.next();
      }
      if (next.done) {
        o.signal?.removeEventListener("abort", stop);
        return resolve();
      }
      timer = clock.setTimeout(pump, next.value.at - elapsed + 0.001);
    };
    pump();
  });

  if (outstanding.size > 0) {
    const drained = new AbortController();
    idle = () => drained.abort();
    await sleep(clock, o.drainTimeoutMs, drained.signal);
    // Drivers end a request when its signal aborts, so this settles promptly.
    const allSettled = new Promise<void>((resolve) => (idle = resolve));
    for (const c of outstanding) c.abort(ABANDONED);
    if (outstanding.size > 0) await allSettled;
  }
  return { startedAt: start, endedAt: Math.max(lastDone, clock.now()), scheduled, dropped, abandoned };
}
