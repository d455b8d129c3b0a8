// Helpers shared by the pages: the range picker, SQL jobs that fill a card, time parsing.
import { ApiError, SqlResult, sql } from './api';
import { Point, esc } from './charts';

export const page = document.getElementById('page')!;
const rangeSelect = document.getElementById('range') as HTMLSelectElement;

export function rangeMinutes(): number { return Number(rangeSelect.value); }
// SQL for the start of the selected range.
export function since(): string { return `current_timestamp - INTERVAL ${rangeMinutes()} MINUTE`; }
// DuckDB's text form of a TIMESTAMP WITH TIME ZONE ("2026-11-24 09:59:33.724+00") -> epoch ms.
export function ms(v: unknown): number {
  return Date.parse(String(v).replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00'));
}
export function section(title: string, id: string, extra = ''): string {
  return `<section class="card ${extra}"><h2>${title}</h2><div id="${id}"></div></section>`;
}
export function showError(host: HTMLElement, e: unknown): void {
  const msg = e instanceof ApiError ? `${e.code}: ${e.message}` : String(e);
  host.innerHTML = `<div class="error">${esc(msg)}</div>`;
}
export function missingTable(host: HTMLElement, table: string, what: string): void {
  host.innerHTML = `<div class="empty missing">no ${esc(table.split('.').pop())} table in this pipeline (${esc(what)})</div>`;
  host.dataset.missing = table;
}

// Runs SQL for several cards at once: each result is drawn into its card, each error shown in
// its card. The card keeps the SQL it ran (data-sql) and its rows (data-rows, JSON), so that
// tests can compare what is shown with /api/sql.
export class Jobs {
  private jobs: Promise<void>[] = [];
  run(id: string, q: string, draw: (r: SqlResult, host: HTMLElement) => void): void {
    const host = document.getElementById(id);
    if (!host) return;
    this.jobs.push(sql(q).then((r) => {
      host.dataset.sql = q;
      host.dataset.rows = JSON.stringify(r.rows);
      delete host.dataset.missing;
      draw(r, host);
    }).catch((e) => showError(host, e)));
  }
  add(p: Promise<void>): void { this.jobs.push(p); }
  async done(): Promise<void> { await Promise.all(this.jobs); }
}

// Rows of [time, series, value, is_final] -> points for timeChart. A bucket is provisional
// when any of its rows is not final, or when `provisionalFrom` (ms) is given and the bucket
// ends after it.
export function pivot(r: SqlResult, bucketMs = 60000, provisionalFrom?: number): { points: Point[]; series: string[] } {
  const byT = new Map<number, Point>();
  const series = new Set<string>();
  for (const [t, s, v, fin] of r.rows) {
    const key = ms(t);
    const p = byT.get(key) ?? { t: key, values: {}, provisional: false };
    p.values[String(s)] = (p.values[String(s)] ?? 0) + Number(v);
    if (fin === false || fin === 'false') p.provisional = true;
    if (provisionalFrom !== undefined && key + bucketMs > provisionalFrom) p.provisional = true;
    series.add(String(s));
    byT.set(key, p);
  }
  return { points: [...byT.values()].sort((a, b) => a.t - b.t), series: [...series].sort() };
}
