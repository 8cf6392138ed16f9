import { formatThreshold } from "../thresholds.js";
import type { Report } from "./report.js";
import type { WrittenReport } from "./write.js";

/** The terminal summary of a run: one line per phase, the scenario's tables, memory, notes, the PASS/FAIL lines and where the reports are. */
export function printSummary(out: NodeJS.WritableStream, r: Report, files: WrittenReport): void {
  const f = (x: number | undefined, d = 1) => (x !== undefined && Number.isFinite(x) ? x.toFixed(d) : "–");
  out.write(`\n${r.scenario} on ${r.machine.cpus} CPUs (${r.machine.cpuModel}), Node ${r.machine.node}, git ${r.git.slice(0, 12)}\n`);
  for (const p of r.phases) {
    const l = (p.ops.query ?? p.ops.ingest)?.ok;
    out.write(
      `  ${p.name.padEnd(28)} offered ${f(p.offeredRate).padStart(7)}/s  achieved ${f(p.achievedRate).padStart(7)}/s  ok ${String(p.ok).padStart(6)}  shed ${String(p.shed).padStart(5)}  errors ${String(p.errors).padStart(4)}  dropped ${String(p.dropped).padStart(4)}  p50 ${f(l?.p50).padStart(7)} ms  p99 ${f(l?.p99).padStart(8)} ms${p.ops.query?.cachedShare !== undefined && Number.isFinite(p.ops.query.cachedShare) ? `  cached ${(p.ops.query.cachedShare * 100).toFixed(0)}%` : ""}\n`,
    );
  }
  for (const t of r.tables) {
    out.write(`\n${t.title}\n`);
    const widths = t.columns.map((c, i) => Math.max(c.length, ...t.rows.map((row) => String(row[i]).length)));
    const line = (cells: Array<string | number>) => `  ${cells.map((c, i) => String(c).padEnd(widths[i]!)).join("  ")}\n`;
    out.write(line(t.columns));
    for (const row of t.rows) out.write(line(row));
  }
  const m = r.memory.summary;
  out.write(`\nserver memory: first ${f(m.firstMb, 0)} MiB, max ${f(m.maxMb, 0)} MiB, growth ${f(m.growthMb, 0)} MiB (${m.samples} samples)\n`);
  for (const n of r.notes) out.write(`note: ${n}\n`);
  out.write("\n");
  for (const t of r.thresholds) out.write(`${formatThreshold(t)}\n`);
  out.write(`\nreports: ${files.markdown}\n         ${files.json}\n         ${files.svg}\n`);
}
