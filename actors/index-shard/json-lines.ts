/**
 * A file of one JSON value per line. A shard's chunk table can outgrow the
 * longest string V8 will build, so it is written and read a line at a time
 * instead of as one JSON document, in the thread's time slices.
 */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { createInterface } from "node:readline";
import { yieldIfSpent } from "../../runtime/index.js";

const BATCH_CHARS = 1 << 20;

export async function writeJsonLines(path: string, values: Iterable<unknown>): Promise<void> {
  const file = await open(path, "wx");
  try {
    let batch = "";
    for (const value of values) {
      batch += JSON.stringify(value) + "\n";
      if (batch.length >= BATCH_CHARS) {
        await file.write(batch);
        batch = "";
      }
      // A large table is serialised in time slices, so searches and sockets get the thread in between.
      await yieldIfSpent();
    }
    if (batch.length > 0) await file.write(batch);
  } finally {
    await file.close();
  }
}

export async function* readJsonLines(path: string): AsyncGenerator<unknown> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.length > 0) yield JSON.parse(line) as unknown;
  }
}
