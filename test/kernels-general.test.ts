// The general kernels (any convolution, pooling, activations, dropout, MSE,
// SGD and AdamW) on both builds: against float64 references, every backward
// by central finite differences, every convolution algorithm on every shape
// it claims, and SIMD against scalar bit for bit.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadKernels, Kernels, Build } from '../src/kernels.js';
import { convGeometry, Padding } from '../src/layers.js';
import { Rng } from '../src/prng.js';
import * as ref from './reference.js';
import { put, get } from './helpers.js';

const builds: Build[] = ['simd', 'scalar'];

// [N, Cin, H, W, Cout, KH, KW, stride, padding]: 1×1, odd and even kernels up to 7,
// non-square kernels, stride 2, 'same' and 'valid', Winograd-able shapes padded or not.
type ConvShape = [number, number, number, number, number, number, number, number, Padding];
const convShapes: ConvShape[] = [
  [2, 3, 5, 6, 4, 1, 1, 1, 'valid'],
  [2, 2, 9, 8, 3, 5, 5, 1, 'same'],
  [1, 3, 8, 7, 2, 3, 5, 2, 'valid'],
  [2, 2, 9, 9, 3, 7, 7, 2, 'same'],
  [1, 1, 5, 6, 2, 4, 4, 2, 'same'],
  [2, 2, 11, 10, 3, 2, 6, 1, 'valid'],
  [2, 3, 8, 12, 3, 3, 3, 1, 'same'],
  [3, 9, 6, 10, 4, 3, 3, 1, 'valid'],
  [1, 8, 4, 8, 5, 3, 3, 1, 'same'],
  [3, 5, 10, 8, 6, 5, 5, 1, 'valid'],
  [2, 3, 6, 10, 5, 5, 5, 1, 'same'],
  [2, 4, 6, 6, 3, 5, 5, 1, 'valid'],
];

describe.each(builds)('%s build: general kernels', (build) => {
  let k: Kernels;
  const rng = new Rng(11);
  const rand = (n: number, s = 1) => ref.f32round(ref.randn(rng, n, s));
  beforeAll(async () => {
    k = await loadKernels(build);
  });

  it.each(convShapes)('conv2d N=%i Cin=%i %i×%i Cout=%i %i×%i stride %i %s: every algorithm that applies, forward and backward', (N, Cin, H, W, Cout, KH, KW, S, pad) => {
    const gh = convGeometry(H, KH, S, pad), gw = convGeometry(W, KW, S, pad);
    const [OH, OW, padT, padL] = [gh.out, gw.out, gh.before, gw.before];
    const x = rand(N * Cin * H * W), w = rand(Cout * Cin * KH * KW, 0.5), b = rand(Cout);
    const y = ref.conv2dRef(x, w, b, N, Cin, H, W, Cout, KH, KW, S, padT, padL, OH, OW);
    const r = rand(y.length);
    const L = (xx: Float64Array, ww: Float64Array, bb: Float64Array) => ref.dot(r, ref.conv2dRef(xx, ww, bb, N, Cin, H, W, Cout, KH, KW, S, padT, padL, OH, OW));
    const gx = ref.numericGrad((v) => L(v, w, b), x.slice());
    const gwt = ref.numericGrad((v) => L(x, v, b), w.slice()).map((g) => g + 0.5); // dw accumulates onto 0.5
    const gb = ref.numericGrad((v) => L(x, w, v), b.slice());
    const algos = Object.values(k.convAlgorithms).filter((a) => k.k.conv2d_supports(a, KH, KW, S, OH, OW));
    const tile = KH === 3 ? 4 : 2; // Winograd F(4×4, 3×3) or F(2×2, 5×5)
    const winograd = (KH === 3 || KH === 5) && KW === KH && S === 1 && OH % tile === 0 && OW % tile === 0;
    expect(algos.length).toBe(1 + (winograd ? 1 : 0) + (S === 1 ? 1 : 0));
    for (const algo of algos) {
      const mark = k.mark();
      const ws = k.alloc(k.k.conv2d_workspace(algo, N, Cin, H, W, Cout, KH, KW, padT, padL, OH, OW)), yc = k.alloc(Cout * N * OH * OW);
      const px = put(k, x), pw = put(k, w), pb = put(k, b), py = k.alloc(y.length);
      k.k.conv2d_forward(algo, py, ws, yc, px, pw, pb, N, Cin, H, W, Cout, KH, KW, S, padT, padL, OH, OW, true, 0, 1);
      const tol = algo === k.convAlgorithms.winograd ? 1e-5 : 1e-6; // Winograd's transforms cost about a digit
      expect(ref.relErr(get(k, py, y.length), y), `algorithm ${algo}`).toBeLessThan(tol);
      const pdy = put(k, r), pdx = k.alloc(x.length), pdw = put(k, new Float64Array(w.length).fill(0.5)), pdb = k.alloc(Cout);
      k.k.conv2d_backward(algo, pdx, pdw, pdb, yc, pdy, pw, ws, N, Cin, H, W, Cout, KH, KW, S, padT, padL, OH, OW, 0, 1);
      expect(ref.relErr(get(k, pdx, x.length), gx), `dx, algorithm ${algo}`).toBeLessThan(1e-5);
      expect(ref.relErr(get(k, pdw, w.length), gwt), `dw, algorithm ${algo}`).toBeLessThan(1e-5);
      expect(ref.relErr(get(k, pdb, Cout), gb), `db, algorithm ${algo}`).toBeLessThan(1e-5);
      // no bias, and no input gradient: the same weight gradient
      k.k.conv2d_forward(algo, py, ws, yc, px, pw, 0, N, Cin, H, W, Cout, KH, KW, S, padT, padL, OH, OW, true, 0, 1);
      const nob = ref.conv2dRef(x, w, null, N, Cin, H, W, Cout, KH, KW, S, padT, padL, OH, OW);
      expect(ref.relErr(get(k, py, y.length), nob)).toBeLessThan(tol);
      const pdw2 = put(k, new Float64Array(w.length).fill(0.5));
      k.k.conv2d_backward(algo, 0, pdw2, 0, yc, pdy, pw, ws, N, Cin, H, W, Cout, KH, KW, S, padT, padL, OH, OW, 0, 1);
      expect(get(k, pdw2, w.length)).toEqual(get(k, pdw, w.length));
      k.release(mark);
    }
  });

  // [N, Cin, H, W, Cout, KH, KW, padding]: LeNet's first layer at a smaller size (direct: vectors of eight and
  // four columns, a last column of windows one by one, an odd filter count), several input channels, narrow
  // (KW ≤ 4) and wide filter rows, seven filter rows (in groups of three), 1×1, a single window per plane;
  // by Winograd too, 5×5 (one window per 2×2 tile): padded (a copy, dx cropped), LeNet's conv2 in blocks of
  // tiles and a partial last one, many channels (not blocked), one tile per image; 3×3 (four windows per 4×4
  // tile): few channels, the study's conv2 (one tile per image), padded
  const pooledShapes: [number, number, number, number, number, number, number, Padding][] = [
    [3, 1, 10, 14, 5, 5, 5, 'same'], [2, 2, 8, 8, 3, 3, 3, 'same'], [2, 3, 9, 11, 4, 2, 4, 'valid'],
    [1, 2, 12, 12, 3, 7, 6, 'same'], [2, 1, 6, 6, 1, 1, 1, 'valid'], [2, 2, 4, 5, 2, 3, 4, 'valid'],
    [2, 3, 10, 8, 5, 5, 5, 'same'], [6, 6, 14, 14, 16, 5, 5, 'valid'], [2, 16, 6, 6, 32, 5, 5, 'valid'],
    [3, 8, 10, 10, 16, 3, 3, 'valid'], [2, 32, 6, 6, 64, 3, 3, 'valid'], [2, 4, 8, 12, 5, 3, 3, 'same'],
  ];
  it.each(pooledShapes)('conv2d + ReLU + 2×2 max pool N=%i Cin=%i %i×%i Cout=%i %i×%i %s, every algorithm that pools in registers: the forward equals the two kernels bit for bit, the gradients from the pooled gradient equal those through the full output gradient and finite differences', (N, Cin, H, W, Cout, KH, KW, pad) => {
    const gh = convGeometry(H, KH, 1, pad), gw = convGeometry(W, KW, 1, pad);
    const [OH, OW, padT, padL] = [gh.out, gw.out, gh.before, gw.before], Q = N * Cout * OH * OW / 4;
    const x = rand(N * Cin * H * W), w = rand(Cout * Cin * KH * KW, 0.5), b = rand(Cout), r = rand(Q);
    // finite differences at up to 60 entries of each tensor, where few outputs make a ReLU or max kink within h of one unlikely
    const fd = Q <= 500, some = (n: number) => Array.from({ length: Math.min(n, 60) }, (_, i) => Math.floor((i * n) / Math.min(n, 60)));
    const ew = some(w.length), ex = some(x.length);
    const L = (xx: Float64Array, ww: Float64Array, bb: Float64Array) => ref.dot(r, ref.reluMaxpoolRef(ref.conv2dRef(xx, ww, bb, N, Cin, H, W, Cout, KH, KW, 1, padT, padL, OH, OW), N * Cout, OH, OW));
    const gwt = fd ? ref.numericGrad((v) => L(x, v, b), w.slice(), 1e-5, ew).map((g) => g + 0.5) : null; // dw accumulates onto 0.5
    const gb = fd ? ref.numericGrad((v) => L(x, w, v), b.slice()).map((g) => g - 1) : null;
    const gx = fd ? ref.numericGrad((v) => L(v, w, b), x.slice(), 1e-5, ex) : null;
    const algos = Object.values(k.convAlgorithms).filter((a) => k.k.conv2d_pools_in_registers(a, KH, KW, 1, OH, OW));
    const tile = KH === 3 ? 4 : 2, winograd = (KH === 3 || KH === 5) && KW === KH && OH % tile === 0 && OW % tile === 0;
    expect(algos.length, 'algorithms').toBe((OH % 2 === 0 && OW % 2 === 0 ? 1 : 0) + (winograd ? 1 : 0));
    for (const algo of algos) {
      const mark = k.mark(), winograd = algo === k.convAlgorithms.winograd;
      const ws = k.alloc(k.k.conv2d_workspace(algo, N, Cin, H, W, Cout, KH, KW, padT, padL, OH, OW)), yc = k.alloc(Cout * N * OH * OW);
      const px = put(k, x), pw = put(k, w), pb = put(k, b), py = k.alloc(4 * Q), yp = k.alloc(Q), idx = k.alloc(Q), yp2 = k.alloc(Q), idx2 = k.alloc(Q);
      k.k.conv2d_forward(algo, py, ws, yc, px, pw, pb, N, Cin, H, W, Cout, KH, KW, 1, padT, padL, OH, OW, true, 0, 1);
      k.k.relu_maxpool2x2_forward(yp, idx, py, N * Cout, OH, OW);
      // the unfused gradients: the full output gradient, then the convolution's backward
      const pr = put(k, r), pdy = k.alloc(4 * Q), udx = winograd ? k.alloc(x.length) : 0, udw = put(k, new Float64Array(w.length).fill(0.5)), udb = put(k, new Float64Array(Cout).fill(-1));
      k.k.relu_maxpool2x2_backward(pdy, pr, yp, idx, N * Cout, OH, OW);
      k.k.conv2d_backward(algo, udx, udw, udb, yc, pdy, pw, ws, N, Cin, H, W, Cout, KH, KW, 1, padT, padL, OH, OW, 0, 1);
      for (const keep of [false, true]) { // evaluation, then training (its workspace for backward)
        k.k.conv2d_relu_maxpool_forward(algo, yp2, idx2, ws, px, pw, pb, N, Cin, H, W, Cout, KH, KW, padT, padL, OH, OW, keep, 0, 1);
        expect(k.read(yp2, Q), `algorithm ${algo}`).toEqual(k.read(yp, Q));
        expect(k.i32.slice(idx2 >> 2, (idx2 >> 2) + Q), `algorithm ${algo}`).toEqual(k.i32.slice(idx >> 2, (idx >> 2) + Q));
      }
      const pdw = put(k, new Float64Array(w.length).fill(0.5)), pdb = put(k, new Float64Array(Cout).fill(-1)), pdx = winograd ? k.alloc(x.length) : 0;
      k.k.conv2d_relu_maxpool_backward(algo, pdx, pdw, pdb, pr, yp2, idx2, ws, N, Cin, H, W, Cout, KH, KW, padT, padL, OH, OW, 0, 1);
      const [dw, db, dx] = [get(k, pdw, w.length), get(k, pdb, Cout), winograd ? get(k, pdx, x.length) : null];
      expect(ref.relErr(dw, get(k, udw, w.length)), `dw, algorithm ${algo}`).toBeLessThan(1e-5);
      expect(ref.relErr(db, get(k, udb, Cout)), `db, algorithm ${algo}`).toBeLessThan(1e-5);
      if (dx) expect(ref.relErr(dx, get(k, udx, x.length)), `dx, algorithm ${algo}`).toBeLessThan(1e-5);
      if (fd) {
        expect(ref.relErr(dw, gwt!, ew), `dw, algorithm ${algo}`).toBeLessThan(1e-5);
        expect(ref.relErr(db, gb!), `db, algorithm ${algo}`).toBeLessThan(1e-5);
        if (dx) expect(ref.relErr(dx, gx!, ex), `dx, algorithm ${algo}`).toBeLessThan(1e-5);
      }
      k.release(mark);
    }
  });

  it('conv2d picks Winograd for wide 3×3 and 5×5 stride-1 layers with output sides multiples of the tile, direct for few filters over long rows (and for one input channel with a pool after it), im2col elsewhere', () => {
    const { im2col: I, winograd: Wg, direct: D } = k.convAlgorithms;
    // [Cin, Cout, KH, KW, stride, OH, OW] → algorithm
    const cases: [number, number, number, number, number, number, number, number][] = [
      [8, 32, 3, 3, 1, 4, 8, Wg], [7, 32, 3, 3, 1, 4, 8, I], [8, 32, 3, 3, 2, 4, 8, I], [8, 32, 3, 3, 1, 6, 8, I],
      [4, 16, 5, 5, 1, 2, 6, Wg], [3, 16, 5, 5, 1, 2, 6, I], [8, 16, 5, 5, 1, 3, 6, I], [8, 16, 5, 3, 1, 4, 8, I], [8, 16, 7, 7, 1, 4, 8, I],
      [1, 6, 5, 5, 1, 28, 28, D], [1, 6, 5, 5, 1, 28, 14, I], [1, 6, 5, 5, 1, 28, 12, I], [1, 16, 5, 5, 1, 28, 28, I], [1, 6, 5, 5, 2, 14, 16, I],
      [3, 8, 3, 3, 1, 32, 32, D], [3, 8, 3, 3, 1, 32, 30, I],
    ];
    for (const [Cin, Cout, KH, KW, S, OH, OW, want] of cases) expect(k.k.conv2d_algorithm(Cin, Cout, KH, KW, S, OH, OW, false), `${Cin}→${Cout} ${KH}×${KW}/${S} ${OH}×${OW}`).toBe(want);
    // ReLU and 2×2 max pooling after it: direct for one input channel with even output sides (the study's first layer), else the same
    const pooled: [number, number, number, number, number, number, number, number][] = [
      [1, 32, 3, 3, 1, 12, 12, D], [1, 16, 5, 5, 1, 28, 14, D], [1, 32, 3, 3, 1, 12, 11, I], [1, 32, 3, 3, 2, 6, 6, I], [2, 32, 3, 3, 1, 12, 12, I],
      [8, 32, 3, 3, 1, 4, 8, Wg], [1, 6, 5, 5, 1, 28, 28, D],
    ];
    for (const [Cin, Cout, KH, KW, S, OH, OW, want] of pooled) expect(k.k.conv2d_algorithm(Cin, Cout, KH, KW, S, OH, OW, true), `pooled ${Cin}→${Cout} ${KH}×${KW}/${S} ${OH}×${OW}`).toBe(want);
    expect(k.k.conv2d_supports(7, 3, 3, 1, 4, 4)).toBe(false); // no such algorithm
  });

  // [R, H, W, K, S]: non-overlapping, overlapping (K > S), gaps (K < S), non-square planes
  it.each([[3, 6, 8, 2, 2], [2, 7, 9, 3, 2], [2, 7, 7, 2, 3], [1, 5, 5, 5, 1]])('max and average pooling R=%i %i×%i k=%i s=%i, backward by finite differences', (R, H, W, K, S) => {
    const mark = k.mark();
    const OH = Math.floor((H - K) / S) + 1, OW = Math.floor((W - K) / S) + 1, n = R * OH * OW;
    const x = rand(R * H * W), r = rand(n);
    const px = put(k, x), py = k.alloc(n), idx = k.alloc(n), pdy = put(k, r), pdx = k.alloc(x.length);
    for (const avg of [false, true]) {
      if (avg) k.k.avgpool2d_forward(py, px, R, H, W, K, K, S, OH, OW);
      else k.k.maxpool2d_forward(py, idx, px, R, H, W, K, K, S, OH, OW);
      // the error of a float32 window sum scales with its inputs, not with the mean (which may be near 0)
      const got = get(k, py, n), want = ref.pool2dRef(x, R, H, W, K, K, S, avg);
      const err = Math.max(...Array.from(got, (v, i) => Math.abs(v - want[i])));
      expect(err, avg ? 'avg' : 'max').toBeLessThan(1e-6 * Math.max(...Array.from(x, Math.abs)));
      if (avg) k.k.avgpool2d_backward(pdx, pdy, R, H, W, K, K, S, OH, OW);
      else k.k.maxpool2d_backward(pdx, pdy, idx, R, H, W, OH, OW);
      const g = ref.numericGrad((v) => ref.dot(r, ref.pool2dRef(v, R, H, W, K, K, S, avg)), x.slice(), 1e-6);
      expect(ref.relErr(get(k, pdx, x.length), g), avg ? 'avg dx' : 'max dx').toBeLessThan(1e-5);
    }
    k.release(mark);
  });

  it('global average pooling, backward by finite differences', () => {
    const mark = k.mark();
    const R = 5, P = 13, x = rand(R * P), r = rand(R);
    const px = put(k, x), py = k.alloc(R), pdy = put(k, r), pdx = k.alloc(R * P);
    k.k.global_avgpool_forward(py, px, R, P);
    const want = Float64Array.from({ length: R }, (_, i) => x.subarray(i * P, (i + 1) * P).reduce((a, b) => a + b, 0) / P);
    expect(ref.relErr(get(k, py, R), want)).toBeLessThan(1e-6);
    k.k.global_avgpool_backward(pdx, pdy, R, P);
    const g = ref.numericGrad((v) => ref.dot(r, Float64Array.from({ length: R }, (_, i) => v.subarray(i * P, (i + 1) * P).reduce((a, b) => a + b, 0) / P)), x.slice());
    expect(ref.relErr(get(k, pdx, R * P), g)).toBeLessThan(1e-6);
    k.release(mark);
  });

  it('leaky ReLU, sigmoid and tanh against Math, backward by finite differences', () => {
    const mark = k.mark();
    const n = 37, x = rand(n, 4), r = rand(n);
    x[0] = 0;
    x[1] = 30;
    x[2] = -30; // saturated ends stay finite
    const px = put(k, x), py = k.alloc(n), pdy = put(k, r), pdx = k.alloc(n);
    const slope = 0.1;
    const fs: [string, (v: number) => number, () => void, () => void][] = [
      ['leaky', (v) => (v > 0 ? v : slope * v), () => k.k.leaky_relu_forward(py, px, n, slope), () => k.k.leaky_relu_backward(pdx, pdy, px, n, slope)],
      ['sigmoid', (v) => 1 / (1 + Math.exp(-v)), () => k.k.sigmoid_forward(py, px, n), () => k.k.sigmoid_backward(pdx, pdy, py, n)],
      ['tanh', Math.tanh, () => k.k.tanh_forward(py, px, n), () => k.k.tanh_backward(pdx, pdy, py, n)],
    ];
    for (const [name, f, fwd, bwd] of fs) {
      fwd();
      expect(ref.relErr(get(k, py, n), x.map(f)), name).toBeLessThan(1e-6);
      bwd();
      const g = ref.numericGrad((v) => ref.dot(r, v.map(f)), x.slice(), 1e-6, Array.from({ length: n - 1 }, (_, i) => i + 1)); // skip the kink at 0
      expect(ref.relErr(get(k, pdx, n), g, Array.from({ length: n - 1 }, (_, i) => i + 1)), `${name} dx`).toBeLessThan(1e-5);
    }
    // in place (y = x, dx = dy) gives the same
    k.k.tanh_forward(px, px, n);
    expect(ref.relErr(get(k, px, n), x.map(Math.tanh))).toBeLessThan(1e-6);
    k.release(mark);
  });

  it('dropout: seeded inverted mask, p of the values dropped, backward through the same mask', () => {
    const mark = k.mark();
    const n = 20000, p = 0.3, x = rand(n), r = rand(n);
    const px = put(k, x), py = k.alloc(n), m = k.alloc(n), m2 = k.alloc(n), pdy = put(k, r), pdx = k.alloc(n);
    k.k.dropout_forward(py, m, px, n, p, 42);
    const mask = get(k, m, n), y = get(k, py, n);
    const keep = Math.fround(1 / (1 - p));
    expect(mask.every((v) => v === 0 || v === keep)).toBe(true);
    const dropped = mask.filter((v) => v === 0).length / n;
    expect(Math.abs(dropped - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n)); // within 4 sigma
    for (let i = 0; i < n; i++) expect(y[i]).toBe(Math.fround(Math.fround(x[i]) * mask[i]));
    k.k.dropout_forward(py, m2, px, n, p, 42);
    expect(get(k, m2, n)).toEqual(mask); // same seed, same mask
    k.k.dropout_forward(py, m2, px, n, p, 43);
    expect(get(k, m2, n)).not.toEqual(mask);
    k.k.dropout_backward(pdx, pdy, m, n);
    expect(get(k, pdx, n)).toEqual(Float64Array.from(r, (v, i) => Math.fround(v * mask[i])));
    k.release(mark);
  });

  it('mean squared error and its gradient', () => {
    const mark = k.mark();
    const N = 7, F = 3, z = rand(N * F), t = rand(N * F);
    const pz = put(k, z), pt = put(k, t), pdz = k.alloc(N * F);
    const mse = (v: Float64Array) => v.reduce((s, x, i) => s + (x - t[i]) ** 2, 0) / (N * F);
    expect(k.k.mse_loss(pdz, pz, pt, N, F, 0.5)).toBeCloseTo(mse(z), 6);
    const g = ref.numericGrad(mse, z.slice()).map((v) => 0.5 * v);
    expect(ref.relErr(get(k, pdz, N * F), g)).toBeLessThan(1e-6);
    k.release(mark);
  });

  it('SGD (plain, momentum, Nesterov, weight decay) against float64 (Adam and AdamW: kernels.test.ts)', () => {
    const mark = k.mark();
    const n = 13, lr = 0.05, mom = 0.9, wd = 0.01;
    for (const [momentum, nesterov, decay] of [[0, false, 0], [mom, false, 0], [mom, true, wd], [0, false, wd]] as const) {
      const p = rand(n), want = p.slice(), buf = new Float64Array(n);
      const pp = put(k, p), pg = k.alloc(n), pbuf = k.alloc(n);
      for (let step = 0; step < 3; step++) {
        const g = rand(n);
        k.write(pg, g);
        k.k.sgd_step(pp, pg, pbuf, n, lr, momentum, decay, nesterov);
        for (let i = 0; i < n; i++) {
          const d = g[i] + decay * want[i];
          buf[i] = momentum * buf[i] + d;
          want[i] -= lr * (momentum ? (nesterov ? d + momentum * buf[i] : buf[i]) : d);
        }
      }
      expect(ref.relErr(get(k, pp, n), want), `sgd momentum ${momentum} nesterov ${nesterov} wd ${decay}`).toBeLessThan(1e-6);
    }
    k.release(mark);
  });
});

describe('general kernels: SIMD and scalar builds agree bit for bit', () => {
  it('on every convolution algorithm (padded Winograd included), pooling, activations, dropout and the optimisers', async () => {
    const [s, c] = [await loadKernels('simd'), await loadKernels('scalar')];
    const run = (k: Kernels) => {
      const rng = new Rng(5);
      const r = (n: number) => put(k, ref.randn(rng, n));
      const out: Float32Array[] = [];
      for (const [N, Cin, H, W, Cout, KH, KW, S, pad] of [[3, 9, 8, 12, 19, 3, 3, 1, 'same'], [2, 5, 9, 9, 7, 5, 5, 2, 'same'], [2, 9, 10, 14, 6, 3, 3, 1, 'valid'], [3, 5, 10, 8, 6, 5, 5, 1, 'same'],
        // Winograd with few channels in blocks of tiles and a partial last one (LeNet's conv2; 3×3 with 8 inputs)
        [5, 6, 14, 14, 16, 5, 5, 1, 'valid'], [3, 8, 18, 14, 40, 3, 3, 1, 'valid']] as ConvShape[]) {
        const gh = convGeometry(H, KH, S, pad), gw = convGeometry(W, KW, S, pad);
        const [OH, OW, pT, pL] = [gh.out, gw.out, gh.before, gw.before];
        for (const algo of Object.values(k.convAlgorithms).filter((a) => k.k.conv2d_supports(a, KH, KW, S, OH, OW))) {
          const x = r(N * Cin * H * W), w = r(Cout * Cin * KH * KW), b = r(Cout), y = k.alloc(N * Cout * OH * OW);
          const ws = k.alloc(k.k.conv2d_workspace(algo, N, Cin, H, W, Cout, KH, KW, pT, pL, OH, OW)), yc = k.alloc(Cout * N * OH * OW);
          // in evaluation (nothing kept for backward: Winograd with few channels keeps V in blocks only) the same bits
          const ye = k.alloc(N * Cout * OH * OW);
          k.k.conv2d_forward(algo, ye, ws, yc, x, w, b, N, Cin, H, W, Cout, KH, KW, S, pT, pL, OH, OW, false, 0, 1);
          k.k.conv2d_forward(algo, y, ws, yc, x, w, b, N, Cin, H, W, Cout, KH, KW, S, pT, pL, OH, OW, true, 0, 1);
          expect(k.read(ye, N * Cout * OH * OW), `evaluation forward, algorithm ${algo}`).toEqual(k.read(y, N * Cout * OH * OW));
          const dy = r(N * Cout * OH * OW), dx = k.alloc(N * Cin * H * W), dw = k.alloc(Cout * Cin * KH * KW), db = k.alloc(Cout);
          k.k.conv2d_backward(algo, dx, dw, db, yc, dy, w, ws, N, Cin, H, W, Cout, KH, KW, S, pT, pL, OH, OW, 0, 1);
          out.push(k.read(y, N * Cout * OH * OW), k.read(dx, N * Cin * H * W), k.read(dw, Cout * Cin * KH * KW), k.read(db, Cout));
        }
      }
      // convolution + ReLU + 2×2 max pool, backward from the pooled gradient: LeNet's first layer (direct) and second (Winograd),
      // narrow filter rows over two channels (direct), 5×5 'same' (Winograd through a padded copy), the study's conv2 and a
      // padded 3×3 (Winograd F(4×4, 3×3): four windows per tile)
      const { direct: D, winograd: Wg } = k.convAlgorithms;
      for (const [a, N, Cin, H, W, Cout, KH, KW, pad, OH, OW] of [[D, 5, 1, 28, 28, 6, 5, 5, 2, 28, 28], [D, 3, 2, 12, 14, 5, 3, 3, 1, 12, 14], [Wg, 5, 6, 14, 14, 16, 5, 5, 0, 10, 10], [Wg, 3, 3, 10, 8, 7, 5, 5, 2, 10, 8],
        [Wg, 5, 32, 6, 6, 64, 3, 3, 0, 4, 4], [Wg, 3, 4, 8, 12, 9, 3, 3, 1, 8, 12]]) {
        const Q = N * Cout * OH * OW / 4, x = r(N * Cin * H * W), w = r(Cout * Cin * KH * KW), b = r(Cout), dyp = r(Q);
        const ws = k.alloc(k.k.conv2d_workspace(a, N, Cin, H, W, Cout, KH, KW, pad, pad, OH, OW)), yp = k.alloc(Q), idx = k.alloc(Q), dw = k.alloc(Cout * Cin * KH * KW), db = k.alloc(Cout);
        const dx = a === Wg ? k.alloc(N * Cin * H * W) : 0;
        k.k.conv2d_relu_maxpool_forward(a, yp, idx, ws, x, w, b, N, Cin, H, W, Cout, KH, KW, pad, pad, OH, OW, true, 0, 1);
        k.k.conv2d_relu_maxpool_backward(a, dx, dw, db, dyp, yp, idx, ws, N, Cin, H, W, Cout, KH, KW, pad, pad, OH, OW, 0, 1);
        out.push(k.read(yp, Q), k.read(idx, Q), k.read(dw, Cout * Cin * KH * KW), k.read(db, Cout), ...(dx ? [k.read(dx, N * Cin * H * W)] : []));
      }
      const n = 101, x = r(n), y = k.alloc(n), m = k.alloc(n), dy = r(n), dx = k.alloc(n);
      for (const f of [() => k.k.sigmoid_forward(y, x, n), () => k.k.tanh_forward(y, x, n), () => k.k.leaky_relu_forward(y, x, n, 0.01), () => k.k.dropout_forward(y, m, x, n, 0.5, 9)]) {
        f();
        out.push(k.read(y, n));
      }
      k.k.avgpool2d_forward(y, x, 1, 10, 10, 3, 3, 2, 4, 4);
      out.push(k.read(y, 16));
      const g = r(n), buf = k.alloc(n), v = k.alloc(n);
      k.k.sgd_step(x, g, buf, n, 0.1, 0.9, 0.01, true);
      k.k.adam_step(x, g, m, v, n, 0.1, 0.9, 0.999, 1e-8, 0.1, 0.001, 0.01, true);
      out.push(k.read(x, n));
      return out;
    };
    const a = run(s), b = run(c);
    expect(a.length).toBe(b.length);
    for (let i = 0; i < a.length; i++) expect(a[i], `output ${i}`).toEqual(b[i]);
  });
});
