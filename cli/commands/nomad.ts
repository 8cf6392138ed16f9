/**
 * `colmena nomad validate`: Nomad job files parsed by a real HCL parser and
 * rendered (cli/nomad-job.ts), then checked against what Colmena accepts,
 * under every driver the job's `driver` variable allows. What only
 * `nomad job validate` would catch is listed in nomad/README.md.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ColmenaError } from "../../runtime/index.js";
import { nodeConfig } from "../config.js";
import { EXPORTED_SERIES } from "../metric-families.js";
import { allowedValues, bodies, jobTasks, jobVariables, labelled, parseJobFile, renderProcess, taskEnvironment, type Block, type JobTask, type TemplateContext } from "../nomad-job.js";
import { STOP_BEYOND_GRACE_MS, type NodeFlags } from "../run-node.js";

/** Secrets written as literals: API keys, NKEY seeds, private keys, creds files, passwords and tokens set to a string. */
const SECRET = /colmena_[0-9a-f]{16}_[A-Za-z0-9_-]{16,}|\bS[UAO][A-Z2-7]{56}\b|-----BEGIN [A-Z ]*PRIVATE KEY-----|-----BEGIN NATS USER JWT-----|"(?:pass|password|token|apiKey|secret)"\s*:\s*"[^"{]+"/;

/** The longest a node's stop takes (runtime.shutdownGraceMs default, then the rest of the stop): kill_timeout must exceed it, so the node ends its own stop. */
const LONGEST_STOP_MS = 10_000 + STOP_BEYOND_GRACE_MS;

const durationMs = (d: unknown): number => {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(String(d));
  if (!m) return Number.NaN;
  return Number(m[1]) * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"];
};

/** PromQL words that are not metric names: aggregation and set operators, modifiers. */
const PROMQL_WORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or", "unless", "inf", "nan"]);

/** The metric names a PromQL query reads: identifiers that are not functions, keywords, label names or strings. */
export function promqlMetricNames(query: string): string[] {
  const bare = query
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\{[^}]*\}|\[[^\]]*\]/g, " ");
  return [...bare.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?/g)].filter((m) => m[2] === undefined && !PROMQL_WORDS.has(m[1]!.toLowerCase())).map((m) => m[1]!);
}

/** What the validator renders templates with: the task's directories as a container sees them, placeholder ports, any Nomad Variable key. */
function validationContext(task: JobTask): TemplateContext {
  const ports = Object.fromEntries(task.ports.map((label, i) => [label, 20_000 + i]));
  const placeholder = (path: string) => new Proxy({}, { get: (_t, key) => (typeof key === "string" ? `<${path}:${key}>` : undefined) }) as Record<string, string>;
  return { env: taskEnvironment("/", ports), nomadVars: new Proxy({}, { get: (_t, path) => (typeof path === "string" ? placeholder(path) : undefined) }) };
}

/** The problems of one job file, each naming where it is; none when the file is fine. */
export async function checkJobFile(file: string, nodeFlags: (args: string[]) => Promise<NodeFlags>): Promise<string[]> {
  let text: string;
  let doc: Block;
  try {
    ({ text, doc } = await parseJobFile(file));
  } catch (err) {
    return [(err as Error).message];
  }
  const problems: string[] = [];
  if (SECRET.test(text)) problems.push(`${file}: a secret is written as a literal; render it from a Nomad Variable in a template into secrets/`);
  const drivers = allowedValues(doc, "driver");
  const variants: Array<Record<string, string>> = drivers === undefined ? [{}] : drivers.map((driver) => ({ driver }));
  const groupsSeen = new Set<string>();
  for (const overrides of variants) {
    const suffix = overrides.driver === undefined ? "" : ` (driver ${overrides.driver})`;
    const vars = jobVariables(doc, overrides);
    let tasks: JobTask[];
    try {
      tasks = jobTasks(doc, vars);
    } catch (err) {
      problems.push(`${file}${suffix}: ${(err as Error).message}`);
      continue;
    }
    for (const task of tasks) {
      const where = `${file}: job ${task.job}, group ${task.group}`;
      if (!groupsSeen.has(where)) {
        groupsSeen.add(where);
        problems.push(...checkGroup(where, task));
      }
      problems.push(...(await checkTask(`${where}, task ${task.task}${suffix}`, task, vars, nodeFlags)));
    }
  }
  return problems;
}

/** The group's own rules: count within its scaling bounds, checks behind a health-checked update, scaling queries on exported metrics. */
function checkGroup(where: string, task: JobTask): string[] {
  const problems: string[] = [];
  const group = task.groupBody;
  for (const scaling of bodies(group.scaling)) {
    const min = Number(scaling.min ?? 0);
    const max = Number(scaling.max);
    if (!(min <= task.count && task.count <= max)) problems.push(`${where}: count ${task.count} is outside scaling min ${min} .. max ${max}`);
    for (const policy of bodies(scaling.policy)) {
      for (const [name, check] of labelled(policy.check)) {
        const names = promqlMetricNames(String(check.query ?? ""));
        if (names.length === 0) problems.push(`${where}: scaling check ${name} reads no metric`);
        for (const metric of names) if (!EXPORTED_SERIES.has(metric)) problems.push(`${where}: scaling check ${name} reads ${metric}, which no Colmena node exports (cli/metric-families.ts)`);
      }
    }
  }
  for (const update of bodies(group.update)) {
    const checked = bodies(group.service).some((s) => bodies(s.check).length > 0);
    if (update.health_check === "checks" && !checked) problems.push(`${where}: update waits for health checks, but no service of the group has a check`);
  }
  return problems;
}

async function checkTask(at: string, task: JobTask, vars: ReadonlyMap<string, unknown>, nodeFlags: (args: string[]) => Promise<NodeFlags>): Promise<string[]> {
  const problems: string[] = [];
  const args = Array.isArray(task.config.args) ? task.config.args.map(String) : [];
  if (args[0] !== "node") return problems;
  const kill = durationMs(task.body.kill_timeout ?? "5s");
  if (!(kill > LONGEST_STOP_MS)) problems.push(`${at}: kill_timeout ${String(task.body.kill_timeout ?? "5s (default)")} must be longer than a node's longest stop (${LONGEST_STOP_MS / 1000} s)`);
  let rendered;
  try {
    rendered = renderProcess(task, vars, validationContext(task));
  } catch (err) {
    return [...problems, `${at}: ${(err as Error).message}`];
  }
  let flags: NodeFlags;
  try {
    flags = await nodeFlags(rendered.args.slice(1));
  } catch (err) {
    return [...problems, `${at}: colmena ${rendered.args.join(" ")}: ${(err as Error).message}`];
  }
  if ((flags.roles ?? []).includes("llm") && !hasGpu(task.body)) problems.push(`${at}: the llm role asks for no "nvidia/gpu" device`);
  if (flags.config === undefined) return problems;
  const file = rendered.files.find((f) => `/${f.destination}` === flags.config);
  if (file === undefined) return [...problems, `${at}: --config ${flags.config} is written by no template`];
  const dir = await mkdtemp(join(tmpdir(), "colmena-nomad-"));
  try {
    const path = join(dir, "colmena.json");
    await writeFile(path, file.data);
    nodeConfig({ ...flags, config: path }, {});
  } catch (err) {
    problems.push(`${at}: ${file.destination}: ${err instanceof ColmenaError ? err.message : (err as Error).message}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return problems;
}

function hasGpu(task: Block): boolean {
  return bodies(task.resources).some((r) => labelled(r.device).some(([name, d]) => name.startsWith("nvidia/gpu") && Number(d.count ?? 1) >= 1));
}

/** The command: every problem of every file on standard error, exit code 2 when there is one. */
export async function nomadValidate(files: string[], nodeFlags: (args: string[]) => Promise<NodeFlags>, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const problems = (await Promise.all(files.map((f) => checkJobFile(f, nodeFlags)))).flat();
  if (problems.length === 0) {
    out.write(`${files.length} job file${files.length === 1 ? "" : "s"}: valid\n`);
    return;
  }
  for (const p of problems) process.stderr.write(`${p}\n`);
  process.exitCode = 2;
}
