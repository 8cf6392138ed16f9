import { request } from "undici";

/** The part of `GET /v1/status` the load generator reads. */
export interface StatusDocument {
  nodes?: Array<{ id?: string; roles?: string[]; load?: { rssMb?: number; inFlight?: number; mailbox?: number; pid?: number; host?: string } }>;
  ingest?: { pending?: number };
}

export async function fetchStatus(httpUrl: string, timeoutMs = 2_000, apiKey?: string): Promise<StatusDocument> {
  const res = await request(`${httpUrl}/v1/status`, {
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    signal: AbortSignal.timeout(timeoutMs),
    ...(apiKey && { headers: { authorization: `Bearer ${apiKey}` } }),
  });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`GET /v1/status → ${res.statusCode} ${text.slice(0, 200)}`);
  return JSON.parse(text) as StatusDocument;
}

export interface MemorySample {
  /** Seconds after the scenario's origin. */
  t: number;
  /** Resident memory per node id, MiB. */
  nodes: Record<string, number>;
  /** Summed over the processes (nodes in threads of one process report its memory once), MiB. */
  totalMb: number;
  /** Requests each node was working on at that moment (its `load.inFlight`): who takes the work. */
  inFlight: Record<string, number>;
  /** The node with the bridge role, the one the load enters through. */
  bridge?: string;
  /** The process each node runs in (nodes in threads of one process share it). */
  processOf: Record<string, string>;
}

export interface MemorySummary {
  samples: number;
  /** Summed over the nodes, MiB. */
  firstMb: number;
  maxMb: number;
  lastMb: number;
  /** max − first: how far the run pushed memory above where it began. */
  growthMb: number;
  /** Status polls that failed or timed out (the server too busy to answer counts here). */
  failedPolls: number;
}

/**
 * The server over the run: `GET /v1/status` once a second, every node's
 * `rssMb` (summed per process for the memory figures) and `inFlight`. A poll that fails
 * is counted, not fatal.
 */
export class ServerMonitor {
  readonly samples: MemorySample[] = [];
  #failed = 0;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;

  #httpUrl: string;

  constructor(
    httpUrl: string,
    readonly origin: number,
    readonly options: { intervalMs?: number; apiKey?: string } = {},
  ) {
    this.#httpUrl = httpUrl;
  }

  /** Polls another server from now on (a target started afresh). */
  retarget(httpUrl: string): void {
    this.#httpUrl = httpUrl;
  }

  start(): this {
    void this.poll();
    this.#timer = setInterval(() => void this.poll(), this.options.intervalMs ?? 1_000);
    return this;
  }

  async poll(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const status = await fetchStatus(this.#httpUrl, 2_000, this.options.apiKey);
      const nodes: Record<string, number> = {};
      const processes = new Map<string, number>();
      const processOf: Record<string, string> = {};
      const inFlight: Record<string, number> = {};
      let bridge: string | undefined;
      for (const [i, n] of (status.nodes ?? []).entries()) {
        const id = n.id ?? String(i);
        if (n.roles?.includes("bridge")) bridge ??= id;
        processOf[id] = n.load?.pid === undefined ? id : `${n.load.host === undefined ? "" : `${n.load.host} `}pid ${n.load.pid}`;
        if (typeof n.load?.rssMb === "number") {
          nodes[id] = n.load.rssMb;
          // Nodes of one process report its memory as of their last heartbeats: the highest is the latest while it grows.
          processes.set(processOf[id], Math.max(n.load.rssMb, processes.get(processOf[id]) ?? 0));
        }
        if (typeof n.load?.inFlight === "number") inFlight[id] = n.load.inFlight;
      }
      if (processes.size > 0) this.samples.push({ t: (performance.now() - this.origin) / 1000, nodes, totalMb: [...processes.values()].reduce((a, b) => a + b, 0), inFlight, processOf, ...(bridge && { bridge }) });
    } catch {
      this.#failed += 1;
    } finally {
      this.#busy = false;
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Over the samples taken since `sinceSeconds` (default: all). */
  summary(sinceSeconds = -Infinity): MemorySummary {
    const s = this.samples.filter((x) => x.t >= sinceSeconds);
    if (s.length === 0) return { samples: 0, firstMb: NaN, maxMb: NaN, lastMb: NaN, growthMb: NaN, failedPolls: this.#failed };
    const firstMb = s[0]!.totalMb;
    const maxMb = Math.max(...s.map((x) => x.totalMb));
    return { samples: s.length, firstMb, maxMb, lastMb: s[s.length - 1]!.totalMb, growthMb: maxMb - firstMb, failedPolls: this.#failed };
  }
}
