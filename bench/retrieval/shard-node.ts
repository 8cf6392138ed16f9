// A benchmark node hosting some shard replicas in its own process:
// argv: <nats url> <data dir> <index spec JSON> <comma-separated shard numbers>.
// Activates replica 0 of each of its shards (so they live here), prints "ready".
import { pino } from "pino";
import { IndexSpecSchema, ShardKind, shardActor, shardKey } from "../../actors/index.js";
import { ActorSystem, loadConfig, RuntimeConfigSchema } from "../../runtime/index.js";

const [url, dataDir, specJson, shardList] = process.argv.slice(2);
const spec = IndexSpecSchema.parse(JSON.parse(specJson!));
const config = loadConfig(RuntimeConfigSchema, { flags: { "nats.servers": url, "log.level": "warn" } });
const system = await ActorSystem.start({ config, kinds: [shardActor({ dataDir: dataDir!, indexes: [spec] })], log: pino({ level: "warn" }) });
for (const s of shardList!.split(",").map(Number)) await system.ref(ShardKind, shardKey(spec.name, s, 0)).ask({ type: "stats" }, { timeoutMs: 120_000 });
process.stdout.write("ready\n");
process.once("SIGTERM", () => void system.shutdown().then(() => process.exit(0)));
