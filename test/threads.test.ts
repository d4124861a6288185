// Kernel calls split over helper threads on shared memory (src/team.ts): every
// split kernel, and whole training rounds, give the same numbers bit for bit
// for 1, 2 and 3 threads on both builds.
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKernels, Kernels, Build, CONV_ALGORITHMS } from '../src/kernels.js';
import { trainRound } from '../src/train.js';
import { runRounds } from '../src/study/runner.js';
import { layers as nn, sequential } from '../src/nn.js';
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

  /** Runs f on 1, 2 and 3 threads with the same inputs (r(n): n random floats placed); what each reads back must be equal bit for bit. */
  const sameOnEach = (f: (k: Kernels, r: (n: number) => number) => [number, number][]) => {
    const got = ks.map((k) => {
      const rng = new Rng(11), mark = k.mark();
      const out = f(k, (n) => put(k, ref.f32round(ref.randn(rng, n))));
      const read = out.map(([p, n]) => k.read(p, n));
      k.release(mark);
      return read;
    });
    for (let t = 1; t < got.length; t++) {
      got[t].forEach((a, i) => expect(new Uint32Array(a.buffer, a.byteOffset, a.length), `output ${i} on ${t + 1} threads`).toEqual(new Uint32Array(got[0][i].buffer, got[0][i].byteOffset, got[0][i].length)));
    }
  };

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
      sameOnEach((k, r) => {
        const a = r(M * K), b = r(K * N), c = r(M * N);
        k.gemm(c, a, b, M, N, K, tA ? M : K, tB ? K : N, N, flags);
        return [[c, M * N]];
      });
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
      sameOnEach((k, r) => {
        const x = r(N * Cin * H * W), w = r(Cout * Cin * 9), b = r(Cout), dy = r(N * Cout * P);
        const y = k.alloc(N * Cout * P), col = k.alloc(k.k.conv3x3_workspace(N, Cin, H, W, Cout)), yc = k.alloc(Cout * N * P);
        const dx = withDx ? k.alloc(N * Cin * H * W) : 0, dw = r(Cout * Cin * 9), db = r(Cout);
        k.parts('conv3x3_forward', y, col, yc, x, w, b, N, Cin, H, W, Cout);
        k.parts('conv3x3_backward', dx, dw, db, yc, dy, w, col, N, Cin, H, W, Cout);
        return [[y, N * Cout * P], [dw, Cout * Cin * 9], [db, Cout], ...(withDx ? [[dx, N * Cin * H * W] as [number, number]] : [])];
      });
    }
  });

  it.each(convShapes)('conv3x3 + batch norm N=%i Cin=%i %i×%i Cout=%i: training and evaluation forward, backward, split by the kernel itself', (N, Cin, H, W, Cout) => {
    const P = (H - 2) * (W - 2);
    sameOnEach((k, r) => {
      const x = r(N * Cin * H * W), w = r(Cout * Cin * 9), b = r(Cout), g = r(Cout), beta = r(Cout), dy = r(N * Cout * P);
      const y = k.alloc(N * Cout * P), ye = k.alloc(N * Cout * P), col = k.alloc(k.k.conv3x3_workspace(N, Cin, H, W, Cout)), yc = k.alloc(Cout * N * P), dyc = k.alloc(Cout * N * P);
      const mean = k.alloc(Cout), is = k.alloc(Cout), rm = r(Cout), rv = put(k, new Float64Array(Cout).fill(1.5));
      const dx = k.alloc(N * Cin * H * W), dw = r(Cout * Cin * 9), db = k.alloc(Cout), dg = r(Cout), dbeta = r(Cout);
      k.parts('conv3x3_batchnorm_forward_train', y, col, yc, mean, is, rm, rv, x, w, b, g, beta, N, Cin, H, W, Cout, 0.1, 1e-5);
      k.parts('conv3x3_batchnorm_backward', dx, dw, db, dg, dbeta, dyc, dy, w, g, col, yc, mean, is, N, Cin, H, W, Cout);
      k.parts('conv3x3_batchnorm_forward_eval', ye, col, yc, x, w, b, g, beta, rm, rv, N, Cin, H, W, Cout, 1e-5);
      return [[y, N * Cout * P], [mean, Cout], [is, Cout], [rm, Cout], [rv, Cout], [dx, N * Cin * H * W], [dw, Cout * Cin * 9], [dg, Cout], [dbeta, Cout], [ye, N * Cout * P]];
    });
  });

  // any convolution: im2col (5×5 'same', 3×3 stride 2), Winograd with a padded copy (3×3 'same', 5×5 'same') or without (5×5 'valid'), direct (5×5 'same', 3×5 'valid')
  const generalShapes: [number, number, number, number, number, number, number, number, number, number, number][] = [
    // N, Cin, H, W, Cout, KH, KW, stride, padT, padL (OH, OW follow), algorithm (0 im2col, 1 Winograd, 2 direct)
    [5, 3, 11, 9, 6, 5, 5, 1, 2, 2, 0], [4, 6, 9, 12, 17, 3, 3, 2, 1, 1, 0], [3, 9, 8, 12, 7, 3, 3, 1, 1, 1, 1],
    [5, 3, 10, 8, 6, 5, 5, 1, 2, 2, 1], [6, 6, 14, 14, 9, 5, 5, 1, 0, 0, 1],
    [5, 1, 12, 18, 5, 5, 5, 1, 2, 2, 2], [4, 3, 9, 11, 4, 3, 5, 1, 0, 0, 2],
    // Winograd in several blocks of tiles (one thread blocks forward and backward, more threads the forward only)
    // and a last partial one: LeNet's conv2 (weight products transposed) and the same with 16 inputs (not),
    // 3×3 valid (9 inputs: gemm) and padded (8: few.ts's products) with 40 filters (blocks of 32 tiles)
    [5, 6, 14, 14, 16, 5, 5, 1, 0, 0, 1], [5, 16, 14, 14, 16, 5, 5, 1, 0, 0, 1], [3, 9, 18, 14, 40, 3, 3, 1, 0, 0, 1], [3, 8, 16, 12, 40, 3, 3, 1, 1, 1, 1],
  ];
  it.each(generalShapes)('conv2d N=%i Cin=%i %i×%i Cout=%i %i×%i stride %i, padding %i/%i algorithm %i: forward and backward split by the kernel', (N, Cin, H, W, Cout, KH, KW, S, padT, padL, a) => {
    const OH = Math.floor((H + 2 * padT - KH) / S) + 1, OW = Math.floor((W + 2 * padL - KW) / S) + 1, P = OH * OW;
    sameOnEach((k, r) => {
      const algo = k.convAlgorithms[CONV_ALGORITHMS[a]];
      expect(k.k.conv2d_supports(algo, KH, KW, S, OH, OW)).toBe(true);
      const x = r(N * Cin * H * W), w = r(Cout * Cin * KH * KW), b = r(Cout), dy = r(N * Cout * P), dw = r(Cout * Cin * KH * KW), db = r(Cout);
      const ws = k.alloc(k.k.conv2d_workspace(algo, N, Cin, H, W, Cout, KH, KW, padT, padL, OH, OW)), yc = k.alloc(Cout * N * P), y = k.alloc(N * Cout * P), dx = k.alloc(N * Cin * H * W);
      const ye = k.alloc(N * Cout * P); // evaluation: nothing kept for backward
      k.parts('conv2d_forward', algo, ye, ws, yc, x, w, b, N, Cin, H, W, Cout, KH, KW, S, padT, padL, OH, OW, 0);
      k.parts('conv2d_forward', algo, y, ws, yc, x, w, b, N, Cin, H, W, Cout, KH, KW, S, padT, padL, OH, OW, 1);
      k.parts('conv2d_backward', algo, dx, dw, db, yc, dy, w, ws, N, Cin, H, W, Cout, KH, KW, S, padT, padL, OH, OW);
      return [[y, N * Cout * P], [ye, N * Cout * P], [dx, N * Cin * H * W], [dw, Cout * Cin * KH * KW], [db, Cout]];
    });
  });

  // direct (a first layer) and Winograd: 5×5 (LeNet's conv2: blocked on one thread; padded through a copy), 3×3 (the study's conv2; padded)
  it.each([[2, 5, 1, 12, 18, 5, 5, 5, 2, 2], [2, 4, 2, 10, 12, 4, 3, 5, 1, 2], [1, 5, 6, 14, 14, 16, 5, 5, 0, 0], [1, 4, 3, 10, 8, 7, 5, 5, 2, 2], [1, 5, 32, 6, 6, 64, 3, 3, 0, 0], [1, 3, 4, 8, 12, 9, 3, 3, 1, 1]])('algorithm %i conv2d + ReLU + 2×2 max pool N=%i Cin=%i %i×%i Cout=%i %i×%i padding %i/%i: forward and the backward from the pooled gradient, split by the kernel', (a, N, Cin, H, W, Cout, KH, KW, padT, padL) => {
    const OH = H + 2 * padT - KH + 1, OW = W + 2 * padL - KW + 1, Q = N * Cout * OH * OW / 4;
    sameOnEach((k, r) => {
      const algo = k.convAlgorithms[CONV_ALGORITHMS[a]], x = r(N * Cin * H * W), w = r(Cout * Cin * KH * KW), b = r(Cout), dyp = r(Q), dw = r(Cout * Cin * KH * KW), db = r(Cout);
      expect(k.k.conv2d_pools_in_registers(algo, KH, KW, 1, OH, OW)).toBe(true);
      const ws = k.alloc(k.k.conv2d_workspace(algo, N, Cin, H, W, Cout, KH, KW, padT, padL, OH, OW)), yp = k.alloc(Q), idx = k.alloc(Q), ye = k.alloc(Q);
      const dx = algo === k.convAlgorithms.winograd ? k.alloc(N * Cin * H * W) : 0;
      k.parts('conv2d_relu_maxpool_forward', algo, ye, idx, ws, x, w, b, N, Cin, H, W, Cout, KH, KW, padT, padL, OH, OW, 0);
      k.parts('conv2d_relu_maxpool_forward', algo, yp, idx, ws, x, w, b, N, Cin, H, W, Cout, KH, KW, padT, padL, OH, OW, 1);
      k.parts('conv2d_relu_maxpool_backward', algo, dx, dw, db, dyp, yp, idx, ws, N, Cin, H, W, Cout, KH, KW, padT, padL, OH, OW);
      return [[yp, Q], [ye, Q], [idx, Q], [dw, Cout * Cin * KH * KW], [db, Cout], ...(dx ? [[dx, N * Cin * H * W] as [number, number]] : [])];
    });
  });

  it('batch norm over channels (training, evaluation, backward), split by channels', () => {
    const N = 6, C = 13, P = 50;
    sameOnEach((k, r) => {
      const x = r(N * C * P), g = r(C), b = r(C), dy = r(N * C * P), rm = r(C), rv = put(k, new Float64Array(C).fill(2));
      const y = k.alloc(N * C * P), ye = k.alloc(N * C * P), mean = k.alloc(C), is = k.alloc(C), dx = k.alloc(N * C * P), dg = r(C), dbeta = r(C);
      k.parts('batchnorm_channels_forward_train', y, mean, is, rm, rv, x, g, b, N, C, P, 0.1, 1e-5);
      k.parts('batchnorm_channels_backward', dx, dg, dbeta, dy, x, g, mean, is, N, C, P);
      k.parts('batchnorm_channels_forward_eval', ye, x, g, b, rm, rv, N, C, P, 1e-5);
      return [[y, N * C * P], [mean, C], [is, C], [rm, C], [rv, C], [dx, N * C * P], [dg, C], [dbeta, C], [ye, N * C * P]];
    });
  });

  it('ReLU + 2×2 max pool forward and backward, split by planes', () => {
    const R = 1000, H = 12, W = 12, Q = R * 36;
    sameOnEach((k, r) => {
      const x = r(R * H * W), y = k.alloc(Q), idx = k.alloc(Q), dy = r(Q), dx = k.alloc(R * H * W);
      k.reluMaxpool2x2Forward(y, idx, x, R, H, W);
      k.reluMaxpool2x2Backward(dx, dy, y, idx, R, H, W);
      return [[y, Q], [idx, Q], [dx, R * H * W]];
    });
  });

  // The optimisers, each with its flag off and on (Nesterov; AdamW's decoupled decay), three steps
  const optimizers: [string, number, (k: Kernels, p: number, g: number, s1: number, s2: number, n: number, flag: boolean, t: number) => void][] = [
    ['SGD with momentum (and Nesterov)', 70_001, (k, p, g, s1, _s2, n, flag) => k.sgdStep(p, g, s1, n, 0.01, 0.9, 1e-4, flag)],
    ['Adam (and AdamW)', 100_003, (k, p, g, s1, s2, n, flag, t) => k.adamStep(p, g, s1, s2, n, 1e-3, 0.9, 0.999, 1e-8, 1 - 0.9 ** t, 1 - 0.999 ** t, 0.01, flag)],
  ];
  it.each(optimizers)('%s split by element ranges', (_name, n, step) => {
    for (const flag of [false, true]) {
      sameOnEach((k, r) => {
        const p = r(n), g = r(n), s1 = k.alloc(n), s2 = k.alloc(n);
        for (let t = 1; t <= 3; t++) step(k, p, g, s1, s2, n, flag, t);
        return [[p, n], [s1, n], [s2, n]];
      });
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

  it('any network through the model API (5×5 and strided convolutions, batch norm, every pooling, SGD): the same history for 1, 2 and 3 threads', async () => {
    const net = () => sequential([
      nn.conv2d(8, 5, { padding: 'same' }), nn.batchNorm(), nn.relu(), nn.avgPool2d(2),
      nn.conv2d(12, 3, { stride: 2, padding: 'same' }), nn.relu(), nn.maxPool2d(3, { stride: 1 }),
      nn.conv2d(16, 3, { padding: 'same' }), nn.globalAvgPool2d(), nn.dense(5),
    ], { input: [2, 20, 20] });
    const rng = new Rng(9), n = 96;
    const x = Float32Array.from(ref.randn(rng, n * 2 * 400)), y = Int32Array.from({ length: n }, (_, i) => i % 5);
    const histories = [];
    for (const threads of [1, 2, 3]) {
      const m = await net().compile({ loss: 'crossentropy', optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true }, batchSize: 32, seed: 4, threads });
      histories.push((await m.fit(x, y, { epochs: 2, batchSize: 32, seed: 4 })).epochs);
      m.dispose();
    }
    expect(histories[0]).toHaveLength(2);
    expect(histories[0].every((e) => Number.isFinite(e.loss) && e.loss > 0)).toBe(true);
    expect(histories[1]).toEqual(histories[0]);
    expect(histories[2]).toEqual(histories[0]);
    // fit may use fewer threads than the model's kernels have, not more
    const m = await net().compile({ loss: 'crossentropy', optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true }, batchSize: 32, seed: 4, threads: 3 });
    expect((await m.fit(x, y, { epochs: 2, batchSize: 32, seed: 4, threads: 2 })).epochs).toEqual(histories[0]);
    await expect(m.fit(x, y, { threads: 4 })).rejects.toThrow("fit: threads must be 1 … 3 (the model's kernels have 3; compile({ threads }) sets it), got 4");
    m.dispose();
  });

  it('a helper that starts serving after the first call was posted still takes it (its call counter starts at 0)', async () => {
    const { CONTROL } = await import('../src/team.js');
    const { Worker } = await import('node:worker_threads');
    const control = new SharedArrayBuffer(CONTROL.HEADER + 8 * CONTROL.SLOT * 2), ctl = new Int32Array(control, 0, CONTROL.HEADER / 4);
    new Float64Array(control, CONTROL.HEADER)[CONTROL.SLOT] = -1; // helper 1's slot: no kernel in this call
    Atomics.add(ctl, CONTROL.SEQ, 1); // the caller's first call, posted before the helper has read anything
    const team = new URL('../dist/team.js', import.meta.url).href;
    const w = new Worker(`import(${JSON.stringify(team)}).then(({ Team }) => Team.serve(require('node:worker_threads').workerData, {}))`, { eval: true, workerData: { control, index: 1, names: [], spin: 0 } });
    try {
      Atomics.wait(ctl, CONTROL.DONE, 0, 20_000);
      expect(Atomics.load(ctl, CONTROL.DONE), 'the helper answered the first call').toBe(1);
    } finally {
      Atomics.store(ctl, CONTROL.STOP, 1);
      Atomics.add(ctl, CONTROL.SEQ, 1);
      Atomics.notify(ctl, CONTROL.SEQ);
      await w.terminate();
    }
  });

  it('a kernel that fails on a helper thread is an error on the caller; the instance goes on, on one thread, with the same numbers', async () => {
    const k = await loadKernels('simd', { threads: 2 });
    const mark = k.mark(), c = k.alloc(16 * 16), a = k.alloc(16 * 16), b = k.alloc(16 * 16);
    const beyond = 2 ** 31; // outside the memory: the helper's call traps
    expect(() => k.run([['gemm', c, a, b, 16, 16, 16, 16, 16, 16, 0], ['gemm', beyond, a, b, 16, 16, 16, 16, 16, 16, 0]])).toThrow('simdnet: a kernel failed (on a helper thread); the kernel threads are stopped (this instance continues on one thread)');
    expect(k.threads).toBe(1);
    k.write(a, Array.from({ length: 256 }, (_, i) => i % 7));
    k.write(b, Array.from({ length: 256 }, (_, i) => (i % 5) - 2));
    k.run([['gemm', c, a, b, 8, 16, 16, 16, 16, 16, 0], ['gemm', c + 4 * 8 * 16, a + 4 * 8 * 16, b, 8, 16, 16, 16, 16, 16, 0]]);
    const want = new Float64Array(256);
    for (let i = 0; i < 16; i++) for (let j = 0; j < 16; j++) for (let q = 0; q < 16; q++) want[i * 16 + j] += (((i * 16 + q) % 7) * (((q * 16 + j) % 5) - 2));
    expect(Array.from(k.read(c, 256))).toEqual(Array.from(want));
    k.release(mark);
    k.close();
  });

  it('a bad thread count is refused in one line', async () => {
    await expect(loadKernels('simd', { threads: 0 })).rejects.toThrow("simdnet: threads must be an integer in 1 … 64 or 'auto', got 0");
    await expect(trainRound({ model: 2, seed: 0, epochs: 1, threads: 1.5 })).rejects.toThrow("threads must be an integer in 1 … 64 or 'auto', got 1.5");
  });
});
