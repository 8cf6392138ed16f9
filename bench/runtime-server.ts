// The far side of the runtime benchmark, in its own process: hosts the Bench
// actor and, beside it, a raw NATS responder that does the same work (decode
// the msgpack request, encode the reply) without the runtime.
import { Packr } from "msgpackr";
import { pino } from "pino";
import { ActorSystem, loadConfig, RuntimeConfigSchema } from "../runtime/index.js";
import { Bench } from "./runtime-kinds.js";

const url = process.argv[2]!;
const config = loadConfig(RuntimeConfigSchema, { flags: { "nats.servers": url, nodeId: "bench-server" } });
const system = await ActorSystem.start({ config, kinds: [Bench], log: pino({ level: "warn" }) });
const packr = new Packr({ useRecords: false, moreTypes: true });
system.nc.subscribe("bench.raw", {
  callback: (_err, m) => {
    m.respond(packr.pack((packr.unpack(m.data) as { value: unknown }).value));
  },
});
await system.nc.flush();
process.stdout.write("ready\n");
process.once("SIGTERM", () => void system.shutdown().then(() => process.exit(0)));
