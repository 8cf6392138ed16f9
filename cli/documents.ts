import { readdir, readFile, stat } from "node:fs/promises";
import { extname, isAbsolute, join, relative, resolve } from "node:path";

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
 * Reads one file as a document, HTML reduced to its text. The id rule: the
 * file's path relative to `root` (the current folder; its absolute path when
 * it lies outside), each run of characters other than letters, digits and
 * `_=-` made one `-`. It depends on the file only, never on the folder named
 * on the command line, so ingesting a folder and then one inside it gives
 * every file the id it had, and the second ingest replaces the first.
 */
export async function readDocument(file: string, root = process.cwd()): Promise<FileDocument> {
  const raw = await readFile(file, "utf8");
  const text = HTML.has(extname(file).toLowerCase()) ? htmlToText(raw) : raw;
  const rel = relative(root, file);
  const source = rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : resolve(file);
  const id = source.replace(/[^A-Za-z0-9_=-]+/g, "-").replace(/^-+|-+$/g, "") || "document";
  return { id, text, metadata: { source, title: titleOf(text) ?? source } };
}

function titleOf(text: string): string | undefined {
  return /^\s*#\s+(.+)$/m.exec(text)?.[1]?.trim() ?? text.split("\n").find((l) => l.trim())?.trim().slice(0, 120);
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

/** Visible text of an HTML page: scripts and styles dropped, blocks on their own lines, entities decoded. */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style|noscript)[^>]*>[\s\S]*?<\/\1>/gi, "")
    .replace(/<h([1-6])[^>]*>/gi, (_, n: string) => `\n\n${"#".repeat(Number(n))} `)
    .replace(/<\/(p|div|h[1-6]|li|tr|pre|section|article)>|<br\s*\/?>/gi, "\n")
    .replace(/<li[^>]*>/gi, "- ")
    .replace(/<[^>]+>/g, "")
    .replace(/&(#\d+|#x[0-9a-f]+|\w+);/gi, (m, e: string) =>
      e[0] === "#" ? String.fromCodePoint(e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)) : (ENTITIES[e.toLowerCase()] ?? m),
    )
    .replace(/[ \t]+\n/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}
