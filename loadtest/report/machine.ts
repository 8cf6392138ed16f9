import { execFileSync } from "node:child_process";
import { arch, cpus, freemem, loadavg, platform, release, totalmem } from "node:os";

export interface Machine {
  os: string;
  arch: string;
  cpus: number;
  cpuModel: string;
  memoryMb: number;
  freeMemoryMb: number;
  loadAverage: number[];
  node: string;
}

/** The machine a run was measured on: every figure means something only beside it. */
export function machine(): Machine {
  const list = cpus();
  return {
    os: `${platform()} ${release()}`,
    arch: arch(),
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? "unknown",
    memoryMb: Math.round(totalmem() / 1024 / 1024),
    freeMemoryMb: Math.round(freemem() / 1024 / 1024),
    loadAverage: loadavg().map((x) => Number(x.toFixed(2))),
    node: process.version,
  };
}

/** `git rev-parse HEAD` of the working directory (with "+dirty" when it has changes), or "unknown". */
export function gitRevision(cwd = process.cwd()): string {
  try {
    const rev = execFileSync("git", ["rev-parse", "HEAD"], { cwd, stdio: ["ignore", "pipe", "ignore"], timeout: 5_000 }).toString().trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd, stdio: ["ignore", "pipe", "ignore"], timeout: 5_000 }).toString().trim();
    return rev ? `${rev}${dirty ? "+dirty" : ""}` : "unknown";
  } catch {
    return "unknown";
  }
}
