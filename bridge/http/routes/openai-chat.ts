import { createHash, randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import type { ChatMessage, QueryRequest, Sampling, Usage } from "../../../actors/index.js";
import { ColmenaError } from "../../../runtime/index.js";
import { unknownModel } from "../../served-models.js";
import { SessionId, SourceShape, toWireSource, type WireSource } from "../../shapes.js";
import { cleanText } from "../../text-rules.js";
import { NO_QUERY, requestSchema, responseSchema } from "../json-schema.js";
import { scopeOf } from "../request-scope.js";
import { streamAnswer, type AnswerRenderer } from "../stream-answer.js";
import { chargeAnswer, metered } from "../token-budget.js";
import type { RouteContext } from "./context.js";
import { errorResponses } from "./error-responses.js";
import { modelNotFoundResponse, sendModelNotFound } from "./model-not-found.js";

/**
 * OpenAI's `POST /v1/chat/completions` over RAG. The last user message is
 * the question; the conversation's history lives in the session, whose id
 * comes from the `X-Session-Id` header, else is derived from the `user`
 * field, else is a new one (returned in `X-Session-Id` and `session_id`).
 * `model`, when given, must be one of the LLMs `GET /v1/models` lists (else
 * 404 `model_not_found` in OpenAI's error shape); it selects the one that
 * answers, loaded on first use by the llm instance (absent: the default). `max_completion_tokens` (or
 * the older `max_tokens`) caps the answer, within the LLM pool's own limit;
 * `temperature`, `top_p`, `seed` and `stop` go to the LLM (within OpenAI's
 * ranges; a backend that cannot sample honours only `stop`). `usage` counts the prompt's and the answer's tokens (streaming:
 * in a last chunk with no choices when `stream_options.include_usage`).
 * Sources travel in an extra `sources` field (on the last chunk when
 * streaming).
 */

const TextPart = z.looseObject({ type: z.string(), text: cleanText().optional() });
const ChatMessageShape = z.looseObject({
  role: z.enum(["system", "developer", "user", "assistant", "tool", "function"]),
  content: z.union([cleanText(), z.array(TextPart), z.null()]).optional(),
});
const ChatRequestShape = z.looseObject({
  model: z.string().optional(),
  messages: z.array(ChatMessageShape).min(1),
  stream: z.boolean().nullable().optional(),
  user: z.string().max(1024).optional(),
  n: z.literal(1).nullable().optional().describe("only one choice is generated"),
  max_tokens: z.int().positive().nullable().optional(),
  max_completion_tokens: z.int().positive().nullable().optional().describe("wins over max_tokens; clamped to the server's limit"),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().gt(0).max(1).nullable().optional(),
  seed: z.int().nullable().optional(),
  stop: z.union([z.string().min(1), z.array(z.string().min(1)).max(4)]).nullable().optional(),
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
      finish_reason: z.enum(["stop", "length"]).describe("length: the answer stopped at max_completion_tokens or the server's limit"),
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
          ...modelNotFoundResponse("`model` is not one of this server's LLMs"),
        },
      },
    },
    async (request, reply) => {
      const { model } = request.body;
      const unknown = unknownModel(api.models(), "llm", model);
      if (unknown) return sendModelNotFound(reply, unknown);
      const scope = scopeOf(request);
      const query: QueryRequest = { question: questionOf(request.body), history: historyOf(request.body), ...(model !== undefined && { model }) };
      const maxTokens = request.body.max_completion_tokens ?? request.body.max_tokens;
      if (maxTokens != null) query.maxTokens = maxTokens;
      const sampling = samplingOf(request.body);
      if (Object.keys(sampling).length > 0) query.sampling = sampling;
      const sessionId = sessionIdOf(request);
      if (sessionId !== undefined) query.sessionId = sessionId;
      const head = { id: `chatcmpl-${randomUUID().replaceAll("-", "")}`, created: Math.floor(Date.now() / 1000), model: model ?? api.models().llm };

      if (request.body.stream !== true) {
        const result = await scope.guard(api.query(query, scope));
        chargeAnswer(request, result.answer);
        reply.header("x-session-id", result.sessionId);
        return {
          ...head,
          object: "chat.completion",
          choices: [{ index: 0, message: { role: "assistant", content: result.answer, refusal: null }, finish_reason: finishReason(result.truncated), logprobs: null }],
          usage: wireUsage(result.usage),
          sources: result.sources.map(toWireSource),
          session_id: result.sessionId,
        };
      }
      if (sessionId !== undefined) reply.header("x-session-id", sessionId);
      return streamAnswer(reply, scope, metered(request, api.queryStream(query, scope)), chunkRenderer(head, request.body.stream_options?.include_usage === true), { heartbeatMs: options.sseHeartbeatMs, log });
    },
  );
}

const finishReason = (truncated: boolean) => (truncated ? "length" : "stop");

const wireUsage = (u: Usage) => ({ prompt_tokens: u.promptTokens, completion_tokens: u.completionTokens, total_tokens: u.promptTokens + u.completionTokens });

/**
 * Renders answer events as `chat.completion.chunk`s: role first, content
 * deltas, a last chunk with sources, then (with `includeUsage`) OpenAI's
 * usage chunk with no choices, `[DONE]`.
 */
function chunkRenderer(head: { id: string; created: number; model: string }, includeUsage: boolean): AnswerRenderer {
  let sessionId = "";
  let sources: WireSource[] = [];
  let usage: Usage | undefined;
  let truncated = false;
  let finished = false;
  const chunk = (delta: Record<string, string>, finish: "stop" | "length" | null, extra: Record<string, unknown> = {}) => ({
    ...head,
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    ...extra,
  });
  const finish = async (out: Parameters<AnswerRenderer["end"]>[0]) => {
    if (finished) return;
    finished = true;
    await out.send(chunk({}, finishReason(truncated), { sources, session_id: sessionId }));
    if (includeUsage && usage !== undefined) await out.send({ ...head, object: "chat.completion.chunk", choices: [], usage: wireUsage(usage) });
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
          ({ usage, truncated } = event);
          return finish(out);
      }
    },
    async error({ body }, out) {
      // OpenAI's clients raise an API error for a data line that holds `error`.
      await out.send({ error: { ...body.error, type: body.error.code === "INVALID" ? "invalid_request_error" : "server_error" } });
    },
    end: finish,
  };
}

function samplingOf(body: ChatRequest): Sampling {
  const { temperature, top_p, seed, stop } = body;
  return {
    ...(temperature != null && { temperature }),
    ...(top_p != null && { topP: top_p }),
    ...(seed != null && { seed }),
    ...(stop != null && { stop: typeof stop === "string" ? [stop] : stop }),
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
