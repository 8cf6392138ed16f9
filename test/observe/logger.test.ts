import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import { createLogger } from "../../runtime/index.js";

function capture(): { lines: () => Record<string, unknown>[]; destination: Writable } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { destination, lines: () => chunks.join("").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test("logger - a line's fields stay on that line: later lines, of the root or a child, do not inherit them", () => {
  const out = capture();
  const log = createLogger({ level: "info", nodeId: "n1", destination: out.destination });
  log.info({ method: "POST", route: "/v1/query", status: 200 }, "request");
  log.child({ signal: "SIGINT" }).info("stopping");
  log.info("stopped");
  const [request, stopping, stopped] = out.lines();
  assert.equal(request!.route, "/v1/query");
  assert.deepEqual([stopping!.msg, stopping!.signal, stopping!.route, stopping!.status], ["stopping", "SIGINT", undefined, undefined]);
  assert.deepEqual([stopped!.msg, stopped!.node, stopped!.signal, stopped!.method], ["stopped", "n1", undefined, undefined]);
});
