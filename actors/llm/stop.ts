/**
 * Stop strings over streamed text: passes text through, holds back a tail
 * that could be the start of a stop string, and reports the first stop string
 * found, with the text before it.
 */

export class StopScanner {
  private pending = "";

  constructor(private readonly stops: readonly string[]) {}

  /** The text that can be shown now, and whether a stop string has been reached. */
  push(piece: string): { text: string; stopped: boolean } {
    this.pending += piece;
    let first = -1;
    for (const stop of this.stops) {
      const at = this.pending.indexOf(stop);
      if (at >= 0 && (first < 0 || at < first)) first = at;
    }
    if (first >= 0) {
      const text = this.pending.slice(0, first);
      this.pending = "";
      return { text, stopped: true };
    }
    const keep = this.heldBack();
    const text = this.pending.slice(0, this.pending.length - keep);
    this.pending = this.pending.slice(this.pending.length - keep);
    return { text, stopped: false };
  }

  /** The held-back tail, when generation ends for another reason. */
  flush(): string {
    const text = this.pending;
    this.pending = "";
    return text;
  }

  /** Length of the longest tail of the pending text that is a proper prefix of a stop string. */
  private heldBack(): number {
    let keep = 0;
    for (const stop of this.stops) {
      for (let n = Math.min(stop.length - 1, this.pending.length); n > keep; n--) {
        if (this.pending.endsWith(stop.slice(0, n))) {
          keep = n;
          break;
        }
      }
    }
    return keep;
  }
}
