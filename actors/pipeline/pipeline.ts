import { randomUUID } from "node:crypto";
import { ColmenaError, isColmenaError, type CallContext, type Logger } from "../../runtime/index.js";
import { AnswerCache, cacheKey } from "../cache/index.js";
import { ExtractiveBackend, ragMessages, type ChatMessage as LlmChatMessage, type LlmKind, type Passage } from "../llm/index.js";
import { heuristicRewrite, historyMessages, openingState, type SessionHistory, type SessionKind, type SessionSettings, type TurnInput } from "../session/index.js";
import { CoordinatorKind, type QueryAnswer } from "../query/index.js";
import type { AnswerFinishReason, GenerationOptions, QueryEvent, QueryRequest, QueryResult, Source, Usage } from "./api.js";
import type { IndexVersion } from "./index-version.js";

/** The part of a call a question runs in: its refs carry the deadline and trace to every step. */
export type PipelineCall = Pick<CallContext, "refs" | "deadline" | "clock"> & { readonly signal?: AbortSignal | undefined };

export interface PipelineParts {
  cache: AnswerCache;
  /** The shard write log's version, which cached answers are keyed by. */
  version: IndexVersion;
  llm: LlmKind;
  session: SessionKind;
  /** The settings a new session starts with (the session kind's configured defaults). */
  sessionDefaults: SessionSettings;
  /** The model ids in cache keys (the embedder's is asked of the embedder pool, once it answers). */
  models: () => Promise<{ embedder: string; llm: string }>;
  defaults: { topK: number; maxNewTokens: number };
  log: Logger;
}

/** What the answer cache holds for a question. */
interface CachedAnswer {
  answer: string;
  sources: Source[];
  usage?: Usage;
  finishReason?: AnswerFinishReason;
}

/** How a generation ended: the llm's done event, or what the extractive fallback reported. */
interface Generated {
  usage: Usage;
  finishReason: AnswerFinishReason;
}

/** Errors after which the extractive backend answers instead of the llm pool. */
const DEGRADABLE = new Set(["UNAVAILABLE", "OVERLOADED", "TIMEOUT", "INTERNAL"]);

/**
 * The path of a question: session (history, follow-up rewrite) → answer cache
 * (keyed by the standalone question, the index version and the model ids) →
 * query coordinator (scatter-gather, RRF) → prompt (system, history, numbered
 * passages) → llm pool, streamed back. When no llm can take the request the
 * extractive backend answers here and the answer is marked degraded; shards
 * that miss the deadline make it partial. Degraded and partial answers are
 * not cached.
 */
export class RagPipeline {
  readonly #p: PipelineParts;
  readonly #fallback = new ExtractiveBackend({ id: "extractive-fallback" });

  constructor(parts: PipelineParts) {
    this.#p = parts;
  }

  async query(req: QueryRequest, call: PipelineCall): Promise<QueryResult> {
    const result: QueryResult = {
      answer: "",
      sources: [],
      sessionId: "",
      cached: false,
      partial: false,
      missingShards: [],
      degraded: false,
      timings: {},
      usage: { promptTokens: 0, completionTokens: 0 },
      finishReason: "stop",
    };
    for await (const e of this.queryStream(req, call)) {
      if (e.type === "meta") Object.assign(result, { sessionId: e.sessionId, cached: e.cached, partial: e.partial, missingShards: e.missingShards, degraded: e.degraded });
      else if (e.type === "token") result.answer += e.text;
      else if (e.type === "sources") result.sources = e.sources;
      else Object.assign(result, { timings: e.timings, usage: e.usage, finishReason: e.finishReason });
    }
    return result;
  }

  async *queryStream(req: QueryRequest, call: PipelineCall): AsyncIterable<QueryEvent> {
    const { cache, defaults } = this.#p;
    const { refs: actors, clock, signal } = call;
    // Each step's asks inherit the call's deadline; one that starts after it has passed fails here, not in a mailbox.
    const inTime = () => {
      if (clock.now() >= call.deadline) throw new ColmenaError("TIMEOUT", "the query passed its deadline");
    };
    const started = clock.now();
    const timings: Record<string, number> = {};
    const lap = (stage: string, since: number) => (timings[stage] = clock.now() - since);
    const topK = req.topK ?? defaults.topK;

    let t = clock.now();
    // A question without a session id starts a conversation: it has no history to read, and its turn is stored without activating a session.
    const opening = req.sessionId === undefined;
    const sessionId = req.sessionId ?? randomUUID();
    const session = actors.ref(this.#p.session, sessionId);
    inTime();
    const history: SessionHistory = opening ? { turns: [], settings: this.#p.sessionDefaults, tokens: 0 } : await session.ask({ type: "history" });
    // The session's own turns come first; a client that resends the conversation (OpenAI style) fills in when it has none.
    const clientTurns = history.turns.length === 0 ? (req.history ?? []).filter((m) => m.role !== "system") : [];
    const { query } =
      history.turns.length > 0
        ? await session.ask({ type: "rewrite", question: req.question })
        : heuristicRewrite(req.question, clientTurns.findLast((m) => m.role === "user")?.content);
    const historyForPrompt = history.turns.length > 0 ? (historyMessages(history.turns) as LlmChatMessage[]) : clientTurns;
    lap("session", t);

    t = clock.now();
    const [version, models] = await Promise.all([this.#p.version.current(), this.#p.models()]);
    const generation = req.generation ?? {};
    const maxNewTokens = generation.maxTokens ?? history.settings.maxNewTokens ?? defaults.maxNewTokens;
    const params = { topK, filter: req.filter ? JSON.stringify(req.filter) : null, ...generationKey(generation, maxNewTokens) };
    const key = cacheKey({ kind: "answer", question: query, indexVersion: version, models, params });
    const hit = await cache.lookup<CachedAnswer>(key);
    lap("cache", t);
    if (hit) {
      yield { type: "meta", sessionId, cached: true, partial: false, missingShards: [], degraded: false };
      // In pieces like a generated answer, so a client's streaming code sees the same events either way.
      for (const text of pieces(hit.value.answer)) yield { type: "token", text };
      yield { type: "sources", sources: hit.value.sources };
      await this.#remember(actors, opening, sessionId, req.question, query, hit.value);
      lap("total", started);
      const usage = hit.value.usage ?? { promptTokens: 0, completionTokens: 0 };
      yield { type: "done", timings: { ...timings, cacheLevel: ["l1", "l2", "l3"].indexOf(hit.level) + 1 }, usage, finishReason: hit.value.finishReason ?? "stop" };
      return;
    }

    t = clock.now();
    inTime();
    const retrieved: QueryAnswer = await actors.pool(CoordinatorKind).ask({ type: "query", question: query, topK, ...(req.filter && { filter: req.filter }) });
    lap("retrieval", t);
    const sources: Source[] = retrieved.hits.map((h) => ({ docId: h.docId, chunkId: h.id, ...(h.ordinal !== undefined && { ordinal: h.ordinal }), score: h.score, text: h.text, metadata: h.metadata }));
    const passages: Passage[] = retrieved.hits.map((h) => ({ text: h.text, source: String(h.metadata.source ?? h.docId) }));
    const messages = ragMessages({ question: query, passages }, historyForPrompt);

    t = clock.now();
    inTime();
    const { tokens, degraded, ended } = await this.#generate(actors, { ...generation, maxTokens: maxNewTokens }, messages, signal);
    yield { type: "meta", sessionId, cached: false, partial: retrieved.partial, missingShards: retrieved.missingShards, degraded };
    let answer = "";
    for await (const text of tokens) {
      answer += text;
      yield { type: "token", text };
    }
    lap("generation", t);
    yield { type: "sources", sources };
    if (signal?.aborted) return;
    const { usage, finishReason } = ended();
    const value: CachedAnswer = { answer, sources, usage, finishReason };
    if (!retrieved.partial && !degraded) await cache.set(key, value);
    await this.#remember(actors, opening, sessionId, req.question, query, value);
    lap("total", started);
    yield { type: "done", timings, usage, finishReason };
  }

  /**
   * Opens the llm stream and waits for its first event, so the caller knows
   * whether the answer is degraded before the first token goes out.
   */
  async #generate(
    refs: PipelineCall["refs"],
    generation: GenerationOptions & { maxTokens: number },
    messages: LlmChatMessage[],
    signal: AbortSignal | undefined,
  ): Promise<{ tokens: AsyncIterable<string>; degraded: boolean; ended: () => Generated }> {
    const { maxTokens: maxNewTokens, ...sampling } = generation;
    const request = { messages, maxNewTokens, ...sampling };
    let ended: Generated = { usage: { promptTokens: 0, completionTokens: 0 }, finishReason: "stop" };
    const record = (e: { type: string; reason?: string; promptTokens?: number; completionTokens?: number }) => {
      if (e.type === "done") ended = { usage: { promptTokens: e.promptTokens ?? 0, completionTokens: e.completionTokens ?? 0 }, finishReason: e.reason === "length" ? "length" : "stop" };
    };
    // The refs are the call's: the stream is cancelled with it when the caller leaves.
    const stream = refs.pool(this.#p.llm).stream({ type: "generate", ...request });
    const it = stream[Symbol.asyncIterator]();
    let first: IteratorResult<{ type: string; text?: string }>;
    try {
      first = await it.next();
    } catch (err) {
      if (!isColmenaError(err) || !DEGRADABLE.has(err.code)) throw err;
      this.#p.log.warn({ code: err.code, err: err.message }, "no llm could take the request: answering extractively");
      const fallback = this.#fallback.generate(request, signal ?? new AbortController().signal);
      return { tokens: tokensOf(fallback, record), degraded: true, ended: () => ended };
    }
    const rest = (async function* () {
      for (let r = first; !r.done; r = await it.next()) yield r.value;
    })();
    return { degraded: false, tokens: tokensOf(rest, record), ended: () => ended };
  }

  async #remember(actors: PipelineCall["refs"], opening: boolean, sessionId: string, question: string, query: string, value: CachedAnswer): Promise<void> {
    const sources = value.sources.map((s) => ({ docId: s.docId, chunkId: s.chunkId, score: s.score, ...(s.metadata.source !== undefined && { source: String(s.metadata.source) }) }));
    const turn: TurnInput = { question, answer: value.answer, ...(query !== question && { query }), sources };
    const { session } = this.#p;
    try {
      if (opening && (await actors.initState(session, sessionId, openingState(turn)))) return;
      await actors.ref(session, sessionId).ask({ type: "append", ...turn });
    } catch (err) {
      this.#p.log.warn({ err, sessionId }, "could not record the turn in the session");
    }
  }
}

/** The token texts of a generation, every event also handed to `record` (which keeps the done event's counts). */
async function* tokensOf(events: AsyncIterable<{ type: string; text?: string }>, record: (e: { type: string }) => void): AsyncIterable<string> {
  for await (const e of events) {
    record(e);
    if (e.type === "token") yield e.text!;
  }
}

/** A cached answer as a stream of word-sized pieces (each with the space before it), as a generation sends it. */
function pieces(answer: string): string[] {
  return answer.match(/\s*\S+|\s+$/g) ?? [];
}

/** The generation parameters an answer depends on, for its cache key (absent ones as null, so keys stay stable). */
function generationKey(g: GenerationOptions, maxNewTokens: number) {
  return { maxNewTokens, temperature: g.temperature ?? null, topP: g.topP ?? null, stop: g.stop ? JSON.stringify(g.stop) : null, seed: g.seed ?? null };
}
