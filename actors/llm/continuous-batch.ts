/**
 * Continuous batching for a decoder export with a KV cache: every sequence
 * that has its next token ready shares one forward step.
 *
 * A sequence's first feed is its prompt: it is prefilled alone (batch 1, an
 * empty past), and its cache is kept apart ("parked"). Each later feed is
 * one sampled id. A decode step packs the caches of the sequences whose id is
 * ready into one [batch, kv_heads, longest, head_dim] past per layer, padded
 * on the right; the attention mask marks each row's own positions, and
 * position_ids carry each row's own length, so a row attends to exactly what
 * it would alone. The step's present becomes the packed cache of the next
 * step while the members stay the same; when they change (a sequence joins
 * after its prefill, finishes, is cancelled, or is not ready), the caches
 * are repacked between steps. No step is ever cut short for anyone.
 *
 * `maxTokensPerStep` bounds the tokens of one loop turn: one per decoding
 * sequence plus the prompts prefilled before the step. The first waiting
 * prompt is always taken, so a prompt longer than the budget is never
 * starved; it only waits for no other prompt.
 */
import type { Feeds, ModelRunner, TensorData } from "../inference/index.js";
import { ColmenaError } from "../../runtime/index.js";
import { emptyPast, lastLogits, tokenFeeds } from "./decoder-step.js";
import type { DecoderStepper } from "./decoder-step.js";
import type { KvLayout } from "./kv-layout.js";
import { pastName, presentName } from "./kv-layout.js";

export interface ContinuousBatchOptions {
  maxTokensPerStep: number;
}

/** A compact cache: per layer and kind, [kv_heads, length, head_dim]. */
type OwnCache = Float32Array[];

class Sequence {
  length = 0;
  /** Ids waiting for the next turn (the prompt, or one sampled id). */
  pending: number[] | undefined;
  resolve: ((logits: Float32Array) => void) | undefined;
  reject: ((err: unknown) => void) | undefined;
  /** The cache while not in the packed batch; undefined before the prefill and while packed. */
  own: OwnCache | undefined;
  gone = false;
}

interface Packed {
  members: Sequence[];
  /** Per layer and kind (pastName order), [members, kv_heads, columns, head_dim]. */
  kv: TensorData[];
  /** [members, columns]: 1 where the column holds one of the row's own tokens. */
  mask: BigInt64Array;
  columns: number;
}

export class ContinuousBatcher {
  readonly #runner: ModelRunner;
  readonly #layout: KvLayout;
  readonly #maxTokens: number;
  readonly #names: string[];
  readonly #sequences = new Set<Sequence>();
  #packed: Packed | undefined;
  #turning = false;
  #waiting: NodeJS.Immediate | undefined;
  /** Figures for status and the benchmark. */
  readonly stats = { steps: 0, rowsStepped: 0, prefills: 0, repacks: 0 };

  constructor(runner: ModelRunner, layout: KvLayout, opts: ContinuousBatchOptions) {
    if (!Number.isInteger(opts.maxTokensPerStep) || opts.maxTokensPerStep < 1) throw new RangeError(`maxTokensPerStep must be a positive integer, got ${opts.maxTokensPerStep}`);
    this.#runner = runner;
    this.#layout = layout;
    this.#maxTokens = opts.maxTokensPerStep;
    this.#names = [];
    for (let l = 0; l < layout.layers; l++) this.#names.push(pastName(l, "key"), pastName(l, "value"));
  }

  /** Sequences open now. */
  get open(): number {
    return this.#sequences.size;
  }

  /** A new sequence: feed it its prompt, then one id at a time; `leave` when done. */
  join(): DecoderStepper & { leave(): void } {
    const seq = new Sequence();
    this.#sequences.add(seq);
    return {
      feed: (ids) => this.#feed(seq, ids),
      get length() {
        return seq.length;
      },
      leave: () => this.#leave(seq),
    };
  }

  #feed(seq: Sequence, ids: readonly number[]): Promise<Float32Array> {
    if (seq.gone) return Promise.reject(new ColmenaError("UNAVAILABLE", "the sequence has left the batch"));
    if (seq.pending !== undefined) return Promise.reject(new ColmenaError("INTERNAL", "a sequence fed again before its step ended"));
    if (ids.length === 0 || (seq.length > 0 && ids.length !== 1)) {
      return Promise.reject(new ColmenaError("INTERNAL", `a sequence is fed its prompt once, then one id per step (got ${ids.length} ids)`));
    }
    seq.pending = [...ids];
    const logits = new Promise<Float32Array>((resolve, reject) => {
      seq.resolve = resolve;
      seq.reject = reject;
    });
    this.#schedule();
    return logits;
  }

  #leave(seq: Sequence): void {
    if (seq.gone) return;
    seq.gone = true;
    seq.own = undefined;
    this.#sequences.delete(seq);
    // A pending feed of a sequence that left is dropped; its caller is gone.
    seq.pending = undefined;
    seq.resolve = seq.reject = undefined;
    if (this.#sequences.size === 0) this.#packed = undefined;
  }

  #schedule(): void {
    if (this.#turning) return;
    // Once every open sequence has fed, nothing is worth waiting for: the turn starts now. Until then it
    // waits one macrotask turn, so every sequence the last step resolved can feed its next id first.
    const allFed = [...this.#sequences].every((s) => s.pending !== undefined);
    if (allFed) {
      if (this.#waiting !== undefined) clearImmediate(this.#waiting);
      this.#waiting = undefined;
      this.#turning = true;
      queueMicrotask(() => void this.#turn());
    } else {
      this.#waiting ??= setImmediate(() => {
        this.#waiting = undefined;
        this.#turning = true;
        void this.#turn();
      });
    }
  }

  async #turn(): Promise<void> {
    try {
      const waiting = [...this.#sequences].filter((s) => s.pending !== undefined);
      const prompts = waiting.filter((s) => s.length === 0);
      const decoding = waiting.filter((s) => s.length > 0);
      let budget = this.#maxTokens - decoding.length;
      for (const [i, seq] of prompts.entries()) {
        // A sequence may leave while an earlier prompt of this turn runs.
        if (seq.gone || seq.pending === undefined) continue;
        if (i > 0 && seq.pending.length > budget) break;
        budget -= seq.pending!.length;
        await this.#prefill(seq);
      }
      const ready = decoding.filter((s) => !s.gone && s.pending !== undefined);
      if (ready.length > 0) await this.#step(ready);
    } finally {
      this.#turning = false;
      if ([...this.#sequences].some((s) => s.pending !== undefined)) this.#schedule();
    }
  }

  async #prefill(seq: Sequence): Promise<void> {
    const ids = seq.pending!;
    let out: Feeds;
    try {
      out = await this.#runner.run({ ...tokenFeeds(this.#layout, ids, 0), ...emptyPast(this.#layout) });
    } catch (err) {
      settle(seq, err);
      return this.#leave(seq);
    }
    this.stats.prefills++;
    if (seq.gone) return;
    seq.length = ids.length;
    seq.own = this.#names.map((name) => out[name.replace("past_key_values.", "present.")]!.data as Float32Array);
    settle(seq, undefined, lastLogits(out));
  }

  async #step(rows: Sequence[]): Promise<void> {
    const packed = this.#pack(rows);
    const batch = rows.length;
    const columns = packed.columns + 1;
    const mask = new BigInt64Array(batch * columns);
    for (let b = 0; b < batch; b++) {
      mask.set(packed.mask.subarray(b * packed.columns, (b + 1) * packed.columns), b * columns);
      mask[b * columns + packed.columns] = 1n;
    }
    const feeds: Feeds = {
      input_ids: { type: "int64", data: BigInt64Array.from(rows, (s) => BigInt(s.pending![0]!)), dims: [batch, 1] },
      // The worker takes what it is sent; the mask stays here for the next step.
      attention_mask: { type: "int64", data: mask.slice(), dims: [batch, columns] },
    };
    if (this.#layout.hasPositionIds) feeds.position_ids = { type: "int64", data: BigInt64Array.from(rows, (s) => BigInt(s.length)), dims: [batch, 1] };
    this.#names.forEach((name, i) => (feeds[name] = packed.kv[i]!));
    // The packed past moves to the worker now: whatever happens, it is not ours any more.
    this.#packed = undefined;
    let out: Feeds;
    try {
      out = await this.#runner.run(feeds);
    } catch (err) {
      // Their caches went with the failed step: these sequences cannot go on.
      for (const seq of rows) {
        settle(seq, err);
        this.#leave(seq);
      }
      return;
    }
    this.stats.steps++;
    this.stats.rowsStepped += batch;
    this.#packed = { members: rows, kv: this.#names.map((name) => out[name.replace("past_key_values.", "present.")]!), mask, columns };
    const logits = out.logits!;
    const vocab = logits.dims[2]!;
    rows.forEach((seq, b) => {
      seq.length++;
      // A copy per row: a row's logits must outlive the batch's buffer.
      settle(seq, undefined, (logits.data as Float32Array).slice(b * vocab, (b + 1) * vocab));
    });
  }

  /** The packed cache of exactly these rows, in this order: the last step's when its members are the same, else repacked. */
  #pack(rows: Sequence[]): Packed {
    const current = this.#packed;
    if (current !== undefined && current.members.length === rows.length && current.members.every((s, i) => s === rows[i])) return current;
    if (current !== undefined) this.#unpack(current);
    this.stats.repacks++;
    const { kvHeads, headDim } = this.#layout;
    const columns = Math.max(...rows.map((s) => s.length));
    const mask = new BigInt64Array(rows.length * columns);
    rows.forEach((s, b) => mask.fill(1n, b * columns, b * columns + s.length));
    const kv = this.#names.map((_, i) => {
      const data = new Float32Array(rows.length * kvHeads * columns * headDim);
      rows.forEach((s, b) => {
        const own = s.own![i]!;
        for (let h = 0; h < kvHeads; h++) data.set(own.subarray(h * s.length * headDim, (h + 1) * s.length * headDim), ((b * kvHeads + h) * columns) * headDim);
      });
      return { type: "float32", data, dims: [rows.length, kvHeads, columns, headDim] } satisfies TensorData;
    });
    for (const s of rows) s.own = undefined;
    const packed = { members: rows, kv, mask, columns };
    this.#packed = packed;
    return packed;
  }

  /** Gives every member still here its own compact cache back: its masked columns, in order. */
  #unpack(packed: Packed): void {
    const { kvHeads, headDim } = this.#layout;
    packed.members.forEach((s, b) => {
      if (s.gone) return;
      const cols: number[] = [];
      for (let t = 0; t < packed.columns; t++) if (packed.mask[b * packed.columns + t] === 1n) cols.push(t);
      s.own = packed.kv.map((tensor) => {
        const src = tensor.data as Float32Array;
        const own = new Float32Array(kvHeads * cols.length * headDim);
        for (let h = 0; h < kvHeads; h++) {
          const base = (b * kvHeads + h) * packed.columns;
          cols.forEach((t, j) => own.set(src.subarray((base + t) * headDim, (base + t + 1) * headDim), (h * cols.length + j) * headDim));
        }
        return own;
      });
    });
    this.#packed = undefined;
  }
}

function settle(seq: Sequence, err: unknown, logits?: Float32Array): void {
  const { resolve, reject } = seq;
  seq.pending = undefined;
  seq.resolve = seq.reject = undefined;
  if (logits !== undefined) resolve?.(logits);
  else reject?.(err);
}
