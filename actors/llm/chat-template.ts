/**
 * Turns chat messages into the prompt text a model was trained on: the
 * export's Jinja chat template (rendered with @huggingface/jinja), or without
 * one a plain "role: content" layout that ends with "assistant:".
 */
import { Template } from "@huggingface/jinja";
import { invalid } from "../../runtime/index.js";
import type { ChatMessage } from "./backend.js";

export type ChatFormatter = (messages: ChatMessage[]) => string;

export interface SpecialTokens {
  bosToken: string | undefined;
  eosToken: string | undefined;
}

/** Compiles the template once; a template that does not parse is INVALID. */
export function chatFormatter(source: string | undefined, special: SpecialTokens): ChatFormatter {
  if (source === undefined) return (messages) => plainLayout(messages, special.bosToken ?? "");
  let template: Template;
  try {
    template = new Template(source);
  } catch (err) {
    throw invalid(`chat template does not parse: ${(err as Error).message}`);
  }
  return (messages) => {
    try {
      return template.render({
        messages,
        add_generation_prompt: true,
        bos_token: special.bosToken ?? "",
        eos_token: special.eosToken ?? "",
      });
    } catch (err) {
      throw invalid(`chat template failed: ${(err as Error).message}`);
    }
  };
}

function plainLayout(messages: ChatMessage[], bos: string): string {
  return `${bos}${messages.map((m) => `${m.role}: ${m.content}\n`).join("")}assistant:`;
}
