import { pino } from "pino";
import { ActorSystem, loadConfig, RuntimeConfigSchema, type AnyHosted, type ActorSystemOptions } from "../../runtime/index.js";

/** An ActorSystem on a test server with short leases and a quiet logger. */
export function startTestSystem(
  url: string,
  kinds: AnyHosted[],
  options: Partial<ActorSystemOptions> & { nodeId?: string; flags?: Record<string, unknown> } = {},
): Promise<ActorSystem> {
  const config = loadConfig(RuntimeConfigSchema, {
    flags: {
      "nats.servers": url,
      "log.level": process.env.COLMENA_TEST_LOG ?? "silent",
      "runtime.heartbeatMs": 200,
      "runtime.leaseMs": 1_000,
      "runtime.shutdownGraceMs": 2_000,
      ...(options.nodeId && { nodeId: options.nodeId }),
      ...options.flags,
    },
  });
  return ActorSystem.start({ config, kinds, log: pino({ level: config.log.level }), ...options });
}
