/**
 * The files a config names, checked before anything starts: a model folder
 * that is missing or incomplete, or a FAQ file that cannot be read, is a
 * mistake in the configuration, not a failure for a supervisor to restart.
 * Left to the actors, a missing LLM folder meant seconds of restarts and an
 * escalation whose cause was buried many lines deep; here it is one line
 * naming the config key and the path, before nats-server or any thread starts.
 */
import { access } from "node:fs/promises";
import { readModelDir, readModelFiles } from "../actors/index.js";
import { ColmenaError } from "../runtime/index.js";
import type { ColmenaConfig } from "./config.js";

/** A configuration mistake: `colmena up` and `colmena node` stop with its one-line message and exit code 2. */
export class ConfigMistake extends Error {
  override readonly name = "ConfigMistake";
}

/** Throws a ConfigMistake listing every file the config names that is not usable, one line each: `key: problem (path)`. */
export async function checkConfiguredFiles(config: ColmenaConfig): Promise<void> {
  const roles = new Set<string>(config.roles);
  const checks: Array<[key: string, check: Promise<unknown>]> = [];
  const embedder = config.retrieval.embedder;
  if (roles.has("embedder") && embedder.backend === "onnx") checks.push(["retrieval.embedder.modelDir", readModelDir(embedder.modelDir!, embedder.modelFile)]);
  const llm = config.llm.backend;
  if (roles.has("llm") && llm.type === "onnx") checks.push(["llm.backend.modelDir", readModelFiles(llm.modelDir, llm.modelFile)]);
  const faq = config.pipeline.faqFile;
  if (roles.has("session") && faq !== undefined) {
    const readable = access(faq).catch((err: unknown) => {
      throw new ColmenaError("INVALID", `cannot read ${faq}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    });
    checks.push(["pipeline.faqFile", readable]);
  }
  const results = await Promise.allSettled(checks.map(([, check]) => check));
  const problems = results.flatMap((r, i) => (r.status === "rejected" ? [`${checks[i]![0]}: ${(r.reason as Error).message}`] : []));
  if (problems.length > 0) throw new ConfigMistake(problems.join("\n"));
}
