import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { answered, check, gitRevision, machine, Recorder, writeReports, type Report } from "../../loadtest/index.js";

/** Tags open and close in order, attributes quoted, text escaped: enough to call the SVG well-formed. */
function assertWellFormedXml(xml: string): void {
  const body = xml.replace(/^<\?xml[^>]*\?>\s*/, "");
  const stack: string[] = [];
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<|&(?!amp;|lt;|gt;|quot;|#\d+;)/g)) {
    if (m[0] === "<") assert.fail(`a stray < in the SVG near ${body.slice(m.index!, m.index! + 40)}`);
    if (m[0].startsWith("&")) assert.fail(`an unescaped & near ${body.slice(m.index!, m.index! + 40)}`);
    const [, closing, name, , selfClosing] = m;
    if (selfClosing) continue;
    if (closing) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else stack.push(name!);
  }
  assert.deepEqual(stack, [], "every element closed");
}

function sampleReport(): Report {
  const recorder = new Recorder(0);
  recorder.begin({ name: "baseline", durationMs: 2_000, rate: 10 }, 0);
  recorder.begin({ name: "step <2×> & more", durationMs: 1_000, rate: 20 }, 2_000);
  for (let i = 0; i < 20; i++) {
    recorder.scheduled("baseline", i * 100);
    recorder.sent("baseline", i * 100, i * 100 + 1);
    recorder.completed("baseline", "query", i * 100, i * 100 + 12, answered(200, undefined, { retryHint: false, cached: i % 2 === 0 }));
  }
  for (let i = 0; i < 20; i++) {
    const due = 2_000 + i * 50;
    recorder.scheduled("step <2×> & more", due);
    recorder.sent("step <2×> & more", due, due);
    recorder.completed("step <2×> & more", "query", due, due + (i % 2 ? 3 : 400), i % 2 ? answered(429, "OVERLOADED", { retryHint: true }) : answered(200, undefined, { retryHint: false }));
  }
  const thresholds = [check("p99 within 3×", 400, "<=", 36, { unit: "ms" }), check("shed p99", 3, "<=", 10, { unit: "ms" })];
  return {
    scenario: "overload",
    startedAt: new Date(0).toISOString(),
    durationSeconds: 3,
    machine: machine(),
    git: gitRevision(),
    config: { rate: 10, note: "a | pipe" },
    target: { driver: "http", url: "http://127.0.0.1:1", spawned: true, corpus: "generated", documents: 200 },
    phases: recorder.phaseNames().map((n) => recorder.summary(n)),
    total: recorder.total(),
    timeline: recorder.timeline(),
    memory: { summary: { samples: 2, firstMb: 100, maxMb: 120, lastMb: 110, growthMb: 20, failedPolls: 0 }, samples: [{ t: 0, nodes: { a: 100 }, totalMb: 100, inFlight: { a: 1 }, processOf: { a: "pid 1" } }, { t: 2, nodes: { a: 120 }, totalMb: 120, inFlight: { a: 2 }, processOf: { a: "pid 1" } }] },
    thresholds,
    passed: thresholds.every((t) => t.pass),
    tables: [{ title: "Capacity search", columns: ["step", "offered/s"], rows: [["search 1", 20]] }],
    markers: [{ t: 0, label: "baseline" }, { t: 2, label: "step <2×> & more" }],
    notes: ["a note"],
  };
}

describe("loadtest reports", () => {
  test("loadtest reports - JSON, Markdown and SVG are written and well-formed, each naming machine, configuration and revision", async () => {
    const dir = await mkdtemp(join(tmpdir(), "colmena-loadtest-report-"));
    try {
      const report = sampleReport();
      const files = await writeReports(dir, "overload-test", report);

      const json = JSON.parse(await readFile(files.json, "utf8")) as Report;
      assert.equal(json.scenario, "overload");
      assert.equal(json.machine.cpus, report.machine.cpus);
      assert.equal(json.machine.node, process.version);
      assert.match(json.git, /^([0-9a-f]{40}(\+dirty)?|unknown)$/);
      assert.equal(json.config.rate, 10);
      assert.equal(json.phases.length, 2);
      assert.equal(json.phases[1]!.shed, 10);
      assert.equal(json.phases[1]!.shedWithRetryHint, 10);
      assert.deepEqual(json.timeline.map((w) => w.t), [0, 1, 2, 3]); // the last answer (due 2.9 s, 400 ms) lands in second 3
      assert.equal(json.timeline[3]!.achieved, 4);
      assert.equal(json.timeline[3]!.p99, null, "nothing was due in second 3: NaN, written as null");
      assert.equal(json.passed, false);

      const md = await readFile(files.markdown, "utf8");
      assert.match(md, /^# Colmena load test: overload — FAIL/);
      assert.match(md, /FAIL {2}p99 within 3×: 400 ms \(limit <= 36 ms\)/);
      assert.match(md, /PASS {2}shed p99: 3 ms/);
      assert.ok(md.includes(report.git));
      assert.ok(md.includes(`Node ${process.version}`));
      assert.ok(md.includes("![latency and throughput over time](overload-test.svg)"));
      assert.ok(md.includes('"note": "a | pipe"'));
      for (const block of md.split("\n\n").filter((b) => b.startsWith("|"))) {
        const widths = block.split("\n").map((row) => row.replace(/\\\|/g, "").split("|").length);
        assert.ok(widths.every((w) => w === widths[0]), `a table with ragged rows:\n${block}`);
      }

      const svg = await readFile(files.svg, "utf8");
      assert.match(svg, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="\d+" height="\d+"/);
      assertWellFormedXml(svg);
      assert.ok(svg.includes("step &lt;2×&gt; &amp; more"), "labels are escaped");
      assert.ok((svg.match(/<polyline /g) ?? []).length >= 4, "p50, p99, offered and achieved lines");
      assert.ok(svg.includes(report.git.slice(0, 12)));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
