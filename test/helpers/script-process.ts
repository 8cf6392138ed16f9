import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";

export interface ScriptProcess {
  readonly child: ChildProcess;
  /** Graceful stop (SIGTERM) and the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL: no shutdown hooks, no snapshot, no lease release. */
  kill(): Promise<void>;
}

/** Runs a compiled fixture script in its own Node.js process and waits for it to print "ready". */
export async function startScript(script: string, args: string[]): Promise<ScriptProcess> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout!.setEncoding("utf8");
  const exited = once(child, "exit");
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (d: string) => {
      out += d;
      if (out.includes("ready")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`${script} exited (${code}) before it was ready: ${out}`)));
  });
  return {
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
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
