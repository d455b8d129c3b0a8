import './style.css';
import { ApiError, QueryInfo, SqlResult, TableInfo, connectStream, getJson, sql, tables } from './api';
import { Point, fmtNumber, table, timeChart } from './charts';

// The saved examples of the SQL page: the two dashboard queries of the seed design.
const examples: Record<string, string> = {
  'Latest windows (gold)': `SELECT * FROM ${tables.gold} ORDER BY window_start DESC LIMIT 10`,
  'Event-type breakdown, last hour': `SELECT event_type, SUM(event_count) AS total,
  ROUND(SUM(event_count) * 100.0 / SUM(SUM(event_count)) OVER(), 1) AS pct
FROM ${tables.gold}
WHERE window_start >= current_timestamp() - INTERVAL 1 HOUR
GROUP BY event_type ORDER BY total DESC`,
  'Active users per minute (distinct across types)': `SELECT window_start, hll_merge_estimate(users_sketch) AS active_users
FROM ${tables.gold} GROUP BY window_start ORDER BY window_start DESC LIMIT 60`,
};

const page = document.getElementById('page')!;
const rangeSelect = document.getElementById('range') as HTMLSelectElement;
const freshness = document.getElementById('freshness')!;
let lastUpdate = 0;
let connected = false;
let refreshTimer: number | undefined;

function rangeMinutes(): number { return Number(rangeSelect.value); }
function since(): string { return `current_timestamp - INTERVAL ${rangeMinutes()} MINUTE`; }
function ms(v: unknown): number { return Date.parse(String(v).replace(' ', 'T').replace(/\+00$/, 'Z')); }
function section(title: string, id: string, extra = ''): string {
  return `<section class="card ${extra}"><h2>${title}</h2><div id="${id}"></div></section>`;
}
function showError(host: HTMLElement, e: unknown): void {
  const msg = e instanceof ApiError ? `${e.code}: ${e.message}` : String(e);
  host.innerHTML = `<div class="error">${msg.replace(/[&<]/g, (c) => (c === '&' ? '&amp;' : '&lt;'))}</div>`;
}
function markUpdated(): void {
  lastUpdate = Date.now();
  page.dataset.updated = String(lastUpdate);
  renderFreshness();
}
function renderFreshness(): void {
  const age = lastUpdate ? Math.round((Date.now() - lastUpdate) / 1000) : null;
  freshness.textContent = `${connected ? '● live' : '○ reconnecting'} · ${age === null ? 'not updated yet' : `updated ${age} s ago`}`;
  freshness.className = 'freshness ' + (connected ? 'ok' : 'bad');
}

// Rows of [time, series, value, is_final] -> points for timeChart.
function pivot(r: SqlResult): { points: Point[]; series: string[] } {
  const byT = new Map<number, Point>();
  const series = new Set<string>();
  for (const [t, s, v, fin] of r.rows) {
    const key = ms(t);
    const p = byT.get(key) ?? { t: key, values: {}, provisional: false };
    p.values[String(s)] = Number(v);
    if (fin === false || fin === 'false') p.provisional = true;
    series.add(String(s));
    byT.set(key, p);
  }
  return { points: [...byT.values()].sort((a, b) => a.t - b.t), series: [...series].sort() };
}

async function overview(): Promise<void> {
  if (!document.getElementById('kpis')) {
    page.innerHTML = `<div class="kpis" id="kpis">
      <div class="kpi"><span>Active users (latest window)</span><b id="kpi-active-users">–</b></div>
      <div class="kpi"><span>Events in silver (range)</span><b id="kpi-silver-events">–</b></div>
      <div class="kpi"><span>Closed gold windows (range)</span><b id="kpi-gold-windows">–</b></div></div>
      <div class="grid">${section('Active users per minute (distinct across event types)', 'c-users')}
      ${section('Events per minute by type (gold)', 'c-gold')}
      ${section('Live events per minute by type (silver)', 'c-silver')}
      ${section('Event-type breakdown, last hour', 't-breakdown')}
      ${section('Top pages (range)', 't-pages')}${section('Top pages per minute', 'c-pages')}</div>`;
  }
  // Gold tables added by newer pipelines are used only when they exist.
  const known = new Set((await getJson<TableInfo[]>('/api/tables').catch(() => [])).map((t) => t.name));
  const jobs: Promise<void>[] = [];
  const run = (id: string, q: string, draw: (r: SqlResult, host: HTMLElement) => void) => {
    const host = document.getElementById(id)!;
    jobs.push(sql(q).then((r) => { host.dataset.sql = q; draw(r, host); }).catch((e) => showError(host, e)));
  };
  run('kpi-active-users', `SELECT hll_merge_estimate(users_sketch), max(window_start) FROM ${tables.gold}
    WHERE window_start = (SELECT max(window_start) FROM ${tables.gold})`,
    (r, h) => {
      const v = r.rows[0]?.[0];
      h.textContent = v == null ? '–' : fmtNumber(Number(v));
      if (v != null) { h.dataset.value = String(v); h.dataset.window = String(r.rows[0][1]); }
    });
  run('kpi-silver-events', `SELECT count(*) FROM ${tables.silver} WHERE event_time >= ${since()}`,
    (r, h) => { h.textContent = String(r.rows[0][0]); h.dataset.value = String(r.rows[0][0]); });
  run('kpi-gold-windows', `SELECT count(DISTINCT window_start) FROM ${tables.gold} WHERE window_start >= ${since()}`,
    (r, h) => { h.textContent = String(r.rows[0][0]); });
  run('c-users', `SELECT window_start, 'active users', hll_merge_estimate(users_sketch), bool_and(is_final) FROM ${tables.gold}
    WHERE window_start >= ${since()} GROUP BY window_start ORDER BY window_start`,
    (r, h) => { const p = pivot(r); timeChart(h, p.points, p.series, { line: true }); });
  run('c-gold', `SELECT window_start, event_type, SUM(event_count), bool_and(is_final) FROM ${tables.gold}
    WHERE window_start >= ${since()} GROUP BY 1, 2 ORDER BY 1`,
    (r, h) => { const p = pivot(r); timeChart(h, p.points, p.series); });
  run('c-silver', `SELECT date_trunc('minute', event_time) AS m, event_type, count(*), true FROM ${tables.silver}
    WHERE event_time >= ${since()} GROUP BY 1, 2 ORDER BY 1`,
    (r, h) => { const p = pivot(r); timeChart(h, p.points, p.series); });
  run('t-breakdown', examples['Event-type breakdown, last hour'],
    (r, h) => table(h, r.columns.map((c) => c.name), r.rows));
  const pages = 'catalog.streaming.gold_page_views_per_minute';
  if (known.has(pages)) {
    run('t-pages', `SELECT page_url, SUM(event_count) AS views, CAST(round(hll_merge_estimate(users_sketch)) AS BIGINT) AS users FROM ${pages}
      WHERE window_start >= ${since()} GROUP BY page_url ORDER BY views DESC LIMIT 10`,
      (r, h) => table(h, r.columns.map((c) => c.name), r.rows));
    run('c-pages', `WITH top AS (SELECT page_url FROM ${pages} WHERE window_start >= ${since()}
        GROUP BY page_url ORDER BY SUM(event_count) DESC LIMIT 5)
      SELECT window_start, page_url, SUM(event_count), bool_and(is_final) FROM ${pages}
      WHERE window_start >= ${since()} AND page_url IN (SELECT page_url FROM top) GROUP BY 1, 2 ORDER BY 1`,
      (r, h) => { const p = pivot(r); timeChart(h, p.points, p.series); });
  } else {
    for (const id of ['t-pages', 'c-pages']) document.getElementById(id)!.innerHTML = `<div class="empty">no ${pages} table in this pipeline</div>`;
  }
  await Promise.all(jobs);
}

async function health(): Promise<void> {
  let queries: QueryInfo[];
  try {
    queries = await getJson<QueryInfo[]>('/api/queries?recent=30');
  } catch (e) {
    showError(page, e);
    return;
  }
  const now = Date.now();
  page.innerHTML = `<div class="grid">${queries.map((q, i) => {
    const last = [...q.recentProgress].reverse().find((p) => !p.noDataBatch) ?? q.recentProgress[q.recentProgress.length - 1];
    const st = last?.stateOperators[0];
    const parts = last?.sources[0]?.metrics.partitions.filter((p) => p.latest >= 0) ?? [];
    const delay = q.watermarkMs ? ((now - q.watermarkMs) / 1000).toFixed(0) + ' s' : '–';
    return `<section class="card query ${q.status.toLowerCase()}"><h2>${q.name} <small class="status">${q.status}</small></h2>
      ${q.message ? `<div class="error">${q.message}</div>` : ''}
      <dl><dt>input rows/s</dt><dd>${fmtNumber(last?.inputRowsPerSecond ?? 0)}</dd>
      <dt>processed rows/s</dt><dd>${fmtNumber(last?.processedRowsPerSecond ?? 0)}</dd>
      <dt>batch duration</dt><dd>${last?.durationMs.triggerExecution ?? 0} ms</dd>
      <dt>last batch</dt><dd>${q.lastBatchId}</dd>
      <dt>watermark</dt><dd>${q.watermark ?? '–'}</dd><dt>watermark delay</dt><dd>${delay}</dd>
      <dt>source lag</dt><dd>${fmtNumber(last?.sources[0]?.metrics.lag ?? 0)}</dd>
      ${st ? `<dt>state rows</dt><dd>${fmtNumber(st.numRowsTotal)}</dd><dt>state memory</dt><dd>${fmtNumber(st.memoryUsedBytes)} B</dd>
      <dt>late rows (batch)</dt><dd>${st.numLateRows}</dd><dt>dropped by watermark</dt><dd>${st.numRowsDroppedByWatermark}</dd>
      <dt>duplicates dropped</dt><dd>${st.numDroppedDuplicateRows}</dd>` : ''}</dl>
      <div id="rate-${i}"></div>
      ${parts.length ? `<details><summary>Kafka lag per partition</summary><div class="parts">${parts.map((p) => `<span>${p.partition}: ${p.lag}</span>`).join('')}</div></details>` : ''}
      </section>`;
  }).join('')}</div>`;
  queries.forEach((q, i) => {
    const pts = q.recentProgress.filter((p) => !p.noDataBatch).map((p) => ({ t: Date.parse(p.timestamp), values: { 'processed rows/s': p.processedRowsPerSecond, 'input rows/s': p.inputRowsPerSecond } }));
    timeChart(document.getElementById(`rate-${i}`)!, pts, ['input rows/s'], { line: true });
  });
}

async function quality(): Promise<void> {
  if (!document.getElementById('q-rules')) {
    page.innerHTML = `<div class="grid">${section('Quarantined rows by rule (range)', 'q-rules')}
      ${section('Parse errors per minute (bronze)', 'q-parse')}${section('Late rows per minute', 'q-late')}
      ${section('Latest quarantined rows', 'q-latest', 'wide')}</div>`;
  }
  const jobs: Promise<void>[] = [];
  const run = (id: string, q: string, draw: (r: SqlResult, host: HTMLElement) => void) => {
    const host = document.getElementById(id)!;
    jobs.push(sql(q).then((r) => draw(r, host)).catch((e) => showError(host, e)));
  };
  run('q-rules', `SELECT rule, count(*) AS rows FROM ${tables.quarantine} WHERE quarantined_at >= ${since()} GROUP BY rule ORDER BY rows DESC`,
    (r, h) => table(h, ['rule', 'rows'], r.rows));
  run('q-parse', `SELECT date_trunc('minute', ingestion_timestamp), 'parse errors', count(*), true FROM ${tables.bronze}
    WHERE parse_error IS NOT NULL AND ingestion_timestamp >= ${since()} GROUP BY 1 ORDER BY 1`,
    (r, h) => { const p = pivot(r); timeChart(h, p.points, p.series, { line: true }); });
  run('q-late', `SELECT date_trunc('minute', watermark), 'late rows', count(*), true FROM ${tables.late}
    WHERE watermark >= ${since()} GROUP BY 1 ORDER BY 1`,
    (r, h) => { const p = pivot(r); timeChart(h, p.points, p.series, { line: true }); });
  run('q-latest', `SELECT quarantined_at, rule, reason, event_id, event_type FROM ${tables.quarantine} ORDER BY quarantined_at DESC LIMIT 20`,
    (r, h) => table(h, r.columns.map((c) => c.name), r.rows));
  await Promise.all(jobs);
}

function sqlPage(): void {
  if (document.getElementById('sql-text')) return;
  page.innerHTML = `<section class="card wide"><h2>SQL</h2>
    <div class="examples">${Object.keys(examples).map((k) => `<button data-example="${k}">${k}</button>`).join('')}</div>
    <textarea id="sql-text" spellcheck="false">${examples['Event-type breakdown, last hour']}</textarea>
    <div><button id="sql-run" class="primary">Run (Ctrl+Enter)</button> <span id="sql-info"></span></div>
    <div id="sql-chart"></div><div id="sql-result" class="scroll"></div></section>`;
  const text = document.getElementById('sql-text') as HTMLTextAreaElement;
  const runIt = async () => {
    const info = document.getElementById('sql-info')!, out = document.getElementById('sql-result')!, chart = document.getElementById('sql-chart')!;
    info.textContent = 'running…';
    try {
      const r = await sql(text.value, 1000);
      info.textContent = `${r.rows.length} rows${r.truncated ? ' (truncated)' : ''} in ${r.elapsedMs} ms`;
      table(out, r.columns.map((c) => c.name), r.rows);
      out.dataset.rows = String(r.rows.length);
      // Quick chart: first column as category or time, first numeric column as value.
      const num = r.columns.findIndex((c, i) => i > 0 && /INT|DOUBLE|DECIMAL|FLOAT|HUGEINT/.test(c.type));
      chart.innerHTML = '';
      if (num > 0 && r.rows.length > 0) {
        const isTime = /TIMESTAMP|DATE/.test(r.columns[0].type);
        const pts: Point[] = r.rows.map((row, i) => ({ t: isTime ? ms(row[0]) : i * 60000, values: { [r.columns[num].name]: Number(row[num]) } }));
        pts.sort((a, b) => a.t - b.t);
        timeChart(chart, pts, [r.columns[num].name], { line: isTime });
      }
    } catch (e) {
      info.textContent = '';
      showError(out, e);
    }
  };
  document.getElementById('sql-run')!.onclick = runIt;
  text.onkeydown = (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) runIt(); };
  for (const b of page.querySelectorAll<HTMLButtonElement>('[data-example]')) b.onclick = () => { text.value = examples[b.dataset.example!]; runIt(); };
}

function current(): string { return (location.hash.replace('#', '') || 'overview'); }

async function refresh(): Promise<void> {
  const name = current();
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav a')) a.classList.toggle('active', a.dataset.page === name);
  if (name === 'sql') { sqlPage(); return; }
  if (name === 'health') await health();
  else if (name === 'quality') await quality();
  else await overview();
  markUpdated();
}

// Many commits arrive per second: refresh at most once per second, after the last of a burst.
function scheduleRefresh(): void {
  if (refreshTimer !== undefined) return;
  refreshTimer = window.setTimeout(() => { refreshTimer = undefined; refresh(); }, 1000);
}

window.addEventListener('hashchange', () => { page.innerHTML = ''; refresh(); });
rangeSelect.onchange = () => { localStorage.setItem('strata.range', rangeSelect.value); refresh(); };
rangeSelect.value = localStorage.getItem('strata.range') ?? rangeSelect.value;
connectStream((type) => {
  if (type === 'commit' || (type === 'progress' && current() === 'health') || type === 'query') scheduleRefresh();
  if (type === 'hello') scheduleRefresh();  // after a reconnect, catch up
}, (ok) => { connected = ok; renderFreshness(); });
setInterval(renderFreshness, 1000);
refresh();
