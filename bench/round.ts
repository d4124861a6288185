// `npm run bench -- round`: one training round of each model on one core,
// SIMD and scalar builds side by side (seconds per round and their ratio).
import { ModelId } from '../src/models.js';
import { Build } from '../src/kernels.js';
import { childRound, median, table } from './common.js';

export async function benchRound(opts: { models: ModelId[]; epochs: number; builds: Build[]; repeat?: number; seed?: number; log?: (s: string) => void }) {
  const repeat = opts.repeat ?? 1;
  const runs: { model: ModelId; build: Build; seconds: number; finalTestAccuracy: number; finalTrainAccuracy: number }[] = [];
  // Repeats interleave the models, so a slow spell of the shared machine hits each of them alike.
  for (let rep = 0; rep < repeat; rep++) {
    for (const model of opts.models) {
      for (const build of opts.builds) {
        const r = childRound({ model, build, epochs: opts.epochs, seed: opts.seed ?? 0 });
        const last = r.records[r.records.length - 1];
        runs.push({ model, build, seconds: r.seconds, finalTestAccuracy: r.finalTestAccuracy, finalTrainAccuracy: last?.trainAccuracy ?? NaN });
        opts.log?.(`model ${model} ${build}: ${r.seconds.toFixed(2)} s, test accuracy ${(100 * r.finalTestAccuracy).toFixed(1)} %`);
      }
    }
  }
  const rows = opts.models.flatMap((model) => opts.builds.map((build) => {
    const mine = runs.filter((r) => r.model === model && r.build === build);
    return { ...mine[0], seconds: median(mine.map((r) => r.seconds)), allSeconds: mine.map((r) => r.seconds) };
  }));
  const sec = (m: ModelId, b: Build) => rows.find((r) => r.model === m && r.build === b)?.seconds ?? NaN;
  const ref2 = sec(2, 'simd');
  const text = table(
    ['model', ...opts.builds.map((b) => `${b} s/round`), ...(opts.builds.length === 2 ? ['scalar/SIMD'] : []), 'vs model 2 (SIMD)', 'test acc SIMD'],
    opts.models.map((m) => [
      String(m),
      ...opts.builds.map((b) => sec(m, b).toFixed(2)),
      ...(opts.builds.length === 2 ? [(sec(m, 'scalar') / sec(m, 'simd')).toFixed(2) + '×'] : []),
      Number.isNaN(ref2) ? '-' : (sec(m, 'simd') / ref2).toFixed(3) + '×',
      (100 * (rows.find((r) => r.model === m && r.build === opts.builds[0])?.finalTestAccuracy ?? NaN)).toFixed(1) + ' %',
    ]),
  );
  return { settings: { models: opts.models, epochs: opts.epochs, builds: opts.builds, seed: opts.seed ?? 0, pairs: 1000, batch: 100, threads: 1, repeat, note: 'each round in a fresh process after a 5-epoch warm-up round of the same model; seconds are medians over repeats' }, rows, text };
}
