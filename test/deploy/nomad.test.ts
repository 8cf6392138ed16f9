import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { checkJobFile } from "../../cli/commands/nomad.js";
import { nodeFlags } from "../../cli/program.js";

const nomad = fileURLToPath(new URL("../../../nomad/", import.meta.url));
const parseNode = (args: string[]) => nodeFlags("0.0.0-test", args);
let dir: string;
let colmena: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "colmena-nomad-test-"));
  colmena = await readFile(join(nomad, "colmena.nomad.hcl"), "utf8");
});

after(() => rm(dir, { recursive: true, force: true }));

/** The Colmena job with one edit, checked. */
async function problemsWith(edit: (text: string) => string): Promise<string[]> {
  const edited = edit(colmena);
  assert.notEqual(edited, colmena, "the edit changed the job");
  const file = join(dir, "edited.nomad.hcl");
  await writeFile(file, edited);
  return checkJobFile(file, parseNode);
}

test("nomad - the repo's job files pass: real HCL, colmena node command lines the CLI accepts, configs the schema accepts", async () => {
  for (const f of ["nats.nomad.hcl", "colmena.nomad.hcl"]) assert.deepEqual(await checkJobFile(join(nomad, f), parseNode), [], f);
});

test("nomad - each kind of mistake is caught and named", async () => {
  const cases: Array<[string, (t: string) => string, RegExp]> = [
    ["HCL that does not parse", (t) => t.replace('job "colmena" {', 'job "colmena" {{'), /edited\.nomad\.hcl/],
    ["a misspelt role", (t) => t.replace('"--roles", "embedder"', '"--roles", "embeder"'), /group embedder.*unknown role embeder/],
    ["an unknown flag", (t) => t.replace('"--roles", "ingest",', '"--roles", "ingest", "--shards", "4",'), /group ingest.*unknown option '--shards'/],
    ["a config key the schema does not know", (t) => t.replace('"dataDir": "/data"', '"dataDir": "/data",\n            "shardz": 3'), /group shard[^]*Unrecognized key: "shardz"/],
    ["a count outside its scaling bounds", (t) => t.replace(/(variable "embedder_count" \{\n  type    = number\n  default = )2/, "$19"), /group embedder: count 9 is outside scaling min 1 \.\. max 8/],
    ["an llm group with no GPU", (t) => t.replace('device "nvidia/gpu" {', 'device "amd/gpu" {'), /group llm.*no "nvidia\/gpu" device/],
    ["a literal secret", (t) => t.replace('"credsFile": "/secrets/nats.creds"', '"credsFile": "/secrets/nats.creds", "token": "hunter2hunter2"'), /a secret is written as a literal/],
    ["a kill_timeout inside the shutdown grace", (t) => t.replace('kill_timeout = "45s"', 'kill_timeout = "5s"'), /kill_timeout 5s must be longer than the shutdown grace period/],
    ["an update that waits on checks no service has", (t) => t.replace(/health_check     = "task_states"/, 'health_check     = "checks"'), /update waits for health checks, but no service of the group has a check/],
  ];
  for (const [name, edit, expected] of cases) {
    const problems = await problemsWith(edit);
    assert.ok(problems.some((p) => expected.test(p)), `${name}: ${problems.join(" | ") || "no problem reported"}`);
  }
});
