// `npm run bench -- scaling`: rounds per minute of the study's Piscina pool
// with 1, 2, … up to the number of cores workers, on the same rounds.
import { runRounds, defaultWorkers } from '../src/study/runner.js';
import { StudySettings } from '../src/study/settings.js';
import { DEFAULTS } from '../src/train.js';
import { table } from './common.js';

interface Row { workers: number; rounds: number; wallSeconds: number; roundsPerMinute: number; steadyRoundsPerMinute: number; speedup: number; steadySpeedup: number }

export async function benchScaling(opts: { epochs?: number; rounds?: number; log?: (s: string) => void }) {
  const maxWorkers = defaultWorkers();
  const settings: StudySettings = { models: [2, 4], rounds: opts.rounds ?? 2 * maxWorkers, epochs: opts.epochs ?? DEFAULTS.epochs, pairs: 1000, seed: 0, build: 'simd' };
  const rows: Row[] = [];
  for (let w = 1; w <= maxWorkers; w++) {
    // Steady state: from the moment every worker has finished its first round (workers
    // started, wasm tiered up) to the last round, so that start-up does not count.
    const finished: number[] = [];
    const r = await runRounds(settings, { workers: w, onRound: () => finished.push(performance.now()) });
    const n = r.rounds.length;
    const steady = (n - w) / ((finished[n - 1] - finished[w - 1]) / 60_000);
    rows.push({ workers: w, rounds: n, wallSeconds: r.wallSeconds, roundsPerMinute: (60 * n) / r.wallSeconds, steadyRoundsPerMinute: steady, speedup: 0, steadySpeedup: 0 });
    opts.log?.(`${w} workers: ${n} rounds in ${r.wallSeconds.toFixed(1)} s, ${steady.toFixed(2)} rounds/min in the steady state`);
  }
  for (const r of rows) {
    r.speedup = r.roundsPerMinute / rows[0].roundsPerMinute;
    r.steadySpeedup = r.steadyRoundsPerMinute / rows[0].steadyRoundsPerMinute;
  }
  const text = table(
    ['workers', 'rounds', 'wall s', 'rounds/min', 'speed-up', 'steady rounds/min', 'steady speed-up'],
    rows.map((r) => [r.workers, r.rounds, r.wallSeconds.toFixed(1), r.roundsPerMinute.toFixed(2), r.speedup.toFixed(2) + '×', r.steadyRoundsPerMinute.toFixed(2), r.steadySpeedup.toFixed(2) + '×']),
  );
  return {
    settings: { ...settings, note: 'each worker count runs the same rounds (models 2 and 4); wall time includes starting the workers; steady: rounds after each worker\'s first, over the time since' },
    rows, text,
  };
}
