/**
 * Dynamic batching: items submitted one by one run together in one call.
 *
 * A batch opens with its first item and takes later items until it holds
 * `maxBatch` items or the token budget is spent; a full batch is ready at
 * once. An open batch becomes due `maxWaitMs` after it opened. At most
 * `concurrency` batches run at a time (default 1); while they run, a due batch
 * keeps filling until a run ends and frees a slot, so a busy model gets larger
 * batches instead of a queue of small ones. Batches run in submit order, and
 * each submit resolves with its own result. A batch that fails rejects its own
 * items only.
 *
 * The token budget counts padded tokens: a batch costs its item count times
 * its largest item cost, since an encoder pads every row to the longest one.
 * An item whose cost alone exceeds the budget runs in a batch of its own.
 *
 * Admission control is not here: `pending` tells the owning actor how many
 * items wait, and the actor's bounded mailbox decides what to refuse.
 */
import { ColmenaError, systemClock, type Clock, type TimerHandle } from "../../runtime/index.js";

export interface BatcherOptions<I, O> {
  maxBatch: number;
  maxWaitMs: number;
  /** Budget of padded tokens per batch: items × the largest cost. Needs `cost`. */
  maxTokens?: number;
  cost?: (item: I) => number;
  /** Batches that may run at once (default 1). */
  concurrency?: number;
  /** Runs one batch; must return one output per item, in order. */
  run: (items: I[]) => Promise<O[]>;
  /** Times the wait of an open batch (default systemClock). */
  clock?: Clock;
}

interface Entry<I, O> {
  item: I;
  cost: number;
  resolve: (output: O) => void;
  reject: (err: unknown) => void;
}

export class Batcher<I, O> {
  readonly #maxBatch: number;
  readonly #maxWaitMs: number;
  readonly #maxTokens: number;
  readonly #cost: (item: I) => number;
  readonly #concurrency: number;
  readonly #run: (items: I[]) => Promise<O[]>;
  readonly #clock: Clock;
  #open: Entry<I, O>[] = [];
  #openMaxCost = 0;
  #due = false;
  #timer: TimerHandle = undefined;
  readonly #ready: Entry<I, O>[][] = [];
  #running = 0;
  #pending = 0;

  constructor(opts: BatcherOptions<I, O>) {
    if (!Number.isInteger(opts.maxBatch) || opts.maxBatch < 1) throw new RangeError(`maxBatch must be a positive integer, got ${opts.maxBatch}`);
    if (!(opts.maxWaitMs >= 0)) throw new RangeError(`maxWaitMs must be at least 0, got ${opts.maxWaitMs}`);
    if (opts.maxTokens !== undefined && !(opts.maxTokens > 0)) throw new RangeError(`maxTokens must be positive, got ${opts.maxTokens}`);
    if (opts.maxTokens !== undefined && opts.cost === undefined) throw new RangeError("maxTokens needs a cost function");
    const concurrency = opts.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    this.#maxBatch = opts.maxBatch;
    this.#maxWaitMs = opts.maxWaitMs;
    this.#maxTokens = opts.maxTokens ?? Infinity;
    this.#cost = opts.cost ?? (() => 0);
    this.#concurrency = concurrency;
    this.#run = opts.run;
    this.#clock = opts.clock ?? systemClock;
  }

  /** Items submitted and not yet handed to `run`. */
  get pending(): number {
    return this.#pending;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      const cost = this.#cost(item);
      if (this.#open.length > 0 && !this.#fits(cost)) this.#close();
      this.#open.push({ item, cost, resolve, reject });
      this.#openMaxCost = Math.max(this.#openMaxCost, cost);
      this.#pending++;
      if (this.#isFull()) this.#close();
      else if (this.#open.length === 1) this.#timer = this.#clock.setTimeout(() => this.#onWaitOver(), this.#maxWaitMs);
      this.#pump();
    });
  }

  /** Stops waiting for more items: the open batch is ready now. */
  flush(): void {
    if (this.#open.length > 0) this.#close();
    this.#pump();
  }

  #fits(cost: number): boolean {
    return this.#open.length < this.#maxBatch && (this.#open.length + 1) * Math.max(this.#openMaxCost, cost) <= this.#maxTokens;
  }

  /** Full when no item as long as the longest one so far could join. */
  #isFull(): boolean {
    return this.#open.length >= this.#maxBatch || (this.#open.length + 1) * this.#openMaxCost > this.#maxTokens;
  }

  #onWaitOver(): void {
    this.#timer = undefined;
    this.#due = true;
    this.#pump();
  }

  #close(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#ready.push(this.#open);
    this.#open = [];
    this.#openMaxCost = 0;
    this.#due = false;
  }

  #pump(): void {
    while (this.#running < this.#concurrency) {
      if (this.#ready.length === 0 && this.#due) this.#close();
      const batch = this.#ready.shift();
      if (batch === undefined) return;
      void this.#execute(batch);
    }
  }

  async #execute(batch: Entry<I, O>[]): Promise<void> {
    this.#running++;
    this.#pending -= batch.length;
    try {
      const outputs = await this.#run(batch.map((e) => e.item));
      if (outputs.length !== batch.length) throw new ColmenaError("INTERNAL", `a batch of ${batch.length} items returned ${outputs.length} results`);
      batch.forEach((e, i) => e.resolve(outputs[i] as O));
    } catch (err) {
      for (const e of batch) e.reject(err);
    } finally {
      this.#running--;
      this.#pump();
    }
  }
}
