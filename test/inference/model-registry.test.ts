import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ModelRegistry, type ModelSpec } from "../../actors/inference/index.js";
import { isColmenaError } from "../../runtime/index.js";

/** A model whose loads and unloads the test releases by hand, recording what happened in order. */
class Fixture {
  readonly events: string[] = [];
  readonly pending = new Map<string, { resolve: () => void; reject: (err: Error) => void }>();

  spec(id: string, bytes: number, opts: { manual?: boolean } = {}): ModelSpec<{ id: string }> {
    return {
      id,
      bytes,
      load: async () => {
        this.events.push(`load ${id}`);
        if (opts.manual) await new Promise<void>((resolve, reject) => this.pending.set(id, { resolve, reject }));
        return { id };
      },
      unload: async (m) => {
        this.events.push(`unload ${m.id}`);
      },
    };
  }

  finish(id: string): void {
    this.pending.get(id)!.resolve();
    this.pending.delete(id);
  }
}

const code = (c: string) => (err: unknown) => isColmenaError(err) && err.code === c;
const tick = () => new Promise((r) => setImmediate(r));

test("model registry - concurrent requests for a loading model share one load and are all answered", async () => {
  const f = new Fixture();
  const registry = new ModelRegistry({ models: [f.spec("a", 10, { manual: true })], budgetBytes: 10 });
  const requests = Array.from({ length: 5 }, () => registry.use("a", (m) => m.id));
  await tick();
  assert.deepEqual(registry.list()[0]!.state, "loading");
  assert.equal(registry.list()[0]!.inFlight, 5);
  f.finish("a");
  assert.deepEqual(await Promise.all(requests), ["a", "a", "a", "a", "a"]);
  assert.deepEqual(f.events, ["load a"]);
  assert.equal(registry.list()[0]!.loads, 1);
  assert.equal(registry.list()[0]!.queued, 4, "the four that found it loading");
  assert.equal(registry.list()[0]!.inFlight, 0);
});

test("model registry - the least recently used idle model is unloaded first, before the new one loads", async () => {
  const f = new Fixture();
  const registry = new ModelRegistry({ models: [f.spec("a", 4), f.spec("b", 4), f.spec("c", 4)], budgetBytes: 8 });
  await registry.use("a", () => {});
  await registry.use("b", () => {});
  await registry.use("a", () => {}); // b is now the least recently used
  await registry.use("c", () => {});
  assert.deepEqual(f.events, ["load a", "load b", "unload b", "load c"]);
  assert.deepEqual(
    registry.list().map((m) => m.state),
    ["loaded", "unloaded", "loaded"],
  );
  assert.equal(registry.committedBytes, 8);
});

test("model registry - a model in use is never unloaded: a request for another waits for its release, queued, not failed", async () => {
  const f = new Fixture();
  const registry = new ModelRegistry({ models: [f.spec("a", 6), f.spec("b", 6)], budgetBytes: 8 });
  const held = await registry.acquire("a");
  let answered = false;
  const b = registry.use("b", (m) => m.id).then((id) => ((answered = true), id));
  await tick();
  assert.equal(answered, false);
  assert.deepEqual(f.events, ["load a"]);
  assert.equal(registry.list()[1]!.state, "unloaded");
  assert.equal(registry.list()[1]!.queued, 1);
  held.release();
  assert.equal(await b, "b");
  assert.deepEqual(f.events, ["load a", "unload a", "load b"]);
});

test("model registry - an unknown model is NOT_FOUND naming it and what is served; one over the whole budget is TOO_LARGE", async () => {
  const f = new Fixture();
  const registry = new ModelRegistry({ models: [f.spec("a", 4), f.spec("huge", 100)], budgetBytes: 8 });
  await assert.rejects(registry.acquire("nope"), (err: unknown) => {
    assert.ok(code("NOT_FOUND")(err));
    assert.deepEqual((err as { details: unknown }).details, { model: "nope", served: ["a", "huge"] });
    assert.match((err as Error).message, /"nope".*"a", "huge"/);
    return true;
  });
  await assert.rejects(registry.acquire("huge"), (err: unknown) => code("TOO_LARGE")(err) && !(err as { retryable: boolean }).retryable);
  assert.equal(await registry.use("a", (m) => m.id), "a");
  assert.deepEqual(f.events, ["load a"]);
});

test("model registry - a failed load fails every request that awaited it, and the next request loads again", async () => {
  const f = new Fixture();
  const registry = new ModelRegistry({ models: [f.spec("a", 4, { manual: true })], budgetBytes: 8 });
  const first = [registry.acquire("a"), registry.acquire("a")];
  await tick();
  f.pending.get("a")!.reject(new Error("disk on fire"));
  for (const p of first) await assert.rejects(p, (err: unknown) => code("UNAVAILABLE")(err) && /model a failed to load: disk on fire/.test((err as Error).message));
  assert.equal(registry.committedBytes, 0);
  assert.deepEqual(registry.list()[0]!.state, "unloaded");
  const again = registry.use("a", (m) => m.id);
  await tick();
  f.finish("a");
  assert.equal(await again, "a");
});

test("model registry - a request waiting for room leaves when its signal aborts, and the model it waited for stays unloaded", async () => {
  const f = new Fixture();
  const registry = new ModelRegistry({ models: [f.spec("a", 6), f.spec("b", 6)], budgetBytes: 8 });
  const held = await registry.acquire("a");
  const ac = new AbortController();
  const b = registry.acquire("b", ac.signal);
  await tick();
  ac.abort();
  await assert.rejects(b, code("CANCELLED"));
  assert.equal(registry.list()[1]!.inFlight, 0);
  held.release();
  assert.deepEqual(f.events, ["load a"]);
});

test("model registry - a preloaded default counts against the budget and is never unloaded: the others share what it leaves, and one that cannot fit beside it is TOO_LARGE", async () => {
  const f = new Fixture();
  const registry = new ModelRegistry({ models: [{ ...f.spec("d", 4), preloaded: { id: "d" } }, f.spec("x", 4), f.spec("y", 4), f.spec("z", 6)], budgetBytes: 8 });
  assert.equal(registry.committedBytes, 4);
  assert.equal(await registry.use("x", (m) => m.id), "x");
  assert.equal(await registry.use("y", (m) => m.id), "y");
  assert.equal(await registry.use("d", (m) => m.id), "d");
  assert.deepEqual(f.events, ["load x", "unload x", "load y"]);
  // 4 + 6 > 8 whatever is unloaded: refused at once, and y is not given up for it.
  await assert.rejects(registry.acquire("z"), (err: unknown) => code("TOO_LARGE")(err) && (err as { details: { pinnedBytes: number } }).details.pinnedBytes === 4);
  assert.deepEqual(f.events, ["load x", "unload x", "load y"]);
  await registry.close();
  assert.deepEqual(f.events.slice(-2).sort(), ["unload d", "unload y"]);
  await assert.rejects(registry.acquire("d"), code("UNAVAILABLE"));
});

test("model registry - under any interleaving of acquires and releases, the budget holds and no model in use is unloaded", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 2, maxLength: 4 }),
      fc.array(fc.record({ model: fc.nat(), hold: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 30 }),
      async (sizes, ops) => {
        const budget = Math.max(...sizes) + 2;
        const inUse = new Map<string, number>();
        let loaded = 0;
        const specs: ModelSpec<string>[] = sizes.map((bytes, i) => ({
          id: `m${i}`,
          bytes,
          load: async () => {
            loaded += bytes;
            assert.ok(loaded <= budget, `loaded ${loaded} bytes over a budget of ${budget}`);
            return `m${i}`;
          },
          unload: async (id) => {
            assert.equal(inUse.get(id) ?? 0, 0, `${id} unloaded while in use`);
            loaded -= bytes;
          },
        }));
        const registry = new ModelRegistry({ models: specs, budgetBytes: budget });
        const runs = ops.map(async ({ model, hold }) => {
          const id = `m${model % sizes.length}`;
          const lease = await registry.acquire(id);
          inUse.set(id, (inUse.get(id) ?? 0) + 1);
          for (let i = 0; i < hold; i++) await tick();
          inUse.set(id, inUse.get(id)! - 1);
          lease.release();
          return lease.model;
        });
        const got = await Promise.all(runs);
        assert.deepEqual(
          got,
          ops.map(({ model }) => `m${model % sizes.length}`),
        );
        assert.ok(registry.committedBytes <= budget);
      },
    ),
    { numRuns: 100 },
  );
});
