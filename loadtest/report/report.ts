import type { PhaseSummary, Window } from "../recorder.js";
import type { MemorySample, MemorySummary } from "../target/status.js";
import type { Threshold } from "../thresholds.js";
import type { Machine } from "./machine.js";

/** A table a scenario adds to its report (the capacity search's steps, the scaling sweep). */
export interface Table {
  title: string;
  columns: string[];
  rows: Array<Array<string | number>>;
}

/** A labelled moment on the chart (a phase starting), in seconds after the origin. */
export interface Marker {
  t: number;
  label: string;
}

/** Everything one scenario run measured, as written to JSON (NaN becomes null). */
export interface Report {
  scenario: string;
  startedAt: string;
  durationSeconds: number;
  machine: Machine;
  git: string;
  config: Record<string, unknown>;
  target: { driver: string; url?: string; nats?: string; spawned: boolean; corpus: string; documents?: number };
  phases: PhaseSummary[];
  total: PhaseSummary | null;
  timeline: Window[];
  memory: { summary: MemorySummary; samples: MemorySample[] };
  thresholds: Threshold[];
  passed: boolean;
  tables: Table[];
  markers: Marker[];
  notes: string[];
}
