/**
 * A small SVG line chart for the examples' training curves: one or more panels side by side
 * (e.g. loss and accuracy), each with its own y axis, one polyline per series, a legend. Plain
 * strings, no dependency; the SVG opens in any browser and renders on GitHub.
 */

export interface Series {
  name: string;
  /** y values at x = 1, 2, ... (epochs); non-finite values are left out. */
  values: readonly number[];
  /** Drawn dashed (e.g. a baseline or the validation curve). */
  dashed?: boolean;
}

export interface Panel {
  title: string;
  yLabel: string;
  series: Series[];
}

export interface ChartOptions {
  /** Shown above the panels. */
  title: string;
  xLabel?: string;
  panels: Panel[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
const PANEL = { width: 380, height: 240 };
const MARGIN = { left: 64, right: 20, top: 56, bottom: 48 };

const escape = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** 3 to 6 round tick values within [lo, hi] (steps of 1, 2 or 5 times a power of ten). */
export function ticks(lo: number, hi: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) as number;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(Number(v.toPrecision(12)));
  return out;
}

function label(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(1) : String(Number(v.toPrecision(4)));
}

function panelSvg(p: Panel, ox: number, xLabel: string): string[] {
  const finite = p.series.flatMap((s) => s.values.filter(Number.isFinite));
  const n = Math.max(1, ...p.series.map((s) => s.values.length));
  let lo = finite.length ? Math.min(...finite) : 0;
  let hi = finite.length ? Math.max(...finite) : 1;
  if (hi === lo) [lo, hi] = [lo - 0.5, hi + 0.5];
  const pad = (hi - lo) * 0.05;
  [lo, hi] = [lo - pad, hi + pad];
  const { width: w, height: h } = PANEL;
  const oy = MARGIN.top;
  const X = (i: number): number => ox + (n === 1 ? w / 2 : (i / (n - 1)) * w);
  const Y = (v: number): number => oy + h - ((v - lo) / (hi - lo)) * h;
  const out = [
    `<text x="${ox + w / 2}" y="${oy - 10}" text-anchor="middle" font-size="13">${escape(p.title)}</text>`,
    `<rect x="${ox}" y="${oy}" width="${w}" height="${h}" fill="none" stroke="#444"/>`,
  ];
  for (const t of ticks(lo, hi)) {
    out.push(`<line x1="${ox}" x2="${ox + w}" y1="${Y(t)}" y2="${Y(t)}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${ox - 6}" y="${Y(t) + 4}" text-anchor="end">${label(t)}</text>`);
  }
  const xTicks = n <= 12 ? Array.from({ length: n }, (_, i) => i + 1) : ticks(1, n);
  for (const t of xTicks.filter((v) => Number.isInteger(v))) {
    out.push(`<text x="${X(t - 1)}" y="${oy + h + 16}" text-anchor="middle">${t}</text>`);
  }
  out.push(
    `<text x="${ox + w / 2}" y="${oy + h + 34}" text-anchor="middle">${escape(xLabel)}</text>`,
    `<text transform="translate(${ox - 48} ${oy + h / 2}) rotate(-90)" text-anchor="middle">${escape(p.yLabel)}</text>`,
  );
  p.series.forEach((s, k) => {
    const color = COLORS[k % COLORS.length] as string;
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    const pts = s.values
      .map((v, i) => [X(i), v] as const)
      .filter(([, v]) => Number.isFinite(v))
      .map(([x, v]) => `${x.toFixed(1)},${Y(v).toFixed(1)}`);
    if (pts.length === 1) {
      const [x, y] = (pts[0] as string).split(',');
      out.push(`<circle cx="${x}" cy="${y}" r="3" fill="${color}"/>`);
    } else if (pts.length > 1) {
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${pts.join(' ')}"/>`,
      );
    }
    // Legend: one row per series under the plot.
    const ly = oy + h + 52 + k * 18;
    out.push(
      `<line x1="${ox}" x2="${ox + 24}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`,
      `<text x="${ox + 30}" y="${ly + 4}">${escape(s.name)}</text>`,
    );
  });
  return out;
}

/** The chart as an SVG document. */
export function lineChart(o: ChartOptions): string {
  const rows = Math.max(1, ...o.panels.map((p) => p.series.length));
  const width = o.panels.length * (PANEL.width + MARGIN.left + MARGIN.right);
  const height = MARGIN.top + PANEL.height + MARGIN.bottom + rows * 18 + 12;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15">${escape(o.title)}</text>`,
  ];
  o.panels.forEach((p, i) => {
    const ox = i * (PANEL.width + MARGIN.left + MARGIN.right) + MARGIN.left;
    parts.push(...panelSvg(p, ox, o.xLabel ?? 'epoch'));
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
