import type { ChildSpec, Clock, Directive, FailureReporter, RunningChild } from "../../supervisors/index.js";
import type { MessageSchemas } from "../contract/address.js";
import type { Behavior } from "../contract/behavior.js";
import type { ActorContext } from "../contract/context.js";
import { ColmenaError, isTypedError, overloaded } from "../contract/errors.js";
import type { AnyHosted } from "../contract/hosting.js";
import type { Refs } from "../contract/refs.js";
import type { BackpressureState, CellStats, LifecycleState } from "../contract/stats.js";
import type { Envelope } from "../delivery/envelope.js";
import { consumerSpan, type Destination } from "../delivery/hop-spans.js";
import type { Logger } from "../observe/logger.js";
import { kindMetrics, type KindMetrics, type MessageOutcome } from "../observe/metrics.js";
import { endSpan, traces, withSpan } from "../observe/tracing.js";
import { Call } from "./call.js";
import { CellStates } from "./cell-states.js";
import { Mailbox } from "./mailbox.js";
import { dispatch, sliceSpent } from "./scheduler.js";
import { ServiceTime } from "./service-time.js";
import { isAsyncIterable, pump } from "./stream-pump.js";

export interface CellOptions {
  kind: AnyHosted;
  key: string;
  context: Omit<ActorContext, "kind" | "key" | "log" | "stats" | "clock" | "actors">;
  /** The node's refs; a call's refs are these bound to the call. */
  refs: Refs;
  log: Logger;
  clock: Clock;
  /** The subject its messages are addressed to, for its consumer spans. */
  destination: Destination;
  /** Called when backpressure stops or resumes intake from shared queues. */
  onIntake?: (accepting: boolean) => void;
  /** Called when a crash ends the activation for good (directive stop or escalate). */
  onTerminate?: () => void;
  /** Opens the kind's durable intake for one incarnation (see contract/intake.ts). */
  openIntake?: (behavior: Behavior<MessageSchemas>, cell: IntakeTarget) => Promise<RunningIntake | undefined>;
}

/** What a durable intake needs of the activation it feeds. */
export interface IntakeTarget {
  /** Admission for the intake's own messages (senders cannot send their type). */
  offer(env: Envelope): ColmenaError | undefined;
  /** The intake failed: a failure of the activation, for its supervisor to decide on. */
  crash(err: unknown): void;
  /** The intake passed over an entry that was not a valid message. */
  refused(): void;
}

export interface RunningIntake {
  /** Stops pulling; entries not yet started expire. */
  stop(): Promise<void>;
}

type SystemOp = () => void;

/**
 * One activation of an actor: its bounded mailbox, its statecharts and the
 * loop that hands messages to its behaviour. Local and remote senders offer
 * envelopes the same way; admission is O(1) and a full mailbox refuses at
 * once with OVERLOADED. The behaviour itself is an incarnation the
 * supervisor starts and restarts (`childSpec`); the mailbox outlives it.
 */
export class ActorCell {
  readonly kind: AnyHosted;
  readonly key: string;
  /** `<kind>/<key>`, for messages and errors. */
  readonly name: string;
  readonly log: Logger;
  readonly clock: Clock;
  readonly refs: Refs;
  readonly #mailbox: Mailbox<Envelope, SystemOp>;
  readonly #states: CellStates;
  readonly #context: ActorContext;
  readonly #onTerminate: (() => void) | undefined;
  #behavior: Behavior<MessageSchemas> | undefined;
  readonly #openIntake: CellOptions["openIntake"];
  readonly #destination: Destination;
  #intake: RunningIntake | undefined;
  #report: FailureReporter | undefined;
  #paused = true;
  #closed = false;
  /** The drain's grace period is over: stopping no longer waits for work still in flight (a handler that never returns must not hold the node). */
  #graceOver = false;
  #scheduled = false;
  #inFlight = 0;
  #idleWaiters: Array<() => void> = [];
  readonly #service = new ServiceTime();
  readonly #metrics: KindMetrics;
  #lastActive: number;
  #stats = { processed: 0, failed: 0, rejected: 0, expired: 0, restarts: 0, intakeRefused: 0 };

  constructor(options: CellOptions) {
    this.kind = options.kind;
    this.key = options.key;
    this.name = `${options.kind.address.kind}/${options.key}`;
    this.log = options.log;
    this.clock = options.clock;
    this.refs = options.refs;
    this.#destination = options.destination;
    this.#lastActive = options.clock.now();
    this.#mailbox = new Mailbox(options.kind.mailbox.capacity);
    this.#metrics = kindMetrics(options.kind.address.kind);
    this.#context = {
      ...options.context,
      kind: options.kind.address.kind,
      key: options.key,
      log: options.log,
      clock: options.clock,
      actors: options.refs,
      stats: () => this.stats(),
    };
    this.#onTerminate = options.onTerminate;
    this.#openIntake = options.openIntake;
    this.#states = new CellStates(options.onIntake);
  }

  get lifecycle(): LifecycleState {
    return this.#states.lifecycle;
  }

  get backpressure(): BackpressureState {
    return this.#states.backpressure;
  }

  /** True below the high watermark: the place a local sender should prefer. */
  get accepting(): boolean {
    return !this.#closed && this.backpressure === "accepting";
  }

  /** Nothing queued and a handler slot free: a message offered now starts at once. */
  get hasFreeSlot(): boolean {
    return this.accepting && this.#mailbox.size === 0 && this.#inFlight < this.kind.concurrency;
  }

  get lastActive(): number {
    return this.#lastActive;
  }

  /** Messages in flight plus queued. */
  get load(): number {
    return this.#inFlight + this.#mailbox.size;
  }

    get idle(): boolean {
    return this.#inFlight === 0 && this.#mailbox.size === 0;
  }

  stats(): CellStats {
    return {
      kind: this.kind.address.kind,
      key: this.key,
      lifecycle: this.lifecycle,
      backpressure: this.backpressure,
      mailbox: this.#mailbox.size,
      capacity: this.#mailbox.capacity,
      inFlight: this.#inFlight,
      ...this.#stats,
    };
  }

  /** What senders' envelopes go through (router, inbound): `offer`, less the type a durable intake delivers. */
  readonly admit = (env: Envelope): ColmenaError | undefined =>
    env.msg.type === this.kind.intake?.type ? new ColmenaError("INVALID", `${this.kind.address.kind}.${env.msg.type} comes from its durable stream only`) : this.offer(env);

  /** Admits a message or answers why not; never blocks, never queues past capacity. */
  offer(env: Envelope): ColmenaError | undefined {
    if (this.#closed) return new ColmenaError("UNAVAILABLE", `${this.name} is stopping`);
    if (this.backpressure === "shedding" || !this.#mailbox.offer(env)) {
      this.#states.full();
      this.#stats.rejected++;
      this.#metrics.record(env.msg.type, "rejected");
      return overloaded(`${this.name} mailbox is full (${this.#mailbox.capacity})`, this.#service.retryAfterMs(this.#mailbox.size, this.kind.concurrency), {
        kind: this.kind.address.kind,
        capacity: this.#mailbox.capacity,
      });
    }
    if (this.#mailbox.size >= this.kind.mailbox.highWatermark) this.#states.high();
    this.#schedule();
    return undefined;
  }

  /** A supervisor child: each start is a new incarnation of the behaviour over the same mailbox. */
  childSpec(): ChildSpec {
    return {
      id: this.key,
      start: async (report) => {
        await this.#incarnate(report);
        return { stop: (reason) => this.#endIncarnation(reason) } satisfies RunningChild;
      },
    };
  }

  /** Stops intake (the durable one first: entries it still holds go back to the server), lets queued and in-flight work finish (up to `graceMs`), then closes. */
  async drain(graceMs: number): Promise<void> {
    await this.#stopIntake();
    this.#closed = true;
    this.#states.draining();
    await this.#whenIdle(graceMs);
    this.#graceOver = true;
  }

  /** Final: rejects what is still queued and marks the cell stopped. */
  dispose(reason: string): void {
    this.#closed = true;
    this.#paused = true;
    this.#mailbox.drainTo((env) => reject(env, new ColmenaError("UNAVAILABLE", `${this.name} stopped: ${reason}`)));
    this.#states.stopped();
  }

  /** Runs `op` before any queued user message. */
  system(op: SystemOp): void {
    this.#mailbox.offerSystem(op);
    this.#schedule();
  }

  async #incarnate(report: FailureReporter): Promise<void> {
    this.#states.starting();
    if (this.#behavior !== undefined || this.lifecycle === "restarting") this.#stats.restarts++;
    const behavior = await this.kind.create(this.#context);
    await behavior.onStart?.();
    if (this.#openIntake) {
      try {
        this.#intake = await this.#openIntake(behavior, { offer: (env) => this.offer(env), crash: (err) => this.#crash(err, this.kind.intake!.type), refused: () => void this.#stats.intakeRefused++ });
      } catch (err) {
        await behavior.onStop?.("its durable intake could not open");
        throw err;
      }
    }
    this.#behavior = behavior;
    this.#report = report;
    this.#paused = false;
    this.#states.started();
    this.#schedule();
  }

  async #endIncarnation(reason: string): Promise<void> {
    await this.#stopIntake();
    // A system message: it overtakes every queued user message, which wait for the next incarnation.
    await new Promise<void>((resolve) =>
      this.system(() => {
        this.#paused = true;
        resolve();
      }),
    );
    this.#states.restarting();
    if (!this.#graceOver) await this.#whenIdle(Infinity);
    const behavior = this.#behavior;
    this.#behavior = undefined;
    this.#report = undefined;
    try {
      await behavior?.onStop?.(reason);
    } catch (err) {
      this.log.error({ err }, "onStop failed");
    }
  }

  async #stopIntake(): Promise<void> {
    const intake = this.#intake;
    this.#intake = undefined;
    await intake?.stop();
  }

  #schedule(): void {
    if (this.#scheduled || (this.#paused && !this.#mailbox.hasSystem)) return;
    this.#scheduled = true;
    dispatch(this.#drainLoop);
  }

  /** Runs queued messages until the mailbox is empty, the concurrency limit is reached or the thread's time slice is spent. */
  readonly #drainLoop = (): void => {
    this.#scheduled = false;
    for (let op = this.#mailbox.takeSystem(); op !== undefined; op = this.#mailbox.takeSystem()) op();
    // One clock reading per batch: deadlines and idleness are checked at batch granularity.
    const now = this.#mailbox.size > 0 ? this.clock.now() : 0;
    if (now) this.#lastActive = now;
    // Whether the slice is spent is asked after every message of a slow kind, after every 16th of a cheap one: asking
    // reads the clock, which costs little beside a slow handler but is a real share of a cheap one, and 16 messages
    // under the 0.1 ms threshold still end well inside a slice (SLICE_MS).
    const stride = this.#service.ms >= 0.1 ? 1 : 16;
    for (let n = 1; !this.#paused && this.#inFlight < this.kind.concurrency; n++) {
      const env = this.#mailbox.take();
      if (env === undefined) break;
      this.#run(env, now);
      if (n % stride === 0 && sliceSpent()) break;
    }
    if (this.#mailbox.size <= this.kind.mailbox.lowWatermark) this.#states.low();
    if (this.#mailbox.size > 0 && this.#inFlight < this.kind.concurrency) this.#schedule();
    this.#notifyIdle();
  };

  #run(env: Envelope, now: number): void {
    if (env.deadline <= now) {
      this.#stats.expired++;
      this.#metrics.record(env.msg.type, "expired");
      reject(env, new ColmenaError("TIMEOUT", `deadline passed before ${this.kind.address.kind}.${env.msg.type} started`));
      return;
    }
    const behavior = this.#behavior!;
    // The type was checked against the kind's schemas on admission; a behaviour may still lack the handler.
    const handler = (behavior as Record<string, unknown>)[env.msg.type];
    if (typeof handler !== "function") {
      reject(env, new ColmenaError("INVALID", `${this.kind.address.kind} has no handler for ${JSON.stringify(env.msg.type)}`));
      return;
    }
    const call = new Call(this, env);
    if (traces(env.trace)) call.span = consumerSpan(this.#destination, this.kind.address, env.msg.type, env.trace);
    const timedFrom = this.#service.sampleNext() ? this.clock.now() : undefined;
    if (timedFrom !== undefined) call.startedAt = performance.now();
    let result: unknown;
    this.#inFlight++;
    try {
      result = call.span === undefined ? handler.call(behavior, env.msg, call) : withSpan(call.span, () => handler.call(behavior, env.msg, call));
    } catch (err) {
      this.#finish(env, call, timedFrom, err, true);
      return;
    }
    if (isThenable(result)) {
      result.then(
        (value) => this.#finish(env, call, timedFrom, value, false),
        (err: unknown) => this.#finish(env, call, timedFrom, err, true),
      );
    } else {
      this.#finish(env, call, timedFrom, result, false);
    }
  }

  #finish(env: Envelope, call: Call, timedFrom: number | undefined, value: unknown, threw: boolean): void {
    if (threw) {
      call.dispose();
      this.#done(timedFrom);
      this.#fail(env, value, call);
    } else if (env.stream) {
      // A generator's body runs in the context of whoever pulls it: the pump, under the call's span.
      const pumping = () => pump(this.clock, this.kind.address.kind, env, env.stream!, value);
      void (call.span === undefined ? pumping() : withSpan(call.span, pumping)).then(
        (outcome) => {
          if (outcome === "done") this.#stats.processed++;
          this.#record(env, call, "ok");
          call.dispose();
          this.#done(timedFrom);
        },
        (err: unknown) => {
          call.dispose();
          this.#done(timedFrom);
          this.#fail(env, err, call);
        },
      );
      return;
    } else {
      call.dispose();
      this.#done(timedFrom);
      this.#stats.processed++;
      this.#record(env, call, "ok");
      if (env.reply) {
        if (isAsyncIterable(value)) env.reply.reject(new ColmenaError("INVALID", `${this.kind.address.kind}.${env.msg.type} streams: call it with stream()`));
        else env.reply.resolve(value);
      }
    }
  }

  #record(env: Envelope, call: Call, outcome: MessageOutcome, err?: unknown): void {
    this.#metrics.record(env.msg.type, outcome);
    if (call.span !== undefined) endSpan(call.span, err);
    if (call.startedAt !== undefined) this.#metrics.observe(env.msg.type, (performance.now() - call.startedAt) / 1000);
  }

  #done(timedFrom: number | undefined): void {
    this.#inFlight--;
    if (timedFrom !== undefined) this.#service.record(timedFrom, this.clock.now());
    if (this.#mailbox.size > 0 || this.#mailbox.hasSystem) this.#schedule();
    else this.#notifyIdle();
  }

  /** A typed error answers the caller; anything else is a crash the supervisor decides on. */
  #fail(env: Envelope, err: unknown, call: Call): void {
    if (isTypedError(err) && err.code !== "INTERNAL") {
      this.#stats.processed++;
      this.#record(env, call, "error", err);
      reject(env, ColmenaError.from(err));
      return;
    }
    this.#record(env, call, "crash", err);
    reject(env, new ColmenaError("INTERNAL", `${this.kind.address.kind}.${env.msg.type} failed: ${err instanceof Error ? err.message : String(err)}`));
    this.#crash(err, env.msg.type, env.trace?.traceId);
  }

  /** A failure the supervisor decides on: resume keeps the incarnation, anything else pauses it until the directive is carried out. */
  #crash(err: unknown, msgType: string, traceId?: string): void {
    this.#stats.failed++;
    this.log.error({ err, msgType, trace_id: traceId }, "actor crashed");
    const directive: Directive = this.#report ? this.#report(err) : "restart";
    this.#states.failed(directive === "resume");
    if (directive !== "resume") this.#paused = true;
    if (directive === "stop" || directive === "escalate") this.#onTerminate?.();
  }

  #whenIdle(timeoutMs: number): Promise<void> {
    if (this.#inFlight === 0 && (this.#paused || this.#mailbox.size === 0)) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = Number.isFinite(timeoutMs) ? this.clock.setTimeout(resolve, timeoutMs) : undefined;
      this.#idleWaiters.push(() => {
        if (timer !== undefined) this.clock.clearTimeout(timer);
        resolve();
      });
    });
  }

  #notifyIdle(): void {
    if (this.#idleWaiters.length === 0 || this.#inFlight > 0 || (!this.#paused && this.#mailbox.size > 0)) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}

function reject(env: Envelope, error: ColmenaError): void {
  if (env.reply) env.reply.reject(error);
  else if (env.stream) env.stream.fail(error);
}

const isThenable = (v: unknown): v is PromiseLike<unknown> => typeof (v as PromiseLike<unknown> | null)?.then === "function";
