import type { LatencySummary } from "../histogram.js";
import type { PhaseSummary } from "../recorder.js";
import { formatThreshold } from "../thresholds.js";
import type { Report, Table } from "./report.js";

const ms = (x: number) => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)) : "–");
const num = (x: number, d = 1) => (Number.isFinite(x) ? String(Number(x.toFixed(d))) : "–");
const pct = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : "–");

function table(columns: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.map((c) => String(c).replace(/\|/g, "\\|")).join(" | ")} |`;
  return [line(columns), line(columns.map(() => "---")), ...rows.map(line)].join("\n");
}

function phaseRow(p: PhaseSummary): Array<string | number> {
  const q = p.ops.query;
  const latency = (p.ops.query ?? p.ops.ingest)?.ok;
  return [p.name, num(p.offeredRate), num(p.achievedRate), p.sent, p.dropped, p.ok, `${p.shed} (${p.shedWithRetryHint})`, p.errors, pct(q?.cachedShare), ms(latency?.p50 ?? NaN), ms(latency?.p99 ?? NaN), ms(latency?.max ?? NaN)];
}

const latencyCells = (s: LatencySummary) => [s.count, ms(s.p50), ms(s.p90), ms(s.p95), ms(s.p99), ms(s.p999), ms(s.max)];

/** The Markdown summary of a report: thresholds first, then phases, latencies, the scenario's tables, memory and configuration. */
export function renderMarkdown(r: Report, chartFile?: string): string {
  const m = r.machine;
  const out: string[] = [
    `# Colmena load test: ${r.scenario} — ${r.passed ? "PASS" : "FAIL"}`,
    "",
    `- started ${r.startedAt}, ${num(r.durationSeconds)} s`,
    `- git ${r.git}`,
    `- machine: ${m.os} ${m.arch}, ${m.cpus} × ${m.cpuModel}, ${m.memoryMb} MiB memory, Node ${m.node}, load average ${m.loadAverage.join(" ")}`,
    `- target: ${r.target.driver} → ${r.target.driver === "nats" ? r.target.nats : r.target.url}${r.target.spawned ? " (spawned `colmena up`)" : ""}; workload ${r.target.corpus}${r.target.documents !== undefined ? `, ${r.target.documents} documents ingested first` : ""}`,
    "",
    "## Thresholds",
    "",
    ...r.thresholds.map((t) => `- ${formatThreshold(t)}`),
    "",
  ];
  if (chartFile) out.push(`![latency and throughput over time](${chartFile})`, "");
  out.push(
    "## Phases",
    "",
    "Latency runs from each request's due time (open loop), in ms, for successful answers (queries when the phase has them). Shed: 429/503, with a retry hint in brackets.",
    "",
    table(["phase", "offered/s", "achieved/s", "sent", "dropped", "ok", "shed", "errors", "cached", "p50", "p99", "max"], [...r.phases, ...(r.total && r.phases.length > 1 ? [r.total] : [])].map(phaseRow)),
    "",
    "## Latency by operation and answer (ms)",
    "",
    table(
      ["phase", "operation", "answer", "count", "p50", "p90", "p95", "p99", "p99.9", "max"],
      r.phases.flatMap((p) => Object.entries(p.ops).flatMap(([op, s]) => Object.entries(s!.codes).map(([code, l]) => [p.name, op, code, ...latencyCells(l)]))),
    ),
    "",
  );
  for (const t of r.tables) out.push(renderTable(t), "");
  const mem = r.memory.summary;
  out.push(
    "## Server memory (RSS summed over nodes, MiB)",
    "",
    `first ${num(mem.firstMb)}, max ${num(mem.maxMb)}, last ${num(mem.lastMb)}, growth ${num(mem.growthMb)}; ${mem.samples} samples, ${mem.failedPolls} failed polls of GET /v1/status`,
    "",
  );
  if (r.notes.length) out.push("## Notes", "", ...r.notes.map((n) => `- ${n}`), "");
  out.push("## Configuration", "", "```json", JSON.stringify(r.config, null, 2), "```", "");
  return out.join("\n");
}

export function renderTable(t: Table): string {
  return `## ${t.title}\n\n${table(t.columns, t.rows)}`;
}
