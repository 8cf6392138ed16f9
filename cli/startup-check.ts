/**
 * Mistakes that no restart can fix — a bad config value, a model folder or
 * file that is missing or malformed, a FAQ file that cannot be read, the
 * bridge's certificate files or the NATS credentials and TLS files
 * unreadable — are found here, before nats-server or
 * any actor starts, and stop start-up with one line naming the path and the
 * config key (exit code 2 in main.ts). The actors would find the same files
 * missing only inside their supervisors, which restart failures: a restart
 * loop on a mistake.
 */
import { access, readFile } from "node:fs/promises";
import { embedderModelBytes, llmModelBytes, readModelDir, readModelFiles } from "../actors/index.js";
import { readTlsFiles } from "../bridge/index.js";
import { ColmenaError } from "../runtime/index.js";
import { nodeConfig, type ColmenaConfig, type ConfigFlags } from "./config.js";

/** A start-up mistake: the process exits with code 2 and nothing is restarted. */
export class StartupMistake extends ColmenaError {
  constructor(message: string, cause?: unknown) {
    super("INVALID", message, cause === undefined ? {} : { cause });
  }
}

/** The node's config, validated, and the model files it names checked. */
export async function startupConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv): Promise<ColmenaConfig> {
  let config: ColmenaConfig;
  try {
    config = nodeConfig(flags, env);
  } catch (err) {
    throw err instanceof ColmenaError && err.code === "INVALID" ? new StartupMistake(err.message, err) : err;
  }
  await checkModelFiles(config);
  checkTlsFiles(config);
  await checkNatsFiles(config);
  return config;
}

/** Reads the model files of the roles this node hosts the way their actors will, and checks the FAQ file is there. */
async function checkModelFiles(config: ColmenaConfig): Promise<void> {
  const embedder = config.retrieval.embedder;
  if (config.roles.includes("embedder")) {
    if (embedder.backend === "onnx") await named("retrieval.embedder.modelDir", () => readModelDir(embedder.modelDir!, embedder.modelFile));
    for (const [i, m] of embedder.models.entries()) {
      if (m.backend === "onnx") await named(`retrieval.embedder.models.${i}.modelDir`, () => readModelDir(m.modelDir!, m.modelFile));
    }
    const sizes = await Promise.all([embedder, ...embedder.models].map((m) => embedderModelBytes(m)));
    checkBudget("retrieval.embedder", embedder.memoryBudgetBytes, sizes, embedder.models);
  }
  const llm = config.llm;
  if (config.roles.includes("llm")) {
    const main = llm.backend;
    if (main.type === "onnx") await named("llm.backend.modelDir", () => readModelFiles(main.modelDir, main.modelFile));
    for (const [i, m] of llm.models.entries()) {
      const b = m.backend;
      if (b.type === "onnx") await named(`llm.models.${i}.backend.modelDir`, () => readModelFiles(b.modelDir, b.modelFile));
    }
    const sizes = await Promise.all([llmModelBytes(llm.backend, llm.memoryBytes), ...llm.models.map((m) => llmModelBytes(m.backend, m.memoryBytes))]);
    checkBudget("llm", llm.memoryBudgetBytes, sizes, llm.models);
  }
  const faq = config.pipeline.faqFile;
  if (config.roles.includes("session") && faq !== undefined) {
    await named("pipeline.faqFile", () =>
      access(faq).catch((err: unknown) => {
        throw new ColmenaError("INVALID", `cannot read ${faq}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }),
    );
  }
}

/**
 * A model that could never load under the budget is a mistake in the config,
 * found here rather than on its first request (TOO_LARGE there): the default
 * (sizes[0]) is kept loaded, so each other model must fit beside it.
 */
function checkBudget(key: string, budget: number | undefined, sizes: number[], models: readonly { id: string }[]): void {
  if (budget === undefined) return;
  const [kept, ...others] = sizes as [number, ...number[]];
  if (kept > budget) throw new StartupMistake(`the default model needs ${kept} bytes, more than the memory budget of ${budget} (config key ${key}.memoryBudgetBytes)`);
  others.forEach((bytes, i) => {
    if (kept + bytes > budget) {
      throw new StartupMistake(`model ${models[i]!.id} needs ${bytes} bytes; beside the default's ${kept} that passes the memory budget of ${budget} (config key ${key}.models.${i})`);
    }
  });
}

/** The bridge's certificate files, read and paired as the bridge will (its message names the key and path). */
function checkTlsFiles(config: ColmenaConfig): void {
  if (!config.roles.includes("bridge") || config.http.tls === undefined) return;
  try {
    readTlsFiles(config.http.tls);
  } catch (err) {
    throw err instanceof ColmenaError && err.code === "INVALID" ? new StartupMistake(err.message, err) : err;
  }
}

/** The NATS credentials and TLS files the connection will read: one that cannot be read is a mistake, not a connection failure to retry. */
async function checkNatsFiles(config: ColmenaConfig): Promise<void> {
  const { auth, tls } = config.nats;
  const files: Array<[key: string, path: string | undefined]> = [
    ["nats.auth.credsFile", auth.type === "creds" ? auth.credsFile : undefined],
    ["nats.auth.seedFile", auth.type === "nkey" ? auth.seedFile : undefined],
    ["nats.tls.caFile", tls?.caFile],
    ["nats.tls.certFile", tls?.certFile],
    ["nats.tls.keyFile", tls?.keyFile],
  ];
  for (const [key, path] of files) {
    if (path === undefined) continue;
    await readFile(path).catch((err: unknown) => {
      throw new StartupMistake(`${key}: cannot read ${path}: ${(err as Error).message}`, err);
    });
  }
}

async function named(key: string, read: () => Promise<unknown>): Promise<void> {
  try {
    await read();
  } catch (err) {
    if (err instanceof ColmenaError && err.code === "INVALID") throw new StartupMistake(`${err.message} (config key ${key})`, err);
    throw err;
  }
}
