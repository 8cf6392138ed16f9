import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, credsAuthenticator } from "@nats-io/transport-node";
import { buildTinyDecoder } from "../fixtures/decoder/build-decoder.js";
import { buildTinyEncoder } from "../fixtures/encoder/build-encoder.js";
import { runColmena } from "./colmena-process.js";
import { startJobTasks, type TaskProcess } from "./job-tasks.js";
import { waitFor } from "./wait.js";

export const NOMAD_DIR = fileURLToPath(new URL("../../../nomad/", import.meta.url));
const colmena = fileURLToPath(new URL("../../cli/main.js", import.meta.url));
export const COLMENA_GROUPS = ["bridge", "session", "embedder", "shard", "ingest", "llm"];

/** The repo's two jobs running on loopback as rendered with raw_exec: the NATS job's 3 servers, then the Colmena job with count 1 per group. */
export interface JobsOnLoopback {
  nats: TaskProcess[];
  colmena: TaskProcess[];
  /** The variables the Colmena job ran with. */
  vars: Record<string, unknown>;
  /** The node user's creds file (the Nomad Variable's nats_creds). */
  nodeCreds: string;
  natsUrls: string;
  bridgeUrl: string;
  /** An API key of the writer role, made through NATS as an operator would. */
  key: string;
  /** Colmena's groups on their kill_signal, then the NATS servers: each one's exit code. */
  stop(): Promise<Array<[string, number | null]>>;
}

/**
 * Deploys as nomad/README.md says, on this machine: `colmena nats creds`,
 * the NATS job with its Nomad Variable (operator mode), each server healthy
 * on the check its service declares, then the Colmena job with the node
 * user's creds in its Nomad Variable and the models host volume (the tiny
 * ONNX embedder and decoder the suite builds) under models_dir.
 */
export async function startJobsOnLoopback(dir: string): Promise<JobsOnLoopback> {
  const made = await runColmena(["nats", "creds", "--out", join(dir, "creds")]);
  assert.equal(made.code, 0, made.stderr);
  const nats = await startJobTasks(join(NOMAD_DIR, "nats.nomad.hcl"), {
    vars: { driver: "raw_exec", nats_server_path: process.env.NATS_SERVER_BIN ?? "nats-server", jetstream_dir: join(dir, "jetstream") },
    nomadVars: { "nomad/jobs/colmena-nats": { auth: await readFile(join(dir, "creds", "nats-server.conf"), "utf8") } },
    root: join(dir, "alloc"),
    readyLine: "Server is ready",
  });
  const stopNats = () => Promise.all(nats.map(async (t): Promise<[string, number | null]> => [`${t.group}-${t.ports.client}`, await t.stop()]));
  let tasks: TaskProcess[] = [];
  try {
    // The service's check: the operator runs the Colmena job once the NATS servers are healthy (JetStream current).
    await waitFor("every NATS server healthy", async () => (await Promise.all(nats.map((t) => fetch(`http://127.0.0.1:${t.ports.monitor}/healthz`).then((r) => r.ok, () => false)))).every(Boolean), 60_000);
    // /healthz may answer before JetStream serves the account (the cluster's meta leader still being elected): ask as the node user would.
    const nodeCreds = join(dir, "creds", "colmena-node.creds");
    const authenticator = credsAuthenticator(await readFile(nodeCreds));
    await waitFor(
      "JetStream serving the Colmena account on every NATS server",
      async () => {
        const ready = await Promise.all(
          nats.map(async (t) => {
            const nc = await connect({ servers: `127.0.0.1:${t.ports.client}`, authenticator, inboxPrefix: "_INBOX.node", maxReconnectAttempts: 0 }).catch(() => undefined);
            if (nc === undefined) return false;
            try {
              await (await jetstreamManager(nc)).getAccountInfo();
              return true;
            } catch {
              return false;
            } finally {
              await nc.close();
            }
          }),
        );
        return ready.every(Boolean);
      },
      60_000,
    );
    await buildTinyEncoder(join(dir, "models", "embedder"), { hidden: 384 });
    await buildTinyDecoder(join(dir, "models", "llm"));
    const natsUrls = nats.map((t) => `nats://127.0.0.1:${t.ports.client}`).join(",");
    const vars = {
      driver: "raw_exec",
      colmena_path: colmena,
      nats_servers: natsUrls,
      models_dir: join(dir, "models"),
      shards_dir: join(dir, "shards"),
      ...Object.fromEntries(COLMENA_GROUPS.map((g) => [`${g}_count`, 1])),
    };
    tasks = await startJobTasks(join(NOMAD_DIR, "colmena.nomad.hcl"), {
      vars,
      nomadVars: { "nomad/jobs/colmena": { nats_creds: await readFile(nodeCreds, "utf8") } },
      root: join(dir, "alloc"),
      readyLine: "Ctrl-C stops it gracefully.",
    });
    const created = await runColmena(["keys", "create", "--role", "writer", "--nats", natsUrls, "--creds", nodeCreds, "--json"]);
    assert.equal(created.code, 0, created.stderr);
    return {
      nats,
      colmena: tasks,
      vars,
      nodeCreds,
      natsUrls,
      bridgeUrl: `http://127.0.0.1:${tasks.find((t) => t.group === "bridge")!.ports.http}`,
      key: (JSON.parse(created.stdout) as { key: string }).key,
      async stop() {
        const codes = await Promise.all(tasks.map(async (t): Promise<[string, number | null]> => [t.group, await t.stop()]));
        return [...codes, ...(await stopNats())];
      },
    };
  } catch (err) {
    await Promise.all(tasks.map((t) => t.stop()));
    await stopNats();
    throw err;
  }
}
