// Browser test of the dashboard: Debian's chromium driven by playwright-core (never a
// downloaded browser), headless, against `strata demo` on loopback.
//   node tests/browser/dashboard.test.mjs <path/to/strata> <artifact dir>
// Checks: the overview shows non-empty charts whose numbers match /api/sql for the same
// windows, the numbers change as traffic flows, the health and quality pages render, the SQL
// page runs a query; saves a screenshot of each page under <artifact dir>.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import test from 'node:test';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '../../web/package.json'));
const { chromium } = require('playwright-core');

const strata = resolve(process.argv[2] ?? process.env.STRATA_BIN ?? 'build/strata');
const artifacts = resolve(process.argv[3] ?? 'test-artifacts');
mkdirSync(artifacts, { recursive: true });

// Gold windows of 10 s with a 10 s watermark, so closed (final) gold rows appear within
// seconds instead of after the default 5 minutes.
function startDemo(dataDir) {
  const config = join(dataDir, 'demo.toml');
  writeFileSync(config, `[pipeline]\ndata_dir = "${dataDir}"\n[bronze]\ntrigger = "1 second"\n` +
    `[silver]\ntrigger = "1 second"\n[gold]\ntrigger = "1 second"\nwatermark = "10 seconds"\n` +
    `window = "10 seconds"\n`);
  const proc = spawn(strata, ['demo', '--config', config, '--listen', '127.0.0.1:0', '--rate', '3000',
    '--summary-interval', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolveUrl, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('demo did not print its address:\n' + out)), 60000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/Dashboard: (http:\/\/127\.0\.0\.1:\d+)\//);
      if (m) { clearTimeout(timer); resolveUrl({ proc, url: m[1] }); }
    });
    proc.stderr.on('data', (d) => { out += d; });
    proc.on('exit', (code) => reject(new Error(`demo exited with ${code}:\n${out}`)));
  });
}

async function sqlScalar(url, sql) {
  const res = await fetch(url + '/api/sql', { method: 'POST', body: JSON.stringify({ sql }) });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return Number(body.rows[0][0]);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('dashboard against strata demo', { timeout: 300000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'strata-browser-'));
  const profile = mkdtempSync(join(tmpdir(), 'strata-chromium-'));
  const { proc, url } = await startDemo(dataDir);
  let browser;
  try {
    // A fresh profile directory (--user-data-dir) per run.
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      viewport: { width: 1440, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage();
    const external = [];
    page.on('request', (r) => { if (!r.url().startsWith(url) && !r.url().startsWith('data:')) external.push(r.url()); });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));

    // Wait for silver rows so the overview has something to show.
    const silver = 'catalog.streaming.silver_clickstream';
    for (let i = 0; i < 60 && (await sqlScalar(url, `SELECT count(*) FROM ${silver}`)) === 0; i++) await sleep(1000);

    await page.goto(url + '/#overview');
    const kpi = page.locator('#kpi-silver-events');
    await page.waitForFunction(() => document.getElementById('kpi-silver-events')?.dataset.value !== undefined, null, { timeout: 60000 });

    // The page's number lies between /api/sql answers taken just before and after one refresh
    // of the page (silver only grows), for the same SQL the page ran.
    const pageSql = await kpi.getAttribute('data-sql');
    assert.ok(pageSql && pageSql.includes(silver), pageSql);
    const before = await sqlScalar(url, pageSql);
    // A refresh already running when `before` was taken may have queried earlier: wait for two
    // completed refreshes, so that the second one started after `before`.
    const refreshed = async () => {
      const u = Number(await page.locator('#page').getAttribute('data-updated'));
      await page.waitForFunction((x) => Number(document.getElementById('page').dataset.updated) > x, u, { timeout: 60000 });
    };
    await refreshed();
    await refreshed();
    const shown = Number(await kpi.getAttribute('data-value'));
    const after = await sqlScalar(url, pageSql);
    assert.ok(before > 0, 'silver has rows');
    assert.ok(before <= shown && shown <= after, `page shows ${shown}, /api/sql said ${before} then ${after}`);

    // Distinct active users of the newest closed gold window, from the sketches: a window is
    // written once (append mode), so /api/sql must give the very same number for it.
    const gold = 'catalog.streaming.gold_events_per_minute';
    const users = page.locator('#kpi-active-users');
    await page.waitForFunction(() => document.getElementById('kpi-active-users')?.dataset.window !== undefined, null, { timeout: 90000 });
    const win = await users.getAttribute('data-window');
    const shownUsers = Number(await users.getAttribute('data-value'));
    const apiUsers = await sqlScalar(url, `SELECT hll_merge_estimate(users_sketch) FROM ${gold} WHERE window_start = TIMESTAMPTZ '${win}'`);
    assert.ok(shownUsers > 0, 'active users shown');
    assert.equal(shownUsers, apiUsers, `active users of window ${win}`);
    await page.waitForFunction(() => Number(document.getElementById('c-gold')?.dataset.points) > 0, null, { timeout: 60000 });
    assert.ok((await page.locator('#c-gold rect').count()) > 0, 'gold chart has bars');

    // The live silver chart has bars.
    const bars = await page.locator('#c-silver rect').count();
    assert.ok(bars > 0, 'silver chart has bars');

    // The numbers change as traffic flows (pushed over /api/stream, no reload).
    await page.waitForFunction((v) => Number(document.getElementById('kpi-silver-events').dataset.value) > v, shown, { timeout: 60000 });
    await page.screenshot({ path: join(artifacts, 'overview.png'), fullPage: true });

    await page.goto(url + '/#health');
    await page.waitForSelector('section.query', { timeout: 30000 });
    const cards = await page.locator('section.query h2').allTextContents();
    assert.ok(cards.some((t) => t.includes('bronze_clickstream')), cards.join(','));
    await page.screenshot({ path: join(artifacts, 'health.png'), fullPage: true });

    await page.goto(url + '/#quality');
    await page.waitForSelector('#q-rules table', { timeout: 30000 });
    await page.screenshot({ path: join(artifacts, 'quality.png'), fullPage: true });

    await page.goto(url + '/#sql');
    await page.fill('#sql-text', `SELECT event_type, count(*) AS n FROM ${silver} GROUP BY event_type ORDER BY n DESC`);
    await page.click('#sql-run');
    await page.waitForSelector('#sql-result table', { timeout: 30000 });
    const rows = Number(await page.locator('#sql-result').getAttribute('data-rows'));
    assert.ok(rows >= 1 && rows <= 5, `SQL page rows: ${rows}`);
    await page.screenshot({ path: join(artifacts, 'sql.png'), fullPage: true });

    assert.deepEqual(external, [], 'no request leaves the strata server');
    assert.deepEqual(errors, [], 'no page errors');
  } finally {
    if (browser) await browser.close();
    proc.kill('SIGINT');
    await new Promise((r) => proc.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  }
});
