/** Loads the task a runner is opened with: the module's `createTask` over a runner on the session's thread. */
import { ColmenaError } from "../../runtime/index.js";
import type { ModelRunner, RunnerTask, TaskHandler } from "./runner.js";

export async function loadTask(runner: ModelRunner, task: RunnerTask): Promise<TaskHandler> {
  const mod = (await import(task.module)) as { createTask?: unknown };
  if (typeof mod.createTask !== "function") throw new ColmenaError("INVALID", `${task.module} exports no createTask function`);
  return (await mod.createTask(runner, task.options)) as TaskHandler;
}

/** What `call` answers on a runner opened without a task. */
export const noTask = () => new ColmenaError("INVALID", "this model runner was opened without a task to call");
