import { execFile } from "node:child_process";
import { Gauge, type Registry } from "prom-client";

/** What `nvidia-smi` is asked, in this order: one CSV line per device. */
export const GPU_QUERY = ["index", "name", "utilization.gpu", "memory.used", "memory.total"] as const;

/** One device's figures; a figure the device does not report (`[N/A]`, `[Not Supported]`) is undefined. */
export interface GpuReading {
  index: string;
  name: string;
  /** 0–1. */
  utilization: number | undefined;
  usedBytes: number | undefined;
  totalBytes: number | undefined;
}

const MIB = 1024 * 1024;

/**
 * Parses `nvidia-smi --query-gpu=<GPU_QUERY> --format=csv,noheader,nounits`:
 * one line per device, comma-separated (a name holds no comma). Lines that
 * are not five fields with a numeric index are passed over.
 */
export function parseNvidiaSmi(csv: string): GpuReading[] {
  const readings: GpuReading[] = [];
  for (const line of csv.split(/\r?\n/)) {
    const fields = line.split(",").map((f) => f.trim());
    if (fields.length !== GPU_QUERY.length || !/^\d+$/.test(fields[0]!)) continue;
    const [index, name, util, used, total] = fields as [string, string, string, string, string];
    const num = (s: string) => (/^\d+(\.\d+)?$/.test(s) ? Number(s) : undefined);
    const times = (n: number | undefined, k: number) => (n === undefined ? undefined : n * k);
    readings.push({ index, name, utilization: times(num(util), 0.01), usedBytes: times(num(used), MIB), totalBytes: times(num(total), MIB) });
  }
  return readings;
}

export interface GpuMetricsOptions {
  registry: Registry;
  /** The command; `nvidia-smi` on PATH by default. */
  command?: string;
  /** A query that takes longer gives no figures for that scrape. */
  timeoutMs?: number;
  /** Scrapes within this long of a query reuse its answer (several Prometheus servers, a dashboard's refresh). */
  cacheMs?: number;
}

function query(command: string, timeoutMs: number): Promise<GpuReading[]> {
  return new Promise((resolve, reject) => {
    execFile(command, [`--query-gpu=${GPU_QUERY.join(",")}`, "--format=csv,noheader,nounits"], { timeout: timeoutMs, windowsHide: true }, (err, stdout) => {
      if (err) reject(err);
      else resolve(parseNvidiaSmi(stdout));
    });
  });
}

/**
 * GPU utilisation and memory per device, from `nvidia-smi`, asked at scrape
 * time (with a timeout, its answer kept `cacheMs`). Where the command is
 * missing or answers nothing it can read, no family is registered and
 * nothing fails: false. Labels are the device index and model name, bounded
 * by the devices of the machine.
 */
export async function collectGpuMetrics(options: GpuMetricsOptions): Promise<boolean> {
  const { registry, command = "nvidia-smi", timeoutMs = 2_000, cacheMs = 5_000 } = options;
  let first: GpuReading[];
  try {
    first = await query(command, timeoutMs);
  } catch {
    return false;
  }
  if (first.length === 0) return false;
  let cached = { at: Date.now(), readings: Promise.resolve(first) };
  const readings = (): Promise<GpuReading[]> => {
    if (Date.now() - cached.at >= cacheMs) cached = { at: Date.now(), readings: query(command, timeoutMs).catch(() => []) };
    return cached.readings;
  };
  const labelNames = ["gpu", "name"] as const;
  const gauge = (name: string, help: string, pick: (r: GpuReading) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        for (const r of await readings()) {
          const value = pick(r);
          if (value !== undefined) this.set({ gpu: r.index, name: r.name }, value);
        }
      },
    });
  gauge("colmena_gpu_utilization_ratio", "Share of the last sample period a GPU was busy (nvidia-smi utilization.gpu)", (r) => r.utilization);
  gauge("colmena_gpu_memory_used_bytes", "GPU memory in use", (r) => r.usedBytes);
  gauge("colmena_gpu_memory_total_bytes", "GPU memory in all", (r) => r.totalBytes);
  return true;
}
