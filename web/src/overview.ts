// The overview: active users, events per minute, the event-type breakdown, top pages, sessions
// and conversion to purchase.
import { QueryInfo, getJson, knownTables, tables } from './api';
import { fmtNumber, table, timeChart } from './charts';
import { Jobs, missingTable, page, pivot, section, since } from './common';
import { examples } from './examples';

function shortName(table: string): string { return table.split('.').pop()!; }

export async function overview(): Promise<void> {
  if (!document.getElementById('kpis')) {
    page.innerHTML = `<div class="kpis" id="kpis">
      <div class="kpi"><span>Active users (latest window)</span><b id="kpi-active-users">–</b></div>
      <div class="kpi"><span>Events in silver (range)</span><b id="kpi-silver-events">–</b></div>
      <div class="kpi"><span>Closed gold windows (range)</span><b id="kpi-gold-windows">–</b></div>
      <div class="kpi"><span>Sessions (range)</span><b id="kpi-sessions">–</b></div>
      <div class="kpi"><span>Conversion to purchase (sessions)</span><b id="kpi-conversion">–</b></div></div>
      <div class="grid">${section('Active users per minute (distinct across event types)', 'c-users')}
      ${section('Events per minute by type (gold)', 'c-gold')}
      ${section('Live events per minute by type (silver)', 'c-silver')}
      ${section('Event-type breakdown, last hour', 't-breakdown')}
      ${section('Sessions per minute, converted to purchase or not', 'c-sessions')}
      ${section('Sessions and conversion to purchase (range)', 't-sessions', 'span2')}
      ${section('Top pages (range)', 't-pages')}${section('Top pages per minute', 'c-pages')}</div>`;
  }
  // Gold tables added by newer pipelines are used only when they exist.
  const [known, queries] = await Promise.all([knownTables(),
    getJson<QueryInfo[]>('/api/queries?recent=0').catch(() => [] as QueryInfo[])]);
  const silverWatermark = queries.find((q) => q.name === shortName(tables.silver))?.watermarkMs ?? undefined;
  const jobs = new Jobs();
  jobs.run('kpi-active-users', `SELECT hll_merge_estimate(users_sketch), max(window_start) FROM ${tables.gold}
    WHERE window_start = (SELECT max(window_start) FROM ${tables.gold})`,
    (r, h) => {
      const v = r.rows[0]?.[0];
      h.textContent = v == null ? '–' : fmtNumber(Math.round(Number(v)));  // an estimate: whole users
      if (v != null) { h.dataset.value = String(v); h.dataset.window = String(r.rows[0][1]); }
    });
  jobs.run('kpi-silver-events', `SELECT count(*) FROM ${tables.silver} WHERE event_time >= ${since()}`,
    (r, h) => { h.textContent = String(r.rows[0][0]); h.dataset.value = String(r.rows[0][0]); });
  jobs.run('kpi-gold-windows', `SELECT count(DISTINCT window_start) FROM ${tables.gold} WHERE window_start >= ${since()} AND is_final`,
    (r, h) => { h.textContent = String(r.rows[0][0]); });
  jobs.run('c-users', `SELECT window_start, 'active users', hll_merge_estimate(users_sketch), bool_and(is_final) FROM ${tables.gold}
    WHERE window_start >= ${since()} GROUP BY window_start ORDER BY window_start`,
    (r, h) => { const p = pivot(r); timeChart(h, p.points, p.series, { line: true }); });
  jobs.run('c-gold', `SELECT window_start, event_type, SUM(event_count), bool_and(is_final) FROM ${tables.gold}
    WHERE window_start >= ${since()} GROUP BY 1, 2 ORDER BY 1`,
    (r, h) => { const p = pivot(r); timeChart(h, p.points, p.series); });
  // Silver has no windows: a minute is provisional while silver still accepts events for it
  // (it ends after silver's watermark).
  jobs.run('c-silver', `SELECT date_trunc('minute', event_time) AS m, event_type, count(*), true FROM ${tables.silver}
    WHERE event_time >= ${since()} GROUP BY 1, 2 ORDER BY 1`,
    (r, h) => { const p = pivot(r, 60000, silverWatermark ?? Date.now()); timeChart(h, p.points, p.series); });
  jobs.run('t-breakdown', examples['Event-type breakdown, last hour'],
    (r, h) => table(h, r.columns.map((c) => c.name), r.rows));
  if (known.has(tables.sessions)) {
    sessions(jobs);
  } else {
    for (const id of ['c-sessions', 't-sessions']) missingTable(document.getElementById(id)!, tables.sessions, 'sessions gold query not enabled');
    for (const id of ['kpi-sessions', 'kpi-conversion']) document.getElementById(id)!.textContent = '–';
  }
  if (known.has(tables.pages)) {
    jobs.run('t-pages', `SELECT page_url, SUM(event_count) AS views, CAST(round(hll_merge_estimate(users_sketch)) AS BIGINT) AS users FROM ${tables.pages}
      WHERE window_start >= ${since()} GROUP BY page_url ORDER BY views DESC LIMIT 10`,
      (r, h) => table(h, r.columns.map((c) => c.name), r.rows));
    jobs.run('c-pages', `WITH top AS (SELECT page_url FROM ${tables.pages} WHERE window_start >= ${since()}
        GROUP BY page_url ORDER BY SUM(event_count) DESC LIMIT 5)
      SELECT window_start, page_url, SUM(event_count), bool_and(is_final) FROM ${tables.pages}
      WHERE window_start >= ${since()} AND page_url IN (SELECT page_url FROM top) GROUP BY 1, 2 ORDER BY 1`,
      (r, h) => { const p = pivot(r); timeChart(h, p.points, p.series, { line: true }); });
  } else {
    for (const id of ['t-pages', 'c-pages']) missingTable(document.getElementById(id)!, tables.pages, 'page views gold query not enabled');
  }
  await jobs.done();
}

// Sessions of catalog.streaming.gold_sessions (one row per session; provisional ones have
// is_final = false until the watermark passes their end), by session start.
function sessions(jobs: Jobs): void {
  const t = tables.sessions;
  jobs.run('t-sessions', `SELECT CASE WHEN grouping(is_final) = 1 THEN 'all' WHEN is_final THEN 'final' ELSE 'provisional' END AS "of",
      count(*) AS sessions,
      round(avg(duration_ms) / 1000.0, 1) AS "avg duration s",
      count(*) FILTER (WHERE bounced) AS bounced,
      round(100.0 * count(*) FILTER (WHERE bounced) / count(*), 1) AS "bounce %",
      count(*) FILTER (WHERE converted) AS converted,
      round(100.0 * count(*) FILTER (WHERE converted) / count(*), 1) AS "conversion %"
    FROM ${t} WHERE session_start >= ${since()}
    GROUP BY GROUPING SETS ((is_final), ()) ORDER BY grouping(is_final), is_final DESC`,
    (r, h) => {
      table(h, r.columns.map((c) => c.name), r.rows);
      for (const [i, row] of r.rows.entries()) h.querySelectorAll('tbody tr')[i]?.setAttribute('data-of', String(row[0]));
      const all = r.rows.find((row) => row[0] === 'all');
      const fin = r.rows.find((row) => row[0] === 'final');
      const kpi = document.getElementById('kpi-sessions')!;
      kpi.textContent = all ? fmtNumber(Number(all[1])) : '0';
      kpi.dataset.value = String(all?.[1] ?? 0);
      // Final sessions when there are any; until then the provisional figure, marked as such.
      const conv = document.getElementById('kpi-conversion')!;
      const shownRow = fin ?? all;
      conv.innerHTML = shownRow ? `${shownRow[6]} %${fin ? '' : ' <small class="prov-note">provisional</small>'}` : '–';
      conv.dataset.value = String(shownRow?.[6] ?? '');
      conv.dataset.of = fin ? 'final' : 'all';
      if (r.rows.length === 0) h.innerHTML = '<div class="empty">no sessions in this range yet</div>';
    });
  jobs.run('c-sessions', `SELECT date_trunc('minute', session_start) AS m, CASE WHEN converted THEN 'converted' ELSE 'not converted' END,
      count(*), bool_and(is_final) FROM ${t}
    WHERE session_start >= ${since()} GROUP BY 1, 2 ORDER BY 1`,
    (r, h) => { const p = pivot(r); timeChart(h, p.points, p.series); });
}
