/**
 * A Nomad job file as Colmena reads it: parsed by a real HCL parser
 * (@cdktf/hcl2json; no Nomad binary is needed), its variables substituted,
 * its `dynamic` blocks expanded, and each task rendered into the process it
 * would run: the driver, the command and its arguments with the task's
 * environment interpolated, and the files its templates write. The
 * validator checks what this renders; the deployment tests start it.
 *
 * Only the HCL and Go-template forms the repo's job files use are
 * understood, and anything else is refused with an INVALID naming it, so a
 * rendering is never a guess: `${var.…}` and `${NOMAD_…}` interpolation, a
 * `dynamic` block whose `for_each` is `var.X == "v" ? [1] : []` (or `!=`,
 * or the branches swapped), and in templates `{{ env "NAME" }}`,
 * `{{ with nomadVar "path" }} … {{ .key }} … {{ end }}`,
 * `{{ range nomadService "name" }} … {{ .Address }}:{{ .Port }} … {{ end }}`
 * and the `{{-`/`-}}` trim markers.
 */
import { readFile } from "node:fs/promises";
import { ColmenaError } from "../runtime/index.js";

export type Block = Record<string, unknown>;

/**
 * The parser, loaded by a name TypeScript does not resolve: its typings
 * reference lib.dom, which would change fetch's and the streams' types for
 * the whole program.
 */
const HCL2JSON = "@cdktf/hcl2json";

/** A job file's text parsed into hcl2json's JSON form; INVALID with the parser's message when it does not parse. */
export async function parseJobFile(file: string): Promise<{ text: string; doc: Block }> {
  const text = await readFile(file, "utf8");
  try {
    const hcl = (await import(HCL2JSON)) as { parse(file: string, text: string): Promise<unknown> };
    return { text, doc: (await hcl.parse(file, text)) as Block };
  } catch (err) {
    throw new ColmenaError("INVALID", `${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** hcl2json writes an unlabelled block as a list of bodies, a labelled one as a map of label → list of bodies. */
export const bodies = (v: unknown): Block[] => (Array.isArray(v) ? (v as Block[]) : []);
export const labelled = (v: unknown): Array<[string, Block]> => {
  const map = Array.isArray(v) ? v[0] : v;
  if (typeof map !== "object" || map === null) return [];
  return Object.entries(map as Record<string, unknown>).flatMap(([label, list]) => bodies(list).map((b): [string, Block] => [label, b]));
};

/** The job's variables: each one's default, then the overrides (as `-var name=value` would set them). */
export function jobVariables(doc: Block, overrides: Record<string, unknown> = {}): Map<string, unknown> {
  const vars = new Map(labelled(doc.variable).map(([name, v]) => [name, v.default]));
  for (const [name, value] of Object.entries(overrides)) {
    if (!vars.has(name)) throw new ColmenaError("INVALID", `the job declares no variable ${name}`);
    vars.set(name, value);
  }
  return vars;
}

/** The values a variable's `contains([...], var.NAME)` validation allows; undefined when it has none of that form. */
export function allowedValues(doc: Block, name: string): string[] | undefined {
  const variable = labelled(doc.variable).find(([n]) => n === name)?.[1];
  for (const v of bodies(variable?.validation)) {
    const m = new RegExp(`^\\$\\{contains\\((\\[[^\\]]*\\]), var\\.${name}\\)\\}$`).exec(String(v.condition));
    if (m) return JSON.parse(m[1]!) as string[];
  }
  return undefined;
}

/**
 * `${var.NAME}` replaced by the variable's value; with `env`, `${NAME}` by
 * the task's environment as Nomad interpolates it at run time. Nomad's own
 * attributes (`${node.…}`, `${attr.…}`, `${device.…}`) stay as written.
 */
export function interpolate(s: string, vars: ReadonlyMap<string, unknown>, env?: Readonly<Record<string, string>>): string {
  return s.replace(/\$\{([A-Za-z0-9_.]+)\}/g, (all, ref: string) => {
    if (ref.startsWith("var.")) {
      const name = ref.slice(4);
      if (!vars.has(name) || vars.get(name) === undefined) throw new ColmenaError("INVALID", `\${${ref}} names a variable with no value`);
      return String(vars.get(name));
    }
    if (env !== undefined && /^[A-Z][A-Z0-9_]*$/.test(ref)) {
      if (env[ref] === undefined) throw new ColmenaError("INVALID", `\${${ref}} is not in the task's environment`);
      return env[ref];
    }
    return all;
  });
}

/** A whole-value expression `${var.NAME}` as the variable's own value (a list stays a list); other strings interpolated. */
function value(v: unknown, vars: ReadonlyMap<string, unknown>): unknown {
  if (typeof v !== "string") return v;
  const whole = /^\$\{var\.([A-Za-z0-9_]+)\}$/.exec(v);
  if (whole && vars.has(whole[1]!)) return vars.get(whole[1]!);
  return interpolate(v, vars);
}

/** Whether a dynamic block's `for_each` yields its content once (true) or not at all (false). */
function dynamicOnce(forEach: unknown, vars: ReadonlyMap<string, unknown>): boolean {
  const m = /^\$\{var\.([A-Za-z0-9_]+) (==|!=) "([^"]*)" \? (\[1\]|\[\]) : (\[1\]|\[\])\}$/.exec(String(forEach));
  if (!m) throw new ColmenaError("INVALID", `dynamic block for_each ${String(forEach)} is not of the form var.X == "v" ? [1] : []`);
  const [, name, op, literal, ifTrue, ifFalse] = m;
  const holds = (String(vars.get(name!)) === literal) === (op === "==");
  return (holds ? ifTrue : ifFalse) === "[1]";
}

/** A body with its `dynamic` blocks expanded into plain ones (content once or not at all), and the `dynamic` key gone. */
export function expandDynamic(body: Block, vars: ReadonlyMap<string, unknown>): Block {
  const { dynamic, ...rest } = body;
  const out: Block = { ...rest };
  for (const [name, block] of labelled(dynamic)) {
    if (!dynamicOnce(block.for_each, vars)) continue;
    out[name] = [...bodies(out[name]), ...bodies(block.content)];
  }
  return out;
}

/** A service as `nomadService` lists it. */
export interface ServiceInstance {
  Address: string;
  Port: number;
}

/** What a template may read: the task's environment, the Nomad Variables by path, the services by name. */
export interface TemplateContext {
  env: Readonly<Record<string, string>>;
  nomadVars: Readonly<Record<string, Readonly<Record<string, string>>>>;
  services?: Readonly<Record<string, readonly ServiceInstance[]>>;
}

type Node = { text: string } | { action: string; body?: Node[] };

/** The template as text and actions, `with` and `range` holding their bodies up to their `end`; trim markers applied to the text beside them. */
function parseTemplate(data: string): Node[] {
  const root: Node[] = [];
  const stack: Node[][] = [root];
  let at = 0;
  let trimNext = false;
  for (const m of data.matchAll(/\{\{(-?)\s*(.*?)\s*(-?)\}\}/gs)) {
    let text = data.slice(at, m.index);
    if (trimNext) text = text.replace(/^\s+/, "");
    if (m[1] === "-") text = text.replace(/\s+$/, "");
    stack.at(-1)!.push({ text });
    at = m.index + m[0].length;
    trimNext = m[3] === "-";
    const action = m[2]!;
    if (action === "end") {
      if (stack.length === 1) throw new ColmenaError("INVALID", "the template has an end with nothing to end");
      stack.pop();
    } else if (/^(with|range) /.test(action)) {
      const node = { action, body: [] as Node[] };
      stack.at(-1)!.push(node);
      stack.push(node.body);
    } else {
      stack.at(-1)!.push({ action });
    }
  }
  if (stack.length > 1) throw new ColmenaError("INVALID", "the template has a with or range with no end");
  let rest = data.slice(at);
  if (trimNext) rest = rest.replace(/^\s+/, "");
  root.push({ text: rest });
  return root;
}

/** Renders a template's data the way Nomad's template runner would, for the actions listed above; INVALID for any other. */
export function renderTemplate(data: string, ctx: TemplateContext): string {
  const run = (nodes: Node[], dot: unknown): string => {
    let out = "";
    for (const node of nodes) {
      if ("text" in node) {
        out += node.text;
        continue;
      }
      const { action, body } = node;
      let a: RegExpExecArray | null;
      if ((a = /^env "([^"]+)"$/.exec(action))) {
        const v = ctx.env[a[1]!];
        if (v === undefined) throw new ColmenaError("INVALID", `the template reads env ${a[1]}, which the task's environment does not have`);
        out += v;
      } else if ((a = /^with nomadVar "([^"]+)"$/.exec(action))) {
        const v = ctx.nomadVars[a[1]!];
        if (v === undefined) throw new ColmenaError("INVALID", `the template reads the Nomad Variable ${a[1]}, which does not exist`);
        out += run(body!, v);
      } else if ((a = /^range nomadService "([^"]+)"$/.exec(action))) {
        for (const instance of ctx.services?.[a[1]!] ?? []) out += run(body!, instance);
      } else if ((a = /^\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(action))) {
        const v = typeof dot === "object" && dot !== null ? (dot as Record<string, unknown>)[a[1]!] : undefined;
        if (v === undefined) throw new ColmenaError("INVALID", `the template reads .${a[1]}, which ${dot === undefined ? "is outside any with or range" : "is not there"}`);
        out += String(v);
      } else {
        throw new ColmenaError("INVALID", `the template action {{ ${action} }} is not one Colmena's renderer understands`);
      }
    }
    return out;
  };
  return run(parseTemplate(data), undefined);
}

/** One task of a job, with the job's variables applied and its dynamic blocks expanded. */
export interface JobTask {
  job: string;
  group: string;
  task: string;
  count: number;
  /** The group's body (expanded), for its scaling, update and service blocks. */
  groupBody: Block;
  /** The task's body (expanded). */
  body: Block;
  driver: string;
  /** The driver's config: for docker the image and args, for exec and raw_exec the command and args. */
  config: Block;
  /** The group's network port labels. */
  ports: string[];
}

/** Every task of every job in a parsed file, under the given variables. */
export function jobTasks(doc: Block, vars: ReadonlyMap<string, unknown>): JobTask[] {
  const tasks: JobTask[] = [];
  for (const [job, jobBody] of labelled(doc.job)) {
    for (const [group, rawGroup] of labelled(expandDynamic(jobBody, vars).group)) {
      const groupBody = expandDynamic(rawGroup, vars);
      const ports = bodies(groupBody.network).flatMap((n) => labelled(n.port).map(([label]) => label));
      for (const [task, rawTask] of labelled(groupBody.task)) {
        const body = expandDynamic(rawTask, vars);
        const configs = bodies(body.config);
        const where = `job ${job}, group ${group}, task ${task}`;
        if (configs.length !== 1) throw new ColmenaError("INVALID", `${where}: ${configs.length} config blocks for the driver (expected exactly one)`);
        const config: Block = Object.fromEntries(Object.entries(configs[0]!).map(([k, v]) => [k, Array.isArray(v) ? v.map((x) => value(x, vars)) : value(v, vars)]));
        tasks.push({ job, group, task, count: Number(value(groupBody.count, vars) ?? 1), groupBody, body, driver: String(value(body.driver, vars)), config, ports });
      }
    }
  }
  return tasks;
}

/** A task as the process it would run. */
export interface RenderedProcess {
  /** The executable: `config.command`; under docker without one, undefined: the image's entrypoint (Colmena's is `colmena`). */
  command: string | undefined;
  args: string[];
  /** The files the task's templates write, destination relative to the task's working directory. */
  files: Array<{ destination: string; data: string; mode: number }>;
}

/** The process a task runs, with its environment interpolated into the arguments and its templates rendered. */
export function renderProcess(task: JobTask, vars: ReadonlyMap<string, unknown>, ctx: TemplateContext): RenderedProcess {
  const where = `job ${task.job}, group ${task.group}, task ${task.task}`;
  const { config } = task;
  let command: string | undefined;
  if (task.driver === "docker") {
    if (typeof config.image !== "string") throw new ColmenaError("INVALID", `${where}: the docker driver's config names no image`);
    command = typeof config.command === "string" ? interpolate(config.command, vars, ctx.env) : undefined;
  } else if (task.driver === "exec" || task.driver === "raw_exec") {
    if (typeof config.command !== "string") throw new ColmenaError("INVALID", `${where}: the ${task.driver} driver's config names no command`);
    command = interpolate(config.command, vars, ctx.env);
  } else {
    throw new ColmenaError("INVALID", `${where}: driver ${task.driver} is not docker, exec or raw_exec`);
  }
  const args = (Array.isArray(config.args) ? config.args : []).map((a) => interpolate(String(a), vars, ctx.env));
  const files = bodies(task.body.template).map((t) => {
    try {
      return { destination: String(t.destination), data: renderTemplate(interpolate(String(t.data), vars), ctx), mode: t.perms === undefined ? 0o644 : parseInt(String(t.perms), 8) };
    } catch (err) {
      throw new ColmenaError("INVALID", `${where}: template ${String(t.destination)}: ${(err as Error).message}`, { cause: err });
    }
  });
  return { command, args, files };
}

/**
 * The environment Nomad gives a task whose working directory is `root`
 * (`/` inside a docker container): its local, secrets and alloc
 * directories, and a port number for each of the group's port labels.
 */
export function taskEnvironment(root: string, ports: Readonly<Record<string, number>>, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const dir = (d: string) => (root.endsWith("/") ? `${root}${d}` : `${root}/${d}`);
  return {
    NOMAD_TASK_DIR: dir("local"),
    NOMAD_SECRETS_DIR: dir("secrets"),
    NOMAD_ALLOC_DIR: dir("alloc"),
    ...Object.fromEntries(Object.entries(ports).map(([label, port]) => [`NOMAD_PORT_${label}`, String(port)])),
    ...extra,
  };
}
