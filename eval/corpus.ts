/** The evaluation corpus: every non-empty markdown file under a folder, as documents keyed by their relative path. */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import type { EvalDocument } from "./colmena-server.js";

/** The default corpus, relative to the repository root: the NATS docs beside the checkout. */
export const DEFAULT_CORPUS = "../shared/corpus/nats-docs";

export function readCorpus(root: string): EvalDocument[] {
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new CorpusMissing(root);
  const docs: EvalDocument[] = [];
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (entry.startsWith(".")) continue;
      if (statSync(path).isDirectory()) visit(path);
      else if (entry.endsWith(".md")) {
        const text = readFileSync(path, "utf8");
        const source = relative(root, path);
        if (text.trim() !== "") docs.push({ id: source.replace(/[^A-Za-z0-9_=-]+/g, "-"), text, metadata: { source } });
      }
    }
  };
  visit(root);
  return docs;
}

export class CorpusMissing extends Error {
  constructor(readonly root: string) {
    super(`corpus not found at ${root}: the retrieval evaluation needs the NATS docs there (--corpus or COLMENA_EVAL_CORPUS point elsewhere)`);
    this.name = "CorpusMissing";
  }
}
