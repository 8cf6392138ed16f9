/**
 * Closed-loop HTTP load for the node benchmark: `connections` clients, each
 * asking its next question as soon as the last one is answered, for a fixed
 * time. Every question is distinct (`Questions`), so no answer comes from a
 * cache.
 */
import { Pool } from "undici";
import type { Question } from "../../eval/index.js";

/** The evaluation's questions, then each again with a round number, so the n-th question is never an earlier one. */
export class Questions {
  #next = 0;
  constructor(private readonly base: readonly Question[]) {}

  next(): string {
    const i = this.#next++;
    const q = this.base[i % this.base.length]!.question;
    const round = Math.floor(i / this.base.length);
    return round === 0 ? q : `${q} (${round})`;
  }
}

export interface LoadResult {
  /** Answers per second (200s only). */
  rps: number;
  /** Each answered question's round trip, µs. */
  latencies: number[];
  errors: number;
  /** The first error seen, for the report. */
  firstError?: string;
}

export async function closedLoop(url: string, questions: Questions, connections: number, seconds: number): Promise<LoadResult> {
  const pool = new Pool(url, { connections, pipelining: 1 });
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const end = performance.now() + seconds * 1_000;
  const started = performance.now();
  try {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < end) {
          const body = JSON.stringify({ question: questions.next() });
          const t = process.hrtime.bigint();
          try {
            const res = await pool.request({ path: "/v1/query", method: "POST", headers: { "content-type": "application/json" }, body });
            const text = await res.body.text();
            if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${text.slice(0, 200)}`);
            latencies.push(Number(process.hrtime.bigint() - t) / 1_000);
          } catch (err) {
            errors++;
            firstError ??= (err as Error).message;
          }
        }
      }),
    );
  } finally {
    await pool.close();
  }
  const elapsed = (performance.now() - started) / 1_000;
  return { rps: latencies.length / elapsed, latencies, errors, ...(firstError !== undefined && { firstError }) };
}
