import assert from "node:assert/strict";
import { test } from "node:test";
import { ShardIndex } from "../../actors/index-shard/index.js";
import { phraseShare, queryPairs } from "../../actors/index-shard/proximity.js";
import { processTerm, termSequence } from "../../actors/index-shard/text-terms.js";
import { axis } from "./random-vectors.js";

const DIM = 4;

function index(chunks: Array<{ id: string; text: string; metadata?: Record<string, string> }>): ShardIndex {
  const shard = new ShardIndex({ dimension: DIM });
  chunks.forEach((c, i) => shard.upsert({ id: c.id, docId: c.id, text: c.text, vector: axis(DIM, i % DIM), metadata: c.metadata ?? {} }));
  return shard;
}

const bm25 = (shard: ShardIndex, text: string) => shard.search({ text, k: 5 }).bm25.map((h) => h.id);

test("index-shard - terms are stemmed and stop words are not indexed", () => {
  assert.equal(processTerm("the"), null);
  assert.equal(processTerm("Configuring"), processTerm("configured"));
  assert.deepEqual(termSequence("How do I configure the servers?"), ["configur", "server"]);
  assert.deepEqual(termSequence("Why does a user's stream stop when full?"), ["user", "stream", "stop", "full"], "question words and a possessive's s are stop words");
  const shard = index([
    { id: "a", text: "Server configuration lives in a file." },
    { id: "b", text: "The bees and the hive." },
  ]);
  assert.deepEqual(bm25(shard, "configuring servers"), ["a"]);
  assert.deepEqual(bm25(shard, "the and"), [], "a question of stop words matches nothing");
});

test("index-shard - an identifier in camel case is indexed as itself and as its words", () => {
  assert.deepEqual(processTerm("DiscardOld"), ["discardold", "discard", "old"]);
  assert.deepEqual(processTerm("JSONParser"), ["jsonpars", "json", "parser"]);
  assert.deepEqual(termSequence("the MaxAckPending setting"), ["maxackpend", "max", "ack", "pend", "set"]);
  const shard = index([
    { id: "option", text: "DiscardOld removes the oldest message." },
    { id: "prose", text: "Consumers can cap the pending acks: max ack pending." },
    { id: "other", text: "The bees and the hive." },
  ]);
  assert.deepEqual(bm25(shard, "discard old"), ["option"]);
  assert.deepEqual(bm25(shard, "DiscardOld"), ["option"]);
  assert.equal(bm25(shard, "MaxAckPending")[0], "prose");
});

test("index-shard - title, heading and path are fields of their own that outweigh the body", () => {
  const shard = index([
    { id: "body", text: "You may also enable TLS later; tls options are listed elsewhere." },
    { id: "titled", text: "Certificates go in the tls map.", metadata: { title: "Enabling TLS", heading: "Enabling TLS > Certificates", source: "securing/tls.md" } },
  ]);
  assert.deepEqual(bm25(shard, "enabling tls"), ["titled", "body"]);
  assert.deepEqual(bm25(shard, "securing"), ["titled"], "the path is searched");
});

test("index-shard - chunks where the question's words stand together rank first", () => {
  const pairs = queryPairs(termSequence("queue group members"));
  assert.equal(phraseShare(pairs, [termSequence("every queue group member")]), 1);
  assert.equal(phraseShare(pairs, [termSequence("members of a queue, then much later text about one group")]), 0);
  const shard = index([
    { id: "apart", text: "A queue of work waits there. Much later, people form one group." },
    { id: "together", text: "A queue group shares the work. Later, more unrelated words here." },
  ]);
  assert.deepEqual(bm25(shard, "queue group"), ["together", "apart"]);
});
