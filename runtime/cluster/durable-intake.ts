import type { NatsConnection } from "@nats-io/transport-node";
import type { JsMsg } from "@nats-io/jetstream";
import { ensureDurable, recreateDurable } from "../../nats/index.js";
import type { Clock } from "../../supervisors/index.js";
import type { IntakeTarget, RunningIntake } from "../cell/actor-cell.js";
import type { ActorAddress, MessageSchemas } from "../contract/address.js";
import { ColmenaError } from "../contract/errors.js";
import type { DurableSource } from "../contract/intake.js";
import type { Envelope } from "../delivery/envelope.js";
import { validateMessage } from "../delivery/wire.js";
import type { Logger } from "../observe/logger.js";

export interface IntakeDeps {
  nc: NatsConnection;
  clock: Clock;
  log: Logger;
}

/**
 * Feeds one incarnation from its durable source: pulls entries, offers each
 * to the activation's mailbox as a message of the intake's type, at most
 * `inFlight` at a time, and acks an entry once its handler answered (naks it
 * when the handler failed, so the server delivers it again). A full mailbox
 * is backpressure: the entry is offered again after the mailbox's retry
 * hint, never dropped. An entry that is not a valid message is terminated
 * and logged. A consumer that ends or breaks is a crash of the activation.
 */
export async function openDurableIntake(deps: IntakeDeps, address: ActorAddress, type: string, source: DurableSource<MessageSchemas>, target: IntakeTarget): Promise<RunningIntake> {
  const { nc, clock, log } = deps;
  const consumer = source.startSeq !== undefined ? await recreateDurable(nc, source) : await ensureDurable(nc, source);
  // Without abort_on_missing_resource the client waits for a lost consumer to come back: here that is a failure.
  const messages = await consumer.consume({ max_messages: Math.max(1, source.pullBatch ?? source.inFlight), abort_on_missing_resource: true });
  let stopped = false;
  let inFlight = 0;
  let room: (() => void) | undefined;
  const settle = () => {
    inFlight--;
    const r = room;
    room = undefined;
    r?.();
  };

  const deliver = (m: JsMsg, msg: { type: string }) => {
    const env: Envelope = {
      msg,
      // An entry lives as long as the intake that pulled it: once that stops, entries not yet started expire unrun.
      get deadline() {
        return stopped ? -Infinity : Infinity;
      },
      trace: undefined,
      stream: undefined,
      reply: {
        resolve: () => {
          m.ack();
          settle();
        },
        reject: () => {
          m.nak();
          settle();
        },
      },
    };
    const refused = target.offer(env);
    if (refused === undefined) return;
    if (refused.code === "OVERLOADED" && !stopped) {
      clock.setTimeout(() => deliver(m, msg), refused.retryAfterMs ?? 50);
      return;
    }
    m.nak();
    settle();
  };

  const lost = (async () => {
    for await (const event of messages.status()) {
      if (event.type === "consumer_deleted" || event.type === "consumer_not_found" || event.type === "stream_not_found") {
        throw new ColmenaError("UNAVAILABLE", `the durable consumer ${source.durable} on ${source.stream} is gone (${event.type})`);
      }
    }
  })();

  const pulled = (async () => {
    for await (const m of messages) {
      if (stopped) break;
      let msg: { type: string };
      try {
        msg = validateMessage(address, { ...source.message({ data: m.data, seq: m.seq, subject: m.subject, deliveries: m.info.deliveryCount }), type });
      } catch (err) {
        log.warn({ seq: m.seq, subject: m.subject, err: ColmenaError.from(err).message }, "terminated a durable entry that is not a valid message");
        m.term();
        continue;
      }
      inFlight++;
      deliver(m, msg);
      while (inFlight >= source.inFlight && !stopped) await new Promise<void>((resolve) => (room = resolve));
    }
    if (!stopped) throw new ColmenaError("UNAVAILABLE", `the durable consumer ${source.durable} on ${source.stream} ended`);
  })();
  let crashed = false;
  const loop = Promise.race([pulled, lost]).catch((err: unknown) => {
    if (stopped || crashed) return;
    crashed = true;
    target.crash(err);
  });
  pulled.catch(() => {});
  lost.catch(() => {});

  return {
    async stop() {
      stopped = true;
      const r = room;
      room = undefined;
      r?.();
      await messages.close();
      await loop;
    },
  };
}
