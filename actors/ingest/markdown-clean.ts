/**
 * Markdown as people read it: the markup of GitBook, Docusaurus, MkDocs and
 * plain markdown reduced to its text before chunking, so passages, answers
 * and BM25 see words, not syntax. Fenced code blocks are kept verbatim, with
 * their fences (they are indexed and shown as code), and so are headings
 * (the chunker's sections start at them) and inline code spans.
 *
 * Dropped: YAML front matter (its `title` is kept as the document's title),
 * HTML comments, GitBook tags (`{% tab %}`, `{% hint %}`, `{% include %}`,
 * ...), Docusaurus admonition fences (`:::note`), MkDocs admonition and tab
 * markers (`!!! note`, `=== "Tab"`), HTML/JSX tags (their text stays), link
 * definitions, table separator rows, blockquote marks and backslash escapes.
 * Links and images become their text; emphasis marks go; table rows become
 * "cell: cell" lines.
 */

export interface CleanDocument {
  text: string;
  /** Front matter `title`, else the first level-1 heading. */
  title?: string;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const FRONT_MATTER = /^---\n([\s\S]*?)\n(?:---|\.\.\.)[ \t]*(?:\n|$)/;
const INLINE_CODE = /(`+)([\s\S]*?[^`])\1(?!`)/g;
/** HTML and JSX elements whose tags are dropped (their content stays). */
const TAGS = /<\/?(?:a|abbr|b|br|center|code|details|div|em|figcaption|figure|font|h[1-6]|hr|i|iframe|img|kbd|li|ol|p|picture|pre|small|source|span|strong|sub|summary|sup|table|tbody|td|th|thead|tr|u|ul|video|Tabs|TabItem|Admonition|CodeBlock)\b[^<>]*\/?>/gi;
/** Tags inside a run of text: dropped without a space, so "with <b>care</b>." stays "with care.". */
const INLINE_TAG = /^<\/?(?:a|abbr|b|code|em|font|i|kbd|small|span|strong|sub|sup|u)\b/i;
const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

export function cleanMarkdown(source: string): CleanDocument {
  let text = source.replace(/\r\n?/g, "\n");
  let title: string | undefined;
  const front = FRONT_MATTER.exec(text);
  if (front !== null) {
    title = /^title:[ \t]*["']?(.*?)["']?[ \t]*$/m.exec(front[1] ?? "")?.[1] || undefined;
    text = text.slice(front[0].length);
  }
  const out: string[] = [];
  let fence: string | undefined;
  let comment = false;
  for (const raw of text.split("\n")) {
    if (fence !== undefined) {
      out.push(raw);
      const close = FENCE.exec(raw)?.[1];
      if (close !== undefined && close[0] === fence[0] && close.length >= fence.length && raw.trim() === close) fence = undefined;
      continue;
    }
    let line = raw;
    // HTML comments, which may span lines.
    if (comment) {
      const end = line.indexOf("-->");
      if (end < 0) continue;
      line = line.slice(end + 3);
      comment = false;
    }
    line = line.replace(/<!--[\s\S]*?-->/g, "");
    const open = line.indexOf("<!--");
    if (open >= 0) {
      line = line.slice(0, open);
      comment = true;
    }
    const opening = FENCE.exec(line.replace(/\{%.*?%\}/g, ""));
    if (opening !== null) {
      // A fence may follow a GitBook tag on the same line; the code keeps its own line.
      fence = opening[1]!;
      out.push(line.replace(/\{%.*?%\}/g, "").replace(/^[ \t]*(?=[`~])/, ""));
      continue;
    }
    const cleaned = cleanLine(line);
    if (cleaned !== undefined) out.push(cleaned);
  }
  const cleanedText = out.join("\n").replace(/\n{3,}/g, "\n\n").trim();
  title ??= /^# +(.+?)[ \t#]*$/m.exec(cleanedText)?.[1]?.trim();
  return title === undefined ? { text: cleanedText } : { text: cleanedText, title };
}

/** One line outside code; undefined when the whole line is markup. */
function cleanLine(line: string): string | undefined {
  if (/^\s*\{%.*%\}\s*$/.test(line) || /^\s*:::/.test(line) || /^\s*===\s+"/.test(line)) return undefined;
  if (/^ {0,3}\[[^\]]+\]:\s+\S+/.test(line)) return undefined;
  if (/^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(line)) return undefined;
  let l = line.replace(/^\s*(?:!!!|\?\?\?\+?)\s+\w+(?:\s+"([^"]*)")?\s*$/, "$1");
  l = l.replace(/^ {0,3}(?:>\s?)+/, "");
  const codes: string[] = [];
  // Inline code is kept as it is; the rest of the line is cleaned around it.
  l = l.replace(INLINE_CODE, (m) => `\u0000${codes.push(m) - 1}\u0000`);
  l = l
    .replace(/\{%.*?%\}/g, "")
    .replace(TAGS, (tag) => (INLINE_TAG.test(tag) ? "" : " "))
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\[([^\]]+)\]\((?:[^()]|\([^)]*\))*\)/g, "$1")
    .replace(/\[([^\]]+)\]\[[^\]]*\]/g, "$1")
    .replace(/<((?:https?|mailto):[^>\s]+)>/g, "$1")
    .replace(/(\*\*|__)(?=\S)([^*_]*?\S)\1/g, "$2")
    .replace(/(^|[\s(])([*_])(?=\S)([^*_\n]*?\S)\2(?=[\s.,;:!?)]|$)/g, "$1$3")
    .replace(/\\([\\`*_{}[\]()#+\-.!|<>])/g, "$1")
    .replace(/&(#\d+|#x[0-9a-f]+|\w+);/gi, (m, e: string) =>
      e[0] === "#" ? String.fromCodePoint(e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)) : (ENTITIES[e.toLowerCase()] ?? m),
    );
  if (/^\s*\|.*\|\s*$/.test(l)) {
    const cells = l.trim().slice(1, -1).split("|").map((c) => c.trim()).filter((c) => c !== "");
    l = cells.length === 0 ? "" : cells.length === 1 ? cells[0]! : `${cells[0]}: ${cells.slice(1).join(" ")}`;
  }
  l = l.replace(/\u0000(\d+)\u0000/g, (_, i: string) => codes[Number(i)]!);
  return l.replace(/[ \t]+$/, "");
}
