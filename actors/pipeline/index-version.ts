import { jetStreamManagerOf } from "../../nats/index.js";
import type { ActorSystem } from "../../runtime/index.js";
import { shardLogStream } from "../index-shard/index.js";

/**
 * The index version a cached answer is valid for: the last sequence of the
 * shard write log. Every ingest or delete appends to it, so an answer cached
 * before a write is never served after it.
 */
export async function indexVersion(system: ActorSystem): Promise<number> {
  const jsm = await jetStreamManagerOf(system.nc);
  try {
    return (await jsm.streams.info(shardLogStream(system.subjects))).state.last_seq;
  } catch {
    return 0; // no write log yet: nothing was ever ingested
  }
}
