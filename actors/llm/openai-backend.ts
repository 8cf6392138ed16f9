/**
 * The "openai" backend: fronts one OpenAI-compatible engine (vLLM, llama.cpp
 * server, TGI) over HTTP. Generation is POST {baseUrl}/chat/completions with
 * `stream: true`, read as server-sent events; the health check is
 * GET {baseUrl}/models. A circuit breaker (cockatiel) counts engine failures
 * (connection errors, 5xx, timeouts, broken streams): after
 * `consecutiveFailures` of them the circuit opens and every request is
 * refused at once with a retryable UNAVAILABLE. Once `halfOpenAfterMs` has
 * passed, the next request first probes the engine with a health check; a
 * healthy answer closes the circuit, a failure keeps it open for another
 * period. Caller errors (4xx but 401/403/404/408/429) and cancellations do
 * not count.
 */
import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, IsolatedCircuitError, circuitBreaker, handleWhen } from "cockatiel";
import type { CircuitBreakerPolicy } from "cockatiel";
import { ColmenaError, invalid, isColmenaError, overloaded, ScopedSignal, systemClock } from "../../runtime/index.js";
import type { BackendHealth, ChatMessage, CircuitStatus, FinishReason, GenerateEvent, GenerateRequest, LlmBackend, Warn } from "./backend.js";
import { estimateTokens } from "./extractive.js";
import { validateRequest } from "./request.js";
import { SequenceSlots } from "./slots.js";
import { sseData } from "./sse.js";
import { StopScanner } from "./stop.js";

export interface OpenAiBackendOptions {
  /** The API root, e.g. "http://10.0.0.7:8000/v1". */
  baseUrl: string;
  model: string;
  apiKey?: string;
  /** Sequences in flight at once; more is OVERLOADED. Default 8. */
  maxConcurrent?: number;
  /** Until the response headers arrive. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** Longest silence between two chunks of a stream. Default 30 000 ms. */
  idleTimeoutMs?: number;
  /** Default 2 000 ms. */
  healthTimeoutMs?: number;
  breaker?: { consecutiveFailures?: number; halfOpenAfterMs?: number };
  /** A label for the engine's device. Default "remote". */
  device?: string;
  /** Default "openai:<model>". */
  id?: string;
  /** Receives circuit changes and engine failures. */
  warn?: Warn;
}

/** Engine failures: what the breaker counts. */
const countsAgainstEngine = (err: unknown) => isColmenaError(err) && (err.code === "UNAVAILABLE" || err.code === "TIMEOUT");

/** Stop strings the OpenAI API accepts per request; the rest are applied here. */
const MAX_ENGINE_STOPS = 4;

export class OpenAiBackend implements LlmBackend {
  readonly id: string;
  readonly device: string;
  readonly fellBackToCpu = false;
  readonly model: string;
  readonly slots: SequenceSlots;
  readonly #base: string;
  readonly #headers: Record<string, string>;
  readonly #connectTimeoutMs: number;
  readonly #idleTimeoutMs: number;
  readonly #healthTimeoutMs: number;
  readonly #halfOpenAfterMs: number;
  readonly #breaker: CircuitBreakerPolicy;
  readonly #warn: Warn;
  #openedAt = 0;
  #closed = false;

  constructor(opts: OpenAiBackendOptions) {
    let url: URL;
    try {
      url = new URL(opts.baseUrl);
    } catch {
      throw invalid(`baseUrl ${JSON.stringify(opts.baseUrl)} is not a URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw invalid(`baseUrl must be http(s), got ${url.protocol}`);
    this.#base = url.href.replace(/\/+$/, "");
    this.model = opts.model;
    this.id = opts.id ?? `openai:${opts.model}`;
    this.device = opts.device ?? "remote";
    this.#headers = { "content-type": "application/json", ...(opts.apiKey !== undefined && { authorization: `Bearer ${opts.apiKey}` }) };
    this.slots = new SequenceSlots(opts.maxConcurrent ?? 8, `engine ${this.#base}`);
    this.#connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.#idleTimeoutMs = opts.idleTimeoutMs ?? 30_000;
    this.#healthTimeoutMs = opts.healthTimeoutMs ?? 2_000;
    this.#halfOpenAfterMs = opts.breaker?.halfOpenAfterMs ?? 5_000;
    this.#warn = opts.warn ?? (() => {});
    this.#breaker = circuitBreaker(handleWhen(countsAgainstEngine), {
      halfOpenAfter: this.#halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(opts.breaker?.consecutiveFailures ?? 3),
    });
    this.#breaker.onBreak((reason) => {
      this.#openedAt = Date.now();
      const error = "error" in reason ? (reason.error as Error).message : "isolated";
      this.#warn("llm: engine circuit opened", { engine: this.#base, error, probeAfterMs: this.#halfOpenAfterMs });
    });
    this.#breaker.onReset(() => this.#warn("llm: engine circuit closed", { engine: this.#base }));
  }

  get circuit(): CircuitStatus {
    switch (this.#breaker.state) {
      case CircuitState.Closed:
        return "closed";
      case CircuitState.HalfOpen:
        return "half-open";
      case CircuitState.Open:
        return "open";
      default:
        return "isolated";
    }
  }

  /** The engine keeps its model warm itself; the actor checks its health instead. */
  async warmUp(): Promise<void> {}

  /** GET {baseUrl}/models through the breaker: UNAVAILABLE when the engine is down or its circuit is open. */
  health(): Promise<BackendHealth> {
    return this.#guarded(async () => {
      // Disposed when the check ends: AbortSignal.timeout would keep the signal, and all its listeners reach, until the timer fired.
      const timeout = new ScopedSignal(systemClock, this.#healthTimeoutMs, () => new ColmenaError("TIMEOUT", `engine ${this.#base}: health check timed out (${this.#healthTimeoutMs} ms)`));
      try {
        return await this.#checkHealth(timeout.signal);
      } finally {
        timeout.dispose();
      }
    });
  }

  async #checkHealth(signal: AbortSignal): Promise<BackendHealth> {
    const res = await this.#fetch(`${this.#base}/models`, { method: "GET", headers: this.#headers }, signal, "health check");
    if (res.status === 429) throw engineError(res.status, await bodyText(res), res.headers.get("retry-after"), "health check");
    // Any other refusal means the engine cannot serve: it counts, and a probe that gets one keeps the circuit open.
    if (!res.ok) throw new ColmenaError("UNAVAILABLE", `engine ${this.#base}: health check: HTTP ${res.status}`, { details: { status: res.status } });
    let models: string[];
    try {
      const body = (await res.json()) as { data?: Array<{ id?: unknown }> };
      models = (body.data ?? []).map((m) => String(m.id));
    } catch (cause) {
      throw new ColmenaError("UNAVAILABLE", `engine ${this.#base}: /models did not answer a model list`, { cause });
    }
    return { models, servesModel: models.includes(this.model) };
  }

  async *generate(req: GenerateRequest, signal: AbortSignal): AsyncGenerator<GenerateEvent, void> {
    validateRequest(req);
    if (this.#closed) throw new ColmenaError("UNAVAILABLE", `llm backend ${this.id} is closed`);
    this.slots.take();
    const estimatedPrompt = estimateTokens(req.messages.map((m) => m.content).join("\n"));
    const cancelled = (completion = 0): GenerateEvent => ({ type: "done", reason: "cancelled", promptTokens: estimatedPrompt, completionTokens: completion });
    const request = new AbortController();
    const onAbort = () => request.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    let idle: NodeJS.Timeout | undefined;
    try {
      if (signal.aborted) {
        yield cancelled();
        return;
      }
      // Out of rotation until a health probe says the engine is back.
      if (this.#breaker.state !== CircuitState.Closed) await this.health();
      let res: Response;
      try {
        res = await this.#guarded(() => this.#post(req, request, signal));
      } catch (err) {
        if (signal.aborted) {
          yield cancelled();
          return;
        }
        throw err;
      }
      const stops = new StopScanner(req.stop ?? []);
      let pieces = 0;
      let stoppedHere = false;
      let finish: FinishReason | undefined;
      let usage: { prompt_tokens?: number; completion_tokens?: number } | undefined;
      const armIdle = () => {
        clearTimeout(idle);
        idle = setTimeout(() => request.abort(new ColmenaError("TIMEOUT", `engine ${this.#base} sent nothing for ${this.#idleTimeoutMs} ms`)), this.#idleTimeoutMs);
      };
      armIdle();
      try {
        for await (const data of sseData(ticking(res.body!, armIdle))) {
          if (signal.aborted) break;
          if (data === "[DONE]") break;
          const chunk = parseChunk(data, this.#base);
          const choice = chunk.choices?.[0];
          const text = choice?.delta?.content ?? choice?.text;
          if (typeof text === "string" && text !== "") {
            pieces++;
            const piece = stops.push(text);
            if (piece.text !== "") yield { type: "token", text: piece.text };
            if (piece.stopped) {
              stoppedHere = true;
              break;
            }
          }
          if (choice?.finish_reason) finish = choice.finish_reason === "length" ? "length" : "stop";
          if (chunk.usage) usage = chunk.usage;
        }
      } catch (err) {
        if (signal.aborted) {
          yield cancelled(pieces);
          return;
        }
        const reason: unknown = request.signal.reason;
        const failure = isColmenaError(reason)
          ? reason
          : isColmenaError(err)
            ? err
            : new ColmenaError("UNAVAILABLE", `engine ${this.#base}: the stream broke: ${(err as Error).message}`, { cause: err });
        this.#recordFailure(failure);
        throw failure;
      }
      if (signal.aborted) {
        yield cancelled(pieces);
        return;
      }
      if (!stoppedHere) {
        const tail = stops.flush();
        if (tail !== "") yield { type: "token", text: tail };
      }
      yield {
        type: "done",
        reason: stoppedHere ? "stop" : (finish ?? "stop"),
        promptTokens: usage?.prompt_tokens ?? estimatedPrompt,
        completionTokens: Math.min(req.maxNewTokens, usage?.completion_tokens ?? pieces),
      };
    } finally {
      clearTimeout(idle);
      signal.removeEventListener("abort", onAbort);
      request.abort();
      this.slots.release();
    }
  }

  countTokens(text: string): number {
    return estimateTokens(text);
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  async #post(req: GenerateRequest, request: AbortController, caller: AbortSignal): Promise<Response> {
    const body = {
      model: this.model,
      messages: req.messages.map(({ role, content }: ChatMessage) => ({ role, content })),
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: req.maxNewTokens,
      temperature: req.temperature ?? 0,
      ...(req.topP !== undefined && { top_p: req.topP }),
      ...(req.topK !== undefined && req.topK > 0 && { top_k: req.topK }),
      ...(req.seed !== undefined && { seed: req.seed }),
      ...(req.stop !== undefined && req.stop.length > 0 && { stop: req.stop.slice(0, MAX_ENGINE_STOPS) }),
    };
    const timer = setTimeout(
      () => request.abort(new ColmenaError("TIMEOUT", `engine ${this.#base} did not answer within ${this.#connectTimeoutMs} ms`)),
      this.#connectTimeoutMs,
    );
    try {
      const res = await this.#fetch(
        `${this.#base}/chat/completions`,
        { method: "POST", headers: { ...this.#headers, accept: "text/event-stream" }, body: JSON.stringify(body) },
        request.signal,
        "chat completion",
        caller,
      );
      if (!res.ok) throw engineError(res.status, await bodyText(res), res.headers.get("retry-after"), "chat completion");
      if (res.body === null) throw new ColmenaError("UNAVAILABLE", `engine ${this.#base} answered without a body`);
      return res;
    } finally {
      clearTimeout(timer);
    }
  }

  /** fetch, with network failures and our own timeouts as typed errors (a caller's abort stays an abort). */
  async #fetch(url: string, init: RequestInit, signal: AbortSignal, what: string, caller?: AbortSignal): Promise<Response> {
    try {
      return await fetch(url, { ...init, signal });
    } catch (err) {
      if (caller?.aborted) throw err;
      if (isColmenaError(signal.reason)) throw signal.reason;
      if (signal.aborted) throw new ColmenaError("TIMEOUT", `engine ${this.#base}: ${what} timed out`, { cause: err });
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new ColmenaError("UNAVAILABLE", `engine ${this.#base}: ${what} failed: ${cause?.code ?? cause?.message ?? (err as Error).message}`, { cause: err });
    }
  }

  /** Runs through the breaker; an open circuit is a retryable UNAVAILABLE with the time left until the next probe. */
  async #guarded<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await this.#breaker.execute(fn);
    } catch (err) {
      if (err instanceof BrokenCircuitError || err instanceof IsolatedCircuitError) {
        const retryAfterMs = Math.max(1, this.#halfOpenAfterMs - (Date.now() - this.#openedAt));
        throw new ColmenaError("UNAVAILABLE", `engine ${this.#base} is out of rotation (circuit open)`, { retryAfterMs, details: { circuit: this.circuit } });
      }
      throw err;
    }
  }

  /** A failure after the response began (broken or stalled stream) counts against the engine too. */
  #recordFailure(err: ColmenaError): void {
    if (!countsAgainstEngine(err) || this.#breaker.state !== CircuitState.Closed) return;
    this.#breaker.execute(() => Promise.reject(err)).catch(() => {});
  }
}

interface Chunk {
  choices?: Array<{ delta?: { content?: string | null }; text?: string; finish_reason?: string | null }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number };
  error?: { message?: string };
}

function parseChunk(data: string, engine: string): Chunk {
  let chunk: Chunk;
  try {
    chunk = JSON.parse(data) as Chunk;
  } catch (cause) {
    throw new ColmenaError("UNAVAILABLE", `engine ${engine} streamed a chunk that is not JSON: ${data.slice(0, 80)}`, { cause });
  }
  if (chunk.error) throw new ColmenaError("UNAVAILABLE", `engine ${engine} failed mid-stream: ${chunk.error.message ?? "unknown error"}`);
  return chunk;
}

/** The error for an HTTP status: engine failures are UNAVAILABLE / TIMEOUT (they count), the caller's are INVALID. */
function engineError(status: number, body: string, retryAfter: string | null, what: string): ColmenaError {
  const message = `${what}: HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ""}`;
  if (status === 429) {
    const seconds = Number(retryAfter);
    return overloaded(`engine busy, ${message}`, Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 1_000, { status });
  }
  if (status === 408) return new ColmenaError("TIMEOUT", message, { details: { status } });
  if (status >= 500 || status === 401 || status === 403 || status === 404) return new ColmenaError("UNAVAILABLE", message, { details: { status } });
  return invalid(message, { status });
}

async function bodyText(res: Response): Promise<string> {
  try {
    return (await res.text()).trim();
  } catch {
    return "";
  }
}

/** The body's chunks, calling `tick` as each arrives (restarts the idle timer). */
async function* ticking(body: AsyncIterable<Uint8Array>, tick: () => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    tick();
    yield chunk;
  }
}
