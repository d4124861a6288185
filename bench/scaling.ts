// `npm run bench -- scaling`: rounds per minute of the study's Piscina pool
// with 1, 2, … up to the number of cores workers, on the same rounds.
import { runRounds, defaultWorkers } from '../src/study/runner.js';
import { StudySettings } from '../src/study/settings.js';
import { table } from './common.js';
import { DEFAULTS } from '../src/train.js';

export async function benchScaling(opts: { epochs?: number; rounds?: number; log?: (s: string) => void }) {
  const maxWorkers = defaultWorkers();
  const settings: StudySettings = { models: [2, 4], rounds: opts.rounds ?? 2 * maxWorkers, epochs: opts.epochs ?? DEFAULTS.epochs, pairs: 1000, seed: 0, build: 'simd' };
  const rows: { workers: number; rounds: number; wallSeconds: number; roundsPerMinute: number; speedup: number }[] = [];
  for (let w = 1; w <= maxWorkers; w++) {
    const r = await runRounds(settings, { workers: w });
    const n = r.rounds.length;
    rows.push({ workers: w, rounds: n, wallSeconds: r.wallSeconds, roundsPerMinute: (60 * n) / r.wallSeconds, speedup: 0 });
    opts.log?.(`${w} workers: ${n} rounds in ${r.wallSeconds.toFixed(1)} s`);
  }
  for (const r of rows) r.speedup = r.roundsPerMinute / rows[0].roundsPerMinute;
  const text = table(['workers', 'rounds', 'wall s', 'rounds/min', 'speed-up'], rows.map((r) => [r.workers, r.rounds, r.wallSeconds.toFixed(1), r.roundsPerMinute.toFixed(2), r.speedup.toFixed(2) + '×']));
  return { settings: { ...settings, note: 'each worker count runs the same rounds (models 2 and 4); wall time includes starting the workers' }, rows, text };
}
