import assert from "node:assert/strict";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { COLMENA_GROUPS, startJobsOnLoopback, type JobsOnLoopback } from "../helpers/nomad-jobs.js";
import { waitFor } from "../helpers/wait.js";

const colmena = fileURLToPath(new URL("../../cli/main.js", import.meta.url));

/**
 * The repo's jobs, rendered with the raw_exec driver, run on loopback as a
 * cluster: the NATS job's three servers (clustered through the routes its
 * template lists from Nomad's service discovery, operator mode from its
 * Nomad Variable), then the Colmena job with count 1 per group, one process
 * each, with the command line and the config file its template writes and
 * the node credentials from the Nomad Variable the templates read. A
 * question asked through the bridge group is answered from a document
 * ingested through it.
 */
describe("nomad job cluster - the jobs' tasks, run as rendered, form a working cluster", { timeout: 900_000 }, () => {
  let dir: string;
  let jobs: JobsOnLoopback | undefined;
  let bridge: string;
  let key: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "colmena-job-"));
    jobs = await startJobsOnLoopback(dir);
    ({ bridgeUrl: bridge, key } = jobs);
    // Nine processes and two models to start: long on a busy machine.
  }, { timeout: 600_000 });

  after(async () => {
    const codes = (await jobs?.stop()) ?? [];
    await rm(dir, { recursive: true, force: true });
    // Colmena's nodes end with 0 on SIGTERM once drained; nats-server's exit code on a signal says nothing about its shutdown.
    for (const [task, code] of codes) if (COLMENA_GROUPS.includes(task)) assert.equal(code, 0, `${task} stopped gracefully on its kill_signal`);
  });

  test("nomad job cluster - three NATS servers routed to each other, one process per Colmena group running what its task renders", async () => {
    for (const t of jobs!.nats) {
      const routez = (await (await fetch(`http://127.0.0.1:${t.ports.monitor}/routez`)).json()) as { num_routes: number };
      assert.ok(routez.num_routes >= 2, `${t.group}: routes to the other two servers`);
    }
    assert.deepEqual(jobs!.colmena.map((t) => t.group).sort(), [...COLMENA_GROUPS].sort());
    const restarted = [...jobs!.nats, ...jobs!.colmena].filter((t) => t.restarts > 0);
    if (restarted.length > 0) console.log(`restarted by their group's restart policy before they were up: ${restarted.map((t) => `${t.group} ×${t.restarts}`).join(", ")}`);
    for (const t of jobs!.colmena) {
      assert.equal(t.rendered.command, colmena);
      assert.equal(t.rendered.args[0], "node");
      const creds = join(dir, "alloc", `${t.group}-0`, t.task, "secrets", "nats.creds");
      assert.equal((await stat(creds)).mode & 0o077, 0, `${t.group}: the creds template's perms`);
    }
  });

  test("nomad job cluster - a document ingested through the bridge group is answered there", { timeout: 180_000 }, async () => {
    const headers = { "content-type": "application/json", authorization: `Bearer ${key}` };
    const ingest = await fetch(`${bridge}/v1/documents`, { method: "POST", headers, body: JSON.stringify({ documents: [{ id: "hives", text: "Honey bees live in hives. A hive holds one queen and thousands of workers." }] }) });
    assert.equal(ingest.status, 202, await ingest.text());
    let answer: { answer?: string; sources?: Array<{ docId?: string; id?: string }> } = {};
    // Ingest is acknowledged once stored; chunking, embedding and the shard's apply follow on other groups.
    await waitFor(
      "the question to be answered from the ingested document",
      async () => {
        const res = await fetch(`${bridge}/v1/query`, { method: "POST", headers, body: JSON.stringify({ question: "Where do honey bees live?" }) });
        if (res.status !== 200) return false;
        answer = (await res.json()) as typeof answer;
        return (answer.sources?.length ?? 0) > 0;
      },
      150_000,
    );
    assert.equal(typeof answer.answer, "string");
    assert.ok(answer.answer!.length > 0, "the llm group generated an answer");
    assert.match(JSON.stringify(answer.sources), /hives/);
  });

  test("nomad job cluster - every group serves its /metrics where its colmena-metrics service points", async () => {
    for (const t of jobs!.colmena) {
      const port = t.group === "bridge" ? t.ports.http : t.ports.metrics;
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(text, /^# TYPE colmena_actor_slots gauge$/m, t.group);
    }
  });
});
