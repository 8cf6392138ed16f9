import { request } from "undici";

/**
 * The bridge's own timing of the answers it shed (429 and 503), read from
 * its `/metrics` histogram `colmena_http_request_duration_seconds`: the time
 * from the request's arrival to its last byte inside the server, without the
 * network stack, the OS scheduler and the load generator that the client's
 * figure includes.
 */
export interface ShedTiming {
  count: number;
  sumSeconds: number;
  /** Cumulative counts per bucket bound (seconds). */
  buckets: Map<number, number>;
}

const LINE = /^colmena_http_request_duration_seconds_(bucket|sum|count)\{([^}]*)\} (\S+)$/;

export async function readShedTiming(httpUrl: string, apiKey?: string): Promise<ShedTiming | undefined> {
  try {
    const res = await request(`${httpUrl}/metrics`, { signal: AbortSignal.timeout(2_000), ...(apiKey && { headers: { authorization: `Bearer ${apiKey}` } }) });
    const text = await res.body.text();
    return res.statusCode === 200 ? parseShedTiming(text) : undefined;
  } catch {
    return undefined;
  }
}

export function parseShedTiming(metrics: string): ShedTiming {
  const out: ShedTiming = { count: 0, sumSeconds: 0, buckets: new Map() };
  for (const line of metrics.split("\n")) {
    const m = LINE.exec(line);
    if (!m || !/status="(429|503)"/.test(m[2]!)) continue;
    const value = Number(m[3]);
    if (m[1] === "count") out.count += value;
    else if (m[1] === "sum") out.sumSeconds += value;
    else {
      const le = Number(/le="([^"]+)"/.exec(m[2]!)?.[1]);
      out.buckets.set(le, (out.buckets.get(le) ?? 0) + value);
    }
  }
  return out;
}

/** What was shed between two readings, as a sentence for the report (undefined when nothing was). */
export function describeShedTiming(before: ShedTiming, after: ShedTiming): string | undefined {
  const count = after.count - before.count;
  if (count <= 0) return undefined;
  const meanMs = ((after.sumSeconds - before.sumSeconds) / count) * 1000;
  const within = [0.001, 0.005]
    .filter((le) => after.buckets.has(le))
    .map((le) => `${((100 * ((after.buckets.get(le) ?? 0) - (before.buckets.get(le) ?? 0))) / count).toFixed(2)}% within ${le * 1000} ms`);
  return `inside the server (its own /metrics histogram) the ${count} shed answers took ${meanMs.toFixed(2)} ms on average${within.length ? `, ${within.join(", ")}` : ""}; the client's figure adds the network stack, the OS scheduler and the load generator`;
}
