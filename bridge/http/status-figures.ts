/**
 * `RagApi.status()` returns whatever the system knows about itself (actor
 * states, mailbox depths, cache hit rates), nested. /metrics publishes it
 * without knowing its shape: every number (and boolean, as 0/1) becomes a
 * figure named by its path, every string a (path, value) pair. Array items
 * are named by their `id`, `name`, `kind` or `node` field when they have
 * one, else by their index. Depth and count are bounded so a surprising
 * status cannot flood the scrape.
 */
export interface Figures {
  numbers: [path: string, value: number][];
  strings: [path: string, value: string][];
}

const NAME_FIELDS = ["id", "name", "kind", "node"] as const;

export function flattenStatus(status: unknown, limits = { depth: 8, count: 2000 }): Figures {
  const out: Figures = { numbers: [], strings: [] };
  const full = () => out.numbers.length + out.strings.length >= limits.count;
  const walk = (value: unknown, path: string, depth: number): void => {
    if (full()) return;
    if (typeof value === "number") {
      if (Number.isFinite(value) && path !== "") out.numbers.push([path, value]);
    } else if (typeof value === "boolean") {
      if (path !== "") out.numbers.push([path, value ? 1 : 0]);
    } else if (typeof value === "string") {
      if (path !== "" && value.length <= 200) out.strings.push([path, value]);
    } else if (typeof value === "object" && value !== null && depth < limits.depth) {
      const entries = Array.isArray(value) ? value.map((item, i) => [itemName(item, i), item] as const) : Object.entries(value);
      for (const [key, child] of entries) walk(child, path === "" ? key : `${path}.${key}`, depth + 1);
    }
  };
  walk(status, "", 0);
  return out;
}

function itemName(item: unknown, index: number): string {
  if (typeof item === "object" && item !== null) {
    for (const field of NAME_FIELDS) {
      const v = (item as Record<string, unknown>)[field];
      if (typeof v === "string" && v.length > 0) return v;
    }
  }
  return String(index);
}
