// The public surface of nats/: connection, codec, the embedded server, KV and JetStream helpers, and their errors.
export { Codec, DEFAULT_MAX_PAYLOAD } from "./codec.js";
export { connectNats, type NatsAuth, type NatsConnectOptions } from "./connection.js";
export { isNatsError, NATS_ERROR_CODES, NatsError, type NatsErrorCode, type NatsErrorOptions } from "./errors.js";
export { isRevisionConflict, openBucket, replicaCount, type BucketOptions } from "./kv.js";
export { freePort, freePortBlock, NATS_INSTALL_HINT, startNatsServer, type NatsServer, type NatsServerOptions } from "./server.js";
export { startNatsCluster, type NatsCluster, type NatsClusterOptions } from "./cluster.js";
export { CLUSTER_CONFIG_DEFAULTS, clusterConfig, type ClusterConfig, type ClusterConfigOptions, type ServerConfig } from "./cluster-config.js";
export {
  ensureDurable,
  ensureStream,
  isNotFound,
  jetStreamError,
  jetStreamManagerOf,
  jetStreamOf,
  lastSequenceOn,
  recreateDurable,
  replaySubject,
  type DurableSpec,
  type StreamSpec,
} from "./jetstream.js";
