// Small SVG charts for benchmark reports: grouped bars (linear or log scale, with dashed reference
// lines) and lines over categorical x values. Standalone files with title, axis labels, units and
// a legend, readable in a browser or on GitHub; no plotting dependency.

export interface Series {
  name: string;
  /** One value per category; undefined leaves a gap. */
  values: Array<number | undefined>;
}

interface Common {
  title: string;
  /** Label of the value axis, with its unit. */
  yLabel: string;
  /** Text under the chart: where the numbers come from. */
  note?: string;
  /** 'log' for values spanning orders of magnitude (all must be > 0). */
  scale?: 'linear' | 'log';
}

export interface BarChartSpec extends Common {
  categories: string[];
  series: Series[];
  /** Horizontal dashed lines, e.g. a baseline measured in the same run. */
  references?: Array<{ label: string; value: number }>;
}

export interface LineChartSpec extends Common {
  xLabel: string;
  x: string[];
  series: Series[];
}

const COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#b07aa1', '#edc948', '#9c755f'];
const W = 860;
const H = 460;
const M = { left: 78, right: 24, top: 74, bottom: 118 };
const PLOT_W = W - M.left - M.right;
const PLOT_H = H - M.top - M.bottom;

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Compact number text: 3 significant digits, no trailing zeros. */
export function fmt(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  return String(Number(value.toPrecision(3)));
}

interface Axis {
  y(value: number): number;
  ticks: number[];
}

function axisFor(values: number[], scale: 'linear' | 'log'): Axis {
  const finite = values.filter((v) => Number.isFinite(v));
  if (scale === 'log') {
    const positive = finite.filter((v) => v > 0);
    const lo = Math.floor(Math.log10(Math.min(...positive, 1)));
    const hi = Math.ceil(Math.log10(Math.max(...positive, 10)));
    const ticks: number[] = [];
    for (let e = lo; e <= hi; e++) ticks.push(10 ** e);
    const y = (v: number) => M.top + PLOT_H - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * PLOT_H;
    return { y, ticks };
  }
  const max = Math.max(...finite, 0) || 1;
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const top = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  for (let t = 0; t <= top + step / 2; t += step) ticks.push(Number(t.toPrecision(6)));
  return { y: (v: number) => M.top + PLOT_H - (v / top) * PLOT_H, ticks };
}

/** Splits a label into lines of about `width` characters at spaces. */
function wrap(label: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of label.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.slice(0, 3);
}

interface LegendItem {
  name: string;
  color: string;
  dashed?: boolean;
}

function frame(spec: Common, axis: Axis, body: string[], legend: LegendItem[]): string {
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="16" font-weight="bold">${esc(spec.title)}</text>`,
  ];
  for (const t of axis.ticks) {
    const y = axis.y(t).toFixed(1);
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y}" y2="${y}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${M.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#444">${esc(fmt(t))}</text>`);
  }
  out.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + PLOT_H}" stroke="#333"/>`);
  out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${M.top + PLOT_H}" y2="${M.top + PLOT_H}" stroke="#333"/>`);
  const yMid = M.top + PLOT_H / 2;
  const scaleNote = spec.scale === 'log' ? ' (log scale)' : '';
  out.push(`<text x="18" y="${yMid}" text-anchor="middle" transform="rotate(-90 18 ${yMid})">${esc(spec.yLabel + scaleNote)}</text>`);
  out.push(...body);
  // Legend: rows under the title, wrapping at the right edge (room for two rows).
  let x = M.left;
  let row = 0;
  for (const item of legend) {
    const width = 30 + item.name.length * 6.2;
    if (x + width > W - M.right && x > M.left) {
      x = M.left;
      row++;
    }
    const y = 38 + row * 17;
    out.push(
      item.dashed
        ? `<line x1="${x}" x2="${x + 14}" y1="${y}" y2="${y}" stroke="${item.color}" stroke-width="2" stroke-dasharray="5 3"/>`
        : `<rect x="${x}" y="${y - 6}" width="14" height="12" fill="${item.color}"/>`,
    );
    out.push(`<text x="${x + 18}" y="${y}" dominant-baseline="middle">${esc(item.name)}</text>`);
    x += width;
  }
  if (spec.note) {
    wrap(spec.note, 130).forEach((line, i) => out.push(`<text x="${M.left}" y="${H - 30 + i * 14}" fill="#555" font-size="11">${esc(line)}</text>`));
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function categoryLabels(categories: string[], center: (i: number) => number, width: number): string[] {
  const chars = Math.max(8, Math.floor(width / 6.5));
  return categories.map((c, i) => {
    const spans = wrap(c, chars)
      .map((line, j) => `<tspan x="${center(i).toFixed(1)}" dy="${j === 0 ? 0 : 14}">${esc(line)}</tspan>`)
      .join('');
    return `<text x="${center(i).toFixed(1)}" y="${M.top + PLOT_H + 18}" text-anchor="middle">${spans}</text>`;
  });
}

export function barChart(spec: BarChartSpec): string {
  const scale = spec.scale ?? 'linear';
  const all = [...spec.series.flatMap((s) => s.values), ...(spec.references ?? []).map((r) => r.value)].filter(
    (v): v is number => v !== undefined,
  );
  const axis = axisFor(all, scale);
  const groupW = PLOT_W / Math.max(1, spec.categories.length);
  const barW = Math.min(56, (groupW * 0.8) / Math.max(1, spec.series.length));
  const center = (i: number) => M.left + groupW * (i + 0.5);
  const body: string[] = [];
  spec.series.forEach((s, k) => {
    const color = COLORS[k % COLORS.length];
    s.values.forEach((v, i) => {
      if (v === undefined || !Number.isFinite(v)) return;
      const x = center(i) - (barW * spec.series.length) / 2 + k * barW;
      const y = axis.y(v);
      const h = M.top + PLOT_H - y;
      body.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${Math.max(0, h).toFixed(1)}" fill="${color}"><title>${esc(`${s.name}, ${spec.categories[i]}: ${fmt(v)}`)}</title></rect>`);
      body.push(`<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle" font-size="10" fill="#222">${esc(fmt(v))}</text>`);
    });
  });
  body.push(...categoryLabels(spec.categories, center, groupW));
  const legend: LegendItem[] = spec.series.map((s, k) => ({ name: s.name, color: COLORS[k % COLORS.length] }));
  (spec.references ?? []).forEach((r, k) => {
    const y = axis.y(r.value).toFixed(1);
    const color = ['#c0392b', '#7f8c8d', '#8e44ad'][k % 3];
    body.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="1.5" stroke-dasharray="6 4"/>`);
    // A white halo keeps the label readable where it crosses a bar.
    body.push(`<text x="${W - M.right - 4}" y="${Number(y) - 5}" text-anchor="end" font-size="11" fill="${color}" stroke="white" stroke-width="3" paint-order="stroke">${esc(`${r.label}: ${fmt(r.value)}`)}</text>`);
    legend.push({ name: r.label, color, dashed: true });
  });
  return frame({ ...spec, scale }, axis, body, legend);
}

export function lineChart(spec: LineChartSpec): string {
  const scale = spec.scale ?? 'linear';
  const axis = axisFor(spec.series.flatMap((s) => s.values).filter((v): v is number => v !== undefined), scale);
  const stepX = PLOT_W / Math.max(1, spec.x.length);
  const at = (i: number) => M.left + stepX * (i + 0.5);
  const body: string[] = [];
  spec.series.forEach((s, k) => {
    const color = COLORS[k % COLORS.length];
    const points = s.values
      .map((v, i) => (v === undefined || !Number.isFinite(v) ? undefined : `${at(i).toFixed(1)},${axis.y(v).toFixed(1)}`))
      .filter((p): p is string => p !== undefined);
    body.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
    s.values.forEach((v, i) => {
      if (v === undefined || !Number.isFinite(v)) return;
      body.push(`<circle cx="${at(i).toFixed(1)}" cy="${axis.y(v).toFixed(1)}" r="3.5" fill="${color}"><title>${esc(`${s.name}, ${spec.xLabel} ${spec.x[i]}: ${fmt(v)}`)}</title></circle>`);
    });
  });
  body.push(...categoryLabels(spec.x, at, stepX));
  body.push(`<text x="${M.left + PLOT_W / 2}" y="${M.top + PLOT_H + 50}" text-anchor="middle">${esc(spec.xLabel)}</text>`);
  const legend: LegendItem[] = spec.series.map((s, k) => ({ name: s.name, color: COLORS[k % COLORS.length] }));
  return frame({ ...spec, scale }, axis, body, legend);
}
