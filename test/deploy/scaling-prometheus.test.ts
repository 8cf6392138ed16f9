import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { bodies, interpolate, jobTasks, jobVariables, labelled, parseJobFile, renderProcess, taskEnvironment } from "../../cli/nomad-job.js";
import { freePort } from "../../nats/index.js";
import { COLMENA_GROUPS as GROUPS, NOMAD_DIR as nomad, startJobsOnLoopback, type JobsOnLoopback } from "../helpers/nomad-jobs.js";
import { waitFor } from "../helpers/wait.js";
const PROMETHEUS = spawnSync("prometheus", ["--version"]).status === 0;
const NO_PROMETHEUS = "Prometheus is not installed (Debian: apt-get install -y prometheus)";

interface Policy {
  group: string;
  count: number;
  min: number;
  max: number;
  query: string;
  target: number;
}

/** The target-value strategy: the count that brings the metric to its target, within the group's bounds. */
const desired = (p: Policy, value: number) => Math.min(p.max, Math.max(p.min, Math.ceil((p.count * value) / p.target)));

/**
 * The scaling policies of colmena.nomad.hcl evaluated on a real Prometheus
 * (Debian's package) that scrapes the job's own tasks, run as rendered (one
 * process per group, on the NATS job's three servers). Prometheus runs the scrape configuration of
 * prometheus.nomad.hcl, rendered from its template; only its Nomad service
 * discovery is swapped for a file of the targets Nomad would list (Debian's
 * 2.42 has no nomad_sd_configs, and there is no Nomad here): each group's
 * colmena-metrics service, with the port and tags the Colmena job gives it,
 * so the job's relabelling runs as written. Under a burst of ingest and of
 * questions, each queue-depth query rises above its policy's target (the
 * strategy asks for more instances), and once the work is done it falls
 * back (fewer).
 */
describe("scaling on Prometheus - the Colmena job's policies read queue depth that a burst raises", { skip: !PROMETHEUS && NO_PROMETHEUS, timeout: 1_200_000 }, () => {
  let dir: string;
  let jobs: JobsOnLoopback | undefined;
  let prometheus: ChildProcess | undefined;
  let promUrl: string;
  let bridge: string;
  let key: string;
  const policies = new Map<string, Policy>();

  const query = async (q: string): Promise<number | undefined> => {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`).catch(() => undefined);
    if (!res?.ok) return undefined;
    const body = (await res.json()) as { data: { result: Array<{ value: [number, string] }> } };
    const v = body.data.result[0]?.value[1];
    return v === undefined ? undefined : Number(v);
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "colmena-scaling-"));
    jobs = await startJobsOnLoopback(dir);
    ({ bridgeUrl: bridge, key } = jobs);
    const tasks = jobs.colmena;
    const vars = jobs.vars;

    // The policies, and the targets Nomad's service discovery would list: each group's colmena-metrics service.
    const { doc } = await parseJobFile(join(nomad, "colmena.nomad.hcl"));
    const jobVars = jobVariables(doc, vars);
    const targets: Array<{ targets: string[]; labels: Record<string, string> }> = [];
    for (const task of jobTasks(doc, jobVars)) {
      for (const scaling of bodies(task.groupBody.scaling)) {
        for (const policy of bodies(scaling.policy)) {
          for (const [, check] of labelled(policy.check)) {
            const [, strategy] = labelled(check.strategy).find(([name]) => name === "target-value")!;
            policies.set(task.group, { group: task.group, count: task.count, min: Number(scaling.min), max: Number(scaling.max), query: interpolate(String(check.query), jobVars), target: Number(strategy.target) });
          }
        }
      }
      const service = bodies(task.groupBody.service).find((s) => s.name === "colmena-metrics");
      assert.ok(service, `group ${task.group} registers colmena-metrics`);
      const running = tasks.find((t) => t.group === task.group)!;
      const tags = (service.tags as string[] | undefined) ?? [];
      targets.push({
        targets: [`127.0.0.1:${running.ports[String(service.port)]}`],
        labels: { __meta_nomad_service: "colmena-metrics", __meta_nomad_tags: `,${tags.join(",")},`, __meta_nomad_service_job_id: task.job },
      });
    }
    await writeFile(join(dir, "targets.json"), JSON.stringify(targets));

    // Prometheus with the job's scrape configuration, as its template renders it.
    const { doc: promDoc } = await parseJobFile(join(nomad, "prometheus.nomad.hcl"));
    const promVars = jobVariables(promDoc);
    const [promTask] = jobTasks(promDoc, promVars);
    const rendered = renderProcess(promTask!, promVars, { env: taskEnvironment(dir, { http: 9090 }, { "attr.unique.network.ip-address": "127.0.0.1" }), nomadVars: {} });
    const config = parseYaml(rendered.files.find((f) => f.destination === "local/prometheus.yml")!.data) as { global: Record<string, string>; scrape_configs: Array<Record<string, unknown>> };
    // A quicker scrape than the job's 10 s, so the test need not wait for many; the discovery as said above.
    config.global.scrape_interval = "1s";
    for (const sc of config.scrape_configs) {
      assert.ok(sc.nomad_sd_configs, `${String(sc.job_name)} discovers through Nomad`);
      delete sc.nomad_sd_configs;
      sc.file_sd_configs = [{ files: [join(dir, "targets.json")] }];
    }
    await writeFile(join(dir, "prometheus.yml"), stringifyYaml(config));
    const check = spawnSync("promtool", ["check", "config", join(dir, "prometheus.yml")], { encoding: "utf8" });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn("prometheus", [`--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "prom")}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: "ignore" });
    await waitFor("Prometheus to scrape every group", async () => (await query('count(up{job="colmena"} == 1)')) === tasks.length, 60_000);
    // Ten processes and two models to start: long on a busy machine.
  }, { timeout: 600_000 });

  after(async () => {
    if (prometheus && prometheus.exitCode === null) {
      prometheus.kill("SIGTERM");
      await once(prometheus, "exit");
    }
    await jobs?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("scaling on Prometheus - the relabelling of the Prometheus job labels each target with its group", async () => {
    for (const group of GROUPS) assert.equal(await query(`up{job="colmena",group="${group}",nomad_job="colmena"}`), 1, group);
  });

  const headers = () => ({ "content-type": "application/json", authorization: `Bearer ${key}` });

  /**
   * Keeps `work` going (each call one request) on `concurrency` loops until
   * Prometheus has seen the policy's query above its target at some scrape:
   * `max_over_time` over the query's own samples, so a peak between two
   * evaluations of the test counts. The peak is returned.
   */
  async function burstUntilAbove(p: Policy, concurrency: number, work: (i: number) => Promise<unknown>): Promise<number> {
    let done = false;
    let n = 0;
    const loops = Array.from({ length: concurrency }, async () => {
      while (!done) await work(n++).catch(() => {});
    });
    let peak = 0;
    try {
      await waitFor(
        `${p.group}: ${p.query} above ${p.target}`,
        async () => {
          peak = (await query(`max_over_time((${p.query})[10m:1s])`)) ?? 0;
          return peak > p.target;
        },
        150_000,
      );
    } finally {
      done = true;
      await Promise.all(loops);
    }
    return peak;
  }

  async function fallsBack(p: Policy): Promise<number> {
    let value = Number.NaN;
    await waitFor(
      `${p.group}: ${p.query} back to at most ${p.target} once the burst is over`,
      async () => {
        value = (await query(p.query)) ?? Number.NaN;
        return value <= p.target;
      },
      150_000,
    );
    return value;
  }

  test("scaling on Prometheus - a burst of ingest: the ingest group's consumer lag asks for more instances, then for fewer", { timeout: 400_000 }, async () => {
    const p = policies.get("ingest")!;
    assert.ok(p, "the ingest group has a policy");
    assert.equal(await query(p.query), 0, "no backlog before the burst");
    const text = (i: number) => `Document ${i} is about bees. Worker bees gather nectar, queens lay eggs, drones wait. Hives hold honey for winter number ${i}.`;
    const peak = await burstUntilAbove(p, 4, (i) =>
      fetch(`${bridge}/v1/documents`, { method: "POST", headers: headers(), body: JSON.stringify({ documents: Array.from({ length: 100 }, (_, j) => ({ id: `d${i}-${j}`, text: text(i * 100 + j) })) }) }),
    );
    const after = await fallsBack(p);
    console.log(`ingest policy: ${p.query} peaked at ${peak} (target ${p.target}: ${p.count} → ${desired(p, peak)} instances), then ${after} (→ ${desired(p, after)})`);
    assert.ok(desired(p, peak) > p.count, "the burst asks for more ingest instances");
    assert.ok(desired(p, after) <= p.count, "the idle backlog asks for no more");
  });

  test("scaling on Prometheus - a burst of questions: the llm group's sequences ask for more instances, then for fewer", { timeout: 400_000 }, async () => {
    const p = policies.get("llm")!;
    assert.ok(p, "the llm group has a policy");
    // Distinct questions, so the answer cache does not take them; 429 and 503 (shed) are part of a burst.
    const peak = await burstUntilAbove(p, 24, (i) => fetch(`${bridge}/v1/query`, { method: "POST", headers: headers(), body: JSON.stringify({ question: `What do bees of hive ${i} make?` }) }).then((r) => r.arrayBuffer()));
    const after = await fallsBack(p);
    console.log(`llm policy: ${p.query} peaked at ${peak} (target ${p.target}: ${p.count} → ${desired(p, peak)} instances), then ${after} (→ ${desired(p, after)})`);
    for (const other of ["session", "embedder", "bridge"]) {
      const o = policies.get(other)!;
      console.log(`${other} policy during the bursts: ${o.query} peaked at ${await query(`max_over_time((${o.query})[10m:1s])`)} (target ${o.target})`);
    }
    assert.ok(desired(p, peak) > p.count, "the burst asks for more llm instances");
    assert.ok(desired(p, after) <= p.count, "idle, it asks for no more");
  });
});
