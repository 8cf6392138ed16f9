import { randomUUID } from "node:crypto";
import { ColmenaError, isColmenaError, isTypedError, type CallContext, type Logger } from "../../runtime/index.js";
import { AnswerCache, cacheKey } from "../cache/index.js";
import { estimateTokens, ExtractiveBackend, ragMessages, type ChatMessage as LlmChatMessage, type LlmKind } from "../llm/index.js";
import { heuristicRewrite, historyMessages, openingState, type SessionHistory, type SessionKind, type SessionSettings, type TurnInput } from "../session/index.js";
import { CoordinatorKind, groupByDocument, type QueryAnswer } from "../query/index.js";
import type { QueryEvent, QueryRequest, QueryResult, Sampling, Source, Usage } from "./api.js";
import type { IndexVersion } from "./index-version.js";
import { stageDuration } from "../metrics.js";
import { documentSources } from "./sources.js";

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
  /** The generation's; entries cached before usage was kept have none. */
  usage?: Usage;
  truncated?: boolean;
  /** The length of each piece the answer streamed in, so a hit streams in the same pieces; entries cached without them stream word by word. */
  pieces?: number[];
}

/** What the llm is asked for an answer. */
type LlmRequest = Sampling & { messages: LlmChatMessage[]; maxNewTokens: number; model?: string };

/** What the llm's closing event says of a generation. */
interface Generated {
  usage: Usage;
  truncated: boolean;
}

/** Chunks retrieved per source asked for: documents with several matching chunks fold into one source. */
const CHUNKS_PER_SOURCE = 3;

/** Errors after which the extractive backend answers instead of the llm pool. */
const DEGRADABLE = new Set(["UNAVAILABLE", "OVERLOADED", "TIMEOUT", "INTERNAL"]);

/**
 * The path of a question: session (history, follow-up rewrite) → answer cache
 * (keyed by the standalone question, the index version and the model ids) →
 * query coordinator (scatter-gather, RRF) → prompt (system, history, numbered
 * passages) → llm pool, streamed back. When no llm can take the request the
 * extractive backend answers here and the answer is marked degraded; shards
 * that miss the deadline make it partial. Degraded and partial answers,
 * and those a replica still catching up with its log gave, are not cached.
 */
export class RagPipeline {
  readonly #p: PipelineParts;
  readonly #fallback = new ExtractiveBackend({ id: "extractive-fallback" });
  /** Bookkeeping of answered questions still under way (cache levels, the session's turn), each settled without rejecting. */
  readonly #writes = new Set<Promise<void>>();
  /** Per session id, the recording of its last turn while under way: a follow-up reads the history after it. */
  readonly #recording = new Map<string, Promise<void>>();

  constructor(parts: PipelineParts) {
    this.#p = parts;
  }

  async query(req: QueryRequest, call: PipelineCall): Promise<QueryResult> {
    const result: QueryResult = { answer: "", sources: [], sessionId: "", cached: false, partial: false, missingShards: [], degraded: false, timings: {}, usage: { promptTokens: 0, completionTokens: 0 }, truncated: false };
    for await (const e of this.queryStream(req, call)) {
      if (e.type === "meta") Object.assign(result, { sessionId: e.sessionId, cached: e.cached, partial: e.partial, missingShards: e.missingShards, degraded: e.degraded });
      else if (e.type === "token") result.answer += e.text;
      else if (e.type === "sources") result.sources = e.sources;
      else Object.assign(result, { timings: e.timings, usage: e.usage, truncated: e.truncated });
    }
    return result;
  }

  /**
   * The index version answers are cached under; undefined while the write
   * log cannot say where it stands (retryable: its stream is electing a
   * leader after a server loss), and the question is then answered without
   * the answer cache rather than failed: the cache saves work, an answer
   * does not need it.
   */
  async #indexVersion(): Promise<number | undefined> {
    try {
      return await this.#p.version.current();
    } catch (err) {
      if (isTypedError(err) && ColmenaError.from(err).retryable) return undefined;
      throw err;
    }
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
    const lap = (stage: string, since: number) => {
      timings[stage] = clock.now() - since;
      stageDuration.observe({ stage }, timings[stage] / 1000);
    };
    const topK = req.topK ?? defaults.topK;

    let t = clock.now();
    // A question without a session id starts a conversation: it has no history to read, and its turn is stored without activating a session.
    const opening = req.sessionId === undefined;
    const sessionId = req.sessionId ?? randomUUID();
    const session = actors.ref(this.#p.session, sessionId);
    inTime();
    if (!opening) await this.#recording.get(sessionId);
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
    const [version, defaults_] = await Promise.all([this.#indexVersion(), this.#p.models()]);
    // The answering model is part of the key: two models give two answers.
    const models = req.model === undefined ? defaults_ : { ...defaults_, llm: req.model };
    const key = version === undefined ? undefined : cacheKey({ kind: "answer", question: query, indexVersion: version, models, params: { topK, filter: req.filter ? JSON.stringify(req.filter) : null, ...(req.maxTokens !== undefined && { maxTokens: req.maxTokens }), ...(req.sampling !== undefined && { sampling: JSON.stringify(req.sampling) }) } });
    const hit = key === undefined ? undefined : await cache.lookup<CachedAnswer>(key);
    lap("cache", t);
    if (hit) {
      yield { type: "meta", sessionId, cached: true, partial: false, missingShards: [], degraded: false };
      // In the pieces the fresh answer streamed in: a client showing tokens as they come sees no difference.
      for (const text of replayPieces(hit.value)) yield { type: "token", text };
      yield { type: "sources", sources: hit.value.sources };
      this.#afterAnswer(sessionId, [this.#remember(actors, opening, sessionId, req.question, query, hit.value)]);
      lap("total", started);
      const usage = hit.value.usage ?? { promptTokens: 0, completionTokens: estimateTokens(hit.value.answer) };
      yield { type: "done", timings: { ...timings, cacheLevel: ["l1", "l2", "l3"].indexOf(hit.level) + 1 }, usage, truncated: hit.value.truncated ?? false };
      return;
    }

    t = clock.now();
    inTime();
    // Chunks enough that topK documents remain once a document's chunks are folded into one source.
    const chunks = Math.min(1_000, topK * CHUNKS_PER_SOURCE);
    const retrieved: QueryAnswer = await actors.pool(CoordinatorKind).ask({ type: "query", question: query, topK: chunks, ...(req.filter && { filter: req.filter }) });
    lap("retrieval", t);
    const { sources, passages } = documentSources(query, groupByDocument(retrieved.hits, topK));
    const messages = ragMessages({ question: query, passages }, historyForPrompt);

    t = clock.now();
    const maxNewTokens = req.maxTokens ?? history.settings.maxNewTokens ?? defaults.maxNewTokens;
    inTime();
    const generated: Generated = { usage: { promptTokens: 0, completionTokens: 0 }, truncated: false };
    const { tokens, degraded } = await this.#generate(actors, { messages, maxNewTokens, ...req.sampling, ...(req.model !== undefined && { model: req.model }) }, signal, generated);
    yield { type: "meta", sessionId, cached: false, partial: retrieved.partial, missingShards: retrieved.missingShards, degraded };
    let answer = "";
    const pieces: number[] = [];
    for await (const text of tokens) {
      answer += text;
      pieces.push(text.length);
      yield { type: "token", text };
    }
    lap("generation", t);
    yield { type: "sources", sources };
    if (signal?.aborted) return;
    const value: CachedAnswer = { answer, sources, ...generated, pieces };
    const caching = key !== undefined && !retrieved.partial && !degraded ? [this.#cache(key, value, retrieved)] : [];
    this.#afterAnswer(sessionId, [...caching, this.#remember(actors, opening, sessionId, req.question, query, value)]);
    lap("total", started);
    yield { type: "done", timings, ...generated };
  }

  /**
   * Offers an answer to the cache (L1; L2 and L3 once it is asked again)
   * under its version, only when the replicas that gave it had applied every
   * write the version counts (IndexVersion.covers).
   */
  async #cache(key: string, value: CachedAnswer, retrieved: QueryAnswer): Promise<void> {
    try {
      if (await this.#p.version.covers(retrieved.applied)) this.#p.cache.offer(key, value);
    } catch (err) {
      this.#p.log.warn({ err }, "could not cache the answer");
    }
  }

  /** Resolves once the bookkeeping of every question answered so far is done (a stopping instance waits for it). */
  async settled(): Promise<void> {
    while (this.#writes.size > 0) await Promise.all(this.#writes);
    await this.#p.cache.settled();
  }

  /**
   * What an answered question leaves to do (the cache's levels, the session's
   * turn), done after the answer has gone out instead of before it: the
   * caller does not wait for KV and disk writes the answer does not need.
   * The writes are side by side; a follow-up in the same session waits for
   * them before it reads the history (`#recording`), so it sees this turn.
   */
  #afterAnswer(sessionId: string, writes: Promise<void>[]): void {
    const done: Promise<void> = Promise.all(writes).then(() => {
      this.#writes.delete(done);
      if (this.#recording.get(sessionId) === done) this.#recording.delete(sessionId);
    });
    this.#writes.add(done);
    this.#recording.set(sessionId, done);
  }

  /**
   * Opens the llm stream and waits for its first event, so the caller knows
   * whether the answer is degraded before the first token goes out. The
   * llm's closing event is written into `generated`.
   */
  async #generate(refs: PipelineCall["refs"], request: LlmRequest, signal: AbortSignal | undefined, generated: Generated): Promise<{ tokens: AsyncIterable<string>; degraded: boolean }> {
    // The refs are the call's: the stream is cancelled with it when the caller leaves.
    const stream = refs.pool(this.#p.llm).stream({ type: "generate", ...request });
    const it = stream[Symbol.asyncIterator]();
    let first: IteratorResult<{ type: string; text?: string; reason?: string; promptTokens?: number; completionTokens?: number }>;
    try {
      first = await it.next();
    } catch (err) {
      if (!isColmenaError(err) || !DEGRADABLE.has(err.code)) throw err;
      this.#p.log.warn({ code: err.code, err: err.message }, "no llm could take the request: answering extractively");
      return { tokens: this.#extractive(request, signal, generated), degraded: true };
    }
    return {
      degraded: false,
      tokens: (async function* () {
        for (let r = first; !r.done; r = await it.next()) {
          if (r.value.type === "token") yield r.value.text!;
          else if (r.value.type === "done") closed(generated, r.value);
        }
      })(),
    };
  }

  async *#extractive(request: LlmRequest, signal: AbortSignal | undefined, generated: Generated): AsyncIterable<string> {
    for await (const e of this.#fallback.generate(request, signal ?? new AbortController().signal)) {
      if (e.type === "token") yield e.text;
      else closed(generated, e);
    }
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

/** Records an llm's closing event: its token counts and whether the limit cut the answer. */
function closed(generated: Generated, done: { reason?: string; promptTokens?: number; completionTokens?: number }): void {
  generated.usage = { promptTokens: done.promptTokens ?? 0, completionTokens: done.completionTokens ?? 0 };
  generated.truncated = done.reason === "length";
}

/** A cached answer's text in the pieces it was streamed in (word by word for entries cached without them). */
function replayPieces(value: CachedAnswer): string[] {
  const { answer, pieces } = value;
  if (pieces === undefined || pieces.reduce((a, b) => a + b, 0) !== answer.length) return answer.split(/(?<=\s)(?=\S)/);
  let at = 0;
  return pieces.map((n) => answer.slice(at, (at += n)));
}
