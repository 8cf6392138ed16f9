import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative, sep } from "node:path";

/** The source folders whose imports are checked (tests and benchmarks may reach internals). */
export const SOURCE_FOLDERS = ["nats", "supervisors", "runtime", "actors", "bridge", "cli", "nomad", "loadtest"];

export interface Import {
  from: string;
  to: string;
  typeOnly: boolean;
}

const IMPORT = /^\s*(import|export)\s+(type\s+)?(?:[^"';]*?\s+from\s+)?["'](\.{1,2}\/[^"']+)["']/gm;

/** Every relative import between the .ts files under `root`'s source folders, resolved to paths relative to root. */
export function importsOf(root: string, folders = SOURCE_FOLDERS): Import[] {
  const out: Import[] = [];
  for (const folder of folders) {
    for (const file of tsFiles(join(root, folder))) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(IMPORT)) {
        const target = normalize(join(dirname(file), m[3]!.replace(/\.js$/, ".ts")));
        out.push({ from: rel(root, file), to: rel(root, target), typeOnly: Boolean(m[2]) });
      }
    }
  }
  return out;
}

/** Imports that enter another top-level folder past its index.ts. */
export function bypassing(imports: Import[]): Import[] {
  return imports.filter((i) => top(i.from) !== top(i.to) && i.to !== `${top(i.to)}/index.ts`);
}

/** The strongly connected components of more than one file (Tarjan), type-only imports included. */
export function cycles(imports: Import[]): string[][] {
  const edges = new Map<string, string[]>();
  for (const i of imports) {
    if (!edges.has(i.from)) edges.set(i.from, []);
    edges.get(i.from)!.push(i.to);
  }
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      for (let w = stack.pop()!; ; w = stack.pop()!) {
        onStack.delete(w);
        scc.push(w);
        if (w === v) break;
      }
      if (scc.length > 1) found.push(scc.sort());
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return found;
}

function* tsFiles(dir: string): Generator<string> {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* tsFiles(p);
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) yield p;
  }
}

const rel = (root: string, p: string) => relative(root, p).split(sep).join("/");
const top = (p: string) => p.split("/")[0]!;
