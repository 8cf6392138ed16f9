/**
 * `colmena nomad validate`: Nomad job files parsed by a real HCL parser
 * (@cdktf/hcl2json; no Nomad binary is needed) and checked against what
 * Colmena accepts. What only `nomad job validate` would catch is listed in
 * nomad/README.md.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ColmenaError } from "../../runtime/index.js";
import { nodeConfig } from "../config.js";
import type { NodeFlags } from "../run-node.js";

type Block = Record<string, unknown>;

/**
 * The parser, loaded by a name TypeScript does not resolve: its typings
 * reference lib.dom, which would change fetch's and the streams' types for
 * the whole program.
 */
const HCL2JSON = "@cdktf/hcl2json";
const parseHcl = async (file: string, text: string): Promise<unknown> =>
  ((await import(HCL2JSON)) as { parse(file: string, text: string): Promise<unknown> }).parse(file, text);
/** hcl2json writes an unlabelled block as a list of bodies, a labelled one as a map of label → list of bodies. */
const bodies = (v: unknown): Block[] => (Array.isArray(v) ? (v as Block[]) : []);
const labelled = (v: unknown): Array<[string, Block]> => {
  const map = Array.isArray(v) ? v[0] : v;
  if (typeof map !== "object" || map === null) return [];
  return Object.entries(map as Record<string, unknown>).flatMap(([label, list]) => bodies(list).map((b): [string, Block] => [label, b]));
};

/** Secrets written as literals: API keys, NKEY seeds, private keys, creds files, passwords and tokens set to a string. */
const SECRET = /colmena_[0-9a-f]{16}_[A-Za-z0-9_-]{16,}|\bS[UAO][A-Z2-7]{56}\b|-----BEGIN [A-Z ]*PRIVATE KEY-----|-----BEGIN NATS USER JWT-----|"(?:pass|password|token|apiKey|secret)"\s*:\s*"[^"{]+"/;

/** Grace the runtime gives in-flight work at shutdown (runtime.shutdownGraceMs default): kill_timeout must exceed it. */
const SHUTDOWN_GRACE_MS = 10_000;

const durationMs = (d: unknown): number => {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(String(d));
  if (!m) return Number.NaN;
  return Number(m[1]) * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"];
};

/** The problems of one job file, each naming where it is; none when the file is fine. */
export async function checkJobFile(file: string, nodeFlags: (args: string[]) => Promise<NodeFlags>): Promise<string[]> {
  const text = await readFile(file, "utf8");
  let doc: Block;
  try {
    doc = (await parseHcl(file, text)) as Block;
  } catch (err) {
    return [`${file}: ${(err as Error).message}`];
  }
  const problems: string[] = [];
  if (SECRET.test(text)) problems.push(`${file}: a secret is written as a literal; render it from a Nomad Variable in a template into secrets/`);
  const vars = new Map(labelled(doc.variable).map(([name, v]) => [name, v.default]));
  const subst = (s: string) => s.replace(/\$\{var\.([A-Za-z0-9_]+)\}/g, (all, name: string) => (vars.has(name) ? String(vars.get(name)) : all));
  const value = (v: unknown) => (typeof v === "string" ? subst(v) : v);
  for (const [jobName, job] of labelled(doc.job)) {
    for (const [groupName, group] of labelled(job.group)) {
      const where = `${file}: job ${jobName}, group ${groupName}`;
      const count = Number(value(group.count) ?? 1);
      for (const scaling of bodies(group.scaling)) {
        const min = Number(scaling.min ?? 0);
        const max = Number(scaling.max);
        if (!(min <= count && count <= max)) problems.push(`${where}: count ${count} is outside scaling min ${min} .. max ${max}`);
      }
      for (const update of bodies(group.update)) {
        const checked = labelled(group.service).length + bodies(group.service).length > 0 && bodies(group.service).some((s) => bodies(s.check).length > 0);
        if (update.health_check === "checks" && !checked) problems.push(`${where}: update waits for health checks, but no service of the group has a check`);
      }
      for (const [taskName, task] of labelled(group.task)) {
        const at = `${where}, task ${taskName}`;
        const config = bodies(task.config)[0] ?? {};
        const args = (Array.isArray(config.args) ? config.args : []).map((a) => String(value(a)));
        const kill = durationMs(task.kill_timeout ?? "5s");
        if (!(kill > SHUTDOWN_GRACE_MS)) problems.push(`${at}: kill_timeout ${String(task.kill_timeout ?? "5s (default)")} must be longer than the shutdown grace period (${SHUTDOWN_GRACE_MS / 1000} s)`);
        if (args[0] !== "node") continue;
        let flags: NodeFlags;
        try {
          flags = await nodeFlags(args.slice(1));
        } catch (err) {
          problems.push(`${at}: colmena ${args.join(" ")}: ${(err as Error).message}`);
          continue;
        }
        const roles = flags.roles ?? [];
        if (roles.includes("llm") && !hasGpu(task)) problems.push(`${at}: the llm role asks for no "nvidia/gpu" device`);
        problems.push(...(await checkConfig(at, task, flags, subst)));
      }
    }
  }
  return problems;
}

function hasGpu(task: Block): boolean {
  return bodies(task.resources).some((r) => labelled(r.device).some(([name, d]) => name.startsWith("nvidia/gpu") && Number(d.count ?? 1) >= 1));
}

/** The config file the task's command line names, as its template writes it, loaded by the real config loader with the task's flags. */
async function checkConfig(at: string, task: Block, flags: NodeFlags, subst: (s: string) => string): Promise<string[]> {
  if (flags.config === undefined) return [];
  const template = bodies(task.template).find((t) => `/${String(t.destination)}` === flags.config || t.destination === flags.config);
  if (template === undefined) return [`${at}: --config ${flags.config} is written by no template`];
  const dir = await mkdtemp(join(tmpdir(), "colmena-nomad-"));
  try {
    const file = join(dir, "colmena.json");
    await writeFile(file, subst(String(template.data)));
    nodeConfig({ ...flags, config: file }, {});
    return [];
  } catch (err) {
    return [`${at}: ${template.destination}: ${err instanceof ColmenaError ? err.message : (err as Error).message}`];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
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
