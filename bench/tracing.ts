// `npm run bench -- tracing`: what traces cost. The same two workloads (actor
// asks between two nodes over NATS; questions over HTTP through the bridge,
// the pipeline and every actor) with tracing off, on with every trace
// sampled, and on with 1% sampled (parentbased_traceidratio), each case in
// its own process, configured only by OTEL_* as a node is, exporting OTLP
// http/protobuf to a receiver in this process that reads and drops what it
// gets. Cases alternate over `BENCH_TRACING_ROUNDS` rounds (default 2) so
// drift hits them alike; the best figure of each case is kept. One JSON object per
// line: each case, then its ratios against tracing off.
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { report, round } from "./stats.js";

const ROUNDS = Number(process.env.BENCH_TRACING_ROUNDS ?? 2);

let exported = 0;
const receiver = createServer((req, res) => {
  req.on("data", (c: Buffer) => (exported += c.length));
  req.on("end", () => res.writeHead(200, { "content-type": "application/x-protobuf" }).end());
});
await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

const traced = (sampler: string, arg?: string) => ({
  OTEL_TRACES_EXPORTER: "otlp",
  OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
  OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
  OTEL_TRACES_SAMPLER: sampler,
  ...(arg !== undefined && { OTEL_TRACES_SAMPLER_ARG: arg }),
});
const CASES: Record<string, Record<string, string>> = {
  off: {},
  "sampled-100": traced("parentbased_always_on"),
  "sampled-1": traced("parentbased_traceidratio", "0.01"),
};

interface Figures {
  askP50Us: number;
  askP99Us: number;
  asksPerSecond: number;
  questionsPerSecond: number;
  questionP50Ms: number;
  questionP99Ms: number;
}

async function runCase(env: Record<string, string>): Promise<Figures> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("OTEL_")));
  const child = spawn(process.execPath, [fileURLToPath(new URL("./tracing/case.js", import.meta.url))], { env: { ...clean, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`tracing case exited with ${code}`);
  return JSON.parse(out.trim().split("\n").at(-1)!) as Figures;
}

// The best of each figure over the rounds (most per second, least latency): the least disturbed run of each case.
const best = new Map<string, Figures>();
const keepBest = (name: string, f: Figures) => {
  const k = best.get(name);
  best.set(
    name,
    k === undefined
      ? f
      : {
          askP50Us: Math.min(k.askP50Us, f.askP50Us),
          askP99Us: Math.min(k.askP99Us, f.askP99Us),
          asksPerSecond: Math.max(k.asksPerSecond, f.asksPerSecond),
          questionsPerSecond: Math.max(k.questionsPerSecond, f.questionsPerSecond),
          questionP50Ms: Math.min(k.questionP50Ms, f.questionP50Ms),
          questionP99Ms: Math.min(k.questionP99Ms, f.questionP99Ms),
        },
  );
};
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, env] of Object.entries(CASES)) {
    const before = exported;
    const f = await runCase(env);
    report(`tracing.${name}`, { round: r + 1, ...f, exportedKiB: Math.round((exported - before) / 1024) });
    keepBest(name, f);
  }
}
const off = best.get("off")!;
for (const name of ["sampled-100", "sampled-1"]) {
  const on = best.get(name)!;
  report(`tracing.${name}.vs-off`, {
    askP50: round(on.askP50Us / off.askP50Us),
    asksPerSecond: round(on.asksPerSecond / off.asksPerSecond),
    questionsPerSecond: round(on.questionsPerSecond / off.questionsPerSecond),
    questionP50: round(on.questionP50Ms / off.questionP50Ms),
    questionP99: round(on.questionP99Ms / off.questionP99Ms),
  });
}
receiver.close();
