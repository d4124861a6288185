// `npm run bench -- threads`: one round of models 2 and 4 on 1 and 2 threads
// (kernel calls split over helper threads, src/team.ts), alternating, medians;
// the cost of handing out an empty call (helpers spinning, or asleep in
// Atomics.wait); and each split kernel on the study's shapes, 1 vs 2 threads.
import { loadKernels, Kernels } from '../src/kernels.js';
import { childRound, median, table, timeIt } from './common.js';

export async function benchThreads(opts: { epochs?: number; repeat?: number; log?: (s: string) => void }) {
  const log = opts.log ?? (() => {});
  const epochs = opts.epochs ?? 60, repeat = opts.repeat ?? 3;
  // dispatch: an empty call on every thread
  const dispatch: Record<string, number> = {};
  for (const [how, spin] of [['Atomics.wait (no spin)', 0], ['spin, then wait (default)', undefined]] as const) {
    const k = await loadKernels('simd', { threads: 2, ...(spin === undefined ? {} : { spin }) });
    dispatch[how] = timeIt(() => k.run([['relu_forward', 0, 0, 0], ['relu_forward', 0, 0, 0]]), 2001, 200) * 1e6;
    k.close();
    log(`empty split call, ${how}: ${dispatch[how].toFixed(1)} µs`);
  }
  // kernels on the study's shapes (model 2, batch 100)
  const ks: Kernels[] = [await loadKernels('simd'), await loadKernels('simd', { threads: 2 })];
  const kernels = [
    { name: 'gemm head.fc1 forward (100×256×512)', run: (k: Kernels, p: number[]) => k.gemm(p[0], p[1], p[2], 100, 256, 512, 512, 512, 256, k.GEMM_TRANS_B) },
    { name: 'gemm head.fc1 weight gradient (256×512×100)', run: (k: Kernels, p: number[]) => k.gemm(p[0], p[1], p[2], 256, 512, 100, 256, 512, 512, k.GEMM_TRANS_A | k.GEMM_ACCUMULATE) },
    { name: 'ReLU + max pool 1 forward (6400 planes 12×12)', run: (k: Kernels, p: number[]) => k.reluMaxpool2x2Forward(p[0], p[1], p[2], 6400, 12, 12) },
    { name: 'ReLU + max pool 1 backward', run: (k: Kernels, p: number[]) => k.reluMaxpool2x2Backward(p[2], p[0], p[0], p[1], 6400, 12, 12) },
    { name: 'Adam (all 260k parameters of model 2)', run: (k: Kernels, p: number[]) => k.adamStep(p[0], p[1], p[2], p[3], 260_000, 1e-3, 0.9, 0.999, 1e-8, 0.1, 0.01, 0, false) },
  ];
  const kernelRows = kernels.map((kn) => {
    const us = ks.map((k) => {
      const mark = k.mark(), p = [0, 1, 2, 3].map(() => k.alloc(1 << 20));
      const t = timeIt(() => kn.run(k, p), 51, 10) * 1e6;
      k.release(mark);
      return t;
    });
    log(`${kn.name}: ${us[0].toFixed(0)} µs, ${us[1].toFixed(0)} µs on 2 threads`);
    return { kernel: kn.name, oneThreadUs: us[0], twoThreadsUs: us[1], speedup: us[0] / us[1] };
  });
  ks.forEach((k) => k.close());
  // whole rounds, each in a fresh process, alternating
  const runs: { model: number; threads: number; seconds: number }[] = [];
  for (let rep = 0; rep < repeat; rep++) {
    for (const model of [2, 4]) {
      for (const threads of [1, 2]) {
        const r = childRound({ model, build: 'simd', epochs, seed: 0, threads });
        runs.push({ model, threads, seconds: r.seconds });
        log(`model ${model}, ${threads} thread${threads > 1 ? 's' : ''}: ${r.seconds.toFixed(2)} s`);
      }
    }
  }
  const roundRows = [2, 4].map((model) => {
    const s = (t: number) => median(runs.filter((r) => r.model === model && r.threads === t).map((r) => r.seconds));
    return { model, oneThreadSeconds: s(1), twoThreadsSeconds: s(2), speedup: s(1) / s(2) };
  });
  const text = [
    table(['model', '1 thread s/round', '2 threads s/round', 'speedup'], roundRows.map((r) => [String(r.model), r.oneThreadSeconds.toFixed(2), r.twoThreadsSeconds.toFixed(2), r.speedup.toFixed(2) + '×'])),
    '',
    table(['split kernel', '1 thread µs', '2 threads µs', 'speedup'], kernelRows.map((r) => [r.kernel, r.oneThreadUs.toFixed(0), r.twoThreadsUs.toFixed(0), r.speedup.toFixed(2) + '×'])),
    '',
    table(['empty split call', 'µs'], Object.entries(dispatch).map(([k, v]) => [k, v.toFixed(1)])),
  ].join('\n');
  return { settings: { epochs, repeat, build: 'simd', note: 'rounds in fresh processes after a 5-epoch warm-up, medians; kernels: medians of 51 after 10 warm-up calls' }, rows: { rounds: roundRows, runs, kernels: kernelRows, dispatchUs: dispatch }, text };
}
