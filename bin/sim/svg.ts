/** One line of a chart. */
export interface Series {
  name?: string;
  points: [x: number, y: number][];
  color?: string;
  /** Default 1. */
  opacity?: number;
  /** Stroke width, px. Default 1.5. */
  width?: number;
  /** Draw as a staircase (hold the value until the next point). */
  step?: boolean;
}

/** A stretch of the x axis to shade (a partition, a crash, an outage). */
export interface Shade {
  start: number;
  end: number;
  label?: string;
  color?: string;
}

export interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  shades?: Shade[];
  /** Axis ranges; default from the data. */
  xMax?: number;
  yMax?: number;
  yMin?: number;
  /** Logarithmic y axis (base 10); y values must be positive. */
  logY?: boolean;
  /** Horizontal reference lines (a goal, a prediction). */
  rules?: { y: number; label: string; color?: string }[];
  /** Default 800 x 420. */
  width?: number;
  height?: number;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

/** Draws a line chart as a standalone SVG document (no dependencies, deterministic output). */
export function renderSvg(chart: Chart): string {
  const width = chart.width ?? 800;
  const height = chart.height ?? 420;
  const margin = { left: 64, right: 150, top: 36, bottom: 48 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const xs = chart.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = chart.series.flatMap((s) => s.points.map((p) => p[1])).concat((chart.rules ?? []).map((r) => r.y));
  const xMax = chart.xMax ?? Math.max(1, ...xs, ...(chart.shades ?? []).map((s) => s.end));
  const log = chart.logY === true;
  const positive = ys.filter((y) => y > 0);
  const yMinRaw = chart.yMin ?? (log ? Math.min(...positive, 1) : 0);
  const yMaxRaw = chart.yMax ?? Math.max(log ? 10 * yMinRaw : 1, ...ys);
  const tf = (y: number) => (log ? Math.log10(Math.max(y, yMinRaw)) : y);
  const y0 = log ? Math.floor(tf(yMinRaw)) : yMinRaw;
  const y1 = log ? Math.ceil(tf(yMaxRaw)) : yMaxRaw;
  const px = (x: number) => margin.left + (x / xMax) * plotW;
  const py = (y: number) => margin.top + plotH - ((tf(y) - y0) / (y1 - y0 || 1)) * plotH;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${esc(chart.title)}</text>`);
  for (const shade of chart.shades ?? []) {
    const x = px(shade.start);
    const w = Math.max(1, px(shade.end) - x);
    out.push(`<rect x="${f(x)}" y="${margin.top}" width="${f(w)}" height="${plotH}" fill="${shade.color ?? '#999'}" fill-opacity="0.18"><title>${esc(shade.label ?? '')}</title></rect>`);
    // The fault's kind (the label up to the colon) above its shade, when there is room.
    const kind = (shade.label ?? '').split(':')[0]!;
    if (kind && w >= 6 * kind.length) out.push(`<text x="${f(x + w / 2)}" y="${margin.top - 4}" text-anchor="middle" font-size="10" fill="#555">${esc(kind)}</text>`);
  }
  // Axes and ticks.
  out.push(`<line x1="${margin.left}" y1="${margin.top + plotH}" x2="${margin.left + plotW}" y2="${margin.top + plotH}" stroke="black"/>`);
  out.push(`<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${margin.top + plotH}" stroke="black"/>`);
  for (const x of ticks(0, xMax)) {
    out.push(`<line x1="${f(px(x))}" y1="${margin.top + plotH}" x2="${f(px(x))}" y2="${margin.top + plotH + 4}" stroke="black"/>`);
    out.push(`<text x="${f(px(x))}" y="${margin.top + plotH + 17}" text-anchor="middle">${num(x)}</text>`);
  }
  const yTicks = log ? range(y0, y1).map((e) => 10 ** e) : ticks(y0, y1);
  for (const y of yTicks) {
    out.push(`<line x1="${margin.left - 4}" y1="${f(py(y))}" x2="${margin.left + plotW}" y2="${f(py(y))}" stroke="#ddd"/>`);
    out.push(`<text x="${margin.left - 7}" y="${f(py(y) + 4)}" text-anchor="end">${num(y)}</text>`);
  }
  out.push(`<text x="${margin.left + plotW / 2}" y="${height - 10}" text-anchor="middle">${esc(chart.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(chart.yLabel)}</text>`);
  for (const rule of chart.rules ?? []) {
    out.push(`<line x1="${margin.left}" y1="${f(py(rule.y))}" x2="${margin.left + plotW}" y2="${f(py(rule.y))}" stroke="${rule.color ?? '#555'}" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${margin.left + plotW + 4}" y="${f(py(rule.y) + 4)}" fill="${rule.color ?? '#555'}">${esc(rule.label)}</text>`);
  }
  let legendY = margin.top + 10;
  chart.series.forEach((series, i) => {
    const color = series.color ?? PALETTE[i % PALETTE.length]!;
    const points: string[] = [];
    series.points.forEach(([x, y], j) => {
      if (series.step && j > 0) points.push(`${f(px(x))},${f(py(series.points[j - 1]![1]))}`);
      points.push(`${f(px(x))},${f(py(y))}`);
    });
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="${series.width ?? 1.5}" stroke-opacity="${series.opacity ?? 1}" points="${points.join(' ')}"/>`);
    if (series.name) {
      out.push(`<line x1="${margin.left + plotW + 8}" y1="${legendY}" x2="${margin.left + plotW + 24}" y2="${legendY}" stroke="${color}" stroke-width="3"/>`);
      out.push(`<text x="${margin.left + plotW + 28}" y="${legendY + 4}">${esc(series.name)}</text>`);
      legendY += 16;
    }
  });
  if ((chart.shades ?? []).length > 0) {
    out.push(`<rect x="${margin.left + plotW + 8}" y="${legendY - 6}" width="16" height="10" fill="#999" fill-opacity="0.3"/>`);
    out.push(`<text x="${margin.left + plotW + 28}" y="${legendY + 4}">fault</text>`);
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function ticks(min: number, max: number): number[] {
  const span = max - min || 1;
  const raw = span / 6;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + 1e-9; v += step) out.push(Math.round(v / step) * step);
  return out;
}

function range(a: number, b: number): number[] {
  const out: number[] = [];
  for (let i = a; i <= b; i++) out.push(i);
  return out;
}

function f(n: number): string {
  return n.toFixed(1);
}

function num(n: number): string {
  if (n !== 0 && Math.abs(n) < 0.01) return n.toExponential(0).replace('e-', 'e-');
  if (Math.abs(n) >= 1e6) return n.toExponential(0).replace('e+', 'e');
  if (Math.abs(n) >= 1000) return `${+(n / 1000).toFixed(1)}k`;
  return `${+n.toPrecision(3)}`;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
