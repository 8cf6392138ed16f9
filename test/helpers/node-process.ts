import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(new URL("../fixtures/runtime/node-process.js", import.meta.url));

export interface NodeProcess {
  readonly nodeId: string;
  readonly child: ChildProcess;
  /** Graceful stop (SIGTERM) and the exit code. */
  stop(): Promise<number | null>;
  kill(): Promise<void>;
}

/** Starts a Colmena node hosting `kinds` in a separate Node.js process and waits until it is ready. */
export async function startNodeProcess(url: string, kinds: string[], nodeId: string): Promise<NodeProcess> {
  const child = spawn(process.execPath, [script, url, kinds.join(","), nodeId], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout!.setEncoding("utf8");
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (d: string) => {
      out += d;
      if (out.includes("ready")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`node process exited (${code}) before it was ready: ${out}`)));
  });
  const exited = once(child, "exit");
  return {
    nodeId,
    child,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      const [code] = (await exited) as [number | null];
      return code;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGKILL");
      await exited;
    },
  };
}
