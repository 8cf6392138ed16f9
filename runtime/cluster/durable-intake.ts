import type { NatsConnection } from "@nats-io/transport-node";
import type { Consumer, JsMsg } from "@nats-io/jetstream";
import { ensureDurable, recreateDurable, type Codec } from "../../nats/index.js";
import type { Clock, TimerHandle } from "../../supervisors/index.js";
import type { IntakeTarget, RunningIntake } from "../cell/actor-cell.js";
import type { ActorAddress, MessageSchemas } from "../contract/address.js";
import { ColmenaError } from "../contract/errors.js";
import type { DurableSource } from "../contract/intake.js";
import type { Envelope } from "../delivery/envelope.js";
import { H_TRACEPARENT, validateMessage } from "../delivery/wire.js";
import type { Logger } from "../observe/logger.js";
import { addConsumerLagSource } from "../observe/metrics.js";
import { watchForStall } from "./intake-stall.js";
import { intakeEntryRefused } from "./malformed.js";
import { parseTraceparent } from "../observe/trace.js";

export interface IntakeDeps {
  nc: NatsConnection;
  /** Decodes entries before the kind sees them. */
  codec: Codec;
  clock: Clock;
  log: Logger;
}

/** How long one pull waits for entries; also how long a stop may wait for the last pull. */
const PULL_EXPIRES_MS = 1_000;
/** Consumer failures in a row (none delivering an entry) the intake reopens after; one more is a crash of the activation. */
const REOPENS = 3;
/** Pause before the first reopening; it doubles with each failure in a row. */
const REOPEN_PAUSE_MS = 500;
/** How often a reopening checks that the entries in hand are answered. */
const IDLE_POLL_MS = 20;

/**
 * Feeds one incarnation from its durable source: pulls entries, offers each
 * to the activation's mailbox as a message of the intake's type, at most
 * `inFlight` at a time, and acks an entry once its handler answered (naks it
 * when the handler failed, so the server delivers it again). While a handler
 * works on an entry its lease on the server is renewed, however long it
 * takes. A full mailbox is backpressure: the entry is offered again after
 * the mailbox's retry hint, never dropped. An entry that is not a valid
 * message is terminated and logged.
 *
 * A consumer that ends, breaks, stalls or is deleted (a NATS server died
 * under it, a JetStream leader moved) is opened again in place: once the
 * entries in hand are answered, the activation is asked for its source
 * again (`sourceOf`: a recreated consumer starts after what it has applied)
 * and the intake goes on, while the activation keeps answering its other
 * messages from what it holds. Only REOPENS failures in a row with no entry
 * delivered in between (or a reopening that keeps failing) are a crash of
 * the activation, for its supervisor to decide on.
 */
export async function openDurableIntake(
  deps: IntakeDeps,
  address: ActorAddress,
  type: string,
  sourceOf: () => Promise<DurableSource<MessageSchemas> | undefined>,
  target: IntakeTarget,
): Promise<RunningIntake | undefined> {
  const { nc, codec, clock, log } = deps;
  const open = (s: DurableSource<MessageSchemas>) => (s.startSeq !== undefined ? recreateDurable(nc, s) : ensureDurable(nc, s));
  const first = await sourceOf();
  // No source: an activation that only refuses has no intake.
  if (first === undefined) return undefined;
  let source = first;
  let consumer = await open(source);
  let taken = 0;
  let stopped = false;
  let markStopped!: () => void;
  const stopping = new Promise<void>((resolve) => (markStopped = resolve));
  let inFlight = 0;
  let room: (() => void) | undefined;
  const wake = () => {
    const r = room;
    room = undefined;
    r?.();
  };
  const untilRoom = async () => {
    while (inFlight >= source.inFlight && !stopped) await new Promise<void>((resolve) => (room = resolve));
  };

  const deliver = (m: JsMsg, msg: { type: string }) => {
    const renewEvery = Math.max(100, Math.floor((source.ackWaitMs ?? 30_000) / 2));
    let renewal: TimerHandle | undefined;
    const renew = () => {
      renewal = clock.setTimeout(() => {
        m.working();
        renew();
      }, renewEvery);
    };
    const settle = () => {
      if (renewal !== undefined) clock.clearTimeout(renewal);
      inFlight--;
      wake();
    };
    const env: Envelope = {
      msg,
      // An entry lives as long as the intake that pulled it: once that stops, entries not yet started expire unrun.
      get deadline() {
        return stopped ? -Infinity : Infinity;
      },
      // The trace of the handling that appended the entry, when it was traced (nats-storage.ts).
      trace: parseTraceparent(m.headers?.get(H_TRACEPARENT)),
      stream: undefined,
      reply: {
        resolve: () => {
          m.ack();
          settle();
        },
        reject: (error) => {
          const delay = source.retryDelayMs?.(error, m.info.deliveryCount);
          if (delay === undefined) m.nak();
          else m.nak(delay);
          settle();
        },
      },
    };
    const offer = () => {
      const refused = target.offer(env);
      if (refused === undefined) return;
      if (refused.code === "OVERLOADED" && !stopped) {
        clock.setTimeout(offer, refused.retryAfterMs ?? 50);
        return;
      }
      m.nak();
      settle();
    };
    inFlight++;
    renew();
    offer();
  };

  const take = (m: JsMsg) => {
    taken++;
    let msg: { type: string };
    try {
      const value = codec.decode(m.data);
      msg = validateMessage(address, { ...source.message({ value, seq: m.seq, subject: m.subject, deliveries: m.info.deliveryCount }), type });
    } catch (err) {
      log.warn({ seq: m.seq, subject: m.subject, err: ColmenaError.from(err).message }, "terminated a durable entry that is not a valid message");
      m.term();
      target.refused();
      intakeEntryRefused(address.kind);
      return;
    }
    deliver(m, msg);
  };

  // The consumer's lag, asked of the server at each scrape (the figure is the server's, shared by every worker of the consumer).
  const unlistLag = addConsumerLagSource({
    stream: source.stream,
    consumer: source.durable,
    lag: async () => {
      const info = await consumer.info();
      return info.num_pending + info.num_ack_pending;
    },
  });
  const isStopped = () => stopped;
  const pause = async (ms: number) => {
    let timer: TimerHandle | undefined;
    await Promise.race([new Promise<void>((resolve) => (timer = clock.setTimeout(resolve, ms))), stopping]);
    if (timer !== undefined) clock.clearTimeout(timer);
  };
  const run = () =>
    source.pullBatch !== undefined
      ? consumeLoop(consumer, source, take, untilRoom, isStopped, stopping, { clock, idle: () => inFlight === 0 })
      : fetchLoop(consumer, () => source.inFlight - inFlight, take, untilRoom, isStopped);
  const reopen = async (): Promise<boolean> => {
    while (inFlight > 0 && !stopped) await pause(IDLE_POLL_MS);
    const next = stopped ? undefined : await sourceOf();
    if (next === undefined || stopped) return false;
    consumer = await open(next);
    source = next;
    return true;
  };
  const loop = (async () => {
    for (let failures = 0; ; ) {
      const before = taken;
      try {
        await run();
        return;
      } catch (err) {
        if (stopped) return;
        failures = taken > before ? 1 : failures + 1;
        if (failures > REOPENS) throw err;
        log.warn({ err: ColmenaError.from(err).message, failures }, "the durable intake's consumer failed: opening it again (the activation goes on)");
      }
      for (;;) {
        await pause(REOPEN_PAUSE_MS * 2 ** (failures - 1));
        try {
          if (!(await reopen())) return;
          break;
        } catch (err) {
          if (stopped) return;
          if (++failures > REOPENS) throw err;
          log.warn({ err: ColmenaError.from(err).message, failures }, "the durable intake's consumer could not be opened again; trying once more");
        }
      }
    }
  })().catch((err: unknown) => {
    if (!stopped) target.crash(err);
  });

  return {
    async stop() {
      unlistLag();
      stopped = true;
      markStopped();
      wake();
      await loop;
    },
  };
}

type Take = (m: JsMsg) => void;

/**
 * A buffered consume: the client keeps `pullBatch` entries ahead, for logs
 * replayed in order. One that stops delivering with entries waiting on the
 * server is a failure too (intake-stall.ts).
 */
async function consumeLoop(
  consumer: Consumer,
  source: DurableSource<MessageSchemas>,
  take: Take,
  untilRoom: () => Promise<void>,
  stopped: () => boolean,
  stopping: Promise<void>,
  watch: { clock: Clock; idle: () => boolean },
): Promise<void> {
  let delivered = 0;
  const stuck = watchForStall({
    pending: async () => (await consumer.info().catch(() => undefined))?.num_pending,
    delivered: () => delivered,
    idle: watch.idle,
    stopped,
    stopping,
    clock: watch.clock,
    what: `the durable consumer ${source.durable} on ${source.stream}`,
  });
  // Without abort_on_missing_resource the client waits for a lost consumer to come back: here that is a failure.
  const messages = await consumer.consume({ max_messages: source.pullBatch!, abort_on_missing_resource: true });
  void stopping.then(() => messages.close());
  const lost = (async () => {
    for await (const event of messages.status()) {
      if (event.type === "consumer_deleted" || event.type === "consumer_not_found" || event.type === "stream_not_found") {
        throw new ColmenaError("UNAVAILABLE", `the durable consumer ${source.durable} on ${source.stream} is gone (${event.type})`);
      }
    }
  })();
  const pulled = (async () => {
    for await (const m of messages) {
      if (stopped()) break;
      delivered++;
      take(m);
      await untilRoom();
      if (stopped()) break;
    }
    if (!stopped()) throw new ColmenaError("UNAVAILABLE", `the durable consumer ${source.durable} on ${source.stream} ended`);
  })();
  try {
    await Promise.race([pulled, lost, stuck]);
  } finally {
    pulled.catch(() => {});
    lost.catch(() => {});
    stuck.catch(() => {});
    await messages.close();
  }
}

/** Pulls only as many entries as there are free slots: at a stop, every entry this node holds is one it is working on. */
async function fetchLoop(consumer: Consumer, free: () => number, take: Take, untilRoom: () => Promise<void>, stopped: () => boolean): Promise<void> {
  while (!stopped()) {
    await untilRoom();
    if (stopped()) break;
    const batch = await consumer.fetch({ max_messages: Math.max(1, free()), expires: PULL_EXPIRES_MS });
    for await (const m of batch) take(m);
  }
}
