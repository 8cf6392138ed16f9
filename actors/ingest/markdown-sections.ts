/**
 * The shape of a markdown document as the chunker needs it: sections that
 * begin at ATX headings (`#` to `######`) and the fenced code blocks, whose
 * lines are never read as headings. Offsets index the document string.
 */

export interface Section {
  start: number;
  end: number;
  /** End of the heading line(s) that open the section; no piece may end before it. */
  headerEnd: number;
  /** The heading path, outermost first, joined with " > "; absent before the first heading. */
  heading?: string;
}

/** A fenced code block, from the start of its opening fence line to the end of its closing one. */
export interface CodeRange {
  start: number;
  end: number;
  /** Where its code begins (after the opening fence line) and ends (the closing fence line's start, or the document's end). */
  bodyStart: number;
  bodyEnd: number;
  /** The opening fence line ("```sh") and the marker that closes the block ("```"). */
  opening: string;
  marker: string;
}

export interface MarkdownLayout {
  sections: Section[];
  code: CodeRange[];
}

const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/**
 * A heading whose section holds nothing but blank lines is folded into the
 * next section (it keeps its text, and the deeper heading path wins), so no
 * piece is a bare heading unless the document ends with one.
 */
export function scanMarkdown(text: string): MarkdownLayout {
  const sections: Section[] = [];
  const code: CodeRange[] = [];
  const path: Array<{ level: number; title: string }> = [];
  let current: Section = { start: 0, end: text.length, headerEnd: 0 };
  let fence: Omit<CodeRange, "end" | "bodyEnd"> | undefined;

  for (let lineStart = 0; lineStart < text.length; ) {
    const newline = text.indexOf("\n", lineStart);
    const lineEnd = newline === -1 ? text.length : newline;
    const next = newline === -1 ? text.length : newline + 1;
    const line = text.slice(lineStart, lineEnd);

    if (fence !== undefined) {
      const close = FENCE.exec(line);
      const marker = close?.[1];
      if (marker !== undefined && marker[0] === fence.marker[0] && marker.length >= fence.marker.length && line.trim() === marker) {
        code.push({ ...fence, bodyEnd: lineStart, end: next });
        fence = undefined;
      }
    } else if (opensFence(line)) {
      fence = { marker: FENCE.exec(line)?.[1] ?? "```", start: lineStart, bodyStart: next, opening: line.trim() };
    } else {
      const heading = HEADING.exec(line);
      if (heading !== null) {
        const level = heading[1]?.length ?? 1;
        while ((path.at(-1)?.level ?? 0) >= level) path.pop();
        path.push({ level, title: (heading[2] ?? "").trim() });
        const title = path.map((h) => h.title).filter((t) => t.length > 0).join(" > ");
        if (text.slice(current.headerEnd, lineStart).trim().length > 0) {
          sections.push({ ...current, end: lineStart });
          current = { start: lineStart, end: text.length, headerEnd: next };
        } else {
          current.headerEnd = next;
        }
        if (title.length > 0) current.heading = title;
        else delete current.heading;
      }
    }
    lineStart = next;
  }
  if (fence !== undefined) code.push({ ...fence, bodyEnd: text.length, end: text.length });
  sections.push(current);
  return { sections, code };
}

/** A backtick fence's info string may not contain a backtick (CommonMark), so "```x```" is inline code. */
function opensFence(line: string): boolean {
  const marker = FENCE.exec(line)?.[1];
  return marker !== undefined && !(marker[0] === "`" && line.slice(line.indexOf(marker) + marker.length).includes("`"));
}
