/**
 * Server-sent events, as OpenAI-compatible engines stream them: the data of
 * each event (several `data:` lines joined by "\n"), in order. Comments
 * (`:` lines) and the `event`, `id` and `retry` fields are skipped. Lines may
 * end in \n, \r\n or \r, and may be split anywhere across chunks, inside a
 * UTF-8 sequence too. An event still open when the body ends is delivered.
 */
export async function* sseData(body: AsyncIterable<Uint8Array>): AsyncGenerator<string, void> {
  const decoder = new TextDecoder();
  const data: string[] = [];
  let buffer = "";
  const field = (line: string): string | undefined => {
    if (line === "") {
      const event = data.length > 0 ? data.join("\n") : undefined;
      data.length = 0;
      return event;
    }
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    if (name !== "data") return undefined;
    const value = colon < 0 ? "" : line.slice(colon + 1);
    data.push(value.startsWith(" ") ? value.slice(1) : value);
    return undefined;
  };
  const lines = function* (final: boolean): Generator<string> {
    for (;;) {
      const eol = buffer.search(/[\r\n]/);
      if (eol < 0) break;
      // A lone \r at the end may be the first half of \r\n: wait for the next chunk.
      if (buffer[eol] === "\r" && eol === buffer.length - 1 && !final) break;
      const width = buffer[eol] === "\r" && buffer[eol + 1] === "\n" ? 2 : 1;
      yield buffer.slice(0, eol);
      buffer = buffer.slice(eol + width);
    }
  };
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    for (const line of lines(false)) {
      const event = field(line);
      if (event !== undefined) yield event;
    }
  }
  buffer += decoder.decode();
  for (const line of [...lines(true), buffer, ""]) {
    const event = field(line);
    if (event !== undefined) yield event;
  }
}
