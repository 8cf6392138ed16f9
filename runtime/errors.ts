// The wire error type is defined where bytes cross the wire (nats/errors.ts);
// actor code imports it from the runtime, whose public surface it is part of.
export * from "../nats/errors.js";
