// The strata HTTP API (docs/http-api.md): SQL, query statuses and the live event stream.

export interface Column { name: string; type: string }
export interface SqlResult { columns: Column[]; rows: (string | number | boolean | null)[][]; truncated: boolean; elapsedMs: number }
export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string) { super(message); }
}

export const tables = {
  bronze: 'catalog.streaming.bronze_clickstream',
  silver: 'catalog.streaming.silver_clickstream',
  late: 'catalog.streaming.silver_clickstream_late',
  quarantine: 'catalog.streaming.silver_clickstream_quarantine',
  gold: 'catalog.streaming.gold_events_per_minute',
  pages: 'catalog.streaming.gold_page_views_per_minute',
  // Tables of newer pipelines; the pages use them only when /api/tables lists them.
  sessions: 'catalog.streaming.gold_sessions',
  expectations: 'catalog.streaming.silver_clickstream_quality',
  drift: 'catalog.streaming.bronze_clickstream_schema_drift',
};

function token(): string | null { return localStorage.getItem('strata.token'); }

function headers(): Record<string, string> {
  const h: Record<string, string> = { 'Content-Type': 'application/json' };
  const t = token();
  if (t) h.Authorization = `Bearer ${t}`;
  return h;
}

async function handle401(res: Response): Promise<void> {
  if (res.status !== 401) return;
  const t = window.prompt('This strata server needs an access token:');
  if (t) localStorage.setItem('strata.token', t);
}

export async function sql(text: string, limit = 1000): Promise<SqlResult> {
  const res = await fetch('/api/sql', { method: 'POST', headers: headers(), body: JSON.stringify({ sql: text, limit }) });
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    await handle401(res);
    throw new ApiError(res.status, body?.error?.code ?? 'Error', body?.error?.message ?? res.statusText);
  }
  return body as SqlResult;
}

export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: headers() });
  if (!res.ok) {
    await handle401(res);
    throw new ApiError(res.status, 'Error', `${path}: HTTP ${res.status}`);
  }
  return (await res.json()) as T;
}

export interface TableInfo { name: string; version: number }

export interface Progress {
  name: string; timestamp: string; batchId: number; numInputRows: number;
  inputRowsPerSecond: number; processedRowsPerSecond: number; noDataBatch: boolean;
  durationMs: Record<string, number>; eventTime: { watermark?: string; max?: string };
  stateOperators: { numRowsTotal: number; memoryUsedBytes: number; numRowsDroppedByWatermark: number;
    numDroppedDuplicateRows: number; numLateRows: number; numQuarantinedRows: number }[];
  sources: { description: string; metrics: { lag: number; partitions: { partition: string; end: number; latest: number; lag: number }[] } }[];
  tables: { table: string; rows: number; version: number }[];
}
export interface QueryTotals {
  batches: number; inputRows: number; lateRows: number; droppedByWatermark: number;
  droppedDuplicates: number; quarantinedRows: number;
}
export interface QueryInfo {
  id: string; name: string; status: string; message: string; lastBatchId: number;
  watermark: string | null; watermarkMs: number | null; recentProgress: Progress[];
  totals?: QueryTotals;
}
export interface Alert {
  id: string; rule: string; type: string; severity: string; subject: string; message: string;
  status: 'firing' | 'resolved'; start: string; start_ms: number; end: string | null; end_ms: number | null;
  details?: Record<string, unknown>;
}
export interface Alerts { active: Alert[]; recent: Alert[] }
export interface RetryEvent { id: string; query: string; batchId: number; attempt: number; error: string; timeMs: number }

// The catalog names SQL can see now.
export async function knownTables(): Promise<Set<string>> {
  return new Set((await getJson<TableInfo[]>('/api/tables').catch(() => [])).map((t) => t.name));
}

// The live stream: calls `onEvent` for each event, reconnects with back-off (1 s doubling to
// 8 s) after errors such as a server restart, and reports the connection state and how many
// times the stream was (re)opened.
export function connectStream(onEvent: (type: string, data: unknown) => void,
                              onState: (connected: boolean, connects: number) => void): void {
  let delay = 1000;
  let connects = 0;
  const open = () => {
    const t = token();
    const es = new EventSource('/api/stream' + (t ? `?access_token=${encodeURIComponent(t)}` : ''));
    es.addEventListener('hello', () => { connects += 1; });
    for (const type of ['hello', 'progress', 'commit', 'query', 'alert', 'retry']) {
      es.addEventListener(type, (e) => {
        delay = 1000;
        onState(true, connects);
        try { onEvent(type, JSON.parse((e as MessageEvent).data)); } catch { onEvent(type, null); }
      });
    }
    es.onerror = () => {
      onState(false, connects);
      es.close();
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 8000);
    };
  };
  open();
}
