import type { ChildSpec, FailureReporter } from "./child.js";
import type { Directive } from "./directive.js";
import type { SupervisorOptions } from "./supervisor.js";
import { Supervisor } from "./supervisor.js";

/**
 * The node's top supervisor. Escalation out of it logs the cause to stderr
 * and calls `exit(1)` (default process.exit), so that the outer scheduler
 * (Nomad's restart policy) restarts the process.
 */
export function rootSupervisor(
  options: SupervisorOptions & { exit?: (code: number) => void },
  children: ChildSpec[],
): Supervisor {
  const { exit = (code: number) => process.exit(code), ...rest } = options;
  return new RootSupervisor(rest, children, exit);
}

class RootSupervisor extends Supervisor {
  readonly #exit: (code: number) => void;

  constructor(options: SupervisorOptions, children: ChildSpec[], exit: (code: number) => void) {
    super(options, children);
    this.#exit = exit;
  }

  override start(parentReport?: FailureReporter): Promise<void> {
    return super.start(parentReport ?? ((error) => this.#exitOnEscalation(error)));
  }

  #exitOnEscalation(error: unknown): Directive {
    console.error(`root supervisor "${this.name}" escalated; exiting with code 1`, error);
    this.#exit(1);
    return "stop";
  }
}
