import type { ChildSpec, Directive, FailureReporter, SupervisorEvent } from "../../supervisors/index.js";

/** Lets every pending promise chain run to completion (no time passes). */
export async function settle(): Promise<void> {
  for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
}

export interface TestChild {
  readonly spec: ChildSpec;
  /** The reporter of the latest started instance. */
  readonly report: FailureReporter;
  fail(error?: unknown): Directive;
  starts: number;
}

/**
 * A child that logs "start <id>" and "stop <id>" into `log`. Its first
 * `failingStarts` starts reject.
 */
export function testChild(id: string, log: string[], failingStarts = 0): TestChild {
  let reporter: FailureReporter | undefined;
  const child: TestChild = {
    spec: {
      id,
      start: async (report) => {
        child.starts += 1;
        log.push(`start ${id}`);
        if (child.starts <= failingStarts) throw new Error(`${id} cannot start`);
        reporter = report;
        return {
          stop: async () => {
            log.push(`stop ${id}`);
          },
        };
      },
    },
    get report() {
      if (!reporter) throw new Error(`${id} never started`);
      return reporter;
    },
    fail: (error = new Error(`${id} failed`)) => child.report(error),
    starts: 0,
  };
  return child;
}

export function eventLog(): { events: SupervisorEvent[]; onEvent: (event: SupervisorEvent) => void } {
  const events: SupervisorEvent[] = [];
  return { events, onEvent: (event) => events.push(event) };
}

/** No jitter, 10 ms doubling: delays 10, 20, 40, ... */
export const fixedBackoff = { initialMs: 10, maxMs: 1_000, multiplier: 2, jitter: 0 };
