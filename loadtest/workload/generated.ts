import type { Random } from "./random.js";
import type { WorkloadSource } from "./source.js";

const SUBJECTS = ["stream", "consumer", "subject", "queue group", "key-value bucket", "object store", "leaf node", "cluster", "account", "mirror", "snapshot", "replica", "lease", "mailbox", "supervisor", "shard", "embedder", "session", "deadline", "heartbeat"];
const VERBS = ["stores", "replicates", "acknowledges", "routes", "compacts", "throttles", "retries", "snapshots", "indexes", "expires", "balances", "restarts", "batches", "forwards", "persists", "sheds"];
const OBJECTS = ["messages", "events", "requests", "entries", "chunks", "vectors", "answers", "tokens", "writes", "heartbeats", "leases", "connections"];
const QUALIFIERS = ["in order", "at least once", "within a deadline", "under load", "across nodes", "after a restart", "by subject", "in batches", "with a retry hint", "on disk", "in memory", "per key"];
const TEMPLATES = [
  (a: string, b: string) => `How does a ${a} handle ${b}?`,
  (a: string, b: string) => `What happens to ${b} when a ${a} fails?`,
  (a: string, b: string) => `Why would a ${a} keep ${b}?`,
  (a: string, b: string) => `When does a ${a} drop ${b}?`,
  (a: string, b: string) => `Which ${a} settings affect ${b}?`,
];

/** A sentence about the system's vocabulary, e.g. "A replica acknowledges writes after a restart." */
function sentence(r: Random): string {
  return `A ${r.pick(SUBJECTS)} ${r.pick(VERBS)} ${r.pick(OBJECTS)} ${r.pick(QUALIFIERS)}.`;
}

/** Documents and questions made from a small technical vocabulary, seeded: no files needed. */
export function generatedSource(r: Random, documents = 200): WorkloadSource {
  const docs = Array.from({ length: documents }, (_, i) => ({
    id: `generated-${i}`,
    title: `${r.pick(SUBJECTS)} notes ${i}`,
    text: Array.from({ length: 4 + r.int(8) }, () => sentence(r)).join(" "),
  }));
  return {
    name: "generated",
    documents: docs,
    question: (rr) => rr.pick(TEMPLATES)(rr.pick(SUBJECTS), `${rr.pick(OBJECTS)} ${rr.pick(QUALIFIERS)}`),
    passage: (rr) => Array.from({ length: 3 + rr.int(6) }, () => sentence(rr)).join(" "),
  };
}
