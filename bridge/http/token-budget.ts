import type { FastifyRequest } from "fastify";
import type { QueryEvent } from "../../actors/index.js";
import { EdgeRejection } from "../errors.js";

/**
 * A request's hold on its caller's generated-tokens-per-minute limit (set
 * by the access hook when the caller's tier has one). A streamed answer is
 * charged token by token and stopped at the budget; a whole answer is
 * charged once it is known, estimated at 4 characters a token (the RagApi
 * reports no token counts), so it is the next request that is refused.
 */
export interface TokenBudget {
  /** Counts `tokens` spent; false once the caller is over its limit. */
  charge(tokens: number): boolean;
  readonly limit: number;
}

const budgets = new WeakMap<FastifyRequest, TokenBudget>();

export function setTokenBudget(request: FastifyRequest, budget: TokenBudget): void {
  budgets.set(request, budget);
}

/** Passes a streamed answer through; the token past the budget is not sent, and the stream ends RATE_LIMITED (closing the producer, so the generation stops). */
export async function* metered(request: FastifyRequest, events: AsyncIterable<QueryEvent>): AsyncIterable<QueryEvent> {
  const budget = budgets.get(request);
  if (budget === undefined) return yield* events;
  for await (const event of events) {
    if (event.type === "token" && !budget.charge(1)) {
      throw new EdgeRejection("RATE_LIMITED", `over ${budget.limit} generated tokens per minute: the answer stops here`);
    }
    yield event;
  }
}

/** Charges a whole answer. */
export function chargeAnswer(request: FastifyRequest, answer: string): void {
  budgets.get(request)?.charge(Math.ceil(answer.length / 4));
}
