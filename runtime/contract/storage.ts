/**
 * The node's durable storage as actors see it: logs (JetStream streams) and
 * buckets (KV), named inside the node's namespace and holding values the
 * runtime encodes (msgpack, bounded by the server's max payload). Actors get
 * it on their context instead of a NATS connection, so what they store goes
 * through one place that names, encodes and validates it.
 */
import type { Logger } from "../observe/logger.js";

/** A log's settings; creating a log that exists brings its updatable settings up to date. */
export interface LogSpec {
  /** Stream `<ns>_<name>`, subjects `<ns>.<name>.>`. */
  name: string;
  description: string;
  /** Default "limits"; "workqueue" removes an entry once a consumer acknowledged it. */
  retention?: "limits" | "workqueue";
  /** Oldest entry kept, in ms (default: no limit). */
  maxAgeMs?: number;
  /** Bytes kept (default: no limit). */
  maxBytes?: number;
  /** Entries kept, the oldest removed first (default: no limit). */
  maxMessages?: number;
  /** Window within which a repeated message id is dropped as a duplicate (default 2 minutes). */
  duplicateWindowMs?: number;
}

/** Where a log stands. */
export interface LogState {
  /** Entries held. */
  messages: number;
  /** Sequence of the oldest entry held (the one after the last removed, when empty). */
  firstSeq: number;
  /** Sequence of the newest entry ever stored; 0 for a log never written. */
  lastSeq: number;
}

/** One entry read back from a log. */
export interface ReplayedEntry {
  seq: number;
  value: unknown;
  /** Why the entry could not be decoded (then `value` is undefined). */
  error?: string;
}

/** One log of the namespace. */
export interface Log {
  /** The stream's name, for a kind's durable intake (`DurableSource.stream`). */
  readonly stream: string;
  /** The subject `<ns>.<name>.<tokens…>`; each token is checked like an actor key (long ones hashed). */
  subject(...tokens: string[]): string;
  /**
   * Stores a value on a subject of this log and answers its sequence once
   * the server has it. With `msgId`, storing the same id again within the
   * duplicate window stores nothing (and answers the first sequence).
   */
  append(subject: string, value: unknown, options?: { msgId?: string }): Promise<number>;
  /**
   * Stores a batch at once: every value is encoded first, so one that cannot
   * be stored (TOO_LARGE, INVALID) refuses the batch before anything is
   * sent; answers each entry's outcome, in order. An entry's `msgId` works
   * as append's.
   */
  appendAll(entries: readonly { subject: string; value: unknown; msgId?: string }[]): Promise<PromiseSettledResult<number>[]>;
  /** Sequence of the newest entry on a subject; 0 when it has none. */
  lastSequenceOn(subject: string): Promise<number>;
  state(): Promise<LogState>;
  /** The value stored at a sequence; undefined when there is none (removed, or never stored). */
  read(seq: number): Promise<unknown>;
  /**
   * The entries on a subject from `fromSeq` through `toSeq`, in order, read
   * without a durable consumer (nothing is left on the server). An entry that
   * cannot be decoded comes as `error` with no value.
   */
  replay(subject: string, fromSeq: number, toSeq: number, signal?: AbortSignal): AsyncIterable<ReplayedEntry>;
  /** Entries a durable consumer has not finished (not delivered or not acknowledged); undefined when it does not exist. */
  pending(durable: string): Promise<number | undefined>;
  /** Follows the newest sequence of the log in memory (see LogHead). */
  follow(options?: { log?: Pick<Logger, "info" | "warn"> }): Promise<LogHead>;
}

/**
 * A log's newest sequence, kept in memory by a watch on the server. While
 * the watch is not known to be caught up, `current()` reads the log instead,
 * so it never answers a sequence older than one it could have read.
 */
export interface LogHead {
  current(): Promise<number>;
  /**
   * The newest sequence on one subject of the log (0: none), as current()
   * answers for the whole log: never older than the newest entry on the
   * subject at or below a sequence current() answered before.
   */
  currentOn(subject: string): Promise<number>;
  /** Whether `current()` answers from memory. */
  readonly healthy: boolean;
  stop(): Promise<void>;
}

export interface BucketOptions {
  /** Entries expire this long after their last write (default: never). */
  ttlMs?: number;
  /** Bytes kept; the oldest entries make room (default: no limit). */
  maxBytes?: number;
}

/** One KV bucket of the namespace (`<ns>_<name>`). A value that cannot be decoded reads as a DECODE error. */
export interface Bucket {
  get(key: string): Promise<unknown>;
  put(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  keys(): AsyncIterable<string>;
  /** Follows the bucket's keys in memory (see KeyView). */
  watchKeys(options?: { warn?: (msg: string, fields: Record<string, unknown>) => void }): Promise<KeyView>;
}

/**
 * A bucket's keys, kept in memory by a watch on the server, so a reader can
 * skip the round trip for a key the bucket surely lacks. `has` answers
 * undefined while the watch may have missed writes (ask the bucket then).
 * A key it holds may still be gone (expired by the bucket's max age, which
 * the watch is not told of): read it to know.
 */
export interface KeyView {
  has(key: string): boolean | undefined;
  /** A key the reader has just written: present from now on, not from when the watch brings it. */
  wrote(key: string): void;
  stop(): Promise<void>;
}

export interface Storage {
  /** Creates the log, or brings its settings up to date. */
  log(spec: LogSpec): Promise<Log>;
  /** Creates the bucket if missing. */
  bucket(name: string, options?: BucketOptions): Promise<Bucket>;
}
