/**
 * A very small SVG writer: elements as strings, attributes and text escaped.
 * Enough for line charts; nothing here knows about load tests.
 */
export type Attrs = Record<string, string | number | undefined>;

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const fmt = (v: string | number) => (typeof v === "number" ? String(Number.isInteger(v) ? v : Number(v.toFixed(2))) : escape(v));

export function el(tag: string, attrs: Attrs = {}, ...children: string[]): string {
  const a = Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${fmt(v!)}"`)
    .join("");
  return children.length === 0 ? `<${tag}${a}/>` : `<${tag}${a}>${children.join("")}</${tag}>`;
}

export const text = (x: number, y: number, content: string, attrs: Attrs = {}) => el("text", { x, y, ...attrs }, escape(content));

/** A polyline through the points; a non-finite y breaks the line into pieces. */
export function polyline(points: Array<[number, number]>, attrs: Attrs): string {
  const pieces: string[] = [];
  let run: string[] = [];
  for (const [x, y] of points) {
    if (Number.isFinite(x) && Number.isFinite(y)) run.push(`${fmt(x)},${fmt(y)}`);
    else if (run.length) {
      pieces.push(run.join(" "));
      run = [];
    }
  }
  if (run.length) pieces.push(run.join(" "));
  return pieces.map((p) => (p.includes(" ") ? el("polyline", { points: p, fill: "none", ...attrs }) : el("circle", { cx: p.split(",")[0], cy: p.split(",")[1], r: 1.5, fill: attrs.stroke }))).join("");
}

export function document(width: number, height: number, ...children: string[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${el("svg", { xmlns: "http://www.w3.org/2000/svg", width, height, viewBox: `0 0 ${width} ${height}`, "font-family": "sans-serif", "font-size": 11 }, ...children)}\n`;
}
