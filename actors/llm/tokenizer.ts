/**
 * The model's tokenizer (tokenizer.json through @huggingface/tokenizers) and
 * the special tokens named by the export's config files.
 */
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { invalid } from "../../runtime/index.js";
import type { Json, ModelFiles } from "./model-files.js";

export class TextTokenizer {
  readonly bosToken: string | undefined;
  readonly eosToken: string | undefined;
  /** Ids that end generation: eos ids from generation_config.json, config.json and tokenizer_config.json. */
  readonly eosIds: ReadonlySet<number>;

  private constructor(
    private readonly tokenizer: Tokenizer,
    files: ModelFiles,
  ) {
    this.bosToken = tokenText(files.tokenizerConfig.bos_token);
    this.eosToken = tokenText(files.tokenizerConfig.eos_token);
    const ids = [...idList(files.generationConfig.eos_token_id), ...idList(files.config.eos_token_id)];
    const eosId = this.eosToken === undefined ? undefined : tokenizer.token_to_id(this.eosToken);
    if (eosId !== undefined) ids.push(eosId);
    this.eosIds = new Set(ids);
  }

  static fromFiles(files: ModelFiles): TextTokenizer {
    try {
      return new TextTokenizer(new Tokenizer(files.tokenizer, files.tokenizerConfig), files);
    } catch (err) {
      const path = join(files.dir, "tokenizer.json");
      throw invalid(`cannot load tokenizer ${path}: ${(err as Error).message}`, { path });
    }
  }

  /** Token ids of text as it stands: special tokens written in it are recognised, none are added. */
  encode(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  /** Text of ids without special tokens and without clean-up of spaces (which would not be incremental). */
  decode(ids: number[]): string {
    if (ids.length === 0) return "";
    return this.tokenizer.decode(ids, { skip_special_tokens: true, clean_up_tokenization_spaces: false });
  }
}

/** A special token in tokenizer_config.json is a string or an AddedToken object with `content`. */
function tokenText(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "object" && value !== null && typeof (value as Json).content === "string") return (value as Json).content as string;
  return undefined;
}

function idList(value: unknown): number[] {
  const list = Array.isArray(value) ? value : [value];
  return list.filter((v): v is number => Number.isInteger(v));
}
