import assert from "node:assert/strict";
import { test } from "node:test";
import { describeShedTiming, parseShedTiming } from "../../loadtest/target/shed-timing.js";

const metrics = (shed429: [number, number, number], sum429: number, other: number) => `
# HELP colmena_http_request_duration_seconds HTTP request latency
colmena_http_request_duration_seconds_bucket{le="0.001",method="POST",route="/v1/query",status="429"} ${shed429[0]}
colmena_http_request_duration_seconds_bucket{le="0.005",method="POST",route="/v1/query",status="429"} ${shed429[1]}
colmena_http_request_duration_seconds_bucket{le="+Inf",method="POST",route="/v1/query",status="429"} ${shed429[2]}
colmena_http_request_duration_seconds_sum{method="POST",route="/v1/query",status="429"} ${sum429}
colmena_http_request_duration_seconds_count{method="POST",route="/v1/query",status="429"} ${shed429[2]}
colmena_http_request_duration_seconds_bucket{le="0.001",method="POST",route="/v1/query",status="200"} 0
colmena_http_request_duration_seconds_sum{method="POST",route="/v1/query",status="200"} ${other}
colmena_http_request_duration_seconds_count{method="POST",route="/v1/query",status="200"} ${other}
`;

test("loadtest - the server's own shed timing is read from its histogram, between two readings, 429s only", () => {
  const before = parseShedTiming(metrics([10, 10, 10], 0.005, 7));
  const after = parseShedTiming(metrics([90, 108, 110], 0.055, 900));
  assert.equal(after.count, 110);
  assert.equal(
    describeShedTiming(before, after),
    "inside the server (its own /metrics histogram) the 100 shed answers took 0.50 ms on average, 80.00% within 1 ms, 98.00% within 5 ms; the client's figure adds the network stack, the OS scheduler and the load generator",
  );
  assert.equal(describeShedTiming(after, after), undefined, "nothing shed in between");
});
