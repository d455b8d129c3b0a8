// Alerts and failed batches as they happen: loaded from /api/alerts, then kept current by the
// `alert` and `retry` events of /api/stream. The header badge shows the active ones on every page.
import { Alert, Alerts, QueryInfo, RetryEvent, getJson } from './api';
import { esc } from './charts';

let alerts: Alerts = { active: [], recent: [] };
const retries: RetryEvent[] = [];  // seen on the stream since the page loaded, newest first
const listeners: (() => void)[] = [];

export function onAlertsChanged(f: () => void): void { listeners.push(f); }
function changed(): void {
  renderBadge();
  for (const f of listeners) f();
}

export async function loadAlerts(): Promise<void> {
  try {
    alerts = await getJson<Alerts>('/api/alerts');
  } catch {
    return;  // the badge keeps what it had; the stream's next hello tries again
  }
  changed();
}

export function applyAlert(a: Alert | null): void {
  if (!a || !a.id) return;
  alerts.active = alerts.active.filter((x) => x.id !== a.id);
  alerts.recent = alerts.recent.filter((x) => x.id !== a.id);
  (a.status === 'firing' ? alerts.active : alerts.recent).unshift(a);
  alerts.recent.length = Math.min(alerts.recent.length, 200);
  changed();
}

export function applyRetry(r: RetryEvent | null): void {
  if (!r) return;
  retries.unshift(r);
  retries.length = Math.min(retries.length, 100);
  changed();
}

export function activeAlerts(): Alert[] { return alerts.active; }

function renderBadge(): void {
  const badge = document.getElementById('alert-badge')!;
  const n = alerts.active.length;
  const critical = alerts.active.some((a) => a.severity === 'critical');
  badge.textContent = n === 0 ? 'no alerts' : `⚠ ${n} alert${n > 1 ? 's' : ''}`;
  badge.className = 'badge ' + (n === 0 ? 'ok' : critical ? 'critical' : 'warning');
  badge.dataset.active = String(n);
  badge.title = alerts.active.map((a) => `${a.severity}: ${a.subject}: ${a.message}`).join('\n');
}

function when(msValue: number | null): string {
  return msValue ? new Date(msValue).toISOString().replace('T', ' ').slice(0, 19) : '';
}

// The alerts card: the active alerts, then the latest resolved ones.
export function renderAlerts(host: HTMLElement, filter: (a: Alert) => boolean = () => true, recentLimit = 10): void {
  const active = alerts.active.filter(filter);
  const recent = alerts.recent.filter(filter).slice(0, recentLimit);
  host.dataset.active = String(active.length);
  if (active.length === 0 && recent.length === 0) {
    host.innerHTML = '<div class="empty">no alerts</div>';
    return;
  }
  const row = (a: Alert) => `<tr class="alert ${esc(a.status)} ${esc(a.severity)}" data-alert="${esc(a.id)}" data-type="${esc(a.type)}">
    <td><span class="sev">${esc(a.severity)}</span></td><td>${esc(a.status)}</td><td>${esc(a.rule)}</td>
    <td>${esc(a.subject)}</td><td class="msg">${esc(a.message)}</td><td>${when(a.start_ms)}</td><td>${when(a.end_ms)}</td></tr>`;
  host.innerHTML = `<table class="alerts"><thead><tr><th>severity</th><th>status</th><th>rule</th><th>subject</th>
    <th>message</th><th>since (UTC)</th><th>resolved</th></tr></thead><tbody>${active.map(row).join('')}${recent.map(row).join('')}</tbody></table>`;
}

// Failed batches: retries seen live, batch_failed alerts (which outlive a page reload) and
// queries that stopped with an error.
export function renderFailedBatches(host: HTMLElement, queries: QueryInfo[]): void {
  const rows: [number, string, string, string, string][] = [];
  for (const r of retries) rows.push([r.timeMs, r.query, `batch ${r.batchId}, attempt ${r.attempt}`, r.error, 'retried']);
  for (const a of [...alerts.active, ...alerts.recent].filter((x) => x.type === 'batch_failed')) {
    rows.push([a.start_ms, a.subject, `alert ${a.id}`, String(a.details?.error ?? a.message), a.status === 'firing' ? 'failing' : 'recovered']);
  }
  for (const q of queries.filter((x) => x.status === 'FAILED')) rows.push([Date.now(), q.name, 'query stopped', q.message, 'failed']);
  rows.sort((a, b) => b[0] - a[0]);
  host.dataset.count = String(rows.length);
  if (rows.length === 0) {
    host.innerHTML = '<div class="empty">no failed batches</div>';
    return;
  }
  host.innerHTML = `<table><thead><tr><th>time (UTC)</th><th>query</th><th>batch</th><th>error</th><th>state</th></tr></thead><tbody>${rows.slice(0, 30)
    .map((r) => `<tr class="failed-batch"><td>${when(r[0])}</td><td>${esc(r[1])}</td><td>${esc(r[2])}</td><td class="msg">${esc(r[3])}</td><td>${esc(r[4])}</td></tr>`).join('')}</tbody></table>`;
}
