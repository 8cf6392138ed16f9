import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { EXPORTED_FAMILIES, GPU_FAMILIES } from "../../cli/metric-families.js";
import { freePort } from "../../nats/index.js";
import { startColmenaUp, type ColmenaProcess } from "../helpers/colmena-process.js";

const has = (bin: string) => spawnSync(bin, ["--version"]).status === 0;
const PROMTOOL = has("promtool");
const PROMETHEUS = has("prometheus");
const NO_PROMETHEUS = "Prometheus is not installed (Debian: apt-get install -y prometheus)";

async function post(base: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

describe("metrics - a running colmena up", () => {
  let up: ColmenaProcess;
  let text: string;
  before(async () => {
    up = await startColmenaUp();
    assert.equal((await post(up.httpUrl, "/v1/documents", { documents: [{ id: "bees", text: "Bees make honey in hives." }] })).status, 202);
    // Ingest is acknowledged once stored; the query is asked until the document is indexed.
    for (let i = 0; i < 200; i++) {
      const res = (await (await post(up.httpUrl, "/v1/query", { question: "What do bees make?" })).json()) as { sources: unknown[] };
      if (res.sources.length > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    text = await (await fetch(`${up.httpUrl}/metrics`)).text();
  });
  after(async () => {
    await up?.stop();
  });

  test("metrics - the families of every thread are there, with their types", () => {
    // The one list of exported families (what `colmena nomad validate` checks scaling queries against) is what the node exports: each is there with its type, and no colmena_ family is missing from it.
    for (const [name, type] of Object.entries(EXPORTED_FAMILIES)) assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, "m"), name);
    for (const [, name] of text.matchAll(/^# TYPE (colmena_\S+) /gm)) assert.ok(name! in EXPORTED_FAMILIES || name! in GPU_FAMILIES, `${name} is exported but not in cli/metric-families.ts`);
    // The queue depths the scaling policies read: pooled slots, the ingest consumer's lag, the llm's sequences.
    assert.match(text, /^colmena_actor_slots\{kind="embedder",state="free"\} [1-9]/m);
    assert.match(text, /^colmena_consumer_lag\{stream="colmena_ingest",consumer="ingest-workers"\} 0$/m);
    assert.match(text, /^colmena_llm_sequences\{state="waiting"\} 0$/m);
    // The actor kinds run in the actor thread: their figures came across.
    assert.match(text, /^colmena_actor_messages_total\{kind="index-shard",type="search",outcome="ok"\} [1-9]/m);
    assert.match(text, /^colmena_actor_instances\{kind="embedder",state="running"\} [1-9]/m);
    assert.match(text, /^colmena_ingest_documents_total\{outcome="indexed"\} 1$/m);
    assert.match(text, /^colmena_embedder_batch_size_count [1-9]/m);
    assert.doesNotMatch(text, /colmena_status/);
  });

  test("metrics - labels are bounded: no node id, key or question in any series", () => {
    const series = text.split("\n").filter((l) => l.startsWith("colmena_"));
    assert.ok(series.length > 0);
    for (const line of series) assert.doesNotMatch(line, /bees|honey|shard-|-a0|node=/, line);
  });

  test("metrics - every query of the Grafana dashboard names a family the node exports", async () => {
    const dashboard = JSON.parse(await readFile(new URL("../../../ops/grafana/colmena.json", import.meta.url), "utf8")) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
    const families = new Set([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name, type]) => (type === "histogram" ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name!])));
    const PROMQL = new Set(["sum", "by", "rate", "histogram_quantile", "le", "route", "kind", "stage", "level", "state", "instance", "outcome", "result", "status"]);
    let checked = 0;
    for (const panel of dashboard.panels) {
      for (const { expr } of panel.targets) {
        const names = [...expr.replace(/\{[^}]*\}|\[[^\]]*\]/g, "").matchAll(/[a-z_][a-z0-9_]*/g)].map((m) => m[0]).filter((n) => !PROMQL.has(n));
        assert.ok(names.length > 0, `${panel.title}: ${expr}`);
        for (const name of names) assert.ok(families.has(name), `${panel.title}: ${name} is not exported`);
        checked += names.length;
      }
    }
    assert.ok(checked >= dashboard.panels.length);
  });

  test("metrics - promtool check metrics finds nothing to complain about", { skip: !PROMTOOL && NO_PROMETHEUS }, () => {
    const check = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.equal((check.stdout + check.stderr).trim(), "");
  });

  test("metrics - a real Prometheus scrapes the node and can query its families", { skip: !PROMETHEUS && NO_PROMETHEUS, timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), "colmena-prom-"));
    const port = await freePort();
    const target = new URL(up.httpUrl).host;
    await writeFile(join(dir, "prometheus.yml"), `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: colmena\n    static_configs:\n      - targets: ["${target}"]\n`);
    const prom = spawn("prometheus", [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: "ignore" });
    try {
      const query = async (q: string) => {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`).catch(() => undefined);
        return res?.ok ? ((await res.json()) as { data: { result: Array<{ metric: Record<string, string> }> } }).data.result : [];
      };
      let up1: Array<{ metric: Record<string, string> }> = [];
      for (let i = 0; i < 100 && up1.length === 0; i++) {
        up1 = await query('colmena_actor_messages_total{kind="embedder"}');
        if (up1.length === 0) await new Promise((r) => setTimeout(r, 300));
      }
      assert.ok(up1.length > 0, "Prometheus has the actor thread's series");
      const health = await query('up{job="colmena"}');
      assert.equal(health.length, 1);
      const rate = await query("sum by (stage) (colmena_pipeline_stage_duration_seconds_count)");
      assert.ok(rate.some((r) => r.metric.stage === "retrieval"));
    } finally {
      prom.kill("SIGTERM");
      await new Promise((r) => prom.once("exit", r));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
