import './style.css';
import { Alert, RetryEvent, connectStream } from './api';
import { applyAlert, applyRetry, loadAlerts, onAlertsChanged } from './alerts';
import { page } from './common';
import { health, refreshHealthAlerts } from './health';
import { overview } from './overview';
import { quality, refreshQualityAlerts } from './quality';
import { sqlPage } from './sqlpage';

const rangeSelect = document.getElementById('range') as HTMLSelectElement;
const freshness = document.getElementById('freshness')!;
let lastUpdate = 0;
let connected = false;
let refreshTimer: number | undefined;
let refreshing = false;
let refreshAgain = false;

function markUpdated(): void {
  lastUpdate = Date.now();
  page.dataset.updated = String(lastUpdate);
  renderFreshness();
}
function renderFreshness(): void {
  const age = lastUpdate ? Math.round((Date.now() - lastUpdate) / 1000) : null;
  freshness.textContent = `${connected ? '● live' : '○ reconnecting'} · ${age === null ? 'not updated yet' : `updated ${age} s ago`}`;
  freshness.className = 'freshness ' + (connected ? 'ok' : 'bad');
  freshness.dataset.stream = connected ? 'live' : 'reconnecting';
}

function current(): string { return (location.hash.replace('#', '') || 'overview'); }

// One refresh at a time; a request during one runs once more after it.
async function refresh(): Promise<void> {
  if (refreshing) { refreshAgain = true; return; }
  refreshing = true;
  try {
    const name = current();
    for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a')) a.classList.toggle('active', a.dataset.page === name);
    document.body.dataset.page = name;
    if (name === 'sql') { sqlPage(); return; }
    if (name === 'health') await health();
    else if (name === 'quality') await quality();
    else await overview();
    markUpdated();
  } finally {
    refreshing = false;
    if (refreshAgain) { refreshAgain = false; scheduleRefresh(); }
  }
}

// Many commits arrive per second: refresh at most once per second, after the last of a burst.
function scheduleRefresh(): void {
  if (refreshTimer !== undefined) return;
  refreshTimer = window.setTimeout(() => { refreshTimer = undefined; refresh(); }, 1000);
}

onAlertsChanged(() => { refreshHealthAlerts(); refreshQualityAlerts(); });
window.addEventListener('hashchange', () => { page.innerHTML = ''; refresh(); });
rangeSelect.onchange = () => { localStorage.setItem('strata.range', rangeSelect.value); refresh(); };
rangeSelect.value = localStorage.getItem('strata.range') ?? rangeSelect.value;
connectStream((type, data) => {
  if (type === 'alert') applyAlert(data as Alert);
  else if (type === 'retry') applyRetry(data as RetryEvent);
  if (type === 'commit' || (type === 'progress' && current() === 'health') || type === 'query') scheduleRefresh();
  if (type === 'hello') {  // (re)connected: catch up with what happened meanwhile
    loadAlerts();
    scheduleRefresh();
  }
}, (ok, connects) => {
  connected = ok;
  freshness.dataset.connects = String(connects);
  renderFreshness();
});
setInterval(renderFreshness, 1000);
refresh();
