/**
 * Documents the ingest workers gave up on, kept in a log of their own
 * (`<ns>_ingest_failed`, the latest MAX_KEPT) so the error count and the last
 * errors survive restarts and are the same whichever node is asked: the
 * count is the log's last sequence. One record per ingest entry (its
 * sequence is the message id), so a worker that dies between recording a
 * failure and giving the entry up does not count it twice.
 */
import { z } from "zod";
import type { Log, LogSpec, Storage } from "../../runtime/index.js";

const MAX_KEPT = 100;
const LAST = 10;

const FailureSchema = z.object({ docId: z.string(), code: z.string(), message: z.string() });

export type IngestFailure = z.infer<typeof FailureSchema>;

export const FAILURE_LOG: LogSpec = {
  name: "ingest_failed",
  maxMessages: MAX_KEPT,
  description: "Colmena ingest: documents given up (their count, the latest kept)",
};

/** The failure log (created if missing). */
export const openFailureLog = (storage: Storage): Promise<Log> => storage.log(FAILURE_LOG);

/** Stores one given-up entry of the ingest stream. */
export async function recordFailure(log: Log, seq: number, failure: IngestFailure): Promise<void> {
  await log.append(log.subject("failed"), failure, { msgId: `ingest:${seq}` });
}

/** Every failure ever recorded, and the latest ones (newest last); a record that is not a failure's shape is left out of the latest. */
export async function readFailures(log: Log): Promise<{ errors: number; lastErrors: IngestFailure[] }> {
  const { firstSeq, lastSeq } = await log.state();
  const seqs: number[] = [];
  for (let seq = lastSeq; seq >= Math.max(1, firstSeq) && seqs.length < LAST; seq--) seqs.unshift(seq);
  const found = await Promise.all(seqs.map((seq) => log.read(seq).catch(() => undefined)));
  return { errors: lastSeq, lastErrors: found.flatMap((v) => FailureSchema.safeParse(v).data ?? []) };
}
