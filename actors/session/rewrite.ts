/**
 * Follow-up questions made standalone for retrieval. Two ways, both pure:
 *
 * - heuristic (the extractive default): a question that leans on the
 *   conversation — a pronoun or demonstrative ("how long does she live?"),
 *   a leading connective ("and the drones?"), or a fragment with no content
 *   word or no question word ("why?", "the drones?") — gets the key terms of
 *   the previous standalone question prepended ("queen bee how long does she
 *   live?"). Anything else is left alone.
 * - llm: a short prompt asking for the standalone query (`rewritePrompt`),
 *   and the answer cleaned up (`parseRewrite`).
 */
import type { ChatMessage } from "../llm/index.js";
import type { Turn } from "./history.js";

const REFERRING = new Set(
  ("it its it's itself they them their theirs themselves this that these those he him his she her hers " +
    "there then one ones same such former latter above").split(" "),
);

const QUESTION_START = new Set(
  ("what which who whom whose when where why how what's who's where's when's why's how's is are was were do does did can could will would should shall may might must " +
    "has have had list name describe explain tell give show compare define").split(" "),
);

const FUNCTION_WORDS = new Set(
  ("a an the and or but nor so yet if of in on at to for from by with about as into onto over under than too also very " +
    "i me my we us our you your not no yes any some all each every more most much many few else other another just only " +
    "please again still even really").split(" "),
);

/** Words a key term may not be: function words, pronouns and question words. */
const NOT_KEY = new Set([...REFERRING, ...QUESTION_START, ...FUNCTION_WORDS, "be", "been", "being", "am", "done", "doing", "get", "got", "know"]);

const LEADING_CONNECTIVE = /^(and|also|but|so|or|then|plus|what about|how about|what else|anything else|as for)\b/i;

export function words(text: string): string[] {
  return text
    .normalize("NFKC")
    .toLowerCase()
    .split(/[^\p{L}\p{N}']+/u)
    .map((w) => w.replace(/^'+|'+$/g, ""))
    .filter((w) => w !== "");
}

/** Content words of a question, in order, once each. */
export function keyTerms(question: string): string[] {
  return [...new Set(words(question).filter((w) => !NOT_KEY.has(w) && (w.length > 1 || /\d/.test(w))))];
}

/** Whether a question needs the conversation to be understood. */
export function isFollowUp(question: string): boolean {
  const all = words(question);
  if (all.length === 0) return false;
  if (all.some((w) => REFERRING.has(w))) return true;
  if (LEADING_CONNECTIVE.test(question.trim())) return true;
  if (keyTerms(question).length === 0) return true;
  return all.length <= 3 && !QUESTION_START.has(all[0]!);
}

export interface Rewrite {
  query: string;
  rewritten: boolean;
}

/**
 * The standalone query for `question` given the previous standalone question:
 * its key terms that the question lacks, up to `maxTerms`, then the question.
 */
export function heuristicRewrite(question: string, previous: string | undefined, maxTerms = 6): Rewrite {
  const q = question.trim();
  if (previous === undefined || !isFollowUp(q)) return { query: q, rewritten: false };
  const have = new Set(words(q));
  const add = keyTerms(previous)
    .filter((t) => !have.has(t))
    .slice(0, maxTerms);
  if (add.length === 0) return { query: q, rewritten: false };
  return { query: `${add.join(" ")} ${q}`, rewritten: true };
}

/** The standalone form of an earlier turn's question. */
export const standalone = (turn: Turn): string => turn.query ?? turn.question;

export const REWRITE_SYSTEM_PROMPT =
  "Rewrite the follow-up question as one standalone search query, resolving pronouns and references from the conversation. " +
  "Reply with the query only, on one line, without quotes or explanation.";

/** Words of an earlier answer shown to the rewriting model. */
const ANSWER_WORDS = 60;

export function rewritePrompt(turns: readonly Turn[], question: string): ChatMessage[] {
  const lines = turns.flatMap((t) => {
    const answer = t.answer.split(/\s+/).filter((w) => w !== "");
    const shown = answer.length > ANSWER_WORDS ? `${answer.slice(0, ANSWER_WORDS).join(" ")} …` : answer.join(" ");
    return [`User: ${oneLine(t.question)}`, `Assistant: ${oneLine(shown)}`];
  });
  return [
    { role: "system", content: REWRITE_SYSTEM_PROMPT },
    { role: "user", content: `Conversation:\n${lines.join("\n")}\n\nFollow-up question: ${oneLine(question)}\n\nStandalone query:` },
  ];
}

/** The query in a model's answer: its first non-empty line, labels and quotes removed; undefined when nothing is left. */
export function parseRewrite(answer: string, maxLength = 500): string | undefined {
  const line = answer
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l !== "");
  if (line === undefined) return undefined;
  const query = line
    .replace(/^(standalone (search )?query|query|rewritten question)\s*:\s*/i, "")
    .replace(/^["'“‘«]+|["'”’»]+$/gu, "")
    .trim();
  return query === "" ? undefined : query.slice(0, maxLength);
}

const oneLine = (s: string) => s.replace(/\s+/g, " ").trim();
