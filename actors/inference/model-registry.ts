/**
 * Several models behind one instance, under a memory budget (Ray Serve's
 * model multiplexing): a model is loaded on its first use, concurrent
 * requests for a model that is loading await the same load, and when a load
 * would pass the budget the least recently used idle models are unloaded
 * first. A model with requests in flight is never unloaded, nor a preloaded
 * default; a request that
 * cannot get room yet (every loaded model busy) waits until a release frees
 * it, bounded by its own signal.
 *
 * Hand-written rather than lru-cache: lru-cache evicts synchronously when an
 * entry is set, cannot be told that an entry is in use (it would dispose a
 * model mid-inference), and does not await a dispose, so a new model could
 * load before the old one's memory is freed. Here loads and unloads are
 * promises, the bytes of a model being unloaded count until it is gone, and
 * recency is a counter bumped on every acquire (no clock: the order is all
 * that matters).
 */
import { abortable, ColmenaError, isColmenaError } from "../../runtime/index.js";

/** One model the registry may hold. */
export interface ModelSpec<T> {
  id: string;
  /** What it costs while loaded (an estimate, e.g. its files' size). */
  bytes: number;
  load(): Promise<T>;
  unload(model: T): Promise<void>;
  /**
   * Already loaded and kept: a default model, loaded at start, that every
   * request without a model of its own needs (retrieval's embedder, the
   * answering llm) is never unloaded; it counts against the budget from the
   * beginning, and the other models share what it leaves.
   */
  preloaded?: T;
}

export type ModelState = "unloaded" | "loading" | "loaded" | "unloading";

export interface ModelInfo {
  id: string;
  bytes: number;
  state: ModelState;
  /** Requests holding it now (or waiting for it to load). */
  inFlight: number;
  /** Loads completed, and how long the last took in milliseconds. */
  loads: number;
  /** Requests that found it loading, or waited for models in use to free room for it: queued rather than failed. */
  queued: number;
  lastLoadMs?: number;
}

/** A model in use: release it once the request is done with it (idempotent). */
export interface ModelLease<T> {
  readonly model: T;
  release(): void;
}

export interface ModelRegistryOptions<T> {
  models: readonly ModelSpec<T>[];
  /** Most bytes loaded at once; default: no limit (nothing is ever unloaded). */
  budgetBytes?: number;
  /** An unload that failed: the model is counted as gone anyway. */
  onUnloadError?: (id: string, err: unknown) => void;
}

interface Entry<T> {
  spec: ModelSpec<T>;
  state: ModelState;
  model: T | undefined;
  loading: Promise<T> | undefined;
  unloading: Promise<void> | undefined;
  inFlight: number;
  lastUsed: number;
  loads: number;
  queued: number;
  lastLoadMs: number | undefined;
}

export class ModelRegistry<T> {
  readonly budgetBytes: number;
  readonly #entries = new Map<string, Entry<T>>();
  readonly #onUnloadError: (id: string, err: unknown) => void;
  /** Bytes of models loading, loaded or still unloading. */
  #committed = 0;
  /** Bytes of the preloaded models, which are never unloaded. */
  #pinnedBytes = 0;
  #tick = 0;
  #closed = false;
  /** Requests waiting for room; every change that may free some wakes them all to try again. */
  #waiters = new Set<() => void>();

  constructor(options: ModelRegistryOptions<T>) {
    this.budgetBytes = options.budgetBytes ?? Number.POSITIVE_INFINITY;
    this.#onUnloadError = options.onUnloadError ?? (() => {});
    for (const spec of options.models) {
      if (this.#entries.has(spec.id)) throw new RangeError(`model ${spec.id} is listed twice`);
      if (!(spec.bytes >= 0)) throw new RangeError(`model ${spec.id} has a negative size`);
      const preloaded = spec.preloaded !== undefined;
      this.#entries.set(spec.id, {
        spec,
        state: preloaded ? "loaded" : "unloaded",
        model: spec.preloaded,
        loading: undefined,
        unloading: undefined,
        inFlight: 0,
        lastUsed: preloaded ? ++this.#tick : 0,
        loads: preloaded ? 1 : 0,
        queued: 0,
        lastLoadMs: undefined,
      });
      if (preloaded) {
        this.#committed += spec.bytes;
        this.#pinnedBytes += spec.bytes;
      }
    }
    if (this.#pinnedBytes > this.budgetBytes) throw overBudget({ id: "the preloaded models", bytes: this.#pinnedBytes }, this.budgetBytes, 0);
  }

  /** The ids served, in the order given. */
  get ids(): string[] {
    return [...this.#entries.keys()];
  }

  /** Bytes held now (loading, loaded, or not yet unloaded). */
  get committedBytes(): number {
    return this.#committed;
  }

  /** Every model and its state, in the order given. */
  list(): ModelInfo[] {
    return [...this.#entries.values()].map((e) => ({
      id: e.spec.id,
      bytes: e.spec.bytes,
      state: e.state,
      inFlight: e.inFlight,
      loads: e.loads,
      queued: e.queued,
      ...(e.lastLoadMs !== undefined && { lastLoadMs: e.lastLoadMs }),
    }));
  }

  /**
   * The model, loaded if it is not, held until the lease is released. An id
   * not served is NOT_FOUND (naming it and what is served); a model larger
   * than the budget (less what the preloaded models keep) is TOO_LARGE; a
   * failed load rejects every request that awaited it with UNAVAILABLE (not
   * retryable, naming the model; the loader's own code in details.loadError)
   * and leaves the model unloaded for the next request to retry.
   */
  async acquire(id: string, signal?: AbortSignal): Promise<ModelLease<T>> {
    const e = this.#entries.get(id);
    if (e === undefined) {
      throw new ColmenaError("NOT_FOUND", `no model ${JSON.stringify(id)}; this instance serves ${this.ids.map((m) => JSON.stringify(m)).join(", ")}`, {
        details: { model: id, served: this.ids },
      });
    }
    const room = e.spec.preloaded === undefined ? this.budgetBytes - this.#pinnedBytes : this.budgetBytes;
    if (e.spec.bytes > room) throw overBudget(e.spec, this.budgetBytes, this.budgetBytes - room);
    // Held from the start: a model this request waits for is never the one evicted to make room for another.
    e.inFlight++;
    e.lastUsed = ++this.#tick;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (--e.inFlight === 0) this.#wake();
    };
    try {
      const model = await this.#ready(e, signal);
      return { model, release };
    } catch (err) {
      release();
      throw err;
    }
  }

  /** `f` with the model held for as long as its promise runs. */
  async use<R>(id: string, f: (model: T) => R | Promise<R>, signal?: AbortSignal): Promise<R> {
    const lease = await this.acquire(id, signal);
    try {
      return await f(lease.model);
    } finally {
      lease.release();
    }
  }

  /** Unloads every model (after the loads under way); later acquires are UNAVAILABLE. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#wake();
    await Promise.all(
      [...this.#entries.values()].map(async (e) => {
        await e.loading?.catch(() => {});
        await e.unloading;
        if (e.state === "loaded") await this.#unload(e);
      }),
    );
  }

  async #ready(e: Entry<T>, signal: AbortSignal | undefined): Promise<T> {
    // Queued: this request waits on a load another one started, or for models in use to free room; counted once.
    let queued = false;
    const queue = () => {
      if (!queued) e.queued++;
      queued = true;
    };
    let started = false;
    for (;;) {
      if (this.#closed) throw new ColmenaError("UNAVAILABLE", `model registry is closed; ${e.spec.id} cannot be served`);
      if (signal?.aborted) throw abortReason(signal);
      if (e.state === "loaded") return e.model!;
      if (e.state === "loading") {
        if (!started) queue();
        return await untilAborted(e.loading!, signal);
      }
      if (e.state === "unloading") {
        await e.unloading;
        continue;
      }
      const room = this.#makeRoom(e.spec.bytes);
      if (room === "fits") {
        started = true;
        this.#load(e);
      } else if (room === "wait") {
        queue();
        await this.#waitForRoom(signal);
      } else await room;
    }
  }

  /** Whether `bytes` fit now; else the unloads of idle models that will make them fit; else "wait" (too much is in use). */
  #makeRoom(bytes: number): "fits" | "wait" | Promise<unknown> {
    if (this.#committed + bytes <= this.budgetBytes) return "fits";
    const idle = [...this.#entries.values()].filter((x) => x.state === "loaded" && x.inFlight === 0 && x.spec.preloaded === undefined).sort((a, b) => a.lastUsed - b.lastUsed);
    let freed = 0;
    const victims: Entry<T>[] = [];
    for (const v of idle) {
      if (this.#committed - freed + bytes <= this.budgetBytes) break;
      victims.push(v);
      freed += v.spec.bytes;
    }
    if (this.#committed - freed + bytes > this.budgetBytes) {
      // Unloading some would not be enough: unload none, and wait for a release.
      const unloading = [...this.#entries.values()].filter((x) => x.state === "unloading").map((x) => x.unloading!);
      return unloading.length > 0 ? Promise.race(unloading) : "wait";
    }
    return Promise.all(victims.map((v) => this.#unload(v)));
  }

  #load(e: Entry<T>): void {
    e.state = "loading";
    this.#committed += e.spec.bytes;
    const started = performance.now();
    e.loading = e.spec.load().then(
      (model) => {
        e.state = "loaded";
        e.model = model;
        e.loading = undefined;
        e.loads++;
        e.lastLoadMs = performance.now() - started;
        return model;
      },
      (err: unknown) => {
        e.state = "unloaded";
        e.loading = undefined;
        this.#committed -= e.spec.bytes;
        this.#wake();
        // The requests' failure, not the instance's (a crash of one model's load must not restart the models
        // beside it), and not the request's fault either: a model file the loader refuses (INVALID) is a model
        // this instance cannot serve now.
        throw new ColmenaError("UNAVAILABLE", `model ${e.spec.id} failed to load: ${(err as Error)?.message ?? String(err)}`, {
          retryable: false,
          cause: err,
          details: { model: e.spec.id, ...(isColmenaError(err) && { loadError: err.code, ...err.details }) },
        });
      },
    );
    // Those awaiting it see the failure; this one is only here so it is never unhandled.
    e.loading.catch(() => {});
  }

  #unload(e: Entry<T>): Promise<void> {
    const model = e.model!;
    e.state = "unloading";
    e.model = undefined;
    e.unloading = e.spec
      .unload(model)
      .catch((err: unknown) => this.#onUnloadError(e.spec.id, err))
      .finally(() => {
        e.state = "unloaded";
        e.unloading = undefined;
        this.#committed -= e.spec.bytes;
        this.#wake();
      });
    return e.unloading;
  }

  #waitForRoom(signal: AbortSignal | undefined): Promise<void> {
    return untilAborted(
      new Promise<void>((resolve) => {
        this.#waiters.add(resolve);
        signal?.addEventListener("abort", () => this.#waiters.delete(resolve), { once: true });
      }),
      signal,
    );
  }

  #wake(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) w();
  }
}

/** TOO_LARGE: the model cannot fit even with every other unloadable model gone (`pinnedBytes`: what the preloaded ones keep). */
function overBudget(spec: { id: string; bytes: number }, budgetBytes: number, pinnedBytes: number): ColmenaError {
  const beside = pinnedBytes > 0 ? `, less the ${pinnedBytes} bytes the preloaded models keep` : "";
  return new ColmenaError("TOO_LARGE", `model ${spec.id} needs ${spec.bytes} bytes, more than the memory budget of ${budgetBytes}${beside}`, {
    retryable: false,
    details: { model: spec.id, bytes: spec.bytes, budgetBytes, pinnedBytes },
  });
}

/** `p`, or the signal's reason once it aborts (p itself runs on: a load is shared with other requests), as a ColmenaError. */
function untilAborted<R>(p: Promise<R>, signal: AbortSignal | undefined): Promise<R> {
  return abortable(p, signal).catch((err: unknown) => Promise.reject(signal?.aborted === true ? abortReason(signal) : err));
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason instanceof ColmenaError ? signal.reason : new ColmenaError("CANCELLED", "the request was cancelled while waiting for its model");
}
