import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { checkJobFile, promqlMetricNames } from "../../cli/commands/nomad.js";
import { jobTasks, jobVariables, parseJobFile, renderProcess, taskEnvironment } from "../../cli/nomad-job.js";
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
  for (const f of ["nats.nomad.hcl", "colmena.nomad.hcl", "prometheus.nomad.hcl", "autoscaler.nomad.hcl"]) assert.deepEqual(await checkJobFile(join(nomad, f), parseNode), [], f);
});

test("nomad - each kind of mistake is caught and named", async () => {
  const cases: Array<[string, (t: string) => string, RegExp]> = [
    ["HCL that does not parse", (t) => t.replace('job "colmena" {', 'job "colmena" {{'), /edited\.nomad\.hcl/],
    ["a misspelt role", (t) => t.replace('"--roles", "embedder"', '"--roles", "embeder"'), /group embedder.*unknown role embeder/],
    ["an unknown flag", (t) => t.replace('"--roles", "ingest",', '"--roles", "ingest", "--shards", "4",'), /group ingest.*unknown option '--shards'/],
    ["a config key the schema does not know", (t) => t.replace('"dataDir": "${var.shards_dir}"', '"dataDir": "${var.shards_dir}",\n            "shardz": 3'), /group shard[^]*Unrecognized key: "shardz"/],
    ["a count outside its scaling bounds", (t) => t.replace(/(variable "embedder_count" \{\n  type    = number\n  default = )2/, "$19"), /group embedder: count 9 is outside scaling min 1 \.\. max 8/],
    ["an llm group with no GPU", (t) => t.replace('device "nvidia/gpu" {', 'device "amd/gpu" {'), /group llm.*no "nvidia\/gpu" device/],
    ["a literal secret", (t) => t.replace('"type": "creds",', '"type": "creds", "token": "hunter2hunter2",'), /a secret is written as a literal/],
    ["a scaling query on a metric no node exports", (t) => t.replace('sum(colmena_llm_sequences)', 'sum(colmena_llm_sequence)'), /group llm: scaling check load reads colmena_llm_sequence, which no Colmena node exports/],
    ["a misspelt flag in the exec variant only", (t) => t.replace('args    = ["node", "--roles", "ingest",', 'args    = ["node", "--roles", "ingest", "--natz", "x",'), /group ingest, task colmena \(driver exec\).*unknown option '--natz'/],
    ["an exec variant with no command", (t) => t.replace(/command = var\.colmena_path\n/, ""), /group bridge, task colmena \(driver exec\).*exec driver's config names no command/],
    ["a template action the renderer does not know", (t) => t.replace('{{ env "NOMAD_PORT_http" }}', '{{ env "NOMAD_PORT_http" | toJSON }}'), /group bridge.*template local\/colmena\.json.*not one Colmena's renderer understands/],
    ["a dynamic block the renderer cannot decide", (t) => t.replace('for_each = var.driver == "docker" ? [1] : []', "for_each = var.drivers"), /dynamic block for_each \$\{var\.drivers\}/],
    ["a kill_timeout inside the shutdown grace", (t) => t.replace('kill_timeout = "45s"', 'kill_timeout = "5s"'), /kill_timeout 5s must be longer than a node's longest stop/],
    ["an update that waits on checks no service has", (t) => t.replace(/health_check     = "task_states"/, 'health_check     = "checks"'), /update waits for health checks, but no service of the group has a check/],
  ];
  for (const [name, edit, expected] of cases) {
    const problems = await problemsWith(edit);
    assert.ok(problems.some((p) => expected.test(p)), `${name}: ${problems.join(" | ") || "no problem reported"}`);
  }
});

test("nomad - promqlMetricNames reads metric names, not functions, keywords, labels or strings", () => {
  assert.deepEqual(promqlMetricNames('sum by (kind) (rate(colmena_actor_messages_total{kind="x"}[1m])) / on(kind) group_left max(colmena_actor_slots)'), ["colmena_actor_messages_total", "colmena_actor_slots"]);
});

test("nomad - the autoscaler's rendered agent config parses and points the Prometheus APM at the discovered Prometheus", async () => {
  const { doc } = await parseJobFile(join(nomad, "autoscaler.nomad.hcl"));
  const vars = jobVariables(doc);
  const [task] = jobTasks(doc, vars);
  assert.ok(task);
  const rendered = renderProcess(task, vars, { env: taskEnvironment("/", { http: 8080 }, { "attr.unique.network.ip-address": "10.0.0.7" }), nomadVars: {}, services: { prometheus: [{ Address: "10.0.0.9", Port: 9090 }] } });
  const config = rendered.files.find((f) => f.destination === "local/config.hcl");
  assert.ok(config);
  const hcl = (await import("@cdktf/hcl2json" as string)) as { parse(file: string, text: string): Promise<Record<string, any>> };
  const parsed = await hcl.parse("config.hcl", config.data);
  assert.equal(parsed.nomad[0].address, "http://10.0.0.7:4646");
  assert.equal(parsed.apm.prometheus[0].config.address, "http://10.0.0.9:9090");
  assert.equal(parsed.strategy["target-value"][0].driver, "target-value");
  assert.deepEqual(rendered.args.slice(0, 3), ["agent", "-config", "/local/config.hcl"]);
});
