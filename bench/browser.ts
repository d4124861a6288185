// `npm run bench -- browser`: one round of models 2 and 4 in Chromium (the
// page, one Web Worker) against the same round in Node (a fresh process, as
// `bench round` runs it), SIMD build, alternating, medians of seconds per
// epoch. The browser's timed round is the second in its worker (the first
// warms the wasm up, as Node's 5-epoch warm-up round does).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childRound, median, table } from './common.js';
import { buildPage, downloadResults, findChromium, launchChromium, servePage, waitForState } from './page.js';

export async function benchBrowser(opts: { epochs?: number; repeat?: number; log?: (s: string) => void }) {
  const log = opts.log ?? (() => {});
  const epochs = opts.epochs ?? 20, repeat = opts.repeat ?? 3, models = [2, 4] as const;
  const chromium = findChromium();
  if (!chromium) throw new Error('no Chromium: apt-get install chromium (or set CHROMIUM to its path)');
  const dir = mkdtempSync(join(tmpdir(), 'simdnet-web-'));
  await buildPage(dir);
  const server = await servePage(dir);
  const browser = await launchChromium(chromium);
  const version = browser.version();
  const runs: { model: number; where: 'browser' | 'node'; seconds: number; coldSeconds?: number }[] = [];
  try {
    for (let rep = 0; rep < repeat; rep++) {
      for (const model of models) {
        const page = await browser.newPage();
        await page.goto(`${server.url}?models=${model}&rounds=2&epochs=${epochs}&workers=1&build=simd&start=1`);
        await waitForState(page, ['done', 'error', 'stopped'], 600_000);
        const { rounds } = await downloadResults(page);
        await page.close();
        if (rounds.length !== 2) throw new Error(`the page finished ${rounds.length} of 2 rounds of model ${model}`);
        runs.push({ model, where: 'browser', seconds: rounds[1].seconds, coldSeconds: rounds[0].seconds });
        const r = childRound({ model, build: 'simd', epochs, seed: 1 });
        runs.push({ model, where: 'node', seconds: r.seconds });
        log(`model ${model}: browser ${rounds[1].seconds.toFixed(2)} s (first round ${rounds[0].seconds.toFixed(2)} s), node ${r.seconds.toFixed(2)} s`);
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }
  const rows = models.map((model) => {
    const sec = (where: 'browser' | 'node') => median(runs.filter((r) => r.model === model && r.where === where).map((r) => r.seconds));
    const browserEpoch = sec('browser') / epochs, nodeEpoch = sec('node') / epochs;
    const cold = median(runs.filter((r) => r.model === model && r.where === 'browser').map((r) => r.coldSeconds!)) / epochs;
    return { model, browserSecondsPerEpoch: browserEpoch, nodeSecondsPerEpoch: nodeEpoch, browserOverNode: browserEpoch / nodeEpoch, browserFirstRoundSecondsPerEpoch: cold };
  });
  const text = table(['model', 'Chromium s/epoch', 'Node s/epoch', 'Chromium / Node', 'Chromium, first round s/epoch'],
    rows.map((r) => [String(r.model), r.browserSecondsPerEpoch.toFixed(3), r.nodeSecondsPerEpoch.toFixed(3), r.browserOverNode.toFixed(3) + '×', r.browserFirstRoundSecondsPerEpoch.toFixed(3)]));
  return {
    settings: { models, epochs, repeat, build: 'simd', chromium: version, seed: 1, runs, note: 'seconds per epoch (training and per-epoch evaluation), medians over repeats; browser: the page, 1 Web Worker, second round of the worker (seed 1); node: a fresh process after a 5-epoch warm-up round' },
    rows, text,
  };
}
