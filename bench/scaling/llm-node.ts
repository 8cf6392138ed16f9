/**
 * One llm node of the scaling benchmark, as its own process: an ActorSystem
 * hosting the llm pool with the openai backend in front of its own engine.
 * Argv: natsUrl namespace nodeId engineUrl sequences (how many generations
 * the node keeps at its engine at once). Prints "ready".
 */
import { pino } from "pino";
import { llmKind } from "../../actors/index.js";
import { ActorSystem, loadConfig, RuntimeConfigSchema } from "../../runtime/index.js";

const [natsUrl, namespace, nodeId, engineUrl, slotsArg = "8"] = process.argv.slice(2);
const slots = Number(slotsArg);
const config = loadConfig(RuntimeConfigSchema, { flags: { "nats.servers": natsUrl!, namespace: namespace!, nodeId: nodeId!, "runtime.heartbeatMs": 500, "runtime.leaseMs": 2_000 } });
const llm = llmKind({
  backend: { type: "openai", baseUrl: engineUrl!, model: "bench-engine", maxConcurrent: slots },
  limits: { maxConcurrentSequences: slots, maxWaiting: 1_000 },
});
const system = await ActorSystem.start({ config, kinds: [llm], log: pino({ level: "warn" }), roles: ["llm"] });
process.stdout.write("ready\n");
const stop = () => void system.shutdown().then(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
