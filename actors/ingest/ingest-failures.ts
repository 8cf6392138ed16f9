/**
 * Documents the ingest workers gave up on, kept in a stream of their own
 * (`<ns>_ingest_failed`, the latest MAX_KEPT) so the error count and the last
 * errors survive restarts and are the same whichever node is asked: the
 * count is the stream's last sequence. One record per ingest entry (its
 * sequence is the Nats-Msg-Id), so a worker that dies between recording a
 * failure and giving the entry up does not count it twice.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { Codec, ensureStream, isNotFound, jetStreamError, jetStreamManagerOf, jetStreamOf } from "../../nats/index.js";
import type { Subjects } from "../../runtime/index.js";

const MAX_KEPT = 100;
const LAST = 10;

export interface IngestFailure {
  docId: string;
  code: string;
  message: string;
}

export const failureStream = (subjects: Subjects): string => subjects.bucket("ingest_failed");

export async function ensureFailureStream(nc: NatsConnection, subjects: Subjects): Promise<void> {
  await ensureStream(nc, {
    name: failureStream(subjects),
    subjects: [`${subjects.prefix}.ingest.failed`],
    maxMsgs: MAX_KEPT,
    description: "Colmena ingest: documents given up (their count, the latest kept)",
  });
}

/** Stores one given-up entry. */
export async function recordFailure(nc: NatsConnection, subjects: Subjects, codec: Codec, seq: number, failure: IngestFailure): Promise<void> {
  await jetStreamOf(nc).publish(`${subjects.prefix}.ingest.failed`, codec.encode(failure), { msgID: `ingest:${seq}` });
}

/** Every failure ever recorded, and the latest ones (newest last). */
export async function readFailures(nc: NatsConnection, subjects: Subjects, codec = new Codec()): Promise<{ errors: number; lastErrors: IngestFailure[] }> {
  const jsm = await jetStreamManagerOf(nc);
  const stream = failureStream(subjects);
  try {
    const { state } = await jsm.streams.info(stream);
    const seqs = [];
    for (let seq = state.last_seq; seq >= Math.max(1, state.first_seq) && seqs.length < LAST; seq--) seqs.push(seq);
    const found = await Promise.all(seqs.reverse().map((seq) => jsm.streams.getMessage(stream, { seq }).catch(() => null)));
    return { errors: state.last_seq, lastErrors: found.flatMap((m) => (m ? [codec.decode<IngestFailure>(m.data)] : [])) };
  } catch (err) {
    if (isNotFound(err)) return { errors: 0, lastErrors: [] };
    throw jetStreamError(err, "ingest failures are not available");
  }
}
