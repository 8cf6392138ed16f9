/**
 * The node benchmark's baseline, in a process of its own: one plain
 * single-threaded server doing the retrieval Colmena's embedded default does,
 * without actors, NATS or a second thread. Fastify on `POST /v1/query`; the
 * corpus chunked by the product's chunker with the ingest defaults, each
 * piece embedded by the same hash embedder; one index of MiniSearch BM25 and
 * hnswlib-node over those hashed vectors (the product's `ShardIndex`, so BM25
 * and HNSW score exactly as one shard does: the default index has one);
 * reciprocal-rank fusion with the coordinator's defaults; the extractive
 * answer over the same passages. What Colmena does beyond it (sessions,
 * answer cache, deadlines, admission, supervision, messages between actors)
 * is what the ratio prices. It is a benchmark peer, not part of the product.
 *
 * argv: corpus root, port (0: any). Prints `ready <url>` once it listens.
 */
import fastify from "fastify";
import { chunk, chunkId, documentSources, ExtractiveBackend, fuse, groupByDocument, HashEmbedder, ragMessages, ShardIndex } from "../../actors/index.js";
import { readCorpus } from "../../eval/index.js";

/** The embedded default's settings: ingest chunking, the coordinator's candidates, RRF k and weights, the pipeline's topK and token budget. */
const CHUNKING = { maxChars: 1_000, overlapChars: 100, markdown: true };
const CANDIDATES = 20;
const RRF = { k: 60, weights: { vector: 0.25, bm25: 1 } };
const DEFAULT_TOP_K = 5;
const CHUNKS_PER_SOURCE = 3;
const MAX_NEW_TOKENS = 256;

const [root, port = "0"] = process.argv.slice(2);
const embedder = new HashEmbedder();
const index = new ShardIndex({ dimension: embedder.dimension });
for (const doc of readCorpus(root!)) {
  const pieces = chunk(doc.text, CHUNKING);
  const vectors = await embedder.embed(pieces.map((p) => (p.heading ? `${p.heading}\n\n${p.text}` : p.text)));
  pieces.forEach((p, i) => {
    const metadata = { ...(p.title !== undefined && { title: p.title }), ...doc.metadata, ...(p.heading !== undefined && { heading: p.heading }) };
    index.upsert({ id: chunkId(doc.id, p.ordinal), docId: doc.id, text: p.text, vector: vectors[i]!.vector, metadata, ordinal: p.ordinal });
  });
}
const llm = new ExtractiveBackend();
/** A question is answered whole or not at all: nothing cancels a generation here. */
const NEVER = new AbortController().signal;

const app = fastify({ logger: false });
app.post<{ Body: { question?: unknown; top_k?: unknown } }>("/v1/query", async (req, reply) => {
  const { question, top_k } = req.body ?? {};
  if (typeof question !== "string" || question.trim() === "") return reply.code(400).send({ error: "question must be a non-empty string" });
  const topK = typeof top_k === "number" && Number.isSafeInteger(top_k) && top_k > 0 ? Math.min(top_k, 100) : DEFAULT_TOP_K;
  const chunks = topK * CHUNKS_PER_SOURCE;
  const [embedded] = await embedder.embed([question]);
  const results = index.search({ vector: embedded!.vector, text: question, k: Math.max(chunks, CANDIDATES) });
  const hits = fuse([results], { topK: chunks, ...RRF });
  const { sources, passages } = documentSources(question, groupByDocument(hits, topK));
  let answer = "";
  for await (const e of llm.generate({ messages: ragMessages({ question, passages }), maxNewTokens: MAX_NEW_TOKENS }, NEVER)) {
    if (e.type === "token") answer += e.text;
  }
  return { answer, sources };
});
const url = await app.listen({ host: "127.0.0.1", port: Number(port) });
process.stdout.write(`ready ${url} chunks=${index.size}\n`);
process.once("SIGTERM", () => void app.close().then(() => process.exit(0)));
