/**
 * One node of the scaling benchmark's CPU-bound case, as its own process:
 * an ActorSystem hosting the retrieval kind, connected to every server of
 * the cluster. Argv: natsUrls(comma-separated) namespace nodeId. Prints
 * "ready" once its index is built.
 */
import { pino } from "pino";
import { ActorSystem, loadConfig, RuntimeConfigSchema } from "../../runtime/index.js";
import { Retrieve } from "./retrieval-kind.js";

const [urls, namespace, nodeId] = process.argv.slice(2);
const config = loadConfig(RuntimeConfigSchema, { flags: { "nats.servers": urls!, namespace: namespace!, nodeId: nodeId!, "runtime.heartbeatMs": 500, "runtime.leaseMs": 5_000 } });
const system = await ActorSystem.start({ config, kinds: [Retrieve], log: pino({ level: "warn" }) });
await system.pool(Retrieve).ask({ type: "search", q: 0 }, { timeoutMs: 120_000 }); // the pool answers
process.stdout.write("ready\n");
const stop = () => void system.shutdown().then(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
