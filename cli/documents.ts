import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, extname, join, parse, relative, resolve } from "node:path";
import { convert } from "html-to-text";
import { CONTROL_CHARACTERS } from "../bridge/index.js";

const TEXT = new Set([".md", ".markdown", ".txt", ".text"]);
const HTML = new Set([".html", ".htm"]);

export interface FileDocument {
  id: string;
  text: string;
  metadata: { source: string; title: string };
}

/** Markdown, text and HTML files under the given paths (folders are walked), in a stable order. */
export async function findDocuments(paths: string[]): Promise<string[]> {
  const found: string[] = [];
  const visit = async (p: string) => {
    const s = await stat(p).catch(() => undefined);
    if (!s) throw new Error(`no such file or folder: ${p}`);
    if (s.isDirectory()) {
      for (const entry of (await readdir(p)).sort()) if (!entry.startsWith(".")) await visit(join(p, entry));
    } else if (TEXT.has(extname(p).toLowerCase()) || HTML.has(extname(p).toLowerCase())) {
      found.push(p);
    }
  };
  for (const p of paths) await visit(resolve(p));
  return found;
}

/**
 * The folder a file's document id is relative to: the root of the git
 * checkout that holds it (the nearest folder above it with a `.git`), else
 * the file system's root. So the id depends on the file alone, never on
 * which folder was named on the command line, and ingesting a folder and
 * then a folder inside it sends the same ids again (replacing, not
 * duplicating).
 */
export async function documentRoot(file: string): Promise<string> {
  const start = dirname(resolve(file));
  for (let dir = start; ; dir = dirname(dir)) {
    if (await stat(join(dir, ".git")).then(() => true, () => false)) return dir;
    if (dir === dirname(dir)) return parse(start).root;
  }
}

/** Reads one file as a document: the id is its path relative to `root` (documentRoot), HTML is reduced to its text. */
export async function readDocument(file: string, root: string): Promise<FileDocument> {
  // The bridge refuses control characters (bridge/text-rules.ts); in files they are layout (form feeds), so they become spaces.
  const raw = await readFile(file, "utf8");
  const text = (HTML.has(extname(file).toLowerCase()) ? htmlToText(raw) : raw).replace(CONTROL_CHARACTERS, " ");
  const id = relative(root, file).replace(/[^A-Za-z0-9_=-]+/g, "-").replace(/^-+|-+$/g, "") || "document";
  return { id, text, metadata: { source: relative(root, file) || file, title: titleOf(text) ?? relative(root, file) } };
}

function titleOf(text: string): string | undefined {
  return /^\s*#\s+(.+)$/m.exec(text)?.[1]?.trim() ?? text.split("\n").find((l) => l.trim())?.trim().slice(0, 120);
}

/** Markdown headings, so the chunker's sections follow the page's. */
const headings = [1, 2, 3, 4, 5, 6].map((n) => ({ selector: `h${n}`, format: "markdownHeading", options: { level: n } }));

/**
 * Visible text of an HTML page, by a real HTML parser (html-to-text on
 * htmlparser2): scripts, styles, noscript and images dropped, entities
 * decoded, blocks on their own lines, headings as markdown headings, link
 * targets left out.
 */
export function htmlToText(html: string): string {
  return convert(html, {
    wordwrap: false,
    formatters: {
      markdownHeading: (elem, walk, builder, options) => {
        builder.openBlock({ leadingLineBreaks: 2 });
        builder.addLiteral(`${"#".repeat(Number(options.level ?? 1))} `);
        walk(elem.children, builder);
        builder.closeBlock({ trailingLineBreaks: 2 });
      },
    },
    selectors: [
      ...headings,
      { selector: "a", options: { ignoreHref: true } },
      { selector: "img", format: "skip" },
      { selector: "noscript", format: "skip" },
    ],
  }).trim();
}
