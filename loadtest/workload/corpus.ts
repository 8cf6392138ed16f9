import { readdir, readFile, stat } from "node:fs/promises";
import { extname, join, relative } from "node:path";
import type { Random } from "./random.js";
import type { SourceDocument, WorkloadSource } from "./source.js";

const EXTENSIONS = new Set([".md", ".markdown", ".txt"]);
const MAX_FILES = 5_000;
const MAX_FILE_BYTES = 512 * 1024;

/**
 * A folder of markdown or text files as a workload: each file a document,
 * its headings and its plain sentences the questions (a heading that is not
 * a question is asked about: "What is <heading>?").
 */
export async function corpusSource(dir: string): Promise<WorkloadSource> {
  const files = await walk(dir);
  const documents: SourceDocument[] = [];
  const questions = new Set<string>();
  const sentences: string[] = [];
  for (const file of files) {
    const raw = await readFile(file, "utf8");
    const text = stripMarkdownNoise(raw);
    if (text.replace(/\s+/g, "").length < 20) continue;
    const id = relative(dir, file).replace(/[^A-Za-z0-9_=-]+/g, "-").replace(/^-+|-+$/g, "") || "document";
    const heads = headings(text);
    documents.push({ id, title: heads[0] ?? id, text });
    for (const h of heads) questions.add(/[?]$/.test(h) ? h : `What is ${h}?`);
    for (const s of plainSentences(text)) {
      sentences.push(s);
      questions.add(s);
    }
  }
  if (documents.length === 0) throw new Error(`no markdown or text files with text under ${dir}`);
  const asked = [...questions];
  const passages = sentences.length > 0 ? sentences : documents.map((d) => d.text.slice(0, 400));
  return {
    name: dir,
    documents,
    question: (r: Random) => r.pick(asked),
    passage: (r: Random) => Array.from({ length: 3 + r.int(4) }, () => r.pick(passages)).join(" "),
  };
}

async function walk(dir: string): Promise<string[]> {
  const found: string[] = [];
  const visit = async (p: string): Promise<void> => {
    if (found.length >= MAX_FILES) return;
    const s = await stat(p);
    if (s.isDirectory()) {
      for (const entry of (await readdir(p)).sort()) if (!entry.startsWith(".")) await visit(join(p, entry));
    } else if (EXTENSIONS.has(extname(p).toLowerCase()) && s.size <= MAX_FILE_BYTES) {
      found.push(p);
    }
  };
  await visit(dir);
  return found;
}

/** Front matter, fenced code, HTML tags and link targets removed; the prose stays. */
export function stripMarkdownNoise(md: string): string {
  return md
    .replace(/^---\n[\s\S]*?\n---\n/, "")
    .replace(/```[\s\S]*?```/g, "")
    .replace(/<[^>]+>/g, "")
    .replace(/!\[[^\]]*\]\([^)]*\)/g, "")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/\{%[\s\S]*?%\}/g, "");
}

/** Markdown headings, their `#`s, emphasis and code marks removed. */
export function headings(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const h = clean(m[1]!);
    if (h.length >= 3 && h.length <= 120) out.push(h);
  }
  return out;
}

/** Sentences of ordinary prose (6–25 words, ending in . or ?), not list items, tables or headings. */
export function plainSentences(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const l = line.trim();
    if (!l || /^(#|\||[-*+]\s|\d+\.\s|>)/.test(l)) continue;
    for (const s of clean(l).match(/[A-Z][^.?!]*[.?]/g) ?? []) {
      const words = s.split(/\s+/).length;
      if (words >= 6 && words <= 25) out.push(s);
    }
  }
  return out;
}

const clean = (s: string) => s.replace(/[`*_]/g, "").replace(/\s+/g, " ").trim();
