// Pipeline health: alerts and failed batches as they happen, then one card per query with
// input against processed rows/s, batch duration, watermark delay, source lag (per Kafka
// partition), state size, late and dropped rows.
import { Progress, QueryInfo, getJson } from './api';
import { renderAlerts, renderFailedBatches } from './alerts';
import { barList, esc, fmtNumber, timeChart } from './charts';
import { page, section, showError } from './common';

let lastQueries: QueryInfo[] = [];

function bytes(n: number): string {
  if (n >= 1 << 30) return (n / (1 << 30)).toFixed(1) + ' GiB';
  if (n >= 1 << 20) return (n / (1 << 20)).toFixed(1) + ' MiB';
  if (n >= 1 << 10) return (n / (1 << 10)).toFixed(1) + ' KiB';
  return `${n} B`;
}

function seconds(msValue: number): string {
  return msValue >= 100000 ? `${Math.round(msValue / 1000)} s` : `${(msValue / 1000).toFixed(1)} s`;
}

// Redraws the alert and failed-batch cards only (on an `alert` or `retry` event).
export function refreshHealthAlerts(): void {
  const a = document.getElementById('h-alerts');
  const f = document.getElementById('h-failed');
  if (a) renderAlerts(a, () => true, 15);
  if (f) renderFailedBatches(f, lastQueries);
}

function card(q: QueryInfo, i: number, now: number): string {
  const withData = q.recentProgress.filter((p) => !p.noDataBatch);
  const last: Progress | undefined = withData[withData.length - 1] ?? q.recentProgress[q.recentProgress.length - 1];
  const st = last?.stateOperators[0];
  const src = last?.sources[0];
  const kafka = src?.description.startsWith('kafka') ?? false;
  const delay = q.watermarkMs ? seconds(now - q.watermarkMs) : '–';
  const t = q.totals;
  const dd = (label: string, value: string, key: string) => `<dt>${label}</dt><dd data-k="${key}">${value}</dd>`;
  return `<section class="card query ${q.status.toLowerCase()}" data-query="${esc(q.name)}"><h2>${esc(q.name)} <small class="status">${esc(q.status)}</small></h2>
    ${q.message ? `<div class="error">${esc(q.message)}</div>` : ''}
    <dl>${dd('input rows/s', fmtNumber(last?.inputRowsPerSecond ?? 0), 'input')}
    ${dd('processed rows/s', fmtNumber(last?.processedRowsPerSecond ?? 0), 'processed')}
    ${dd('batch duration', `${last?.durationMs.triggerExecution ?? 0} ms`, 'duration')}
    ${dd('last batch', String(q.lastBatchId), 'batch')}
    ${dd('watermark (UTC)', q.watermark ? `<span title="${esc(q.watermark)}">${esc(q.watermark.slice(11, 23))}</span>` : '–', 'watermark')}${dd('watermark delay', delay, 'delay')}
    ${dd(kafka ? 'Kafka lag (records)' : 'source lag (versions)', fmtNumber(src?.metrics.lag ?? 0), 'lag')}
    ${st ? `${dd('state rows', fmtNumber(st.numRowsTotal), 'state-rows')}${dd('state memory', bytes(st.memoryUsedBytes), 'state-bytes')}
    ${dd('late rows (batch / total)', `${st.numLateRows} / ${fmtNumber(t?.lateRows ?? 0)}`, 'late')}
    ${dd('dropped by watermark (batch / total)', `${st.numRowsDroppedByWatermark} / ${fmtNumber(t?.droppedByWatermark ?? 0)}`, 'dropped')}
    ${dd('duplicates dropped (batch / total)', `${st.numDroppedDuplicateRows} / ${fmtNumber(t?.droppedDuplicates ?? 0)}`, 'dups')}
    ${st.numQuarantinedRows || t?.quarantinedRows ? dd('quarantined (batch / total)', `${st.numQuarantinedRows} / ${fmtNumber(t?.quarantinedRows ?? 0)}`, 'quarantined') : ''}` : ''}</dl>
    <h3>rows/s: input and processed</h3><div id="rate-${i}"></div>
    <div class="minis"><div><h3>batch duration (ms)</h3><div id="dur-${i}"></div></div>
    <div><h3>watermark delay (s)</h3><div id="wm-${i}"></div></div></div>
    ${kafka ? `<h3>Kafka lag per partition (records)</h3><div id="lag-${i}" class="lag"></div>` : ''}
    </section>`;
}

export async function health(): Promise<void> {
  let queries: QueryInfo[];
  try {
    queries = await getJson<QueryInfo[]>('/api/queries?recent=60');
  } catch (e) {
    showError(page, e);
    return;
  }
  lastQueries = queries;
  const now = Date.now();
  page.innerHTML = `<div class="grid">${section('Alerts', 'h-alerts', 'wide')}${section('Failed batches', 'h-failed', 'wide')}
    ${queries.map((q, i) => card(q, i, now)).join('')}</div>`;
  refreshHealthAlerts();
  queries.forEach((q, i) => {
    const withData = q.recentProgress.filter((p) => !p.noDataBatch);
    const pts = withData.map((p) => ({ t: Date.parse(p.timestamp), values: { 'input rows/s': p.inputRowsPerSecond, 'processed rows/s': p.processedRowsPerSecond } }));
    timeChart(document.getElementById(`rate-${i}`)!, pts, ['input rows/s', 'processed rows/s'], { line: true, seconds: true, empty: 'no batch with data yet' });
    const dur = q.recentProgress.map((p) => ({ t: Date.parse(p.timestamp), values: { 'batch ms': p.durationMs.triggerExecution ?? 0 } }));
    timeChart(document.getElementById(`dur-${i}`)!, dur, ['batch ms'], { line: true, seconds: true, compact: true, empty: 'no batch yet' });
    // Delay of the watermark behind the wall clock when each batch started.
    const wm = q.recentProgress.filter((p) => p.eventTime.watermark)
      .map((p) => ({ t: Date.parse(p.timestamp), values: { 'delay s': (Date.parse(p.timestamp) - Date.parse(p.eventTime.watermark!)) / 1000 } }));
    timeChart(document.getElementById(`wm-${i}`)!, wm, ['delay s'], { line: true, seconds: true, compact: true, empty: 'no watermark yet' });
    const lagHost = document.getElementById(`lag-${i}`);
    if (lagHost) {
      const last = [...q.recentProgress].reverse().find((p) => p.sources[0]?.metrics.partitions.length);
      const parts = (last?.sources[0]?.metrics.partitions ?? []).filter((p) => p.latest >= 0);
      parts.sort((a, b) => Number(a.partition.split('-').pop()) - Number(b.partition.split('-').pop()));
      if (parts.length) barList(lagHost, parts.map((p) => [p.partition, p.lag]));
      else lagHost.innerHTML = '<div class="empty">no partition offsets yet</div>';
    }
  });
}
