/**
 * One forward step of a decoder export: feed the next token ids, get the
 * logits of the last position. "kv" mode prefills with an empty past (sequence
 * axis 0) and then feeds each step's present.N.* back as past_key_values.N.*;
 * "recompute" mode reuses nothing and runs the whole sequence every step (the
 * baseline that benchmarks and tests compare the cache against).
 */
import type { Feeds, ModelRunner, TensorData } from "../inference/index.js";
import type { KvLayout } from "./kv-layout.js";
import { pastName, presentName } from "./kv-layout.js";

export type CacheMode = "kv" | "recompute";

export interface DecoderStepper {
  /** Appends ids to the sequence and returns the logits for the last of them (a view, valid until the next call). */
  feed(ids: readonly number[]): Promise<Float32Array>;
  /** Tokens in the sequence so far. */
  readonly length: number;
}

export function createStepper(session: ModelRunner, layout: KvLayout, mode: CacheMode): DecoderStepper {
  return mode === "kv" ? new CachedStepper(session, layout) : new RecomputeStepper(session, layout);
}


class CachedStepper implements DecoderStepper {
  length = 0;
  private past: Feeds;

  constructor(
    private readonly session: ModelRunner,
    private readonly layout: KvLayout,
  ) {
    this.past = emptyPast(layout);
  }

  async feed(ids: readonly number[]): Promise<Float32Array> {
    const out = await this.session.run({ ...tokenFeeds(this.layout, ids, this.length), ...this.past });
    this.length += ids.length;
    const past: Feeds = {};
    for (let l = 0; l < this.layout.layers; l++) {
      for (const kind of ["key", "value"] as const) past[pastName(l, kind)] = out[presentName(l, kind)]!;
    }
    this.past = past;
    return lastLogits(out);
  }
}

class RecomputeStepper implements DecoderStepper {
  private readonly ids: number[] = [];
  private readonly past: Feeds;

  constructor(
    private readonly session: ModelRunner,
    private readonly layout: KvLayout,
  ) {
    this.past = emptyPast(layout);
  }

  get length(): number {
    return this.ids.length;
  }

  async feed(ids: readonly number[]): Promise<Float32Array> {
    this.ids.push(...ids);
    return lastLogits(await this.session.run({ ...tokenFeeds(this.layout, this.ids, 0), ...this.past }));
  }
}

/** input_ids, attention_mask over past + new tokens, and position_ids continuing from the past. */
export function tokenFeeds(layout: KvLayout, ids: readonly number[], pastLength: number): Feeds {
  const n = ids.length;
  const feeds: Feeds = {
    input_ids: { type: "int64", data: BigInt64Array.from(ids, BigInt), dims: [1, n] },
    attention_mask: { type: "int64", data: new BigInt64Array(pastLength + n).fill(1n), dims: [1, pastLength + n] },
  };
  if (layout.hasPositionIds) {
    feeds.position_ids = { type: "int64", data: BigInt64Array.from({ length: n }, (_, i) => BigInt(pastLength + i)), dims: [1, n] };
  }
  return feeds;
}

export function emptyPast(layout: KvLayout): Feeds {
  const past: Feeds = {};
  const empty: TensorData = { type: "float32", data: new Float32Array(0), dims: [1, layout.kvHeads, 0, layout.headDim] };
  for (let l = 0; l < layout.layers; l++) {
    past[pastName(l, "key")] = empty;
    past[pastName(l, "value")] = empty;
  }
  return past;
}

export function lastLogits(out: Feeds): Float32Array {
  const logits = out.logits!;
  const [, seq, vocab] = logits.dims as [number, number, number];
  return (logits.data as Float32Array).subarray((seq - 1) * vocab, seq * vocab);
}
