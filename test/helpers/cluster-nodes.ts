import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import type { TestContext } from "node:test";
import { startTestCluster, type TestCluster } from "./nats-cluster.js";
import { startColmenaNode, type ColmenaProcess } from "./colmena-process.js";
import { waitFor } from "./wait.js";

/**
 * Three `colmena node` processes on a 3-server cluster, two of them bridges,
 * with a first document searchable through both, and a steady question and
 * ingest rate to lose a part under (the cluster black-box tests). With
 * `replicas` 2 (node loss) the index's shard has two replicas, so losing one
 * node leaves a replica to answer; the nodes start together, so the
 * replicas are placed among all three (a node started alone would take
 * both).
 */
export interface ClusterNodes {
  cluster: TestCluster;
  nodes: ColmenaProcess[];
  /** Node ids as given; a bridge node's actors run in its worker thread as `<id>-a0`. */
  ids: string[];
  /** Documents whose ingest was acknowledged (202). */
  acked: number[];
  /** The next document's number. */
  nextDoc: number;
  stop(): Promise<void>;
}

export async function startClusterNodes(options: { replicas?: number } = {}): Promise<ClusterNodes> {
  const cluster = await startTestCluster(3);
  const common = ["--nats", cluster.urls.join(","), "--set", "nats.reconnectTimeWaitMs=200", "--set", "nats.reconnectJitterMs=0", "--set", `retrieval.indexes=[{"replicas":${options.replicas ?? 1}}]`];
  const all = "embedder,shard,ingest,query,llm,session";
  const ids = ["fo-a", "fo-b", "fo-c"];
  const nodes: ColmenaProcess[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await cluster.stop();
  };
  try {
    const started = await Promise.allSettled(ids.map((id, i) => startColmenaNode(["--roles", i < 2 ? `bridge,${all}` : all, "--set", `nodeId=${id}`, ...common])));
    for (const s of started) if (s.status === "fulfilled") nodes.push(s.value);
    const failed = started.find((s) => s.status === "rejected");
    if (failed) throw failed.reason;
    const res = await post(nodes[0]!.httpUrl, "/v1/documents", { documents: [doc(0)] });
    assert.equal(res.status, 202, await res.text());
    await waitFor("the first document is searchable through both bridges", async () => (await findable(nodes[0]!.httpUrl, 0)) && (await findable(nodes[1]!.httpUrl, 0)), 120_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { cluster, nodes, ids, acked: [0], nextDoc: 1, stop };
}

export const post = (base: string, path: string, body: unknown, timeoutMs = 30_000) =>
  fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
/** A word only document n holds (letters only, so no tokenizer splits it): 0 → "zqa", 27 → "zqbb". */
export const codeword = (n: number) => `zq${[...n.toString(26)].map((c) => String.fromCharCode(97 + parseInt(c, 26))).join("")}`;
export const doc = (n: number) => ({ id: `fo-${n}`, text: `# Note ${n}\n\nA failover note: its codeword is ${codeword(n)}.` });
export async function findable(base: string, n: number): Promise<boolean> {
  const res = await post(base, "/v1/query", { question: `codeword ${codeword(n)}`, top_k: 5 });
  if (res.status !== 200) return false;
  return ((await res.json()) as { sources: Array<{ doc_id: string }> }).sources.some((s) => s.doc_id === `fo-${n}`);
}

export interface Outcome {
  sentAt: number;
  /** How long the answer (or the failure) took. */
  ms: number;
  ok: boolean;
  what: string;
}

/**
 * ~10 questions/s through `bridges` for `ms`, a document every fifth, and
 * `kill` run after 3 s. A question fails unless it is answered 200 from
 * every shard (a partial answer is a failure too). Returns the outcomes, the kill's time and the
 * ingests not acknowledged (`+<ms after the kill> <status> <body>`); asserts
 * that questions went on after the last failure and were all answered.
 */
export async function steadyWithLoss(t: TestContext, c: ClusterNodes, bridges: string[], ms: number, kill: () => void): Promise<{ failed: Outcome[]; outcomes: Outcome[]; killedAt: number; refusedIngests: string[] }> {
  const questions: Array<Promise<Outcome>> = [];
  const ingests: Array<Promise<void>> = [];
  const refused: string[] = [];
  let slowestIngest = 0;
  let killedAt = 0;
  const start = Date.now();
  for (let i = 0; Date.now() - start < ms; i++) {
    const base = bridges[i % bridges.length]!;
    const sentAt = Date.now();
    questions.push(
      post(base, "/v1/query", { question: "What is in the failover note?", top_k: 3 })
        .then(async (r) => {
          const text = await r.text();
          const partial = r.status === 200 && (JSON.parse(text) as { partial?: boolean }).partial === true;
          return { sentAt, ms: Date.now() - sentAt, ok: r.status === 200 && !partial, what: `${r.status} ${r.status === 200 && !partial ? "" : text.slice(0, 160)}` };
        })
        .catch((err: unknown) => ({ sentAt, ms: Date.now() - sentAt, ok: false, what: String(err) })),
    );
    if (i % 5 === 0) {
      const n = c.nextDoc++;
      const sentAt = Date.now();
      ingests.push(
        post(base, "/v1/documents", { documents: [doc(n)] }).then(
          async (r) => {
            slowestIngest = Math.max(slowestIngest, Date.now() - sentAt);
            if (r.status === 202) c.acked.push(n);
            else refused.push(`+${sentAt - killedAt} ms ${r.status} ${(await r.text()).slice(0, 120)}`);
          },
          (err: unknown) => void refused.push(`+${sentAt - killedAt} ms ${String(err).slice(0, 120)}`),
        ),
      );
    }
    if (killedAt === 0 && Date.now() - start > 3_000) {
      killedAt = Date.now();
      kill();
    }
    await sleep(100);
  }
  const outcomes = await Promise.all(questions);
  await Promise.all(ingests);
  // What failed before the loss is the machine's load (429s, a timeout), not the loss: reported, and the window is what failed after it.
  const early = outcomes.filter((o) => !o.ok && o.sentAt < killedAt);
  if (early.length) t.diagnostic(`${early.length} failed before the loss: ${early.map((o) => o.what.slice(0, 60)).join("; ")}`);
  const failed = outcomes.filter((o) => !o.ok && o.sentAt >= killedAt);
  const last = failed.length ? Math.max(...failed.map((f) => f.sentAt)) : killedAt;
  t.diagnostic(`${outcomes.length} questions, ${failed.length} failed after the loss, the last sent ${last - killedAt} ms after it (error window ${last - killedAt} ms); ${c.acked.length} documents acknowledged so far`);
  for (const f of failed.slice(0, 5)) t.diagnostic(`  failed at +${f.sentAt - killedAt} ms: ${f.what}`);
  t.diagnostic(`slowest ingest answer ${slowestIngest} ms`);
  if (refused.length) t.diagnostic(`${refused.length} ingests not acknowledged: ${refused.join("; ")}`);
  // A question may survive the loss only by waiting it out: how long the answers sent around it took says so.
  const around = outcomes.filter((o) => o.ok && o.sentAt >= killedAt - 1_000);
  const slowest = around.reduce((a, o) => (o.ms > a.ms ? o : a), { ms: 0, sentAt: killedAt });
  const before = outcomes.filter((o) => o.ok && o.sentAt < killedAt - 1_000).map((o) => o.ms).sort((a, b) => a - b);
  t.diagnostic(`slowest answer from 1 s before the loss on: ${slowest.ms} ms (sent at +${slowest.sentAt - killedAt} ms); median before it ${before[before.length >> 1] ?? 0} ms`);
  const later = outcomes.filter((o) => o.sentAt > last);
  if (failed.length > 0) nodesSaid(t, c);
  assert.ok(later.length >= 10, `questions went on after the window (${later.length})`);
  assert.ok(later.every((o) => o.ok), "every question sent after the window was answered");
  return { failed, outcomes, killedAt, refusedIngests: refused };
}

export async function everyAcknowledgedSearchable(t: TestContext, c: ClusterNodes, bridges: string[]): Promise<void> {
  try {
    for (const n of c.acked) await waitFor(`acknowledged document fo-${n} is searchable`, () => findable(bridges[n % bridges.length]!, n), 60_000);
  } catch (err) {
    nodesSaid(t, c);
    throw err;
  }
}

/** What the nodes said (warnings and errors), where a failure's cause shows. */
function nodesSaid(t: TestContext, c: ClusterNodes): void {
  for (const [i, n] of c.nodes.entries()) {
    const said = n.output().split("\n").filter((l) => l.startsWith("{") && !l.includes("ingest attempt failed"));
    for (const line of said.slice(-15)) t.diagnostic(`${c.ids[i]}: ${line.slice(0, 400)}`);
  }
}

