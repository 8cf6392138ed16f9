/**
 * Incremental detokenisation: turns generated ids into text pieces one id at
 * a time, never emitting a broken UTF-8 sequence. It decodes a short window of
 * recent ids (the ids already shown plus the new ones) and emits the part past
 * what the shown ids decode to, holding text back while it ends in U+FFFD (an
 * incomplete multi-byte character). Decoding the window in context, rather
 * than each id alone, keeps the spaces that tokenizers attach to word starts.
 */

export type Decode = (ids: number[]) => string;

export class IncrementalDecoder {
  private readonly ids: number[] = [];
  /** Start of the window: ids before it are shown and no longer needed as context. */
  private prefixOffset = 0;
  /** End of the shown ids. */
  private readOffset = 0;
  /** What ids[prefixOffset, readOffset) decode to: it changes only when the offsets move, so it is decoded once per move. */
  private shown = "";

  constructor(private readonly decode: Decode) {}

  /** The new text that id completes; "" while a character is incomplete. */
  push(id: number): string {
    this.ids.push(id);
    const shown = this.shown;
    const text = this.decode(this.ids.slice(this.prefixOffset));
    if (text.length <= shown.length || text.endsWith("\uFFFD")) return "";
    this.prefixOffset = this.readOffset;
    this.readOffset = this.ids.length;
    this.shown = this.decode(this.ids.slice(this.prefixOffset, this.readOffset));
    return text.slice(shown.length);
  }

  /** Whatever is held back, at the end of generation (U+FFFD for a truncated character). */
  flush(): string {
    const text = this.decode(this.ids.slice(this.prefixOffset));
    this.prefixOffset = this.readOffset = this.ids.length;
    const shown = this.shown;
    this.shown = "";
    return text.slice(shown.length);
  }
}
