// Every kernel of both builds against the float64 references of reference.ts,
// every backward against central finite differences, and SIMD against scalar.
import { describe, expect, it } from 'vitest';
import { loadKernels, Kernels, Build } from '../src/kernels.js';
import { Rng } from '../src/prng.js';
import * as ref from './reference.js';
import { put, putI32, get } from './helpers.js';

const builds: Build[] = ['simd', 'scalar'];

describe.each(builds)('%s build', (build) => {
  let k: Kernels;
  const rng = new Rng(7);
  const rand = (n: number, s = 1) => ref.f32round(ref.randn(rng, n, s));

  it('loads the build it was asked for', async () => {
    k = await loadKernels(build);
    expect(k.k.simd_build()).toBe(build === 'simd' ? 1 : 0);
  });

  it('survives memory growth: views are rebuilt, data kept, release reuses the space', () => {
    const mark = k.mark();
    const p = put(k, [1, 2, 3]);
    const before = k.f32;
    const n = before.length; // more than the whole memory: it must grow
    const big = k.alloc(n);
    expect(before.length).toBe(0); // the old view is detached by growth
    expect(k.f32 === before).toBe(false);
    expect(k.f32.length).toBeGreaterThanOrEqual((big >> 2) + n);
    expect(Array.from(k.read(p, 3))).toEqual([1, 2, 3]);
    k.release(mark);
    expect(k.alloc(3)).toBe(p); // the planner reuses what was released
    k.release(mark);
  });

  // Shapes cross every edge: 1, odd, below and above the 2×16 tile (and a last panel of exactly 8 columns: the half kernel) and the KC/MC/NC blocks.
  const shapes: [number, number, number][] = [[1, 1, 1], [3, 5, 7], [17, 33, 19], [2, 16, 256], [35, 17, 300], [131, 521, 9], [7, 3, 513], [6, 24, 37], [5, 40, 11]];
  it.each(shapes)('gemm %i×%i×%i, all transposes, overwrite and accumulate', (M, N, K) => {
    const mark = k.mark();
    const { GEMM_TRANS_A, GEMM_TRANS_B, GEMM_ACCUMULATE } = k;
    expect([GEMM_TRANS_A, GEMM_TRANS_B, GEMM_ACCUMULATE]).toEqual([1, 2, 4]); // the flags combine into 0 … 7
    for (let flags = 0; flags < 8; flags++) {
      const tA = (flags & GEMM_TRANS_A) !== 0, tB = (flags & GEMM_TRANS_B) !== 0, acc = (flags & GEMM_ACCUMULATE) !== 0;
      const A = rand(M * K), B = rand(K * N), C0 = rand(M * N);
      const pa = put(k, A), pb = put(k, B), pc = put(k, C0);
      k.k.gemm(pc, pa, pb, M, N, K, tA ? M : K, tB ? K : N, N, flags);
      const want = ref.gemmRef(A, B, M, N, K, tA, tB);
      if (acc) for (let i = 0; i < want.length; i++) want[i] += C0[i];
      expect(ref.relErr(get(k, pc, M * N), want)).toBeLessThan(2e-6 * Math.sqrt(K));
      k.k.gemm_naive(pc, pa, pb, M, N, K, tA ? M : K, tB ? K : N, N, flags & ~GEMM_ACCUMULATE);
      expect(ref.relErr(get(k, pc, M * N), ref.gemmRef(A, B, M, N, K, tA, tB))).toBeLessThan(2e-6 * Math.sqrt(K));
    }
    k.release(mark);
  });

  it('gemm honours row strides (a block inside larger matrices)', () => {
    const mark = k.mark();
    const M = 5, N = 18, K = 7, lda = 11, ldb = 23, ldc = 20;
    const Abig = rand(M * lda), Bbig = rand(K * ldb), Cbig = rand(M * ldc);
    const pa = put(k, Abig), pb = put(k, Bbig), pc = put(k, Cbig);
    k.k.gemm(pc, pa, pb, M, N, K, lda, ldb, ldc, 0);
    const A = new Float64Array(M * K), B = new Float64Array(K * N);
    for (let i = 0; i < M; i++) for (let j = 0; j < K; j++) A[i * K + j] = Abig[i * lda + j];
    for (let i = 0; i < K; i++) for (let j = 0; j < N; j++) B[i * N + j] = Bbig[i * ldb + j];
    const want = ref.gemmRef(A, B, M, N, K, false, false);
    const got = get(k, pc, M * ldc);
    for (let i = 0; i < M; i++)
      for (let j = 0; j < ldc; j++) {
        if (j < N) expect(got[i * ldc + j]).toBeCloseTo(want[i * N + j], 5);
        else expect(got[i * ldc + j]).toBe(Cbig[i * ldc + j]); // untouched outside the block
      }
    k.release(mark);
  });

  // Winograd's products with few channels (assembly/few.ts): every count 1 … 8, columns that leave a tail after the vectors, row strides
  it.each([1, 2, 3, 5, 6, 8])('few-channel products with %i channels: the bits of gemm_naive; lane sums against float64, split at a multiple of 4 the same', (C) => {
    const mark = k.mark();
    const K = 13, n = 39, ld = 45; // rows of n columns inside rows of ld
    const A = rand(K * C), B = rand(C * ld), G = rand(K * ld);
    const pa = put(k, A), pb = put(k, B), pg = put(k, G), pc = k.alloc(K * ld), pw = k.alloc(K * ld);
    // c = a·b ([K×C]·[C×n]) and c = aᵀ·g ([C×K]·[K×n]): the same sums in the same order as gemm_naive's
    k.k.few_product(pc, ld, pa, pb, ld, K, C, n);
    k.k.gemm_naive(pw, pa, pb, K, n, C, C, ld, ld, 0);
    for (let i = 0; i < K; i++) expect(k.read(pc + 4 * i * ld, n), `few_product row ${i}`).toEqual(k.read(pw + 4 * i * ld, n));
    expect(ref.relErr(Float64Array.from({ length: K * n }, (_, i) => k.read(pc + 4 * (Math.floor(i / n) * ld + (i % n)), 1)[0]),
      Float64Array.from({ length: K * n }, (_, i) => { const r = Math.floor(i / n), t = i % n; let s = 0; for (let j = 0; j < C; j++) s += A[r * C + j] * B[j * ld + t]; return s; }))).toBeLessThan(1e-6);
    k.k.few_product_t(pc, ld, pa, pg, ld, K, C, n);
    k.k.gemm_naive(pw, pa, pg, C, n, K, C, ld, ld, k.GEMM_TRANS_A);
    for (let j = 0; j < C; j++) expect(k.read(pc + 4 * j * ld, n), `few_product_t row ${j}`).toEqual(k.read(pw + 4 * j * ld, n));
    // lane sums of g·bᵀ ([K×n]·[n×C]) totalled, against float64; in two calls split at column 20 the same bits
    const ps = k.alloc(4 * K * C), pt = k.alloc(K * C), ps2 = k.alloc(4 * K * C);
    k.k.few_lane_sums(ps, pg, ld, pb, ld, K, C, n, false);
    k.k.few_lane_totals(pt, ps, K * C);
    const want = Float64Array.from({ length: K * C }, (_, i) => { const r = Math.floor(i / C), j = i % C; let s = 0; for (let t = 0; t < n; t++) s += G[r * ld + t] * B[j * ld + t]; return s; });
    expect(ref.relErr(get(k, pt, K * C), want)).toBeLessThan(1e-6);
    k.k.few_lane_sums(ps2, pg, ld, pb, ld, K, C, 20, false);
    k.k.few_lane_sums(ps2, pg + 80, ld, pb + 80, ld, K, C, n - 20, true);
    expect(k.read(ps2, 4 * K * C)).toEqual(k.read(ps, 4 * K * C));
    k.release(mark);
  });

  // im2col (Cin < 8 or sides not multiples of 4) and Winograd F(4×4, 3×3): one tile per image,
// several (overlapping input windows), tile counts that leave a scalar tail after the 4-tile vectors.
  const convShapes: [number, number, number, number, number][] = [[2, 1, 6, 7, 3], [3, 2, 7, 9, 5], [2, 3, 6, 6, 17], [5, 8, 6, 6, 5], [3, 9, 6, 10, 7], [1, 8, 10, 10, 3]];
  it.each(convShapes)('conv3x3 N=%i Cin=%i %i×%i Cout=%i: forward, and backward by finite differences', (N, Cin, H, W, Cout) => {
    const mark = k.mark();
    const OH = H - 2, OW = W - 2, P = OH * OW, Kd = Cin * 9;
    const x = rand(N * Cin * H * W), w = rand(Cout * Kd, 0.5), b = rand(Cout);
    const px = put(k, x), pw = put(k, w), pb = put(k, b);
    const py = k.alloc(N * Cout * P), col = k.alloc(k.k.conv3x3_workspace(N, Cin, H, W, Cout)), yc = k.alloc(Cout * N * P);
    k.k.conv3x3_forward(py, col, yc, px, pw, pb, N, Cin, H, W, Cout, 0, 1);
    const y = ref.conv3x3Ref(x, w, b, N, Cin, H, W, Cout);
    // Winograd's transforms (constants up to 8 and 1/24) cost about a decimal digit.
    const winograd = Cin >= 8 && (H - 2) % 4 === 0 && (W - 2) % 4 === 0;
    expect(ref.relErr(get(k, py, y.length), y)).toBeLessThan(winograd ? 1e-5 : 1e-6);

    // L = Σ r·y: its gradients are the backward pass with dy = r.
    const r = rand(y.length);
    const pdy = put(k, r), pdx = k.alloc(x.length), pdw = put(k, new Float64Array(w.length).fill(0.5)), pdb = k.alloc(Cout);
    k.k.conv3x3_backward(pdx, pdw, pdb, yc, pdy, pw, col, N, Cin, H, W, Cout, 0, 1);
    const L = (xx: Float64Array, ww: Float64Array, bb: Float64Array) => ref.dot(r, ref.conv3x3Ref(xx, ww, bb, N, Cin, H, W, Cout));
    const gx = ref.numericGrad((v) => L(v, w, b), x.slice());
    const gw = ref.numericGrad((v) => L(x, v, b), w.slice()).map((g) => g + 0.5); // dw accumulates onto 0.5
    const gb = ref.numericGrad((v) => L(x, w, v), b.slice());
    expect(ref.relErr(get(k, pdx, x.length), gx)).toBeLessThan(1e-5);
    expect(ref.relErr(get(k, pdw, w.length), gw)).toBeLessThan(1e-5);
    expect(ref.relErr(get(k, pdb, Cout), gb)).toBeLessThan(1e-5);

    // dx = 0 skips the input gradient and gives the same weight gradient.
    k.k.conv3x3_forward(py, col, yc, px, pw, pb, N, Cin, H, W, Cout, 0, 1);
    const pdw2 = put(k, new Float64Array(w.length).fill(0.5)), pdb2 = k.alloc(Cout);
    k.k.conv3x3_backward(0, pdw2, pdb2, yc, pdy, pw, col, N, Cin, H, W, Cout, 0, 1);
    expect(get(k, pdw2, w.length)).toEqual(get(k, pdw, w.length));
    k.release(mark);
  });

  it.each(convShapes)('conv3x3 + batch norm fused N=%i Cin=%i %i×%i Cout=%i: training, evaluation, backward by finite differences', (N, Cin, H, W, Cout) => {
    const mark = k.mark();
    const OH = H - 2, OW = W - 2, P = OH * OW, Kd = Cin * 9, eps = 1e-5;
    const x = rand(N * Cin * H * W), w = rand(Cout * Kd, 0.5), b = rand(Cout), g = rand(Cout), beta = rand(Cout);
    const rm0 = rand(Cout), rv0 = rand(Cout).map((v) => 1 + Math.abs(v));
    const [px, pw, pb, pg, pbeta, prm, prv] = [x, w, b, g, beta, rm0, rv0].map((a) => put(k, a));
    const py = k.alloc(N * Cout * P), col = k.alloc(k.k.conv3x3_workspace(N, Cin, H, W, Cout)), yc = k.alloc(Cout * N * P), mean = k.alloc(Cout), is = k.alloc(Cout);
    k.k.conv3x3_batchnorm_forward_train(py, col, yc, mean, is, prm, prv, px, pw, pb, pg, pbeta, N, Cin, H, W, Cout, 0.1, eps, 0, 1);
    const f = (xx: Float64Array, ww: Float64Array, bb: Float64Array, gg: Float64Array, be: Float64Array) =>
      ref.batchnormRef(ref.conv3x3Ref(xx, ww, bb, N, Cin, H, W, Cout), gg, be, N, Cout, P, eps);
    const want = f(x, w, b, g, beta);
    expect(ref.relErr(get(k, py, want.y.length), want.y)).toBeLessThan(2e-5);
    const m = N * P;
    const rm = rm0.map((v, c) => 0.9 * v + 0.1 * want.mean[c]), rv = rv0.map((v, c) => 0.9 * v + 0.1 * want.vari[c] * m / (m - 1));
    expect(ref.relErr(get(k, prm, Cout), rm)).toBeLessThan(1e-5);
    expect(ref.relErr(get(k, prv, Cout), rv)).toBeLessThan(1e-5);

    const r = rand(want.y.length), pdy = put(k, r), pdx = k.alloc(x.length), dyc = k.alloc(Cout * N * P);
    const [pdw, pdb, pdg, pdbeta] = [w.length, Cout, Cout, Cout].map((n) => k.alloc(n));
    k.k.conv3x3_batchnorm_backward(pdx, pdw, pdb, pdg, pdbeta, dyc, pdy, pw, pg, col, yc, mean, is, N, Cin, H, W, Cout, 0, 1);
    const L = (...a: Float64Array[]) => ref.dot(r, f(a[0], a[1], a[2], a[3], a[4]).y);
    const args = [x, w, b, g, beta];
    const grads = [pdx, pdw, pdb, pdg, pdbeta];
    for (let i = 0; i < 5; i++) {
      const num = ref.numericGrad((v) => L(...args.map((a, j) => (j === i ? v : a))), args[i].slice());
      const got = get(k, grads[i], args[i].length);
      if (i === 2) for (const v of got) expect(Math.abs(v)).toBeLessThan(1e-4); // BN cancels the conv bias
      else expect(ref.relErr(got, num), `gradient ${i}`).toBeLessThan(1e-4);
    }

    k.k.conv3x3_batchnorm_forward_eval(py, col, yc, px, pw, pb, pg, pbeta, prm, prv, N, Cin, H, W, Cout, eps, 0, 1);
    const conv = ref.conv3x3Ref(x, w, b, N, Cin, H, W, Cout);
    const yEval = conv.map((v, i) => { const c = Math.floor(i / P) % Cout; return ((v - rm[c]) / Math.sqrt(rv[c] + eps)) * g[c] + beta[c]; });
    expect(ref.relErr(get(k, py, conv.length), yEval)).toBeLessThan(2e-5);

    // a first layer (dx = 0; with Cin = 1 its own path: sums from the columns' Gram matrix) gives the same parameter gradients
    const [qdw, qdb, qdg, qdbeta] = [w.length, Cout, Cout, Cout].map((n) => k.alloc(n));
    k.k.conv3x3_batchnorm_forward_train(py, col, yc, mean, is, prm, prv, px, pw, pb, pg, pbeta, N, Cin, H, W, Cout, 0.1, eps, 0, 1);
    k.k.conv3x3_batchnorm_backward(0, qdw, qdb, qdg, qdbeta, dyc, pdy, pw, pg, col, yc, mean, is, N, Cin, H, W, Cout, 0, 1);
    for (const [q, p, n] of [[qdw, pdw, w.length], [qdg, pdg, Cout], [qdbeta, pdbeta, Cout]]) expect(ref.relErr(get(k, q, n), get(k, p, n))).toBeLessThan(1e-5);
    k.release(mark);
  });

  it.each([[3, 4, 4], [5, 12, 12], [2, 6, 10], [1, 2, 18], [1, 2, 12], [3, 2, 4]])('relu+maxpool2x2 R=%i %i×%i: forward and backward', (R, H, W) => {
    const mark = k.mark();
    const x = rand(R * H * W), n = (R * H * W) / 4;
    const px = put(k, x), py = k.alloc(n), pi = k.alloc(n);
    k.k.relu_maxpool2x2_forward(py, pi, px, R, H, W);
    expect(get(k, py, n)).toEqual(ref.reluMaxpoolRef(x, R, H, W));
    const r = rand(n), pdy = put(k, r), pdx = k.alloc(x.length);
    k.k.relu_maxpool2x2_backward(pdx, pdy, py, pi, R, H, W);
    const g = ref.numericGrad((v) => ref.dot(r, ref.reluMaxpoolRef(v, R, H, W)), x.slice(), 1e-6);
    expect(ref.relErr(get(k, pdx, x.length), g)).toBeLessThan(1e-6);
    k.release(mark);
  });

  it('maxpool ties go to the first maximum in scan order, as in PyTorch', () => {
    const mark = k.mark();
    // 8 windows of one row pair (W = 16): all ties, plus a few strict maxima.
    const H = 2, W = 16, x = new Float64Array(H * W).fill(1);
    x[2 * 3 + 1] = 2; // window 3: top-right
    x[W + 2 * 5 + 1] = 2; // window 5: bottom-right
    const px = put(k, x), py = k.alloc(8), pi = k.alloc(8);
    k.k.relu_maxpool2x2_forward(py, pi, px, 1, H, W);
    expect(Array.from(k.i32.subarray(pi >> 2, (pi >> 2) + 8))).toEqual([0, 0, 0, 1, 0, 3, 0, 0]);
    k.release(mark);
  });

  const bnShapes: [number, number, number][] = [[3, 2, 5], [4, 3, 16], [3, 5, 1], [7, 9, 1]];
  it.each(bnShapes)('batch norm N=%i C=%i P=%i: training and evaluation forward, backward', (N, C, P) => {
    const mark = k.mark();
    const eps = 1e-5, mom = 0.1, perChannel = P > 1;
    const x = rand(N * C * P, 2).map((v, i) => v + (i % C) * 0.3), g = rand(C), b = rand(C);
    const rm0 = rand(C), rv0 = rand(C).map((v) => 1 + Math.abs(v));
    const px = put(k, x), pg = put(k, g), pb = put(k, b), prm = put(k, rm0), prv = put(k, rv0);
    const py = k.alloc(x.length), pmean = k.alloc(C), pis = k.alloc(C);
    if (perChannel) k.k.batchnorm_channels_forward_train(py, pmean, pis, prm, prv, px, pg, pb, N, C, P, mom, eps, 0, 1);
    else k.k.batchnorm_features_forward_train(py, pmean, pis, prm, prv, px, pg, pb, N, C, mom, eps);
    const want = ref.batchnormRef(x, g, b, N, C, P, eps);
    expect(ref.relErr(get(k, py, x.length), want.y)).toBeLessThan(1e-5);
    const m = N * P;
    const rm = rm0.map((v, c) => 0.9 * v + 0.1 * want.mean[c]);
    const rv = rv0.map((v, c) => 0.9 * v + 0.1 * want.vari[c] * m / (m - 1));
    expect(ref.relErr(get(k, prm, C), rm)).toBeLessThan(1e-5);
    expect(ref.relErr(get(k, prv, C), rv)).toBeLessThan(1e-5);

    // backward: L = Σ r·y
    const r = rand(x.length), pdy = put(k, r), pdx = k.alloc(x.length), pdg = k.alloc(C), pdb = k.alloc(C);
    if (perChannel) k.k.batchnorm_channels_backward(pdx, pdg, pdb, pdy, px, pg, pmean, pis, N, C, P, 0, 1);
    else k.k.batchnorm_features_backward(pdx, pdg, pdb, k.alloc(2 * C), pdy, px, pg, pmean, pis, N, C);
    const L = (xx: Float64Array, gg: Float64Array, bb: Float64Array) => ref.dot(r, ref.batchnormRef(xx, gg, bb, N, C, P, eps).y);
    expect(ref.relErr(get(k, pdx, x.length), ref.numericGrad((v) => L(v, g, b), x.slice()))).toBeLessThan(1e-4);
    expect(ref.relErr(get(k, pdg, C), ref.numericGrad((v) => L(x, v, b), g.slice()))).toBeLessThan(1e-5);
    expect(ref.relErr(get(k, pdb, C), ref.numericGrad((v) => L(x, g, v), b.slice()))).toBeLessThan(1e-5);

    // evaluation: running statistics, nothing updated
    if (perChannel) k.k.batchnorm_channels_forward_eval(py, px, pg, pb, prm, prv, N, C, P, eps, 0, 1);
    else k.k.batchnorm_features_forward_eval(py, pmean, pis, px, pg, pb, prm, prv, N, C, eps);
    const yEval = x.map((v, i) => {
      const c = Math.floor(i / P) % C;
      return ((v - rm[c]) / Math.sqrt(rv[c] + eps)) * g[c] + b[c];
    });
    expect(ref.relErr(get(k, py, x.length), yEval)).toBeLessThan(1e-5);
    expect(ref.relErr(get(k, prm, C), rm)).toBeLessThan(1e-5);
    k.release(mark);
  });

  it('bias add, bias gradient, relu and pair concat', () => {
    const mark = k.mark();
    const N = 5, F = 7;
    const y = rand(N * F), b = rand(F);
    const py = put(k, y), pb = put(k, b);
    k.k.bias_add(py, pb, N, F);
    expect(ref.relErr(get(k, py, N * F), y.map((v, i) => v + b[i % F]))).toBeLessThan(1e-7);
    const pdb = put(k, b);
    k.k.bias_backward(pdb, py, N, F);
    const colsum = b.map((v, f) => { let s = v; for (let n = 0; n < N; n++) s += Math.fround(y[n * F + f] + b[f]); return s; });
    expect(ref.relErr(get(k, pdb, F), colsum)).toBeLessThan(1e-6);

    const x = rand(13), px = put(k, x), pr = k.alloc(13);
    k.k.relu_forward(pr, px, 13);
    expect(get(k, pr, 13)).toEqual(x.map((v) => Math.max(v, 0)));
    const r = rand(13), pdr = put(k, r), pdx = k.alloc(13);
    k.k.relu_backward(pdx, pdr, pr, 13);
    const g = ref.numericGrad((v) => ref.dot(r, v.map((u) => Math.max(u, 0))), x.slice(), 1e-7);
    expect(ref.relErr(get(k, pdx, 13), g)).toBeLessThan(1e-6);

    const B = 3, t0 = rand(B * F), t1 = rand(B * F), p0 = put(k, t0), p1 = put(k, t1), ph = k.alloc(2 * B * F);
    k.k.pair_concat_forward(ph, p0, p1, B, F);
    const h = get(k, ph, 2 * B * F);
    for (let i = 0; i < B; i++) {
      expect(h.slice(2 * i * F, (2 * i + 1) * F)).toEqual(t0.slice(i * F, (i + 1) * F));
      expect(h.slice((2 * i + 1) * F, (2 * i + 2) * F)).toEqual(t1.slice(i * F, (i + 1) * F));
    }
    const q0 = k.alloc(B * F), q1 = k.alloc(B * F);
    k.k.pair_concat_backward(q0, q1, ph, B, F);
    expect(get(k, q0, B * F)).toEqual(t0);
    expect(get(k, q1, B * F)).toEqual(t1);
    k.release(mark);
  });

  it('binary cross-entropy with logits: value, gradient, and |logit| up to 1e4', () => {
    const mark = k.mark();
    const z = rand(9, 4), t = Float64Array.from({ length: 9 }, (_, i) => i % 2);
    const pz = put(k, z), pt = put(k, t), pd = k.alloc(9);
    const loss = k.k.bce_with_logits(pd, pz, pt, 9, 0.5);
    expect(loss).toBeCloseTo(ref.bceRef(z, t), 6);
    const g = ref.numericGrad((v) => 0.5 * ref.bceRef(v, t), z.slice());
    expect(ref.relErr(get(k, pd, 9), g)).toBeLessThan(1e-5);

    const zx = Float64Array.from([1e4, -1e4, 1e4, -1e4, 0]), tx = Float64Array.from([1, 0, 0, 1, 1]);
    const pzx = put(k, zx), ptx = put(k, tx), pdx = k.alloc(5);
    const lx = k.k.bce_with_logits(pdx, pzx, ptx, 5, 1);
    expect(lx).toBeCloseTo((0 + 0 + 1e4 + 1e4 + Math.log(2)) / 5, 6);
    expect(Array.from(get(k, pdx, 5)).map((v) => v * 5)).toEqual([0, 0, 1, -1, -0.5].map((v) => Math.fround(v / 5) * 5));
    k.release(mark);
  });

  it('softmax cross-entropy: value, gradient, and |logit| up to 1e4', () => {
    const mark = k.mark();
    const N = 4, C = 10;
    const z = rand(N * C, 3), labels = [3, 0, 9, 5];
    const pz = put(k, z), pl = putI32(k, labels), pd = k.alloc(N * C);
    const loss = k.k.softmax_cross_entropy(pd, pz, pl, N, C, 0.5);
    expect(loss).toBeCloseTo(ref.softmaxCeRef(z, labels, N, C), 6);
    const g = ref.numericGrad((v) => 0.5 * ref.softmaxCeRef(v, labels, N, C), z.slice());
    expect(ref.relErr(get(k, pd, N * C), g)).toBeLessThan(1e-5);

    const zx = new Float64Array(2 * C).fill(-1e4);
    zx[3] = 1e4; // row 0: confident and right
    zx[C + 4] = 1e4; // row 1: confident and wrong (label 7)
    const pzx = put(k, zx), plx = putI32(k, [3, 7]), pdx = k.alloc(2 * C);
    const lx = k.k.softmax_cross_entropy(pdx, pzx, plx, 2, C, 1);
    expect(lx).toBeCloseTo(2e4 / 2, 3);
    const gx = get(k, pdx, 2 * C);
    expect(gx.every(Number.isFinite)).toBe(true);
    expect(gx[C + 4]).toBeCloseTo(0.5, 6);
    expect(gx[C + 7]).toBeCloseTo(-0.5, 6);
    k.release(mark);
  });

  it.each([[0, false], [0.1, false], [0.1, true]] as const)("adam step follows PyTorch's formula over several steps (weight decay %f, decoupled %s: Adam, Adam + L2, AdamW)", (wd, decoupled) => {
    const mark = k.mark();
    const n = 11, lr = 1e-3, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    const p = rand(n), pp = put(k, p), pg = k.alloc(n), pm = k.alloc(n), pv = k.alloc(n);
    const m = new Float64Array(n), v = new Float64Array(n), want = p.slice();
    for (let t = 1; t <= 3; t++) {
      const g = rand(n);
      k.write(pg, g);
      const bc1 = 1 - b1 ** t, bc2 = 1 - b2 ** t;
      k.k.adam_step(pp, pg, pm, pv, n, lr, b1, b2, eps, bc1, bc2, wd, decoupled);
      for (let i = 0; i < n; i++) {
        const gi = decoupled ? g[i] : g[i] + wd * want[i]; // Adam's L2 adds to the gradient
        if (decoupled) want[i] *= 1 - lr * wd; // AdamW shrinks the weight first
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        want[i] -= (lr / bc1) * m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + eps);
      }
    }
    const got = get(k, pp, n);
    for (let i = 0; i < n; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-6);
    k.release(mark);
  });

});

describe('SIMD and scalar builds agree bit for bit', () => {
  it('on matrix multiply, convolution, pooling, batch norm and Adam', async () => {
    const [s, c] = [await loadKernels('simd'), await loadKernels('scalar')];
    // Cin = 5: im2col; Cin = 9, 8×12 outputs: Winograd with 18 tiles (four vectors and a scalar tail).
    const run = (k: Kernels, Cin: number, H: number, W: number) => {
      const rng = new Rng(3);
      const r = (n: number) => ref.randn(rng, n);
      const N = 3, Cout = 19, OH = H - 2, OW = W - 2, P = OH * OW, Q = P / 4, Kd = Cin * 9;
      const px = put(k, r(N * Cin * H * W)), pw = put(k, r(Cout * Kd)), pb = put(k, r(Cout));
      const py = k.alloc(N * Cout * P), col = k.alloc(k.k.conv3x3_workspace(N, Cin, H, W, Cout)), yc = k.alloc(Cout * N * P);
      k.k.conv3x3_forward(py, col, yc, px, pw, pb, N, Cin, H, W, Cout, 0, 1);
      const pbn = k.alloc(N * Cout * P), mean = k.alloc(Cout), is = k.alloc(Cout), rm = k.alloc(Cout), rv = put(k, new Float64Array(Cout).fill(1));
      const pg = put(k, r(Cout)), pbeta = put(k, r(Cout));
      k.k.batchnorm_channels_forward_train(pbn, mean, is, rm, rv, py, pg, pbeta, N, Cout, P, 0.1, 1e-5, 0, 1);
      const pooled = k.alloc(N * Cout * Q), idx = k.alloc(N * Cout * Q);
      k.k.relu_maxpool2x2_forward(pooled, idx, pbn, N * Cout, OH, OW);
      const dpool = put(k, r(N * Cout * Q)), dbn = k.alloc(N * Cout * P), dy = k.alloc(N * Cout * P);
      k.k.relu_maxpool2x2_backward(dbn, dpool, pooled, idx, N * Cout, OH, OW);
      const dg = k.alloc(Cout), dbeta = k.alloc(Cout);
      k.k.batchnorm_channels_backward(dy, dg, dbeta, dbn, py, pg, mean, is, N, Cout, P, 0, 1);
      const dx = k.alloc(N * Cin * H * W), dw = k.alloc(Cout * Kd), db = k.alloc(Cout);
      k.k.conv3x3_backward(dx, dw, db, yc, dy, pw, col, N, Cin, H, W, Cout, 0, 1);
      const m = k.alloc(Cout * Kd), v = k.alloc(Cout * Kd);
      k.k.adam_step(pw, dw, m, v, Cout * Kd, 1e-3, 0.9, 0.999, 1e-8, 0.1, 0.001, 0, false);
      return [py, pbn, rv, pooled, dy, dg, dx, dw, db, pw].map((p, i) => k.read(p, [N * Cout * P, N * Cout * P, Cout, N * Cout * Q, N * Cout * P, Cout, N * Cin * H * W, Cout * Kd, Cout, Cout * Kd][i]));
    };
    for (const [Cin, H, W] of [[5, 10, 10], [9, 10, 14]]) {
      const a = run(s, Cin, H, W), b = run(c, Cin, H, W);
      for (let i = 0; i < a.length; i++) expect(a[i]).toEqual(b[i]);
    }
  });

  it('on ReLU and ReLU + max pool at NaN, ±0 and ties: +0 unless the input is above 0, the first maximum', async () => {
    const [s, c] = [await loadKernels('simd'), await loadKernels('scalar')];
    // 2×16 planes (four windows to a vector in the SIMD build) and 2×10 (odd pooled width: four, then one by one)
    const special = [NaN, -0, 0, -1, 2, NaN, 2, 1, -0, -0, 0, -0, -2, -3, -1, -5];
    const x = Float64Array.from({ length: 64 }, (_, i) => special[(i * 7) % 16]);
    const bits = (k: Kernels, p: number, n: number) => Array.from(new Uint32Array(Float32Array.from(k.read(p, n)).buffer));
    const run = (k: Kernels) => {
      const px = put(k, x), pr = k.alloc(64), py = k.alloc(16), pi = k.alloc(16), qy = k.alloc(15), qi = k.alloc(15);
      k.k.relu_forward(pr, px, 64);
      k.k.relu_maxpool2x2_forward(py, pi, px, 2, 2, 16);
      k.k.relu_maxpool2x2_forward(qy, qi, px, 3, 2, 10);
      const ints = (p: number, n: number) => Array.from(k.i32.subarray(p >> 2, (p >> 2) + n));
      return { relu: bits(k, pr, 64), pooled: [bits(k, py, 16), bits(k, qy, 15)], idx: [ints(pi, 16), ints(qi, 15)] };
    };
    const a = run(s), b = run(c);
    expect(a).toEqual(b);
    expect(a.relu).toEqual(Array.from(new Uint32Array(Float32Array.from(x, (v) => (v > 0 ? v : 0)).buffer)));
  });
});
