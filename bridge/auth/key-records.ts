import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { CALLER_ROLES } from "./roles.js";

/**
 * An API key is `colmena_<id>_<secret>`: a prefix that secret scanners and
 * people recognise, the id that names the key everywhere (limits, audit,
 * logs, revocation), and 32 random bytes of secret. Only the SHA-256 digest
 * of the secret is stored: the secret is random, so a plain digest cannot be
 * reversed by guessing, and no server-side pepper has to be shared by every
 * bridge.
 */
export const KEY_PREFIX = "colmena_";
const ID_PATTERN = /^[0-9a-f]{16}$/;
const KEY_PATTERN = /^colmena_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export const KeyRecordSchema = z.strictObject({
  id: z.string().regex(ID_PATTERN),
  name: z.string().max(200),
  role: z.enum(CALLER_ROLES),
  tier: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "tier names are letters, digits, _ and - (at most 64)"),
  /** ISO 8601. */
  created: z.iso.datetime(),
  expires: z.iso.datetime().optional(),
  revoked: z.iso.datetime().optional(),
  /** Hex SHA-256 of the secret. */
  digest: z.string().regex(/^[0-9a-f]{64}$/),
});
export type KeyRecord = z.infer<typeof KeyRecordSchema>;

/** A record as it is shown (CLI, /v1/keys, audit): everything but the digest. */
export type KeyInfo = Omit<KeyRecord, "digest">;

export const keyInfo = ({ digest: _digest, ...info }: KeyRecord): KeyInfo => info;

export function isKeyId(id: string): boolean {
  return ID_PATTERN.test(id);
}

/** A new key and its record's id and digest; the key itself is shown once and never stored. */
export function newKey(): { key: string; id: string; digest: string } {
  const id = randomBytes(8).toString("hex");
  const secret = randomBytes(32).toString("base64url");
  return { key: `${KEY_PREFIX}${id}_${secret}`, id, digest: digestOf(secret) };
}

/** The id and secret of something that looks like a key; undefined when it does not. */
export function parseKey(presented: string): { id: string; secret: string } | undefined {
  const m = KEY_PATTERN.exec(presented);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

/** Constant-time comparison of a presented secret with a record's digest. */
export function secretMatches(secret: string, digest: string): boolean {
  return timingSafeEqual(Buffer.from(digestOf(secret), "hex"), Buffer.from(digest, "hex"));
}

/** Whether a record lets its key in at `now` (ms): not revoked, not expired. */
export function isUsable(record: KeyRecord, now: number): boolean {
  return record.revoked === undefined && (record.expires === undefined || Date.parse(record.expires) > now);
}

const digestOf = (secret: string) => createHash("sha256").update(secret).digest("hex");
