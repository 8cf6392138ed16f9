import assert from "node:assert/strict";
import { test } from "node:test";
import { ActorKeySchema, isColmenaError, MAX_ACTOR_KEY_LENGTH, MAX_KEY_LENGTH, Subjects, subjectToken } from "../../runtime/index.js";

test("subjects - every subject sits under the namespace", () => {
  const s = new Subjects("prod-eu");
  assert.equal(s.pool("embedder"), "prod-eu.pool.embedder");
  assert.equal(s.keyed("session", "abc-1"), "prod-eu.keyed.session.abc-1");
  assert.equal(s.activate("session"), "prod-eu.activate.session");
  assert.equal(s.bucket("state"), "prod-eu_state");
  assert.equal(new Subjects().pool("x"), "colmena.pool.x");
});

test("subjects - keys with whitespace, dots or wildcards are INVALID", () => {
  for (const bad of ["a b", "a.b", "*", ">", "tab\t", "", "ñ"]) {
    assert.throws(() => subjectToken(bad), (e) => isColmenaError(e, "INVALID"), JSON.stringify(bad));
  }
  assert.throws(() => new Subjects("a.b"), (e) => isColmenaError(e, "INVALID"));
});

test("subjects - over-long keys are hashed, stably and distinctly", () => {
  const long = "k".repeat(MAX_KEY_LENGTH + 1);
  const h = subjectToken(long);
  assert.ok(h.length <= MAX_KEY_LENGTH && h.startsWith("h-"));
  assert.equal(subjectToken(long), h);
  assert.notEqual(subjectToken(`${long}x`), h);
  assert.equal(subjectToken("k".repeat(MAX_KEY_LENGTH)), "k".repeat(MAX_KEY_LENGTH));
});

test("subjects - a key past MAX_ACTOR_KEY_LENGTH is refused wherever it would become a subject or KV key", () => {
  const subjects = new Subjects("ns");
  const long = "k".repeat(MAX_ACTOR_KEY_LENGTH + 1);
  for (const build of [() => subjectToken(long), () => subjects.keyed("kind", long), () => subjects.actorKey("kind", long), () => subjects.stateKey(long)]) {
    assert.throws(build, (e) => isColmenaError(e, "INVALID"));
  }
  assert.ok(subjects.stateKey("k".repeat(MAX_ACTOR_KEY_LENGTH)).length <= MAX_KEY_LENGTH);
  assert.equal(ActorKeySchema.safeParse(long).success, false);
  assert.equal(ActorKeySchema.safeParse("a.b").success, false);
});
