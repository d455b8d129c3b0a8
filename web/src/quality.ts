// Data quality: the silver expectations with their pass and fail counts, quarantined rows by
// rule, schema drift seen (the drift table and the active schema_drift alerts), parse errors
// and late rows.
import { knownTables, tables } from './api';
import { activeAlerts, renderAlerts } from './alerts';
import { table, timeChart } from './charts';
import { Jobs, missingTable, page, pivot, section, since } from './common';

// Redraws the schema-drift alerts only (on an `alert` event).
export function refreshQualityAlerts(): void {
  const host = document.getElementById('q-drift-alerts');
  if (host) renderAlerts(host, (a) => a.type === 'schema_drift', 5);
}

export async function quality(): Promise<void> {
  if (!document.getElementById('q-rules')) {
    page.innerHTML = `<div class="grid">${section('Expectations: rows passed and failed (range)', 'q-expect', 'wide')}
      ${section('Failed rows per minute by expectation', 'q-expect-chart')}
      ${section('Quarantined rows by rule (range)', 'q-rules')}
      <section class="card wide"><h2>Schema drift seen</h2><h3>alerts of the schema_drift rule</h3><div id="q-drift-alerts"></div>
      <h3>recorded in ${tables.drift.split('.').pop()} (range)</h3><div id="q-drift"></div></section>
      ${section('Parse errors per minute (bronze)', 'q-parse')}${section('Late rows per minute of arrival (behind silver\'s watermark)', 'q-late')}
      ${section('Latest quarantined rows', 'q-latest', 'wide')}</div>`;
  }
  refreshQualityAlerts();
  const known = await knownTables();
  const jobs = new Jobs();
  const now = Date.now();
  if (known.has(tables.expectations)) {
    jobs.run('q-expect', `SELECT expectation, any_value(action) AS action, sum(passed) AS passed, sum(failed) AS failed,
        round(100.0 * sum(failed) / nullif(sum(passed) + sum(failed), 0), 3) AS failed_pct,
        count(DISTINCT batch_id) AS batches, max(timestamp) AS last_batch
      FROM ${tables.expectations} WHERE timestamp >= ${since()} GROUP BY expectation ORDER BY failed DESC, expectation`,
      (r, h) => {
        if (r.rows.length === 0) { h.innerHTML = '<div class="empty">no batch checked in this range yet</div>'; return; }
        table(h, r.columns.map((c) => c.name), r.rows);
        h.querySelectorAll('tbody tr').forEach((tr, i) => {
          tr.setAttribute('data-expectation', String(r.rows[i][0]));
          if (Number(r.rows[i][3]) > 0) tr.classList.add(r.rows[i][1] === 'fail' ? 'bad' : 'warn');
        });
      });
    // The current minute is still being filled: provisional.
    jobs.run('q-expect-chart', `SELECT date_trunc('minute', timestamp), expectation, sum(failed), true FROM ${tables.expectations}
      WHERE timestamp >= ${since()} GROUP BY 1, 2 ORDER BY 1`,
      (r, h) => { const p = pivot(r, 60000, now); timeChart(h, p.points, p.series); });
  } else {
    missingTable(document.getElementById('q-expect')!, tables.expectations, 'silver expectations not recorded');
    missingTable(document.getElementById('q-expect-chart')!, tables.expectations, 'silver expectations not recorded');
  }
  if (known.has(tables.drift)) {
    jobs.run('q-drift', `SELECT kind, field, expected_type, observed_type, count(*) AS records,
        min(detected_at) AS first_seen, max(detected_at) AS last_seen, min(sample) AS sample
      FROM ${tables.drift} WHERE detected_at >= ${since()} GROUP BY ALL ORDER BY last_seen DESC LIMIT 50`,
      (r, h) => {
        if (r.rows.length === 0) { h.innerHTML = '<div class="empty">no schema drift recorded in this range</div>'; return; }
        table(h, r.columns.map((c) => c.name), r.rows);
      });
  } else {
    const host = document.getElementById('q-drift')!;
    missingTable(host, tables.drift, 'only active schema_drift alerts are shown');
    host.dataset.alerts = String(activeAlerts().filter((a) => a.type === 'schema_drift').length);
  }
  jobs.run('q-rules', `SELECT rule, count(*) AS rows FROM ${tables.quarantine} WHERE quarantined_at >= ${since()} GROUP BY rule ORDER BY rows DESC`,
    (r, h) => table(h, ['rule', 'rows'], r.rows));
  jobs.run('q-parse', `SELECT date_trunc('minute', ingestion_timestamp), 'parse errors', count(*), true FROM ${tables.bronze}
    WHERE parse_error IS NOT NULL AND ingestion_timestamp >= ${since()} GROUP BY 1 ORDER BY 1`,
    (r, h) => { const p = pivot(r, 60000, now); timeChart(h, p.points, p.series); });
  jobs.run('q-late', `SELECT date_trunc('minute', kafka_timestamp), 'late rows', count(*), true FROM ${tables.late}
    WHERE kafka_timestamp >= ${since()} GROUP BY 1 ORDER BY 1`,
    (r, h) => { const p = pivot(r, 60000, now); timeChart(h, p.points, p.series, { empty: 'no late rows in this range' }); });
  jobs.run('q-latest', `SELECT quarantined_at, rule, reason, event_id, event_type FROM ${tables.quarantine} ORDER BY quarantined_at DESC LIMIT 20`,
    (r, h) => table(h, r.columns.map((c) => c.name), r.rows));
  await jobs.done();
}
