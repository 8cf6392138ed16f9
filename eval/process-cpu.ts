/**
 * CPU time a process and its descendants have used (user + system), read
 * from /proc: the figure a busy machine distorts least, since time spent
 * waiting for a core is not counted. Undefined where /proc is not there.
 */
import { readdirSync, readFileSync } from "node:fs";

/** Linux's USER_HZ, the unit of /proc/<pid>/stat times, is 100 on every architecture Node runs on. */
const TICKS_PER_SECOND = 100;

export function treeCpuMs(pid: number): number | undefined {
  let procs: string[];
  try {
    procs = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const name of procs) {
    try {
      // The command name, in parentheses, may hold spaces: the fields after its closing one are fixed.
      const text = readFileSync(`/proc/${name}/stat`, "utf8");
      const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
      stats.set(Number(name), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // gone meanwhile
    }
  }
  if (!stats.has(pid)) return undefined;
  let ticks = 0;
  const visit = (p: number) => {
    ticks += stats.get(p)!.ticks;
    for (const [child, s] of stats) if (s.ppid === p) visit(child);
  };
  visit(pid);
  return (ticks * 1_000) / TICKS_PER_SECOND;
}
