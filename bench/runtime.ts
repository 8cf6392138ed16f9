// `npm run bench -- runtime`: the actor runtime against raw NATS, same run,
// same server, same payload. One JSON object per line.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Packr } from "msgpackr";
import { pino } from "pino";
import { startNatsServer } from "../nats/index.js";
import { ActorSystem, loadConfig, RuntimeConfigSchema, type ActorRef } from "../runtime/index.js";
import { Bench, LocalBench, PAYLOAD } from "./runtime-kinds.js";
import { report, round, sequential, summarize } from "./stats.js";

const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 5_000);
const THROUGHPUT = Number(process.env.BENCH_THROUGHPUT ?? 40_000);
const IN_FLIGHT = 64;
const LOCAL_TELLS = Number(process.env.BENCH_LOCAL_TELLS ?? 3_000_000);
const REMOTE_TELLS = Number(process.env.BENCH_REMOTE_TELLS ?? 200_000);

const dir = await mkdtemp(join(tmpdir(), "colmena-bench-"));
const server = await startNatsServer({ storeDir: join(dir, "js") });
const far = spawn(process.execPath, [...process.execArgv, fileURLToPath(new URL("./runtime-server.js", import.meta.url)), server.url], { stdio: ["ignore", "pipe", "inherit"] });
await new Promise<void>((resolve) => far.stdout!.on("data", (d: Buffer) => d.toString().includes("ready") && resolve()));

const config = loadConfig(RuntimeConfigSchema, { flags: { "nats.servers": server.url, nodeId: "bench-client" } });
const client = await ActorSystem.start({ config, log: pino({ level: "warn" }) });
const raw = await connect({ servers: server.url });
const packr = new Packr({ useRecords: false, moreTypes: true });
const ref = client.pool(Bench);
const rawBody = () => packr.pack({ type: "echo", value: PAYLOAD });

const rawAsk = async (nc: NatsConnection) => packr.unpack((await nc.request("bench.raw", rawBody(), { timeout: 10_000 })).data);
const actorAsk = (r: ActorRef<typeof Bench.messages>) => r.ask({ type: "echo", value: PAYLOAD });

async function throughput(fn: () => Promise<unknown>, n: number, inFlight: number): Promise<number> {
  let next = 0;
  const t = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next++ < n) await fn();
    }),
  );
  return n / (Number(process.hrtime.bigint() - t) / 1e9);
}

// Warm both paths (JIT, connections, subscriptions), then alternate blocks so drift hits both alike.
await sequential(() => rawAsk(raw), 2_000);
await sequential(() => actorAsk(ref), 2_000);
const rawLat: number[] = [];
const askLat: number[] = [];
for (let block = 0; block < 10; block++) {
  rawLat.push(...(await sequential(() => rawAsk(raw), SEQUENTIAL / 10)));
  askLat.push(...(await sequential(() => actorAsk(ref), SEQUENTIAL / 10)));
}
const r = summarize(rawLat);
const a = summarize(askLat);
report("ask-latency-sequential", {
  unit: "us",
  raw_p50: round(r.p50),
  ask_p50: round(a.p50),
  p50_ratio: round(a.p50 / r.p50, 3),
  raw_p99: round(r.p99),
  ask_p99: round(a.p99),
  p99_ratio: round(a.p99 / r.p99, 3),
  target: "ask p50 <= 1.15x raw",
  n: SEQUENTIAL,
});

const rawRps: number[] = [];
const askRps: number[] = [];
for (let block = 0; block < 4; block++) {
  rawRps.push(await throughput(() => rawAsk(raw), THROUGHPUT / 4, IN_FLIGHT));
  askRps.push(await throughput(() => actorAsk(ref), THROUGHPUT / 4, IN_FLIGHT));
}
const rawT = rawRps.reduce((x, y) => x + y) / rawRps.length;
const askT = askRps.reduce((x, y) => x + y) / askRps.length;
report("ask-throughput-64-in-flight", { unit: "req/s", raw: Math.round(rawT), ask: Math.round(askT), ratio: round(askT / rawT, 3), target: "ask >= 0.85x raw", n: THROUGHPUT });

// Remote tell: publish to the far process, then ask it how many arrived.
const before = await ref.ask({ type: "received" });
let t = process.hrtime.bigint();
for (let i = 0; i < REMOTE_TELLS; i++) {
  ref.tell({ type: "hit", value: PAYLOAD });
  if (i % 5_000 === 4_999) await client.nc.flush();
}
let got = 0;
for (let tries = 0; tries < 2_000 && got < REMOTE_TELLS; tries++) {
  got = (await ref.ask({ type: "received" })) - before;
  if (got < REMOTE_TELLS) await new Promise((res) => setTimeout(res, 5));
}
const remoteRate = got / (Number(process.hrtime.bigint() - t) / 1e9);

// Same-node tell: this process hosts its own instance of a kind no other node hosts.
const local = await ActorSystem.start({
  config: loadConfig(RuntimeConfigSchema, { flags: { "nats.servers": server.url, nodeId: "bench-local" } }),
  kinds: [LocalBench],
  log: pino({ level: "warn" }),
});
const localRef = local.pool(LocalBench);
const base = await localRef.ask({ type: "received" });
const msg = { type: "hit", value: PAYLOAD } as const;
t = process.hrtime.bigint();
for (let sent = 0; sent < LOCAL_TELLS; ) {
  for (let i = 0; i < 50_000; i++, sent++) localRef.tell(msg);
  await localRef.ask({ type: "received" }); // queued behind the window: the mailbox has drained when it answers
}
const localGot = (await localRef.ask({ type: "received" })) - base;
const localRate = localGot / (Number(process.hrtime.bigint() - t) / 1e9);
report("tell-throughput", {
  unit: "msg/s",
  same_node: Math.round(localRate),
  remote: Math.round(remoteRate),
  ratio: round(localRate / remoteRate, 1),
  delivered_same_node: localGot,
  delivered_remote: got,
  target: "same node >= 1,000,000 msg/s and >= 10x remote",
});

await local.shutdown();
await client.shutdown();
await raw.close();
far.kill("SIGTERM");
await new Promise((res) => far.once("exit", res));
await server.stop();
await rm(dir, { recursive: true, force: true });
