import { createHash, randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import type { AnswerFinishReason, ChatMessage, GenerationOptions, QueryRequest, Usage } from "../../../actors/index.js";
import { ColmenaError } from "../../../runtime/index.js";
import { SessionId, SourceShape, toWireSource, type WireSource } from "../../shapes.js";
import { NO_QUERY, requestSchema, responseSchema } from "../json-schema.js";
import { scopeOf } from "../request-scope.js";
import { streamAnswer, type AnswerRenderer } from "../stream-answer.js";
import type { RouteContext } from "./context.js";
import { errorResponses } from "./error-responses.js";

/**
 * OpenAI's `POST /v1/chat/completions` over RAG. The last user message is
 * the question; the conversation's history lives in the session, whose id
 * comes from the `X-Session-Id` header, else is derived from the `user`
 * field, else is a new one (returned in `X-Session-Id` and `session_id`).
 * `model`, when given, must be the LLM `/v1/models` lists (else 404
 * `model_not_found` in OpenAI's error shape). max_tokens (or
 * max_completion_tokens), temperature, top_p, stop and seed go to the LLM
 * for this request, within the pool's limits (max tokens is clamped to
 * llm.limits.maxNewTokens). `usage` counts the tokens as the LLM counts
 * them; streamed, it comes in a last chunk with no choices when
 * `stream_options.include_usage` is set, as OpenAI sends it. Sources travel
 * in an extra `sources` field (on the last chunk when streaming).
 */

const TextPart = z.looseObject({ type: z.string(), text: z.string().optional() });
const ChatMessageShape = z.looseObject({
  role: z.enum(["system", "developer", "user", "assistant", "tool", "function"]),
  content: z.union([z.string(), z.array(TextPart), z.null()]).optional(),
});
const ChatRequestShape = z.looseObject({
  model: z.string().optional(),
  messages: z.array(ChatMessageShape).min(1),
  stream: z.boolean().nullable().optional(),
  user: z.string().max(1024).optional(),
  n: z.literal(1).nullable().optional().describe("only one choice is generated"),
  max_tokens: z.int().min(1).nullable().optional().describe("clamped to the LLM pool's llm.limits.maxNewTokens"),
  max_completion_tokens: z.int().min(1).nullable().optional().describe("the same as max_tokens (wins over it)"),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  stop: z.union([z.string().min(1), z.array(z.string().min(1)).max(4)]).nullable().optional(),
  seed: z.int().nullable().optional(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullable().optional() }).nullable().optional(),
});
type ChatRequest = z.infer<typeof ChatRequestShape>;

const ChatCompletionShape = z.object({
  id: z.string(),
  object: z.literal("chat.completion"),
  created: z.int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.int(),
      message: z.object({ role: z.literal("assistant"), content: z.string(), refusal: z.null() }),
      finish_reason: z.enum(["stop", "length"]),
      logprobs: z.null(),
    }),
  ),
  usage: z.object({ prompt_tokens: z.int(), completion_tokens: z.int(), total_tokens: z.int() }),
  sources: z.array(SourceShape).describe("the passages the answer was drawn from (Colmena extension)"),
  session_id: z.string().describe("the session that holds this conversation (Colmena extension)"),
});

export function chatRoutes(app: FastifyInstance, { api, options, log }: RouteContext): void {
  app.post<{ Body: ChatRequest }>(
    "/v1/chat/completions",
    {
      schema: {
        summary: "OpenAI-compatible chat completion, answered by RAG",
        description: "With `stream: true`: `chat.completion.chunk` events (`data: {...}`) and `data: [DONE]`; the last chunk carries `sources` and `session_id`.",
        tags: ["openai"],
        querystring: NO_QUERY,
        headers: requestSchema(z.looseObject({ "x-session-id": SessionId.optional() })),
        body: requestSchema(ChatRequestShape),
        response: {
          200: {
            description: "a chat.completion, or chat.completion.chunk events when streaming",
            content: {
              "application/json": { schema: responseSchema(ChatCompletionShape) },
              "text/event-stream": { schema: { type: "string" } },
            },
          },
          ...errorResponses(),
          404: { description: "`model` is not the LLM this deployment serves", ...responseSchema(OpenAiErrorShape) },
        },
      },
    },
    async (request, reply) => {
      const llm = api.models().llm;
      const { model } = request.body;
      if (model !== undefined && model !== llm) {
        return reply.code(404).send({
          error: { code: "model_not_found", message: `The model ${JSON.stringify(model)} does not exist; this deployment serves ${JSON.stringify(llm)} (GET /v1/models).`, type: "invalid_request_error", param: "model" },
        });
      }
      const scope = scopeOf(request);
      const query: QueryRequest = { question: questionOf(request.body), history: historyOf(request.body), generation: generationOf(request.body) };
      const sessionId = sessionIdOf(request);
      if (sessionId !== undefined) query.sessionId = sessionId;
      const head = { id: `chatcmpl-${randomUUID().replaceAll("-", "")}`, created: Math.floor(Date.now() / 1000), model: llm };

      if (request.body.stream !== true) {
        const result = await scope.guard(api.query(query, scope));
        reply.header("x-session-id", result.sessionId);
        return {
          ...head,
          object: "chat.completion",
          choices: [{ index: 0, message: { role: "assistant", content: result.answer, refusal: null }, finish_reason: result.finishReason, logprobs: null }],
          usage: toWireUsage(result.usage),
          sources: result.sources.map(toWireSource),
          session_id: result.sessionId,
        };
      }
      if (sessionId !== undefined) reply.header("x-session-id", sessionId);
      const includeUsage = request.body.stream_options?.include_usage === true;
      return streamAnswer(reply, scope, api.queryStream(query, scope), chunkRenderer(head, includeUsage), { heartbeatMs: options.sseHeartbeatMs, log });
    },
  );
}

/**
 * Renders answer events as `chat.completion.chunk`s: role first, content
 * deltas, a last chunk with the finish reason and sources, with
 * `includeUsage` one more with no choices and the usage (every chunk before
 * it has `usage: null`, as OpenAI sends them), then `[DONE]`.
 */
function chunkRenderer(head: { id: string; created: number; model: string }, includeUsage: boolean): AnswerRenderer {
  let sessionId = "";
  let sources: WireSource[] = [];
  let finished = false;
  const chunk = (delta: Record<string, string>, finish: AnswerFinishReason | null, extra: Record<string, unknown> = {}) => ({
    ...head,
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    ...(includeUsage && { usage: null }),
    ...extra,
  });
  const finish = async (out: Parameters<AnswerRenderer["end"]>[0], ended?: { usage: Usage; finishReason: AnswerFinishReason }) => {
    if (finished) return;
    finished = true;
    await out.send(chunk({}, ended?.finishReason ?? "stop", { sources, session_id: sessionId }));
    if (includeUsage && ended) await out.send({ ...head, object: "chat.completion.chunk", choices: [], usage: toWireUsage(ended.usage) });
    await out.sendRaw("[DONE]");
  };
  return {
    async event(event, out) {
      switch (event.type) {
        case "meta":
          sessionId = event.sessionId;
          return out.send(chunk({ role: "assistant", content: "" }, null, { session_id: sessionId }));
        case "token":
          return out.send(chunk({ content: event.text }, null));
        case "sources":
          sources = event.sources.map(toWireSource);
          return;
        case "done":
          return finish(out, event);
      }
    },
    async error({ body }, out) {
      // OpenAI's clients raise an API error for a data line that holds `error`.
      await out.send({ error: { ...body.error, type: body.error.code === "INVALID" ? "invalid_request_error" : "server_error" } });
    },
    end: (out) => finish(out),
  };
}

/** OpenAI's error body, for what OpenAI's clients tell apart by code (`model_not_found`). */
const OpenAiErrorShape = z.object({ error: z.object({ code: z.string(), message: z.string(), type: z.string(), param: z.string().nullable() }) });

function toWireUsage(u: Usage) {
  return { prompt_tokens: u.promptTokens, completion_tokens: u.completionTokens, total_tokens: u.promptTokens + u.completionTokens };
}

/** The request's generation parameters; null (which OpenAI's clients send for "unset") is left out. */
function generationOf(body: ChatRequest): GenerationOptions {
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  const stop = typeof body.stop === "string" ? [body.stop] : body.stop;
  return {
    ...(maxTokens != null && { maxTokens }),
    ...(body.temperature != null && { temperature: body.temperature }),
    ...(body.top_p != null && { topP: body.top_p }),
    ...(stop != null && { stop }),
    ...(body.seed != null && { seed: body.seed }),
  };
}

/** The turns before the last user message, as plain text: the conversation an OpenAI client resends. */
function historyOf(body: ChatRequest): ChatMessage[] {
  let last = body.messages.length - 1;
  while (last >= 0 && body.messages[last]!.role !== "user") last--;
  return body.messages.slice(0, Math.max(0, last)).flatMap((m): ChatMessage[] =>
    m.role === "user" || m.role === "assistant" || m.role === "system" ? [{ role: m.role, content: textOf(m.content) }] : [],
  );
}

function textOf(content: ChatRequest["messages"][number]["content"]): string {
  return typeof content === "string" ? content : (content ?? []).map((part) => (part.type === "text" ? (part.text ?? "") : "")).join("");
}

function questionOf(body: ChatRequest): string {
  for (let i = body.messages.length - 1; i >= 0; i--) {
    const message = body.messages[i]!;
    if (message.role !== "user") continue;
    const text = textOf(message.content);
    if (text.trim().length === 0) throw new ColmenaError("INVALID", "the last user message has no text");
    return text;
  }
  throw new ColmenaError("INVALID", "messages hold no user message to answer");
}

/** X-Session-Id as given; else a stable id per `user` (hashed: user ids need not be subject tokens); else none (a new session). */
function sessionIdOf(request: FastifyRequest<{ Body: ChatRequest }>): string | undefined {
  const header = request.headers["x-session-id"];
  if (typeof header === "string" && header.length > 0) return header;
  const user = request.body.user;
  if (user !== undefined && user.length > 0) return `user-${createHash("sha256").update(user).digest("hex").slice(0, 40)}`;
  return undefined;
}
