// The public surface of nats/: connection, codec, subjects, the embedded server, KV and JetStream helpers.
export { Codec, DEFAULT_MAX_PAYLOAD } from "./codec.js";
export { connectNats, type NatsAuth, type NatsConnectOptions } from "./connection.js";
export { ColmenaError, ERROR_CODES, isColmenaError, type ErrorCode, type WireError } from "./errors.js";
export { isRevisionConflict, openBucket, type BucketOptions } from "./kv.js";
export { freePort, NATS_INSTALL_HINT, startNatsServer, type NatsServer, type NatsServerOptions } from "./server.js";
export { MAX_KEY_LENGTH, Subjects, subjectToken } from "./subjects.js";
export {
  ensureDurable,
  ensureStream,
  isNotFound,
  jetStreamError,
  jetStreamManagerOf,
  jetStreamOf,
  lastSequenceOn,
  recreateDurable,
  type DurableSpec,
  type StreamSpec,
} from "./jetstream.js";
