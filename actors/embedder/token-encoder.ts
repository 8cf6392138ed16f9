/**
 * Text to token ids with @huggingface/tokenizers, truncated to the model's
 * limit. The library's encode() adds the special tokens ([CLS] … [SEP]) but
 * neither truncates nor pads, so truncation is done here: the special tokens
 * are kept and the text's own tokens are cut from the end.
 */
import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import type { ModelDir } from "./model-dir.js";
import { invalidFile } from "./model-dir.js";

/**
 * The part of the library's Tokenizer used here. Its bundled .d.ts files use
 * extensionless relative imports, which NodeNext cannot resolve, so the class
 * would type as `any` without this view.
 */
interface Tokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: number[] };
  token_to_id(token: string): number | undefined;
}
const Tokenizer = HfTokenizer as new (tokenizerJson: object, tokenizerConfig: object) => Tokenizer;

export interface EncodedText {
  ids: number[];
  /** True when tokens were dropped to fit maxTokens. */
  truncated: boolean;
}

export class TokenEncoder {
  readonly maxTokens: number;
  /** The id that fills padded positions (their attention mask is 0). */
  readonly padId: number;
  readonly #tokenizer: Tokenizer;

  constructor(model: ModelDir, maxTokens: number) {
    try {
      this.#tokenizer = new Tokenizer(model.tokenizer, model.tokenizerConfig);
    } catch (cause) {
      throw invalidFile(`${model.tokenizerPath} is not a tokenizer this runtime can load: ${(cause as Error).message}`, model.tokenizerPath, cause);
    }
    const specials = this.#tokenizer.encode("").ids.length;
    if (maxTokens <= specials) throw new RangeError(`maxTokens must exceed the ${specials} special tokens of ${model.tokenizerPath}, got ${maxTokens}`);
    this.maxTokens = maxTokens;
    this.padId = padId(model, this.#tokenizer);
  }

  /** Tokens of the text with its special tokens, before truncation. */
  count(text: string): number {
    return this.#tokenizer.encode(text).ids.length;
  }

  encode(text: string): EncodedText {
    const full = this.#tokenizer.encode(text).ids;
    if (full.length <= this.maxTokens) return { ids: full, truncated: false };
    // full = prefix + content + suffix; keep prefix and suffix, shorten content.
    const content = this.#tokenizer.encode(text, { add_special_tokens: false }).ids;
    const added = full.length - content.length;
    const start = findRun(full, content, added);
    const ids = [...full.slice(0, start), ...content.slice(0, this.maxTokens - added), ...full.slice(start + content.length)];
    return { ids, truncated: true };
  }
}

/** Where `content` starts inside `full`, trying offsets 0..maxOffset (0 if nowhere). */
function findRun(full: number[], content: number[], maxOffset: number): number {
  for (let offset = 0; offset <= maxOffset; offset++) {
    if (content.every((id, i) => full[offset + i] === id)) return offset;
  }
  return 0;
}

/** tokenizer.json's padding.pad_id, else the id of the configured or a usual pad token, else 0. */
function padId(model: ModelDir, tokenizer: Tokenizer): number {
  const padding = model.tokenizer.padding as { pad_id?: unknown } | null | undefined;
  if (typeof padding?.pad_id === "number") return padding.pad_id;
  const configured = model.tokenizerConfig.pad_token;
  const named = typeof configured === "string" ? configured : (configured as { content?: string } | undefined)?.content;
  for (const token of [named, "[PAD]", "<pad>"]) {
    const id = token === undefined ? undefined : tokenizer.token_to_id(token);
    if (id !== undefined) return id;
  }
  return 0;
}
