// The page in a real browser, for tests and benchmarks: Vite builds web/ and
// serves the build on a free loopback port; playwright-core drives the
// system's Chromium (Debian's /usr/bin/chromium: nothing downloads a browser).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { RoundRecord, StudySettings } from '../src/study/settings.js';

const root = new URL('..', import.meta.url).pathname;
const config = join(root, 'web/vite.config.ts');

/** The system Chromium: $CHROMIUM, else the first of the usual paths that exists, else null. */
export function findChromium(): string | null {
  const candidates = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  return candidates.find((p): p is string => !!p && existsSync(p)) ?? null;
}

/** Builds the page into `outDir` (default build/web). */
export async function buildPage(outDir?: string): Promise<void> {
  const { build } = await import('vite');
  await build({ configFile: config, logLevel: 'warn', ...(outDir ? { build: { outDir, emptyOutDir: true } } : {}) });
}

/** Serves a built page on a free loopback port; `close` stops the server. */
export async function servePage(outDir?: string): Promise<{ url: string; close: () => Promise<void> }> {
  const { preview } = await import('vite');
  const server = await preview({ configFile: config, logLevel: 'warn', preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false }, ...(outDir ? { build: { outDir } } : {}) });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview printed no address');
  return { url, close: () => server.close() };
}

/**
 * Headless Chromium with the flags this kind of machine needs: no sandbox (root
 * in a container), no GPU, and no background networking (the network is closed,
 * and Chromium would otherwise keep trying Google's hosts).
 */
export async function launchChromium(executablePath: string): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Waits until the page's study is in one of `states` (body[data-state]: idle, running, done, stopped, error); returns it. */
export async function waitForState(page: Page, states: string[], timeoutMs = 100_000): Promise<string> {
  await page.waitForFunction((s) => s.includes(document.body.dataset.state ?? ''), states, { timeout: timeoutMs });
  return (await page.getAttribute('body', 'data-state'))!;
}

/** What the page's results.json holds (the parts tests and benchmarks read). */
export interface PageResults {
  settings: StudySettings;
  complete: boolean;
  rounds: RoundRecord[];
  machine: { workers: number; threadsPerRound: number; cores: number };
}

/** Clicks the page's results.json download and reads the file. */
export async function downloadResults(page: Page): Promise<PageResults> {
  const [d] = await Promise.all([page.waitForEvent('download'), page.click('#download-json')]);
  return JSON.parse(readFileSync((await d.path())!, 'utf8'));
}
