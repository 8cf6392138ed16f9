import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { bodies, jobTasks, jobVariables, parseJobFile, renderProcess, taskEnvironment, type JobTask, type RenderedProcess, type ServiceInstance } from "../../cli/nomad-job.js";
import { freePort } from "../../nats/index.js";

/** One allocation of a task, run as the process the job file says it runs. */
export interface TaskProcess {
  group: string;
  task: string;
  /** The port Nomad would have given each of the group's port labels. */
  ports: Record<string, number>;
  rendered: RenderedProcess;
  /** The running process (a new one after each restart). */
  readonly child: ChildProcess;
  /** Times the task failed before it was up and was started again by its group's restart policy. */
  restarts: number;
  output(): string;
  /** Until the process prints `line`, restarting it as the group's `restart` block says when it fails first. */
  ready(line: string): Promise<void>;
  /** The task's kill_signal (SIGTERM), and the exit code. */
  stop(): Promise<number | null>;
}

export interface JobTasksOptions {
  /** Values for the job's variables, as `nomad job run -var` would set them. */
  vars: Record<string, unknown>;
  /** The Nomad Variables the templates read, by path. */
  nomadVars: Record<string, Record<string, string>>;
  /** Where each allocation's task directory goes (`<root>/<group>-<index>/<task>`). */
  root: string;
  /** Only these groups (default: every group). */
  groups?: string[];
  /** Printed by the process (on either stream) once it is up. */
  readyLine: string;
}

/**
 * Renders every task of a job file under the given variables, as a Nomad
 * client running it with raw_exec would: a task directory with `local/` and
 * `secrets/`, the templates written there (with their perms), a free port
 * per port label in the task's environment (where Nomad would give a static
 * one, many servers share this machine), the job's services listed for
 * `nomadService` with those ports, and the command started with its
 * arguments in that directory. `count` processes per group.
 */
export async function startJobTasks(file: string, options: JobTasksOptions): Promise<TaskProcess[]> {
  const { doc } = await parseJobFile(file);
  const vars = jobVariables(doc, options.vars);
  const tasks = jobTasks(doc, vars).filter((t) => options.groups === undefined || options.groups.includes(t.group));
  // Every allocation's ports first, so that each template sees the whole job's services, as Nomad's service discovery lists them.
  const allocations: Array<{ task: JobTask; index: number; ports: Record<string, number> }> = [];
  const services: Record<string, ServiceInstance[]> = {};
  for (const task of tasks) {
    for (let index = 0; index < task.count; index++) {
      const ports: Record<string, number> = {};
      for (const label of task.ports) ports[label] = await freePort();
      allocations.push({ task, index, ports });
      for (const service of bodies(task.groupBody.service)) (services[String(service.name)] ??= []).push({ Address: "127.0.0.1", Port: ports[String(service.port)]! });
    }
  }
  const started: TaskProcess[] = [];
  try {
    for (const a of allocations) started.push(await startTask(a.task, a.index, a.ports, services, vars, options));
    await Promise.all(started.map((p) => p.ready(options.readyLine)));
  } catch (err) {
    await Promise.all(started.map((p) => p.stop()));
    throw err;
  }
  return started;
}

async function startTask(task: JobTask, index: number, ports: Record<string, number>, services: Record<string, ServiceInstance[]>, vars: ReadonlyMap<string, unknown>, options: JobTasksOptions): Promise<TaskProcess> {
  const dir = join(options.root, `${task.group}-${index}`, task.task);
  // Each allocation on a client of its own (the NATS job's distinct_hosts), named as Nomad names clients.
  const env = taskEnvironment(dir, ports, { "node.unique.name": `${task.group}-${index}` });
  const rendered = renderProcess(task, vars, { env, nomadVars: options.nomadVars, services });
  if (rendered.command === undefined) throw new Error(`${task.group}: no command to run (driver ${task.driver})`);
  for (const d of ["local", "secrets", "alloc"]) await mkdir(join(dir, d), { recursive: true });
  for (const f of rendered.files) {
    const path = join(dir, f.destination);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, f.data);
    await chmod(path, f.mode);
  }
  const restart = bodies(task.groupBody.restart)[0] ?? {};
  const attempts = Number(restart.attempts ?? 0);
  const delayMs = durationMs(restart.delay ?? "15s");
  let out = "";
  let child!: ChildProcess;
  let exited!: Promise<unknown[]>;
  const launch = () => {
    child = spawn(rendered.command!, rendered.args, { cwd: dir, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (out += d));
    exited = once(child, "exit");
  };
  launch();
  const p: TaskProcess = {
    group: task.group,
    task: task.task,
    ports,
    rendered,
    get child() {
      return child;
    },
    restarts: 0,
    output: () => out,
    async stop() {
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const [code] = (await exited) as [number | null];
      return code;
    },
    async ready(line: string) {
      for (;;) {
        const [code, up] = await Promise.race([exited.then(([c]) => [c as number | null, false] as const), until(() => out.includes(line)).then(() => [null, true] as const)]);
        if (up) return;
        // The group's restart policy, as Nomad applies it: a task that fails is started again after the delay, so many times.
        if (stopped || p.restarts >= attempts) throw new Error(`group ${task.group} exited (${code}) before it was ready, ${p.restarts} restarts:\n${rendered.command} ${rendered.args.join(" ")}\n${out}`);
        p.restarts++;
        out += `\n[restart ${p.restarts} of ${attempts} after ${delayMs} ms, as the group's restart block says]\n`;
        await new Promise((r) => setTimeout(r, delayMs));
        launch();
      }
    },
  };
  let stopped = false;
  return p;
}

/** Resolves once `done` holds, checked as output arrives (every 50 ms). */
function until(done: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (!done()) return;
      clearInterval(timer);
      resolve();
    }, 50);
    timer.unref();
  });
}

const durationMs = (d: unknown): number => {
  const m = /^(\d+)(ms|s|m)$/.exec(String(d));
  return m ? Number(m[1]) * { ms: 1, s: 1_000, m: 60_000 }[m[2] as "ms" | "s" | "m"] : 15_000;
};
