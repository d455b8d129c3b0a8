// The SQL page: an editor for ad-hoc SQL against any table, results as a table and a quick
// chart, with saved examples.
import { sql } from './api';
import { Point, esc, table, timeChart } from './charts';
import { ms, page, showError } from './common';
import { examples } from './examples';

export function sqlPage(): void {
  if (document.getElementById('sql-text')) return;
  page.innerHTML = `<section class="card wide"><h2>SQL</h2>
    <div class="examples">${Object.keys(examples).map((k) => `<button data-example="${esc(k)}">${esc(k)}</button>`).join('')}</div>
    <textarea id="sql-text" spellcheck="false">${esc(examples['Event-type breakdown, last hour'])}</textarea>
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
