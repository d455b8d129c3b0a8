// Browser test of the dashboard: Debian's chromium driven by playwright-core (never a
// downloaded browser), headless, against `strata demo` on loopback.
//   node tests/browser/dashboard.test.mjs <path/to/strata> <artifact dir>
// Checks: the overview shows non-empty charts whose numbers match /api/sql for the same
// windows (active users, events, sessions when the sessions table exists), the numbers change
// as traffic flows; the health page shows every query with its Kafka lag per partition and the
// alerts of /api/alerts (a watermark_delay rule that fires at once); the quality page shows
// the quarantine by rule, the expectations (when their table exists) and schema drift
// provoked by a producer sending a new field, pushed live; the SQL page runs a query; the page
// reconnects after the server restarts; every request stays on the strata origin. Saves a
// screenshot of each page under <artifact dir>, also at laptop (1280x800) and wall-display
// (3840x2160) sizes.
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

const silver = 'catalog.streaming.silver_clickstream';
const gold = 'catalog.streaming.gold_events_per_minute';
const sessionsTable = 'catalog.streaming.gold_sessions';
const expectationsTable = 'catalog.streaming.silver_clickstream_quality';
const driftTable = 'catalog.streaming.bronze_clickstream_schema_drift';

// Gold windows of 10 s with a 10 s watermark, so closed (final) gold rows appear within
// seconds instead of after the default 5 minutes; sessions (when this strata has them) close
// after 5 s without events, in update mode. Alert rules that fire reliably: silver's
// watermark is 10 minutes behind its newest event, far more than 1 s; schema drift fires when
// the test's producer sends a field outside the event schema.
function config(dataDir, full) {
  return `[pipeline]\ndata_dir = "${dataDir}"\n[bronze]\ntrigger = "1 second"\n` +
    `[silver]\ntrigger = "1 second"\n` +
    (full ? `[[silver.expectations]]\nname = "country_present"\nexpr = "country IS NOT NULL"\naction = "warn"\n` +
      `[[silver.expectations]]\nname = "short_page_url"\nexpr = "length(page_url) < 200"\naction = "warn"\n` : '') +
    `[gold]\ntrigger = "1 second"\nwatermark = "10 seconds"\nwindow = "10 seconds"\n` +
    (full ? `[gold.sessions]\noutputMode = "update"\ngap = "5 seconds"\nwatermark = "10 seconds"\n` : '') +
    `[monitoring]\nevaluationInterval = "1 second"\nqualityInterval = "2 seconds"\n` +
    `[[alerts.rules]]\nname = "silver_watermark_behind"\ntype = "watermark_delay"\nquery = "silver_clickstream"\nmaxDelay = "1 second"\n` +
    `[[alerts.rules]]\ntype = "schema_drift"\n[[alerts.rules]]\ntype = "batch_failed"\nseverity = "critical"\n`;
}

function spawnDemo(configFile, listen) {
  const proc = spawn(strata, ['demo', '--config', configFile, '--listen', listen, '--rate', '3000',
    '--summary-interval', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolveUrl, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('demo did not print its address:\n' + out)), 60000);
    let found = null;
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/Dashboard: (http:\/\/127\.0\.0\.1:\d+)\//);
      const k = out.match(/Kafka: +(\S+) \(embedded/);
      if (m && k && !found) { found = true; clearTimeout(timer); resolveUrl({ proc, url: m[1], kafka: k[1] }); }
    });
    proc.stderr.on('data', (d) => { out += d; });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`demo exited with ${code}:\n${out}`)); });
  });
}

// Starts the demo with the sessions table and silver expectations; a strata without
// [gold.sessions] or [[silver.expectations]] refuses them, then the demo runs without (the
// dashboard then shows that those tables are missing).
async function startDemo(dataDir, listen = '127.0.0.1:0') {
  const file = join(dataDir, 'demo.toml');
  writeFileSync(file, config(dataDir, true));
  try {
    return { ...(await spawnDemo(file, listen)), configFile: file };
  } catch (e) {
    if (!/sessions|expectations/.test(String(e))) throw e;
    writeFileSync(file, config(dataDir, false));
    return { ...(await spawnDemo(file, listen)), configFile: file };
  }
}

// The new server binds the old one's address once the kernel lets it go.
async function restartOn(configFile, listen) {
  for (let attempt = 0; ; attempt++) {
    try {
      return { ...(await spawnDemo(configFile, listen)), configFile };
    } catch (e) {
      if (!/address in use/.test(String(e)) || attempt >= 30) throw e;
      if (attempt === 0) spawn('ss', ['-tanpo', `sport = :${listen.split(':')[1]}`], { stdio: 'inherit' });
      await sleep(1000);
    }
  }
}

async function stop(proc) {
  if (proc.exitCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGINT');
  await exited;
}

async function api(url, sql) {
  const res = await fetch(url + '/api/sql', { method: 'POST', body: JSON.stringify({ sql, limit: 10000 }) });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body.rows;
}
const sqlScalar = async (url, sql) => Number((await api(url, sql))[0][0]);

async function tableNames(url) {
  return new Set((await (await fetch(url + '/api/tables')).json()).map((t) => t.name));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Waits for a page refresh that completed after this call started (the next but one: the one
// running at the call may have queried before it).
async function refreshed(page) {
  for (let i = 0; i < 2; i++) {
    const u = Number(await page.locator('#page').getAttribute('data-updated'));
    await page.waitForFunction((x) => Number(document.getElementById('page').dataset.updated) > x, u, { timeout: 60000 });
  }
}

// A value the page showed lies between /api/sql answers taken just before and after a page
// refresh, for a number that only grows.
async function checkMonotonic(page, url, id, pick, label) {
  const pageSql = await page.locator('#' + id).getAttribute('data-sql');
  assert.ok(pageSql, `${id} ran SQL`);
  const before = pick(await api(url, pageSql));
  await refreshed(page);
  const shown = pick(JSON.parse(await page.locator('#' + id).getAttribute('data-rows')));
  const after = pick(await api(url, pageSql));
  assert.ok(before <= shown && shown <= after, `${label}: page shows ${shown}, /api/sql said ${before} then ${after}`);
  return shown;
}

test('dashboard against strata demo', { timeout: 360000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'strata-browser-'));
  const profile = mkdtempSync(join(tmpdir(), 'strata-chromium-'));
  let demo = await startDemo(dataDir);
  const { url } = demo;
  let browser;
  let producer;
  const checked = [];  // the checks of tables that only some builds have
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
    const origin = new URL(url).origin;
    browser.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith('data:') && new URL(u).origin !== origin) external.push(u);
    });
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));

    // Wait for silver rows so the overview has something to show.
    for (let i = 0; i < 60 && (await sqlScalar(url, `SELECT count(*) FROM ${silver}`)) === 0; i++) await sleep(1000);

    await page.goto(url + '/#overview');
    const kpi = page.locator('#kpi-silver-events');
    await page.waitForFunction(() => document.getElementById('kpi-silver-events')?.dataset.value !== undefined, null, { timeout: 60000 });

    // Silver only grows: the page's number lies between /api/sql answers around a refresh.
    const shown = await checkMonotonic(page, url, 'kpi-silver-events', (rows) => Number(rows[0][0]), 'silver events');
    assert.ok(shown > 0, 'silver has rows');

    // Distinct active users of the newest closed gold window, from the sketches: a window is
    // written once (append mode), so /api/sql must give the very same number for it.
    const users = page.locator('#kpi-active-users');
    await page.waitForFunction(() => document.getElementById('kpi-active-users')?.dataset.window !== undefined, null, { timeout: 90000 });
    const win = await users.getAttribute('data-window');
    const shownUsers = Number(await users.getAttribute('data-value'));
    const apiUsers = await sqlScalar(url, `SELECT hll_merge_estimate(users_sketch) FROM ${gold} WHERE window_start = TIMESTAMPTZ '${win}'`);
    assert.ok(shownUsers > 0, 'active users shown');
    assert.equal(shownUsers, apiUsers, `active users of window ${win}`);
    await page.waitForFunction(() => Number(document.getElementById('c-gold')?.dataset.points) > 0, null, { timeout: 60000 });
    assert.ok((await page.locator('#c-gold rect.final').count()) > 0, 'gold chart has bars');

    // The live silver chart has bars, its newest minutes marked provisional (silver still
    // accepts events for them).
    assert.ok((await page.locator('#c-silver rect').count()) > 0, 'silver chart has bars');
    assert.ok(Number(await page.locator('#c-silver').getAttribute('data-provisional')) > 0, 'silver chart marks provisional minutes');
    assert.ok((await page.locator('#c-silver .prov-legend').count()) === 1, 'provisional legend');

    // Sessions and conversion to purchase.
    const known = await tableNames(url);
    if (known.has(sessionsTable)) {
      checked.push('sessions');
      for (let i = 0; i < 60 && (await sqlScalar(url, `SELECT count(*) FROM ${sessionsTable}`)) === 0; i++) await sleep(1000);
      await page.waitForFunction(() => document.querySelector('#t-sessions tr[data-of="all"]') !== null, null, { timeout: 60000 });
      const rows = JSON.parse(await page.locator('#t-sessions').getAttribute('data-rows'));
      const all = rows.find((r) => r[0] === 'all');
      assert.ok(all && all[1] > 0, 'sessions shown');
      // Columns: of (final, provisional, all), sessions, avg duration s, bounced, bounce %,
      // converted, conversion %.
      const parts = rows.filter((r) => r[0] !== 'all').reduce((s, r) => s + r[1], 0);
      assert.equal(parts, all[1], 'final + provisional sessions = all');
      const near = (a, b) => Math.abs(a - b) <= 0.05 + 1e-9;
      for (const r of rows) {
        assert.ok(near(r[4], (100 * r[3]) / r[1]), `bounce rate of ${r[0]}: ${r}`);
        assert.ok(near(r[6], (100 * r[5]) / r[1]), `conversion rate of ${r[0]}: ${r}`);
      }
      assert.equal(await page.locator('#kpi-sessions').getAttribute('data-value'), String(all[1]));
      // Final sessions never change: their count only grows.
      await checkMonotonic(page, url, 't-sessions', (rs) => Number(rs.find((r) => r[0] === 'final')?.[1] ?? 0), 'final sessions');
      await page.waitForFunction(() => Number(document.getElementById('c-sessions')?.dataset.points) > 0, null, { timeout: 30000 });
      // A minute that ended well behind the watermark and whose sessions are all final cannot
      // change any more (a new session there would need an event older than the watermark):
      // the chart equals /api/sql for it.
      const titles = await page.locator('#c-sessions rect.final title').allTextContents();
      const sessionsQuery = (await (await fetch(url + '/api/queries?recent=0')).json()).find((q) => q.name === 'gold_sessions');
      const behind = (Date.now() - (sessionsQuery?.watermarkMs ?? 0)) / 60000;  // minutes
      const now = new Date();
      const old = titles.map((t) => t.match(/^(\d\d):(\d\d) (converted|not converted): (\d+)$/)).filter((m) => m &&
        (now.getUTCHours() * 60 + now.getUTCMinutes() - (Number(m[1]) * 60 + Number(m[2])) + 1440) % 1440 >= 2 + Math.ceil(behind));
      if (old.length) {
        checked.push('sessions of a closed minute');
        const m = old[0];
        const n = await sqlScalar(url, `SELECT count(*) FROM ${sessionsTable} WHERE strftime(session_start AT TIME ZONE 'UTC', '%H:%M') = '${m[1]}:${m[2]}'
          AND converted = ${m[3] === 'converted'} AND session_start >= current_timestamp - INTERVAL 1 HOUR`);
        assert.equal(Number(m[4]), n, `sessions of ${m[1]}:${m[2]} ${m[3]}`);
      }
    } else {
      assert.match(await page.locator('#t-sessions').textContent(), /no gold_sessions table/);
    }

    // The numbers change as traffic flows (pushed over /api/stream, no reload).
    await page.waitForFunction((v) => Number(document.getElementById('kpi-silver-events').dataset.value) > v, shown, { timeout: 60000 });
    await page.screenshot({ path: join(artifacts, 'overview.png'), fullPage: true });

    // Alerts: the watermark_delay rule fires on silver; the badge and the health page show
    // exactly the active alerts of /api/alerts.
    await page.waitForFunction(() => Number(document.getElementById('alert-badge')?.dataset.active) > 0, null, { timeout: 60000 });
    await page.goto(url + '/#health');
    await page.waitForSelector('section.query', { timeout: 30000 });
    await page.waitForSelector('#h-alerts tr[data-type="watermark_delay"].firing', { timeout: 30000 });
    const apiAlerts = await (await fetch(url + '/api/alerts')).json();
    const firing = apiAlerts.active.find((a) => a.type === 'watermark_delay');
    assert.ok(firing, JSON.stringify(apiAlerts));
    assert.equal(firing.subject, 'silver_clickstream');
    assert.match(await page.locator(`#h-alerts tr[data-alert="${firing.id}"]`).textContent(), /silver_clickstream/);
    const cards = await page.locator('section.query h2').allTextContents();
    assert.ok(cards.some((t) => t.includes('bronze_clickstream')), cards.join(','));
    // Kafka lag per partition of bronze: the 12 partitions of the demo topic, as in /api/queries.
    const bronzeCard = page.locator('section.query[data-query="bronze_clickstream"]');
    await page.waitForFunction(() => document.querySelectorAll('section.query[data-query="bronze_clickstream"] .bar').length === 12, null, { timeout: 30000 });
    const labels = await bronzeCard.locator('.bar').evaluateAll((bs) => bs.map((b) => b.dataset.label));
    assert.deepEqual(labels, [...Array(12).keys()].map((i) => `clickstream-events-${i}`));
    for (const k of ['input', 'processed', 'duration', 'delay', 'lag']) assert.ok((await bronzeCard.locator(`dd[data-k="${k}"]`).count()) === 1, k);
    const silverCard = page.locator('section.query[data-query="silver_clickstream"]');
    for (const k of ['state-rows', 'state-bytes', 'late', 'dropped', 'dups']) assert.ok((await silverCard.locator(`dd[data-k="${k}"]`).count()) === 1, k);
    assert.ok((await silverCard.locator('[id^="rate-"] path.line').count()) === 2, 'input and processed rows/s lines');
    // Failed batches: at least every batch_failed alert of /api/alerts (retries seen live add to them).
    const failedAlerts = [...apiAlerts.active, ...apiAlerts.recent].filter((a) => a.type === 'batch_failed').length;
    assert.ok(Number(await page.locator('#h-failed').getAttribute('data-count')) >= failedAlerts, 'failed batches shown');
    await page.screenshot({ path: join(artifacts, 'health.png'), fullPage: true });

    // Quality: the quarantine by rule, the expectations, and schema drift that a producer
    // provokes while the page is open (it arrives through the stream, no reload).
    await page.goto(url + '/#quality');
    await page.waitForSelector('#q-rules table', { timeout: 30000 });
    const rules = JSON.parse(await page.locator('#q-rules').getAttribute('data-rows'));
    assert.ok(rules.some((r) => r[0] === 'parse_error' && r[1] > 0), JSON.stringify(rules));
    if (known.has(expectationsTable)) {
      checked.push('expectations');
      await page.waitForSelector('#q-expect tr[data-expectation]', { timeout: 30000 });
      await checkMonotonic(page, url, 'q-expect', (rs) => rs.reduce((s, r) => s + Number(r[2]) + Number(r[3]), 0), 'rows checked by expectations');
    } else {
      assert.match(await page.locator('#q-expect').textContent(), /no silver_clickstream_quality table/);
    }
    producer = spawn(strata, ['produce', '--bootstrap-servers', demo.kafka, '--rate', '200', '--duration', '120',
      '--scenario', 'new-field:coupon@0s'], { stdio: 'ignore' });
    await page.waitForSelector('#q-drift-alerts tr[data-type="schema_drift"].firing', { timeout: 90000 });
    assert.match(await page.locator('#q-drift-alerts').textContent(), /coupon/);
    if ((await tableNames(url)).has(driftTable)) {
      checked.push('schema drift table');
      await page.waitForFunction(() => /coupon/.test(document.getElementById('q-drift')?.textContent ?? ''), null, { timeout: 60000 });
    }
    await page.screenshot({ path: join(artifacts, 'quality.png'), fullPage: true });
    await stop(producer);

    await page.goto(url + '/#sql');
    await page.fill('#sql-text', `SELECT event_type, count(*) AS n FROM ${silver} GROUP BY event_type ORDER BY n DESC`);
    await page.click('#sql-run');
    await page.waitForSelector('#sql-result table', { timeout: 30000 });
    const rows = Number(await page.locator('#sql-result').getAttribute('data-rows'));
    assert.ok(rows >= 1 && rows <= 5, `SQL page rows: ${rows}`);
    await page.screenshot({ path: join(artifacts, 'sql.png'), fullPage: true });

    // Laptop and wall display: nothing wider than the screen; screenshots to look at.
    for (const [w, h, name] of [[1280, 800, 'laptop'], [3840, 2160, 'wall']]) {
      await page.setViewportSize({ width: w, height: h });
      for (const p of ['overview', 'health']) {
        await page.goto(url + '/#' + p);
        await refreshed(page);
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(width <= w, `${p} at ${w}x${h} is ${width} px wide`);
        await page.screenshot({ path: join(artifacts, `${p}-${name}.png`), fullPage: name === 'laptop' });
      }
    }
    await page.setViewportSize({ width: 1440, height: 900 });

    // A server restart: the page notices, keeps trying, and catches up with the new server
    // on the same address without a reload.
    await page.goto(url + '/#overview');
    await page.waitForFunction(() => document.getElementById('freshness').dataset.stream === 'live', null, { timeout: 30000 });
    const connects = Number(await page.locator('#freshness').getAttribute('data-connects'));
    await stop(demo.proc);
    await page.waitForFunction(() => document.getElementById('freshness').dataset.stream === 'reconnecting', null, { timeout: 30000 });
    assert.match(await page.locator('#freshness').textContent(), /reconnecting/);
    const stoppedAt = Date.now();
    demo = await restartOn(demo.configFile, url.replace('http://', ''));
    await page.waitForFunction((c) => {
      const f = document.getElementById('freshness');
      return f.dataset.stream === 'live' && Number(f.dataset.connects) > c;
    }, connects, { timeout: 60000 });
    await page.waitForFunction((t) => Number(document.getElementById('page').dataset.updated) > t, stoppedAt, { timeout: 60000 });
    await page.screenshot({ path: join(artifacts, 'overview-after-restart.png'), fullPage: true });

    console.log(`# checked with tables of this strata: ${checked.join(', ') || 'none'}`);
    assert.deepEqual(external, [], 'no request leaves the strata server');
    assert.deepEqual(errors, [], 'no page errors');
  } finally {
    if (producer) await stop(producer);
    if (browser) await browser.close();
    await stop(demo.proc);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  }
});
