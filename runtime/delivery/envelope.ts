import type { ColmenaError } from "../contract/errors.js";
import type { TraceContext } from "../observe/trace.js";

/** Where the answer to an `ask` goes: a local promise or a NATS reply subject. */
export interface ReplySink {
  resolve(value: unknown): void;
  reject(error: ColmenaError): void;
}

/** Where the chunks of a `stream` go, with the caller's credit and cancel. */
export interface StreamSink {
  /** Resolves when the caller can take one more chunk; undefined when it can now. */
  ready(): Promise<void> | undefined;
  chunk(value: unknown): void;
  end(): void;
  fail(error: ColmenaError): void;
  /** Aborted when the caller cancels. */
  readonly signal: AbortSignal;
}

/** A message on its way through a mailbox, however it arrived. */
export interface Envelope {
  readonly msg: { readonly type: string };
  /** On the node's clock; Infinity when nobody waits (a plain tell). */
  readonly deadline: number;
  readonly trace: TraceContext | undefined;
  readonly reply: ReplySink | undefined;
  readonly stream: StreamSink | undefined;
}

/** Something that takes envelopes: a cell, or admission in front of one. */
export type Admit = (env: Envelope) => ColmenaError | undefined;
