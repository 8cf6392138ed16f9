import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { arrivals, phaseArrivals } from "../../loadtest/index.js";

describe("loadtest schedule", () => {
  test("loadtest schedule - a constant rate spaces arrivals evenly, from the start", () => {
    const a = [...arrivals([{ name: "c", durationMs: 2_000, rate: 50 }])];
    assert.equal(a.length, 100);
    assert.equal(a[0]!.at, 0);
    assert.equal(a[1]!.at, 20);
    assert.equal(a[99]!.at, 1_980);
  });

  test("loadtest schedule - a linear ramp holds the area under its rate, denser at the end", () => {
    const ramp = { name: "ramp", durationMs: 2_000, rate: 0, toRate: 100 };
    const a = [...arrivals([ramp])];
    assert.equal(a.length, phaseArrivals(ramp));
    assert.equal(a.length, 100);
    const firstHalf = a.filter((x) => x.at < 1_000).length;
    assert.equal(firstHalf, 25); // ∫0..1 s of 50t dt = 25
    assert.ok(a.every((x, i) => i === 0 || x.at > a[i - 1]!.at));
  });

  test("loadtest schedule - steps follow one another without losing or adding an arrival at the boundary", () => {
    const a = [
      ...arrivals([
        { name: "one", durationMs: 1_000, rate: 10 },
        { name: "two", durationMs: 1_000, rate: 30 },
        { name: "three", durationMs: 500, rate: 3 },
      ]),
    ];
    const by = (n: string) => a.filter((x) => x.phase.name === n);
    assert.equal(by("one").length, 10);
    assert.equal(by("two").length, 30);
    assert.equal(by("three").length, 2); // 1.5 owed: arrivals 40 and 41 fall below 41.5
    assert.ok(Math.abs(by("three")[1]!.at - by("three")[0]!.at - 1_000 / 3) < 1e-9);
    assert.equal(a.length, 42);
    assert.ok(by("two").every((x) => x.at >= 1_000 && x.at < 2_000));
  });

  test("loadtest schedule - maxCount bounds the number of arrivals", () => {
    assert.equal([...arrivals([{ name: "c", durationMs: 60_000, rate: 1_000 }], 7)].length, 7);
  });

  test("loadtest schedule - a phase with no duration or a negative rate is refused", () => {
    assert.throws(() => [...arrivals([{ name: "bad", durationMs: 0, rate: 1 }])], /positive duration/);
    assert.throws(() => [...arrivals([{ name: "bad", durationMs: 10, rate: -1 }])], /rates/);
  });
});
