import { mkdir, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { renderChart } from "./chart.js";
import { renderMarkdown } from "./markdown.js";
import type { Report } from "./report.js";

export interface WrittenReport {
  json: string;
  markdown: string;
  svg: string;
}

/** The latency-over-time chart of a report: p50/p99 per second, offered vs achieved rate, server memory. */
export function reportChart(r: Report): string {
  const tl = r.timeline;
  return renderChart({
    title: `Colmena load test: ${r.scenario} — ${r.passed ? "PASS" : "FAIL"}`,
    subtitle: `${r.startedAt} · git ${r.git.slice(0, 12)} · ${r.machine.cpus} CPUs, ${r.machine.memoryMb} MiB, Node ${r.machine.node} · ${r.target.driver}`,
    markers: r.markers,
    panels: [
      {
        title: "Latency of successful answers, by due second",
        unit: "ms, log",
        log: true,
        series: [
          { name: "p50", color: "#1f77b4", points: tl.map((w) => [w.t + 0.5, w.p50]) },
          { name: "p99", color: "#d62728", points: tl.map((w) => [w.t + 0.5, w.p99]) },
        ],
      },
      {
        title: "Throughput",
        unit: "requests/s",
        series: [
          { name: "offered", color: "#7f7f7f", dash: "5,3", points: tl.map((w) => [w.t + 0.5, w.offered]) },
          { name: "achieved", color: "#2ca02c", points: tl.map((w) => [w.t + 0.5, w.achieved]) },
          { name: "shed", color: "#ff7f0e", points: tl.map((w) => [w.t + 0.5, w.shed]) },
          { name: "errors+dropped", color: "#9467bd", points: tl.map((w) => [w.t + 0.5, w.errors + w.dropped]) },
        ],
      },
      {
        title: "Server memory (RSS, all nodes)",
        unit: "MiB",
        series: [{ name: "rss", color: "#8c564b", points: r.memory.samples.map((s) => [s.t, s.totalMb]) }],
      },
    ],
  });
}

/** Writes `<name>.json`, `<name>.md` and `<name>.svg` into `dir`. */
export async function writeReports(dir: string, name: string, report: Report): Promise<WrittenReport> {
  await mkdir(dir, { recursive: true });
  const files = { json: join(dir, `${name}.json`), markdown: join(dir, `${name}.md`), svg: join(dir, `${name}.svg`) };
  await writeFile(files.json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(files.svg, reportChart(report));
  await writeFile(files.markdown, renderMarkdown(report, basename(files.svg)));
  return files;
}
