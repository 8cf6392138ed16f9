import { fileURLToPath } from "node:url";
import { startScript, type ScriptProcess } from "./script-process.js";

const script = fileURLToPath(new URL("../fixtures/runtime/node-process.js", import.meta.url));

export interface NodeProcess extends ScriptProcess {
  readonly nodeId: string;
}

/** Starts a Colmena node hosting `kinds` in a separate Node.js process (config `flags` over the test defaults) and waits until it is ready. */
export async function startNodeProcess(url: string, kinds: string[], nodeId: string, flags?: Record<string, unknown>): Promise<NodeProcess> {
  return { nodeId, ...(await startScript(script, [url, kinds.join(","), nodeId, ...(flags ? [JSON.stringify(flags)] : [])])) };
}
