// Small SVG charts: stacked bars over time and lines, with provisional points marked apart.

const NS = 'http://www.w3.org/2000/svg';
export const palette = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7'];

function el(name: string, attrs: Record<string, string | number>, parent?: Element): SVGElement {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  parent?.appendChild(e);
  return e;
}

export function esc(v: unknown): string {
  return String(v ?? 'NULL').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

function fmtTime(ms: number, seconds = false): string {
  const d = new Date(ms);
  const hm = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
  return seconds ? `${hm}:${String(d.getUTCSeconds()).padStart(2, '0')}` : hm;
}

export function fmtNumber(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (Math.abs(n) >= 1e6) return (n / 1e6).toFixed(1) + 'M';
  if (Math.abs(n) >= 1e4) return (n / 1e3).toFixed(1) + 'k';
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

export interface Point { t: number; values: Record<string, number>; provisional?: boolean }

// Stacked bars (one per time bucket), or one line per series when `line` is set. Provisional
// points (windows that may still change) are drawn faded with a dashed outline and named in
// the legend and tooltips. The host gets data-points (the number of points) and
// data-provisional (how many of them are provisional).
export function timeChart(host: HTMLElement, points: Point[], series: string[],
                          opts: { line?: boolean; seconds?: boolean; empty?: string; compact?: boolean } = {}): void {
  host.innerHTML = '';
  host.dataset.points = String(points.length);
  host.dataset.provisional = String(points.filter((p) => p.provisional).length);
  if (points.length === 0) {
    host.innerHTML = `<div class="empty">${esc(opts.empty ?? 'no data in this range yet')}</div>`;
    return;
  }
  const W = opts.compact ? 360 : 640, H = opts.compact ? 180 : 220, L = 48, B = 22, T = 8, R = 8;
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img' });
  host.appendChild(svg);
  const tops = points.map((p) => opts.line
    ? Math.max(0, ...series.map((k) => p.values[k] ?? 0))
    : series.reduce((s, k) => s + Math.max(0, p.values[k] ?? 0), 0));
  const max = Math.max(1, ...tops);
  const t0 = points[0].t, t1 = points[points.length - 1].t;
  let step = Infinity;
  for (let i = 1; i < points.length; i++) step = Math.min(step, Math.max(1, points[i].t - points[i - 1].t));
  if (!Number.isFinite(step)) step = 60000;
  const span = t1 - t0 + step;
  const x = (t: number) => L + ((t - t0) / span) * (W - L - R);
  const bw = Math.max(1.5, ((W - L - R) * step) / span * 0.8);
  const y = (v: number) => H - B - (v / max) * (H - B - T);
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    el('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }, svg);
    el('text', { x: L - 4, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, svg).textContent = fmtNumber(v);
  }
  const labelEvery = Math.max(1, Math.ceil(points.length / (opts.compact ? 4 : 8)));
  let lastLabel = -Infinity;
  points.forEach((p, i) => {
    const lx = x(p.t) + bw / 2;
    if (i % labelEvery !== 0 || lx - lastLabel < 44) return;  // no overlapping labels
    lastLabel = lx;
    el('text', { x: lx, y: H - 6, 'text-anchor': 'middle', class: 'axis' }, svg).textContent = fmtTime(p.t, opts.seconds);
  });
  const firstProvisional = points.findIndex((p) => p.provisional);
  if (firstProvisional >= 0) {
    // The provisional part of the time axis, shaded.
    const xs = x(points[firstProvisional].t) - bw * 0.1;
    el('rect', { x: xs, y: T, width: Math.max(0, W - R - xs), height: H - B - T, class: 'prov-zone' }, svg);
  }
  if (opts.line) {
    series.forEach((k, si) => {
      const color = palette[si % palette.length];
      const d = points.map((p, i) => `${i ? 'L' : 'M'}${x(p.t) + bw / 2},${y(p.values[k] ?? 0)}`).join(' ');
      el('path', { d, class: 'line', stroke: color }, svg);
      for (const p of points) {
        const c = el('circle', { cx: x(p.t) + bw / 2, cy: y(p.values[k] ?? 0), r: points.length > 60 ? 2 : 3.5, class: p.provisional ? 'provisional' : 'final', fill: color }, svg);
        el('title', {}, c).textContent = `${fmtTime(p.t, opts.seconds)} ${k}: ${fmtNumber(p.values[k] ?? 0)}${p.provisional ? ' (provisional)' : ''}`;
      }
    });
  } else {
    points.forEach((p) => {
      let acc = 0;
      series.forEach((k, si) => {
        const v = p.values[k] ?? 0;
        if (v <= 0) return;
        const r = el('rect', { x: x(p.t), y: y(acc + v), width: bw, height: Math.max(0.5, y(acc) - y(acc + v)), fill: palette[si % palette.length], class: p.provisional ? 'provisional' : 'final' }, svg);
        el('title', {}, r).textContent = `${fmtTime(p.t, opts.seconds)} ${k}: ${fmtNumber(v)}${p.provisional ? ' (provisional)' : ''}`;
        acc += v;
      });
    });
  }
  const legend = document.createElement('div');
  legend.className = 'legend';
  legend.innerHTML = (series.length > 1 || opts.line ? series.map((k, i) => `<span><i style="background:${palette[i % palette.length]}"></i>${esc(k)}</span>`).join('') : '') +
    (firstProvisional >= 0 ? '<span class="prov-legend"><i class="prov"></i>provisional (may still change)</span>' : '');
  if (legend.innerHTML) host.appendChild(legend);
}

// Horizontal bars, one per label (e.g. Kafka lag per partition).
export function barList(host: HTMLElement, items: [string, number][]): void {
  const max = Math.max(1, ...items.map(([, v]) => v));
  host.innerHTML = `<div class="bars">${items.map(([k, v]) => `<div class="bar" data-label="${esc(k)}" data-value="${v}">
    <span class="bar-label">${esc(k)}</span><span class="bar-track"><span class="bar-fill" style="width:${(100 * Math.max(0, v)) / max}%"></span></span>
    <span class="bar-value">${fmtNumber(v)}</span></div>`).join('')}</div>`;
}

export function table(host: HTMLElement, columns: string[], rows: unknown[][]): void {
  host.innerHTML = `<table><thead><tr>${columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((v) => `<td>${esc(v)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}
