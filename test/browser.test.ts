// The page in a real Chromium (Debian's, driven by playwright-core): Vite
// builds web/ into a temp folder and serves it on a free loopback port; a
// study runs in the page's Web Workers and its downloaded results.json must
// equal Node's rounds for the same settings, bit for bit. Without Chromium
// these tests say why and are skipped, except under CI=true (.ci/run installs
// it), where they must run. The screenshot goes to test-output/.
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRound } from '../src/study/worker.js';
import { roundTask, RoundRecord, StudySettings } from '../src/study/settings.js';
import { buildPage, downloadResults, findChromium, launchChromium, servePage, waitForState } from '../bench/page.js';

const chromium = findChromium();
if (!chromium) {
  if (process.env.CI === 'true') throw new Error('no Chromium (/usr/bin/chromium): .ci/run installs it (apt-get install chromium); under CI=true the browser tests must run');
  console.warn('browser tests skipped: no Chromium found (apt-get install chromium, or set CHROMIUM to its path)');
}

const output = new URL('../test-output/', import.meta.url).pathname;

/** Node's rounds for the same settings, in (model, round) order. */
async function nodeRounds(s: StudySettings): Promise<RoundRecord[]> {
  const out: RoundRecord[] = [];
  for (const m of s.models) for (let r = 0; r < s.rounds; r++) out.push((await runRound(roundTask(s, m, r))).record);
  return out;
}

/** What must be equal bit for bit: every epoch's numbers. */
const numbers = (rs: RoundRecord[]) => rs.map((r) => ({ model: r.model, round: r.round, seed: r.seed, build: r.build, records: r.records }));


describe.skipIf(!chromium)('the page in Chromium', () => {
  let browser: Browser, server: { url: string; close: () => Promise<void> }, dir: string;
  const errors: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'simdnet-web-'));
    await buildPage(dir);
    server = await servePage(dir);
    browser = await launchChromium(chromium!);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function open(query: string, url = server.url): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'warning' && console.warn(`page: ${m.text()}`));
    await page.goto(`${url}?${query}`);
    return page;
  }

  it('runs a 2-round 3-epoch study of models 2 and 4 in Web Workers: chart, table and results equal to Node bit for bit', async () => {
    const page = await open('models=2,4&rounds=2&epochs=3&build=simd&start=1');
    expect(await waitForState(page, ['done', 'error', 'stopped'])).toBe('done');
    expect(await page.textContent('#status')).toMatch(/Done: 4 of 4 rounds/);
    // the chart is drawn (a Vega canvas) and Table 1 has both models beside the original numbers
    expect(await page.locator('#chart canvas').count()).toBe(1);
    const rows = await page.locator('#table tbody tr').allTextContents();
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^2 weight sharing2/);
    expect(rows[0]).toContain('85.15 ± 2.41');
    expect(rows[1]).toContain('88.94 ± 0.91');
    const got = await downloadResults(page);
    expect(got.complete).toBe(true);
    expect(got.machine.workers).toBeGreaterThanOrEqual(1);
    const settings = got.settings;
    expect(settings).toEqual({ models: [2, 4], rounds: 2, epochs: 3, pairs: 1000, seed: 0, build: 'simd' });
    expect(numbers(got.rounds)).toEqual(numbers(await nodeRounds(settings)));
    // the table's download has both models and the original columns
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#download-csv')]);
    const table = readFileSync((await csv.path())!, 'utf8').trim().split('\n');
    expect(table).toHaveLength(3);
    expect(table[2]).toMatch(/^4,"batch norm",2,0,/);

    // the panel: two picked test digits, then two drawn ones, get a verdict per model (model 4 reads the digits)
    await page.click('#pick');
    await expect.poll(() => page.locator('#verdicts li').count()).toBe(3);
    expect(await page.locator('#verdicts li').first().textContent()).toMatch(/^test digits \d and \d: the first is (not )?larger$/);
    expect(await page.locator('#verdicts li').nth(2).textContent()).toMatch(/^model 4: the first is (not )?larger \(p = 0\.\d{3}\); it reads \d and \d$/);
    await page.click('#clear');
    for (const [pad, strokes] of [['#pad0', [[0.5, 0.15], [0.5, 0.85]]], ['#pad1', [[0.3, 0.2], [0.7, 0.2], [0.4, 0.85]]]] as const) {
      const box = (await page.locator(pad).boundingBox())!;
      await page.mouse.move(box.x + strokes[0][0] * box.width, box.y + strokes[0][1] * box.height);
      await page.mouse.down();
      for (const [x, y] of strokes.slice(1)) await page.mouse.move(box.x + x * box.width, box.y + y * box.height, { steps: 8 });
      await page.mouse.up();
    }
    await expect.poll(() => page.locator('#verdicts li').count()).toBe(2);
    expect(await page.locator('#verdicts li').first().textContent()).toMatch(/^model 2: the first is (not )?larger/);
    mkdirSync(output, { recursive: true });
    await page.screenshot({ path: join(output, 'browser-page.png'), fullPage: true });
    console.log(`screenshot: ${join(output, 'browser-page.png')}`);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a lone round gets the idle cores as kernel threads (the page is cross-origin isolated): the same numbers as Node on one', async () => {
    const page = await open('models=4&rounds=1&epochs=3&workers=2&build=simd&start=1');
    expect(await waitForState(page, ['done', 'error', 'stopped'])).toBe('done');
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const got = await downloadResults(page);
    expect(got.machine.threadsPerRound).toBe(Math.min(2, got.machine.cores));
    expect(numbers(got.rounds)).toEqual(numbers(await nodeRounds(got.settings)));
    expect(errors).toEqual([]);
    await page.close();
  });

  it('works offline once loaded; stops and continues on one worker without losing or changing a finished round; bad settings are refused in one line', async () => {
    // a server of its own, stopped once the page is ready: from then on nothing can be fetched
    const own = await servePage(dir);
    const page = await open('models=2&rounds=3&epochs=6&workers=1&build=simd', own.url);
    await page.waitForFunction(() => document.getElementById('status')!.textContent!.startsWith('Ready'));
    expect(await page.textContent('#status')).toContain('works offline from here');
    await own.close();
    await page.fill('input[name=pairs]', '5000');
    await page.click('#start');
    expect(await waitForState(page, ['error'])).toBe('error');
    expect(await page.textContent('#status')).toBe('pairs: at most 1500 (the test pool holds 3005 digits), got 5000');
    await page.fill('input[name=pairs]', '1000');
    await page.click('#start');
    await page.waitForFunction(() => document.querySelectorAll('#table tbody tr').length === 1, null, { timeout: 60_000 });
    await page.click('#stop');
    expect(await waitForState(page, ['stopped'])).toBe('stopped');
    const partial = await downloadResults(page);
    expect(partial.complete).toBe(false);
    expect(partial.rounds.length).toBeGreaterThanOrEqual(1);
    await page.click('#start');
    expect(await waitForState(page, ['done', 'error'])).toBe('done');
    const all = await downloadResults(page);
    expect(all.complete).toBe(true);
    const node = await nodeRounds(all.settings);
    expect(numbers(all.rounds)).toEqual(numbers(node));
    expect(numbers(partial.rounds)).toEqual(numbers(node).slice(0, partial.rounds.length));
    // and it reloads without a server (the service worker kept the page)
    await page.reload();
    await page.waitForFunction(() => document.getElementById('status')!.textContent!.startsWith('Ready'));
    expect(errors).toEqual([]);
    await page.close();
  });
});
