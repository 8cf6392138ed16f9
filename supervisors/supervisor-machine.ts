import { assertEvent, assign, enqueueActions, fromPromise, setup } from "xstate";
import type { Backoff } from "./backoff.js";
import { backoffDelay } from "./backoff.js";
import type { FailureReporter } from "./child.js";
import type { Children } from "./children.js";
import type { Clock } from "./clock.js";
import { EscalationError } from "./errors.js";
import type { SupervisorEvent } from "./events.js";
import type { Intensity } from "./intensity.js";
import { recentRestarts } from "./intensity.js";
import type { Strategy } from "./strategy.js";
import { affectedChildren } from "./strategy.js";

export interface SupervisorInput {
  name: string;
  children: Children;
  strategy: Strategy;
  intensity: Intensity;
  backoff: Backoff;
  clock: Clock;
  random: () => number;
  emit: (event: SupervisorEvent) => void;
}

/** A failure that asks for a restart, from the child instance of `generation`. */
interface Failure {
  id: string;
  generation: number;
  error: unknown;
}

interface SupervisorContext extends SupervisorInput {
  parentReport: FailureReporter | undefined;
  /** clock.now() of each restart still in the intensity window. */
  restarts: number[];
  /** Failures that arrived while busy; replayed, in order, on entering running. */
  mailbox: Failure[];
  restart: { ids: string[]; delayMs: number; attempt: number } | undefined;
  stopReason: string;
  escalation: EscalationError | undefined;
}

export type SupervisorMachineEvent =
  | { type: "START"; parentReport?: FailureReporter }
  | { type: "STOP"; reason: string }
  | ({ type: "CHILD_FAILED" } & Failure)
  | { type: "ESCALATE"; id: string; error: unknown };

const whileActive = {
  ESCALATE: { target: "#supervisor.escalating", actions: "recordEscalation" },
  STOP: { target: "#supervisor.stopping", actions: "recordStopReason" },
} as const;

/**
 * The supervisor's lifecycle. Failures reach it as CHILD_FAILED (the decider
 * said restart) or ESCALATE; resume and stop are settled by the Supervisor
 * class before the machine hears of them. The machine restarts one batch of
 * children at a time: failures that arrive meanwhile wait in the mailbox.
 */
export const supervisorMachine = setup({
  types: {
    context: {} as SupervisorContext,
    events: {} as SupervisorMachineEvent,
    input: {} as SupervisorInput,
  },
  actors: {
    startChildren: fromPromise<void, { children: Children; ids: string[] }>(({ input, signal }) =>
      input.children.startAll(input.ids, signal),
    ),
    stopChildren: fromPromise<void, { children: Children; ids: string[]; reason: string; status: "stopped" | "restarting" }>(
      ({ input }) => input.children.stopAll(input.ids, input.reason, input.status),
    ),
  },
  delays: {
    backoff: ({ context }) => context.restart?.delayMs ?? 0,
  },
  guards: {
    isStale: ({ context, event }) => {
      assertEvent(event, "CHILD_FAILED");
      return !context.children.isCurrent(event.id, event.generation);
    },
    intensityExceeded: ({ context }) =>
      recentRestarts(context.restarts, context.clock.now(), context.intensity).length >= context.intensity.maxRestarts,
  },
  actions: {
    begin: assign(({ event }) => {
      assertEvent(event, "START");
      return { parentReport: event.parentReport, restarts: [], mailbox: [], restart: undefined, escalation: undefined };
    }),
    recordStopReason: assign(({ event }) => {
      assertEvent(event, "STOP");
      return { stopReason: event.reason };
    }),
    enqueue: assign(({ context, event }) => {
      assertEvent(event, "CHILD_FAILED");
      const { id, generation, error } = event;
      return { mailbox: [...context.mailbox, { id, generation, error }] };
    }),
    replayMailbox: enqueueActions(({ context, enqueue }) => {
      enqueue.assign({ mailbox: [] });
      for (const failure of context.mailbox) enqueue.raise({ type: "CHILD_FAILED", ...failure });
    }),
    planRestart: assign(({ context, event }) => {
      assertEvent(event, "CHILD_FAILED");
      const now = context.clock.now();
      const restarts = [...recentRestarts(context.restarts, now, context.intensity), now];
      const attempt = restarts.length;
      const ids = affectedChildren(context.strategy, context.children.ids(), event.id);
      return { restarts, restart: { ids, attempt, delayMs: backoffDelay(context.backoff, attempt, context.random) } };
    }),
    announceRestart: ({ context }) => {
      const { ids, delayMs, attempt } = context.restart!;
      context.children.markRestarting(ids);
      for (const id of ids) context.emit({ type: "child-restarting", id, delayMs, attempt });
    },
    recordEscalation: assign(({ context, event }) => {
      assertEvent(event, ["CHILD_FAILED", "ESCALATE"]);
      const { maxRestarts, withinMs } = context.intensity;
      const why =
        event.type === "ESCALATE" ? "asked to escalate" : `failed after ${maxRestarts} restarts within ${withinMs} ms`;
      return { escalation: new EscalationError(context.name, event.id, why, { cause: event.error }) };
    }),
    reportEscalation: ({ context }) => {
      const error = context.escalation!;
      context.emit({ type: "escalated", error });
      context.parentReport?.(error);
    },
  },
}).createMachine({
  id: "supervisor",
  context: ({ input }) => ({
    ...input,
    parentReport: undefined,
    restarts: [],
    mailbox: [],
    restart: undefined,
    stopReason: "",
    escalation: undefined,
  }),
  initial: "idle",
  states: {
    idle: {
      on: {
        START: { target: "starting", actions: "begin" },
        STOP: "stopped",
      },
    },
    starting: {
      tags: "active",
      invoke: {
        src: "startChildren",
        input: ({ context }) => ({ children: context.children, ids: context.children.ids() }),
        onDone: "running",
      },
      on: { CHILD_FAILED: { actions: "enqueue" }, ...whileActive },
    },
    running: {
      tags: "active",
      entry: "replayMailbox",
      on: {
        CHILD_FAILED: [
          // Superseded since it was reported (restarted with a sibling, stopped, removed): ignored.
          { guard: "isStale" },
          { guard: "intensityExceeded", target: "escalating", actions: "recordEscalation" },
          { target: "restarting", actions: "planRestart" },
        ],
        ...whileActive,
      },
    },
    restarting: {
      tags: "active",
      entry: "announceRestart",
      initial: "stopping",
      on: { CHILD_FAILED: { actions: "enqueue" }, ...whileActive },
      states: {
        stopping: {
          invoke: {
            src: "stopChildren",
            input: ({ context }) => ({
              children: context.children,
              ids: context.restart!.ids,
              reason: "restarting",
              status: "restarting" as const,
            }),
            onDone: "backoff",
          },
        },
        backoff: {
          after: { backoff: "starting" },
        },
        starting: {
          invoke: {
            src: "startChildren",
            input: ({ context }) => ({ children: context.children, ids: context.restart!.ids }),
            onDone: "#supervisor.running",
          },
        },
      },
    },
    stopping: {
      invoke: {
        src: "stopChildren",
        input: ({ context }) => ({
          children: context.children,
          ids: context.children.ids(),
          reason: context.stopReason,
          status: "stopped" as const,
        }),
        onDone: "stopped",
      },
    },
    stopped: {
      on: { START: { target: "starting", actions: "begin" } },
    },
    escalating: {
      invoke: {
        src: "stopChildren",
        input: ({ context }) => ({
          children: context.children,
          ids: context.children.ids(),
          reason: "escalating",
          status: "stopped" as const,
        }),
        onDone: "escalated",
      },
    },
    escalated: {
      entry: "reportEscalation",
      on: { START: { target: "starting", actions: "begin" } },
    },
  },
});
