// The public surface of bridge/: the HTTP bridge and its access control, the NATS service API, and how errors look at the edge.
export { AUDIT_LOG, AuditLog, type AuditEvent, type AuditRetention } from "./auth/audit-log.js";
export { auditsAccess, AuthOptionsSchema, type AuthOptions } from "./auth/auth-options.js";
export { Authenticator, createAuthenticator } from "./auth/authenticator.js";
export { KeyStore, KEYS_BUCKET, type NewKeyRequest } from "./auth/key-store.js";
export type { KeyInfo } from "./auth/key-records.js";
export { CALLER_ROLES, ROUTE_PERMISSIONS, type CallerRole, type Permission } from "./auth/roles.js";
export { buildHttpBridge } from "./http/build-http-bridge.js";
export { HttpBridgeOptionsSchema, type HttpBridgeConfig, type HttpBridgeOptions } from "./http/options.js";
export { readTlsFiles, type TlsOptions } from "./http/tls.js";
export { NATS_API_OPERATIONS, NATS_SERVICE_NAME, natsApiSubject, startNatsService, type NatsServiceOptions } from "./nats-service.js";
export { edgeError, retryAfterSeconds, statusOf, toEdgeError, type EdgeError, type EdgeErrorCode, type ErrorBody } from "./errors.js";
export { CONTROL_CHARACTERS } from "./text-rules.js";
export { float32FromBase64, float32FromBytes, float32ToBase64 } from "./float32-base64.js";
