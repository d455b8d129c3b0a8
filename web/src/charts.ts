// Small SVG charts: stacked bars over time and a line, with provisional points marked apart.

const NS = 'http://www.w3.org/2000/svg';
export const palette = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7'];

function el(name: string, attrs: Record<string, string | number>, parent?: Element): SVGElement {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  parent?.appendChild(e);
  return e;
}

function fmtTime(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
}

export function fmtNumber(n: number): string {
  if (Math.abs(n) >= 1e6) return (n / 1e6).toFixed(1) + 'M';
  if (Math.abs(n) >= 1e4) return (n / 1e3).toFixed(1) + 'k';
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

export interface Point { t: number; values: Record<string, number>; provisional?: boolean }

// Stacked bars (one per time bucket) or a line when there is a single series and `line` is set.
export function timeChart(host: HTMLElement, points: Point[], series: string[], opts: { line?: boolean; unit?: string } = {}): void {
  host.innerHTML = '';
  host.dataset.points = String(points.length);
  if (points.length === 0) {
    host.innerHTML = '<div class="empty">no data in this range yet</div>';
    return;
  }
  const W = 640, H = 220, L = 48, B = 22, T = 8, R = 8;
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img' });
  host.appendChild(svg);
  const totals = points.map((p) => series.reduce((s, k) => s + (p.values[k] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const t0 = points[0].t, t1 = points[points.length - 1].t;
  const step = points.length > 1 ? (t1 - t0) / (points.length - 1) : 60000;
  const x = (t: number) => L + ((t - t0) / Math.max(step, t1 - t0 + step)) * (W - L - R);
  const bw = Math.max(2, ((W - L - R) / Math.max(1, (t1 - t0) / step + 1)) * 0.8);
  const y = (v: number) => H - B - (v / max) * (H - B - T);
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    el('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid' }, svg);
    el('text', { x: L - 4, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, svg).textContent = fmtNumber(v);
  }
  const labelEvery = Math.max(1, Math.ceil(points.length / 8));
  points.forEach((p, i) => {
    if (i % labelEvery === 0) el('text', { x: x(p.t) + bw / 2, y: H - 6, 'text-anchor': 'middle', class: 'axis' }, svg).textContent = fmtTime(p.t);
  });
  if (opts.line && series.length === 1) {
    const k = series[0];
    const d = points.map((p, i) => `${i ? 'L' : 'M'}${x(p.t) + bw / 2},${y(p.values[k] ?? 0)}`).join(' ');
    el('path', { d, class: 'line', stroke: palette[0] }, svg);
    for (const p of points) {
      const c = el('circle', { cx: x(p.t) + bw / 2, cy: y(p.values[k] ?? 0), r: 3.5, class: p.provisional ? 'provisional' : 'final', fill: palette[0] }, svg);
      el('title', {}, c).textContent = `${fmtTime(p.t)} ${fmtNumber(p.values[k] ?? 0)}${p.provisional ? ' (provisional)' : ''}`;
    }
  } else {
    points.forEach((p) => {
      let acc = 0;
      series.forEach((k, si) => {
        const v = p.values[k] ?? 0;
        if (v <= 0) return;
        const r = el('rect', { x: x(p.t), y: y(acc + v), width: bw, height: Math.max(0.5, y(acc) - y(acc + v)), fill: palette[si % palette.length], class: p.provisional ? 'provisional' : 'final' }, svg);
        el('title', {}, r).textContent = `${fmtTime(p.t)} ${k}: ${fmtNumber(v)}${p.provisional ? ' (provisional)' : ''}`;
        acc += v;
      });
    });
  }
  if (series.length > 1 || points.some((p) => p.provisional)) {
    const legend = document.createElement('div');
    legend.className = 'legend';
    legend.innerHTML = series.map((k, i) => `<span><i style="background:${palette[i % palette.length]}"></i>${k}</span>`).join('') +
      (points.some((p) => p.provisional) ? '<span><i class="prov"></i>provisional window</span>' : '');
    host.appendChild(legend);
  }
}

export function table(host: HTMLElement, columns: string[], rows: unknown[][]): void {
  const esc = (v: unknown) => String(v ?? 'NULL').replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
  host.innerHTML = `<table><thead><tr>${columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((v) => `<td>${esc(v)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}
