import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import { zodIssues } from "../../runtime/index.js";

const Schema = z.strictObject({ port: z.int().min(1), limits: z.strictObject({ burst: z.int() }).optional() });
const issuesOf = (value: unknown) => Schema.safeParse(value).error!;

test("zod issues - each issue as key: message, under a prefix, with its origin where known", () => {
  const error = issuesOf({ port: 0, limits: { burst: "x" } });
  assert.deepEqual(zodIssues(error), ["port: Too small: expected number to be >=1", "limits.burst: Invalid input: expected number, received string"]);
  const origins = new Map([["http.limits.burst", "env COLMENA_HTTP__LIMITS__BURST"]]);
  assert.deepEqual(zodIssues(error, { prefix: "http", origin: (key) => origins.get(key) }), [
    "http.port: Too small: expected number to be >=1",
    "http.limits.burst (from env COLMENA_HTTP__LIMITS__BURST): Invalid input: expected number, received string",
  ]);
});

test("zod issues - an unknown key is named itself, one entry per key; the value as a whole by its root name", () => {
  assert.deepEqual(zodIssues(issuesOf({ port: 1, limits: { burst: 1, bust: 2, brust: 3 } }), { origin: (key) => (key === "limits.bust" ? "flag --set" : undefined) }), [
    'limits.bust (from flag --set): Unrecognized keys: "bust", "brust"',
    'limits.brust: Unrecognized keys: "bust", "brust"',
  ]);
  assert.deepEqual(zodIssues(issuesOf("nope"), { root: "(message)" }), ["(message): Invalid input: expected object, received string"]);
  assert.deepEqual(zodIssues(issuesOf("nope")), ["(root): Invalid input: expected object, received string"]);
});
