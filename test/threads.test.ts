// Kernel calls split over helper threads on shared memory (src/team.ts): every
// split kernel, and whole training rounds, give the same numbers bit for bit
// for 1, 2 and 3 threads on both builds.
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKernels, Kernels, Build } from '../src/kernels.js';
import { trainRound } from '../src/train.js';
import { runRounds } from '../src/study/runner.js';
import { Rng } from '../src/prng.js';
import * as ref from './reference.js';
import { put } from './helpers.js';

const builds: Build[] = ['simd', 'scalar'];

describe.each(builds)('%s build on 1, 2 and 3 threads', (build) => {
  const ks: Kernels[] = [];
  beforeAll(async () => {
    for (const threads of [1, 2, 3]) ks.push(await loadKernels(build, { threads }));
  });
  afterAll(() => ks.forEach((k) => k.close()));

  /** Runs f on each instance with the same inputs; returns what each read back. */
  const onEach = (f: (k: Kernels, r: (n: number) => number) => [number, number][]) => ks.map((k) => {
    const rng = new Rng(11), mark = k.mark();
    const out = f(k, (n) => put(k, ref.f32round(ref.randn(rng, n))));
    const got = out.map(([p, n]) => k.read(p, n));
    k.release(mark);
    return got;
  });

  it('helpers are running: threads reports 1, 2, 3', () => {
    expect(ks.map((k) => k.threads)).toEqual([1, 2, 3]);
    expect(ks[1].split(100, 16)).toEqual([[0, 64], [64, 36]]);
    expect(ks[2].split(10)).toEqual([[0, 4], [4, 3], [7, 3]]);
    expect(ks[2].split(2, 16)).toEqual([[0, 2]]);
  });

  const shapes: [number, number, number][] = [[100, 256, 512], [37, 33, 300], [256, 512, 100], [3, 31, 700], [130, 17, 250]];
  it.each(shapes)('gemm %i×%i×%i, every flag: split by columns or rows, equal to one thread and to float64', (M, N, K) => {
    for (let flags = 0; flags < 8; flags++) {
      const tA = (flags & 1) !== 0, tB = (flags & 2) !== 0;
      const got = onEach((k, r) => {
        const a = r(M * K), b = r(K * N), c = r(M * N);
        k.gemm(c, a, b, M, N, K, tA ? M : K, tB ? K : N, N, flags);
        return [[c, M * N]];
      });
      expect(got[1]).toEqual(got[0]);
      expect(got[2]).toEqual(got[0]);
    }
    // and against the reference once
    const rng = new Rng(1), A = ref.f32round(ref.randn(rng, M * K)), B = ref.f32round(ref.randn(rng, K * N));
    const k = ks[2], mark = k.mark(), c = k.alloc(M * N);
    k.gemm(c, put(k, A), put(k, B), M, N, K, K, N, N, 0);
    expect(ref.relErr(Float64Array.from(k.read(c, M * N)), ref.gemmRef(A, B, M, N, K, false, false))).toBeLessThan(2e-6 * Math.sqrt(K));
    k.release(mark);
  });

  // Winograd (several tiles per image, more images than threads and fewer), a first layer (Cin = 1), the general path (part 0 alone)
  const convShapes: [number, number, number, number, number][] = [[5, 9, 10, 14, 7], [2, 8, 6, 6, 19], [7, 1, 8, 9, 33], [3, 5, 7, 8, 6]];
  it.each(convShapes)('conv3x3 N=%i Cin=%i %i×%i Cout=%i forward and backward (with and without dx), split by the kernel itself', (N, Cin, H, W, Cout) => {
    const P = (H - 2) * (W - 2);
    for (const withDx of [true, false]) {
      const got = onEach((k, r) => {
        const x = r(N * Cin * H * W), w = r(Cout * Cin * 9), b = r(Cout), dy = r(N * Cout * P);
        const y = k.alloc(N * Cout * P), col = k.alloc(k.k.conv3x3_workspace(N, Cin, H, W, Cout)), yc = k.alloc(Cout * N * P);
        const dx = withDx ? k.alloc(N * Cin * H * W) : 0, dw = r(Cout * Cin * 9), db = r(Cout);
        k.parts('conv3x3_forward', y, col, yc, x, w, b, N, Cin, H, W, Cout);
        k.parts('conv3x3_backward', dx, dw, db, yc, dy, w, col, N, Cin, H, W, Cout);
        return [[y, N * Cout * P], [dw, Cout * Cin * 9], [db, Cout], ...(withDx ? [[dx, N * Cin * H * W] as [number, number]] : [])];
      });
      expect(got[1]).toEqual(got[0]);
      expect(got[2]).toEqual(got[0]);
    }
  });

  it.each(convShapes)('conv3x3 + batch norm N=%i Cin=%i %i×%i Cout=%i: training and evaluation forward, backward, split by the kernel itself', (N, Cin, H, W, Cout) => {
    const P = (H - 2) * (W - 2);
    const got = onEach((k, r) => {
      const x = r(N * Cin * H * W), w = r(Cout * Cin * 9), b = r(Cout), g = r(Cout), beta = r(Cout), dy = r(N * Cout * P);
      const y = k.alloc(N * Cout * P), ye = k.alloc(N * Cout * P), col = k.alloc(k.k.conv3x3_workspace(N, Cin, H, W, Cout)), yc = k.alloc(Cout * N * P), dyc = k.alloc(Cout * N * P);
      const mean = k.alloc(Cout), is = k.alloc(Cout), rm = r(Cout), rv = put(k, new Float64Array(Cout).fill(1.5));
      const dx = k.alloc(N * Cin * H * W), dw = r(Cout * Cin * 9), db = k.alloc(Cout), dg = r(Cout), dbeta = r(Cout);
      k.parts('conv3x3_batchnorm_forward_train', y, col, yc, mean, is, rm, rv, x, w, b, g, beta, N, Cin, H, W, Cout, 0.1, 1e-5);
      k.parts('conv3x3_batchnorm_backward', dx, dw, db, dg, dbeta, dyc, dy, w, g, col, yc, mean, is, N, Cin, H, W, Cout);
      k.parts('conv3x3_batchnorm_forward_eval', ye, col, yc, x, w, b, g, beta, rm, rv, N, Cin, H, W, Cout, 1e-5);
      return [[y, N * Cout * P], [mean, Cout], [is, Cout], [rm, Cout], [rv, Cout], [dx, N * Cin * H * W], [dw, Cout * Cin * 9], [dg, Cout], [dbeta, Cout], [ye, N * Cout * P]];
    });
    expect(got[1]).toEqual(got[0]);
    expect(got[2]).toEqual(got[0]);
  });

  it('ReLU + 2×2 max pool forward and backward, split by planes', () => {
    const R = 1000, H = 12, W = 12, Q = R * 36;
    const got = onEach((k, r) => {
      const x = r(R * H * W), y = k.alloc(Q), idx = k.alloc(Q), dy = r(Q), dx = k.alloc(R * H * W);
      k.reluMaxpool2x2Forward(y, idx, x, R, H, W);
      k.reluMaxpool2x2Backward(dx, dy, y, idx, R, H, W);
      return [[y, Q], [idx, Q], [dx, R * H * W]];
    });
    expect(got[1]).toEqual(got[0]);
    expect(got[2]).toEqual(got[0]);
  });

  it('Adam (and AdamW) split by element ranges', () => {
    const n = 100_003;
    for (const decoupled of [false, true]) {
      const got = onEach((k, r) => {
        const p = r(n), g = r(n), m = k.alloc(n), v = k.alloc(n);
        for (let t = 1; t <= 3; t++) k.adamStep(p, g, m, v, n, 1e-3, 0.9, 0.999, 1e-8, 1 - 0.9 ** t, 1 - 0.999 ** t, 0.01, decoupled);
        return [[p, n], [m, n], [v, n]];
      });
      expect(got[1]).toEqual(got[0]);
      expect(got[2]).toEqual(got[0]);
    }
  });
});

describe('training rounds on threads', () => {
  it.each([2, 4] as const)('model %i: the same epoch records for 1, 2 and 3 threads (both builds)', async (model) => {
    for (const build of builds) {
      const runs = [];
      for (const threads of [1, 2, 3]) runs.push((await trainRound({ model, seed: 5, epochs: 2, pairs: 300, build, threads })).records);
      expect(runs[1]).toEqual(runs[0]);
      expect(runs[2]).toEqual(runs[0]);
    }
  });

  it('a study with fewer rounds than workers gives the idle cores to its rounds as threads: the same numbers', async () => {
    const settings = { models: [4] as 4[], rounds: 1, epochs: 2, pairs: 200, seed: 3, build: 'simd' as const };
    const alone = await runRounds(settings, { workers: 1 });
    const joined = await runRounds(settings, { workers: 2 }); // one round, two workers: the round gets the cores (at most 2)
    expect(alone.threadsPerRound).toBe(1);
    expect(joined.threadsPerRound).toBe(Math.min(2, availableParallelism()));
    expect(joined.rounds.map((r) => r.records)).toEqual(alone.rounds.map((r) => r.records));
  });

  it('a bad thread count is refused in one line', async () => {
    await expect(loadKernels('simd', { threads: 0 })).rejects.toThrow("simdnet: threads must be an integer in 1 … 64 or 'auto', got 0");
    await expect(trainRound({ model: 2, seed: 0, epochs: 1, threads: 1.5 })).rejects.toThrow("threads must be an integer in 1 … 64 or 'auto', got 1.5");
  });
});
