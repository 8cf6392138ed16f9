import { document, el, polyline, text } from "./svg.js";
import type { Marker } from "./report.js";

export interface Series {
  name: string;
  color: string;
  /** [x seconds, y] */
  points: Array<[number, number]>;
  dash?: string;
}

export interface Panel {
  title: string;
  unit: string;
  /** Logarithmic y axis (latency spans decades). */
  log?: boolean;
  series: Series[];
}

export interface ChartSpec {
  title: string;
  subtitle: string;
  panels: Panel[];
  markers: Marker[];
}

const W = 960;
const PANEL_H = 200;
const LEFT = 70;
const RIGHT = 150;
const TOP = 50;
const GAP = 45;

/** Stacked line charts over one time axis (seconds), with vertical markers for phases. */
export function renderChart(spec: ChartSpec): string {
  const xs = spec.panels.flatMap((p) => p.series.flatMap((s) => s.points.map(([x]) => x))).concat(spec.markers.map((m) => m.t));
  const xMax = Math.max(1, ...xs.filter(Number.isFinite));
  const plotW = W - LEFT - RIGHT;
  const height = TOP + spec.panels.length * (PANEL_H + GAP) + 10;
  const sx = (x: number) => LEFT + (x / xMax) * plotW;
  const parts = [el("rect", { x: 0, y: 0, width: W, height, fill: "white" }), text(LEFT, 20, spec.title, { "font-size": 15, "font-weight": "bold" }), text(LEFT, 37, spec.subtitle, { fill: "#555" })];
  spec.panels.forEach((panel, i) => {
    const top = TOP + i * (PANEL_H + GAP) + 15;
    parts.push(renderPanel(panel, top, sx, xMax, spec.markers, i === spec.panels.length - 1));
  });
  return document(W, height, ...parts);
}

function renderPanel(panel: Panel, top: number, sx: (x: number) => number, xMax: number, markers: Marker[], last: boolean): string {
  const ys = panel.series.flatMap((s) => s.points.map(([, y]) => y)).filter((y) => Number.isFinite(y) && (!panel.log || y > 0));
  const bottom = top + PANEL_H;
  const out: string[] = [text(LEFT, top - 6, `${panel.title} (${panel.unit})`, { "font-weight": "bold" })];
  let sy: (y: number) => number;
  let ticks: number[];
  if (panel.log) {
    const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...ys, 1))));
    const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...ys, 10))));
    const span = Math.log10(hi) - Math.log10(lo);
    sy = (y) => (y > 0 ? bottom - ((Math.log10(y) - Math.log10(lo)) / span) * PANEL_H : NaN);
    ticks = [];
    for (let t = lo; t <= hi * 1.0001; t *= 10) ticks.push(t);
  } else {
    const hi = niceCeil(Math.max(...ys, 1));
    sy = (y) => bottom - (y / hi) * PANEL_H;
    ticks = [0, 1, 2, 3, 4].map((k) => (hi * k) / 4);
  }
  out.push(el("rect", { x: LEFT, y: top, width: sx(xMax) - LEFT, height: PANEL_H, fill: "none", stroke: "#999" }));
  for (const t of ticks) {
    const y = sy(t);
    out.push(el("line", { x1: LEFT, x2: sx(xMax), y1: y, y2: y, stroke: "#eee" }), text(LEFT - 6, y + 4, label(t), { "text-anchor": "end", fill: "#555" }));
  }
  for (const m of markers) {
    const x = sx(m.t);
    out.push(el("line", { x1: x, x2: x, y1: top, y2: bottom, stroke: "#bbb", "stroke-dasharray": "3,3" }));
    out.push(text(x + 3, top + 11, m.label, { fill: "#777", "font-size": 9 }));
  }
  const step = xTickStep(xMax);
  for (let t = 0; t <= xMax; t += step) out.push(text(sx(t), bottom + 14, `${t}s`, { "text-anchor": "middle", fill: "#555" }));
  panel.series.forEach((s, k) => {
    out.push(polyline(s.points.map(([x, y]) => [sx(x), sy(y)]), { stroke: s.color, "stroke-width": 1.5, "stroke-dasharray": s.dash }));
    const ly = top + 14 + k * 16;
    out.push(el("line", { x1: sx(xMax) + 12, x2: sx(xMax) + 32, y1: ly - 4, y2: ly - 4, stroke: s.color, "stroke-width": 2, "stroke-dasharray": s.dash }), text(sx(xMax) + 37, ly, s.name));
  });
  if (last) out.push(text(sx(xMax / 2), bottom + 30, "seconds since the start (latency by due time, achieved by completion time)", { "text-anchor": "middle", fill: "#555" }));
  return el("g", {}, ...out);
}

function niceCeil(x: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(x)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

function xTickStep(xMax: number): number {
  for (const s of [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600]) if (xMax / s <= 12) return s;
  return 7200;
}

function label(v: number): string {
  if (v >= 1000 && v % 1000 === 0) return `${v / 1000}k`;
  return String(Number(v.toPrecision(3)));
}
