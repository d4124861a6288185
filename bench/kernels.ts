// `npm run bench -- kernels`: every kernel, forward and backward, on the study's
// shapes (a batch of 100 pairs: 200 digits through a shared trunk, 100 rows
// through the comparison head), SIMD and scalar builds side by side.
import { Kernels, loadKernels, CONV_ALGORITHMS } from '../src/kernels.js';
import { convGeometry, Padding } from '../src/layers.js';
import { Rng } from '../src/prng.js';
import { table, timeIt } from './common.js';

interface Case {
  name: string;
  shape: string;
  flops: number;
  /** Plans buffers in k and returns the call to time. */
  setup(k: Kernels): () => void;
}

const D = 200, B = 100; // digits and pairs of one batch

function rand(k: Kernels, n: number, seed = 1): number {
  const p = k.alloc(n), f = k.f32, r = new Rng(seed);
  for (let i = 0; i < n; i++) f[(p >> 2) + i] = r.uniform(-1, 1);
  return p;
}

// gemm's flags, the convolution algorithms and which shapes each computes are assembly/'s
// (the same in both builds); read once from a SIMD instance.
const simd = await loadKernels('simd');
const { GEMM_TRANS_A, GEMM_TRANS_B } = simd;

function gemmCase(name: string, M: number, N: number, K: number, flags: number): Case {
  const tA = (flags & GEMM_TRANS_A) !== 0, tB = (flags & GEMM_TRANS_B) !== 0;
  return {
    name, shape: `${M}×${K}${tA ? 'ᵀ' : ''} · ${K}×${N}${tB ? 'ᵀ' : ''}`, flops: 2 * M * N * K,
    setup: (k) => {
      const a = rand(k, M * K), b = rand(k, K * N), c = k.alloc(M * N);
      return () => k.k.gemm(c, a, b, M, N, K, tA ? M : K, tB ? K : N, N, flags);
    },
  };
}

function convCases(label: string, N: number, Cin: number, H: number, W: number, Cout: number, dx: boolean): Case[] {
  const P = (H - 2) * (W - 2), Kd = Cin * 9, f = 2 * N * P * Kd * Cout;
  const plan = (k: Kernels) => ({
    x: rand(k, N * Cin * H * W), w: rand(k, Cout * Kd), b: rand(k, Cout), y: k.alloc(N * Cout * P),
    col: k.alloc(k.k.conv3x3_workspace(N, Cin, H, W, Cout)), yc: k.alloc(Cout * N * P), dy: rand(k, N * Cout * P), dx: k.alloc(N * Cin * H * W),
    dw: k.alloc(Cout * Kd), db: k.alloc(Cout),
  });
  const shape = `${N}×${Cin}×${H}×${W} → ${Cout}`;
  return [
    { name: `${label} forward`, shape, flops: f, setup: (k) => { const p = plan(k); return () => k.k.conv3x3_forward(p.y, p.col, p.yc, p.x, p.w, p.b, N, Cin, H, W, Cout, 0, 1); } },
    {
      name: `${label} backward${dx ? '' : ' (no dx)'}`, shape, flops: dx ? 2 * f : f,
      setup: (k) => {
        const p = plan(k);
        k.k.conv3x3_forward(p.y, p.col, p.yc, p.x, p.w, p.b, N, Cin, H, W, Cout, 0, 1);
        // With dx, backward overwrites col with the input gradient's columns; later repetitions
        // then read those values instead: the same work, so the timing is unaffected.
        return () => k.k.conv3x3_backward(dx ? p.dx : 0, p.dw, p.db, p.yc, p.dy, p.w, p.col, N, Cin, H, W, Cout, 0, 1);
      },
    },
  ];
}

/** The general convolution (conv2d.ts), once per algorithm that computes the shape: forward, and backward (with dx unless Cin = 1: a first layer). */
function conv2dCases(label: string, N: number, Cin: number, H: number, W: number, Cout: number, K: number, S: number, pad: Padding): Case[] {
  const gh = convGeometry(H, K, S, pad), gw = convGeometry(W, K, S, pad);
  const [OH, OW, pT, pL] = [gh.out, gw.out, gh.before, gw.before], f = 2 * N * OH * OW * Cin * K * K * Cout;
  const shape = `${N}×${Cin}×${H}×${W} → ${Cout}, ${K}×${K}/${S} ${pad}`;
  const cases: Case[] = [];
  const first = Cin === 1;
  for (const name of CONV_ALGORITHMS) {
    if (!simd.k.conv2d_supports(simd.convAlgorithms[name], K, K, S, OH, OW)) continue;
    const plan = (k: Kernels) => {
      const a = k.convAlgorithms[name];
      return {
        a, x: rand(k, N * Cin * H * W), w: rand(k, Cout * Cin * K * K), b: rand(k, Cout), y: k.alloc(N * Cout * OH * OW),
        ws: k.alloc(k.k.conv2d_workspace(a, N, Cin, H, W, Cout, K, K, pT, pL, OH, OW)), yc: k.alloc(Cout * N * OH * OW),
        dy: rand(k, N * Cout * OH * OW), dx: k.alloc(N * Cin * H * W), dw: k.alloc(Cout * Cin * K * K), db: k.alloc(Cout),
      };
    };
    const fwd = (k: Kernels, p: ReturnType<typeof plan>) => k.k.conv2d_forward(p.a, p.y, p.ws, p.yc, p.x, p.w, p.b, N, Cin, H, W, Cout, K, K, S, pT, pL, OH, OW, true, 0, 1);
    const bwd = (k: Kernels, p: ReturnType<typeof plan>) => k.k.conv2d_backward(p.a, first ? 0 : p.dx, p.dw, p.db, p.yc, p.dy, p.w, p.ws, N, Cin, H, W, Cout, K, K, S, pT, pL, OH, OW, 0, 1);
    cases.push(
      { name: `${label} forward (${name})`, shape, flops: f, setup: (k) => { const p = plan(k); return () => fwd(k, p); } },
      { name: `${label} backward${first ? ' (no dx)' : ''} (${name})`, shape, flops: first ? f : 2 * f, setup: (k) => { const p = plan(k); fwd(k, p); return () => bwd(k, p); } },
    );
    // with ReLU + 2×2 max pool after it: the two kernels, then the fused ones (conv2d_relu_maxpool_*; direct: as a first layer)
    if (!simd.k.conv2d_pools_in_registers(simd.convAlgorithms[name], K, K, S, OH, OW) || (name === 'direct' && !first)) continue;
    const Q = (N * Cout * OH * OW) / 4;
    const pooled = (k: Kernels) => ({ ...plan(k), yp: k.alloc(Q), idx: k.alloc(Q), dyp: rand(k, Q) });
    const fusedFwd = (k: Kernels, p: ReturnType<typeof pooled>) => k.k.conv2d_relu_maxpool_forward(p.a, p.yp, p.idx, p.ws, p.x, p.w, p.b, N, Cin, H, W, Cout, K, K, pT, pL, OH, OW, true, 0, 1);
    cases.push(
      { name: `${label} forward + ReLU + pool (${name})`, shape, flops: f, setup: (k) => { const p = pooled(k); return () => { fwd(k, p); k.k.relu_maxpool2x2_forward(p.yp, p.idx, p.y, N * Cout, OH, OW); }; } },
      { name: `${label} forward, ReLU + pool fused (${name})`, shape, flops: f, setup: (k) => { const p = pooled(k); return () => fusedFwd(k, p); } },
      { name: `${label} ReLU + pool + backward${first ? ' (no dx)' : ''} (${name})`, shape, flops: first ? f : 2 * f, setup: (k) => {
        const p = pooled(k);
        fwd(k, p);
        k.k.relu_maxpool2x2_forward(p.yp, p.idx, p.y, N * Cout, OH, OW);
        return () => { k.k.relu_maxpool2x2_backward(p.dy, p.dyp, p.yp, p.idx, N * Cout, OH, OW); bwd(k, p); };
      } },
      { name: `${label} backward, ReLU + pool fused${first ? ' (no dx)' : ''} (${name})`, shape, flops: first ? f : 2 * f, setup: (k) => {
        const p = pooled(k);
        fusedFwd(k, p);
        return () => k.k.conv2d_relu_maxpool_backward(p.a, first ? 0 : p.dx, p.dw, p.db, p.dyp, p.yp, p.idx, p.ws, N, Cin, H, W, Cout, K, K, pT, pL, OH, OW, 0, 1);
      } },
    );
  }
  return cases;
}

function convBnCases(label: string, N: number, Cin: number, H: number, W: number, Cout: number): Case[] {
  const P = (H - 2) * (W - 2), Kd = Cin * 9, f = 2 * N * P * Kd * Cout;
  const plan = (k: Kernels) => ({
    x: rand(k, N * Cin * H * W), w: rand(k, Cout * Kd), b: rand(k, Cout), g: rand(k, Cout), beta: rand(k, Cout),
    y: k.alloc(N * Cout * P), col: k.alloc(k.k.conv3x3_workspace(N, Cin, H, W, Cout)), yc: k.alloc(Cout * N * P), dyc: k.alloc(Cout * N * P),
    mean: k.alloc(Cout), is: k.alloc(Cout), rm: k.alloc(Cout), rv: rand(k, Cout), dy: rand(k, N * Cout * P),
    dx: k.alloc(N * Cin * H * W), dw: k.alloc(Cout * Kd), db: k.alloc(Cout), dg: k.alloc(Cout), dbeta: k.alloc(Cout),
  });
  const shape = `${N}×${Cin}×${H}×${W} → ${Cout}`;
  const fwd = (k: Kernels, p: ReturnType<typeof plan>) =>
    k.k.conv3x3_batchnorm_forward_train(p.y, p.col, p.yc, p.mean, p.is, p.rm, p.rv, p.x, p.w, p.b, p.g, p.beta, N, Cin, H, W, Cout, 0.1, 1e-5, 0, 1);
  return [
    { name: `${label} forward (train)`, shape, flops: f, setup: (k) => { const p = plan(k); return () => fwd(k, p); } },
    {
      name: `${label} backward${Cin > 1 ? '' : ' (no dx)'}`, shape, flops: Cin > 1 ? 2 * f : f,
      setup: (k) => {
        const p = plan(k);
        fwd(k, p);
        return () => k.k.conv3x3_batchnorm_backward(Cin > 1 ? p.dx : 0, p.dw, p.db, p.dg, p.dbeta, p.dyc, p.dy, p.w, p.g, p.col, p.yc, p.mean, p.is, N, Cin, H, W, Cout, 0, 1);
      },
    },
  ];
}

function poolCases(label: string, R: number, H: number, W: number): Case[] {
  const n = R * H * W;
  const plan = (k: Kernels) => ({ x: rand(k, n), y: k.alloc(n / 4), idx: k.alloc(n / 4), dy: rand(k, n / 4), dx: k.alloc(n) });
  const shape = `${R}×${H}×${W}`;
  return [
    { name: `${label} forward`, shape, flops: n, setup: (k) => { const p = plan(k); return () => k.k.relu_maxpool2x2_forward(p.y, p.idx, p.x, R, H, W); } },
    {
      name: `${label} backward`, shape, flops: n,
      setup: (k) => { const p = plan(k); k.k.relu_maxpool2x2_forward(p.y, p.idx, p.x, R, H, W); return () => k.k.relu_maxpool2x2_backward(p.dx, p.dy, p.y, p.idx, R, H, W); },
    },
  ];
}

function bnCases(label: string, N: number, C: number, P: number): Case[] {
  const n = N * C * P;
  const plan = (k: Kernels) => ({
    x: rand(k, n), y: k.alloc(n), g: rand(k, C), b: rand(k, C), mean: k.alloc(C), is: k.alloc(C), rm: k.alloc(C), rv: rand(k, C),
    dy: rand(k, n), dx: k.alloc(n), dg: k.alloc(C), db: k.alloc(C),
  });
  const shape = P > 1 ? `${N}×${C}×${P}` : `${N}×${C}`;
  const m = 0.1, e = 1e-5;
  if (P > 1) {
    return [
      { name: `${label} forward (train)`, shape, flops: 6 * n, setup: (k) => { const p = plan(k); return () => k.k.batchnorm_channels_forward_train(p.y, p.mean, p.is, p.rm, p.rv, p.x, p.g, p.b, N, C, P, m, e, 0, 1); } },
      { name: `${label} forward (eval)`, shape, flops: 2 * n, setup: (k) => { const p = plan(k); return () => k.k.batchnorm_channels_forward_eval(p.y, p.x, p.g, p.b, p.rm, p.rv, N, C, P, e, 0, 1); } },
      { name: `${label} backward`, shape, flops: 7 * n, setup: (k) => { const p = plan(k); k.k.batchnorm_channels_forward_train(p.y, p.mean, p.is, p.rm, p.rv, p.x, p.g, p.b, N, C, P, m, e, 0, 1); return () => k.k.batchnorm_channels_backward(p.dx, p.dg, p.db, p.dy, p.x, p.g, p.mean, p.is, N, C, P, 0, 1); } },
    ];
  }
  return [
    { name: `${label} forward (train)`, shape, flops: 6 * n, setup: (k) => { const p = plan(k); return () => k.k.batchnorm_features_forward_train(p.y, p.mean, p.is, p.rm, p.rv, p.x, p.g, p.b, N, C, m, e); } },
    { name: `${label} forward (eval)`, shape, flops: 2 * n, setup: (k) => { const p = plan(k); return () => k.k.batchnorm_features_forward_eval(p.y, p.mean, p.is, p.x, p.g, p.b, p.rm, p.rv, N, C, e); } },
    { name: `${label} backward`, shape, flops: 7 * n, setup: (k) => { const p = plan(k); k.k.batchnorm_features_forward_train(p.y, p.mean, p.is, p.rm, p.rv, p.x, p.g, p.b, N, C, m, e); const sums = k.alloc(2 * C); return () => k.k.batchnorm_features_backward(p.dx, p.dg, p.db, sums, p.dy, p.x, p.g, p.mean, p.is, N, C); } },
  ];
}

export function kernelCases(): Case[] {
  const { TRANS_A, TRANS_B } = { TRANS_A: GEMM_TRANS_A, TRANS_B: GEMM_TRANS_B };
  const nParams = 231_659; // model 4's parameter count (Adam updates them all in one call)
  return [
    gemmCase('gemm conv2 forward', 64, D * 16, 288, 0),
    gemmCase('gemm conv2 dW', 64, 288, D * 16, TRANS_B),
    gemmCase('gemm conv2 dX', 288, D * 16, 64, TRANS_A),
    gemmCase('gemm head.fc1 forward', B, 256, 512, TRANS_B),
    gemmCase('gemm head.fc1 dW', 256, 512, B, TRANS_A),
    gemmCase('gemm head.fc1 dX', B, 512, 256, 0),
    gemmCase('gemm digit.fc1 forward', D, 128, 256, TRANS_B),
    gemmCase('gemm head.out forward', B, 1, 64, TRANS_B),
    ...convCases('conv1', D, 1, 14, 14, 32, false),
    ...convCases('conv2', D, 32, 6, 6, 64, true),
    ...conv2dCases('conv1 as conv2d', D, 1, 14, 14, 32, 3, 1, 'valid'),
    ...conv2dCases('lenet conv1', 64, 1, 28, 28, 6, 5, 1, 'same'),
    ...conv2dCases('lenet conv2', 64, 6, 14, 14, 16, 5, 1, 'valid'),
    ...conv2dCases('conv 3×3 same', 64, 16, 16, 16, 32, 3, 1, 'same'),
    ...conv2dCases('conv 3×3 stride 2', 64, 16, 16, 16, 32, 3, 2, 'same'),
    ...conv2dCases('conv 7×7 stride 2', 32, 3, 32, 32, 16, 7, 2, 'same'),
    ...convBnCases('conv1+bn1 (model 4)', D, 1, 14, 14, 32),
    ...convBnCases('conv2+bn2 (model 4)', D, 32, 6, 6, 64),
    ...poolCases('relu+maxpool 1', D * 32, 12, 12),
    ...poolCases('relu+maxpool 2', D * 64, 4, 4),
    ...bnCases('batchnorm2d bn1', D, 32, 144),
    ...bnCases('batchnorm2d bn2', D, 64, 16),
    ...bnCases('batchnorm1d head.bn1', B, 256, 1),
    {
      name: 'bias add + relu', shape: `${B}×256`, flops: 2 * B * 256,
      setup: (k) => { const y = rand(k, B * 256), b = rand(k, 256); return () => { k.k.bias_add(y, b, B, 256); k.k.relu_forward(y, y, B * 256); }; },
    },
    {
      name: 'relu backward + bias grad', shape: `${B}×256`, flops: 2 * B * 256,
      setup: (k) => { const y = rand(k, B * 256), dy = rand(k, B * 256), dx = k.alloc(B * 256), db = k.alloc(256); return () => { k.k.relu_backward(dx, dy, y, B * 256); k.k.bias_backward(db, dx, B, 256); }; },
    },
    {
      name: 'bce with logits', shape: `${B}`, flops: 20 * B,
      setup: (k) => { const z = rand(k, B), t = k.alloc(B), d = k.alloc(B); return () => void k.k.bce_with_logits(d, z, t, B, 1); },
    },
    {
      name: 'softmax cross-entropy', shape: `${D}×10`, flops: 20 * D * 10,
      setup: (k) => { const z = rand(k, D * 10), l = k.alloc(D), d = k.alloc(D * 10); return () => void k.k.softmax_cross_entropy(d, z, l, D, 10, 1); },
    },
    {
      name: 'adam step', shape: `${nParams}`, flops: 12 * nParams,
      setup: (k) => { const p = rand(k, nParams), g = rand(k, nParams, 2), m = k.alloc(nParams), v = k.alloc(nParams); return () => k.k.adam_step(p, g, m, v, nParams, 1e-3, 0.9, 0.999, 1e-8, 0.1, 0.001, 0, false); },
    },
  ];
}

export async function benchKernels(opts: { reps?: number; filter?: string } = {}) {
  const reps = opts.reps ?? 21;
  const cases = kernelCases().filter((c) => !opts.filter || c.name.includes(opts.filter));
  const builds = { simd: await loadKernels('simd'), scalar: await loadKernels('scalar') };
  const rows = [];
  for (const c of cases) {
    const sec: Record<string, number> = {};
    for (const [b, k] of Object.entries(builds)) {
      const mark = k.mark();
      const run = c.setup(k);
      // enough calls per timing to pass ~2 ms, so the timer's resolution does not matter
      const t0 = performance.now();
      run();
      const once = Math.max((performance.now() - t0) / 1000, 1e-7);
      const inner = Math.max(1, Math.ceil(0.002 / once));
      sec[b] = timeIt(() => { for (let i = 0; i < inner; i++) run(); }, reps) / inner;
      k.release(mark);
    }
    rows.push({ kernel: c.name, shape: c.shape, flops: c.flops, simdSeconds: sec.simd, scalarSeconds: sec.scalar, simdGflops: c.flops / sec.simd / 1e9, scalarGflops: c.flops / sec.scalar / 1e9, speedup: sec.scalar / sec.simd });
  }
  const text = table(
    ['kernel', 'shape', 'SIMD µs', 'scalar µs', 'SIMD GFLOP/s', 'scalar GFLOP/s', 'SIMD/scalar'],
    rows.map((r) => [r.kernel, r.shape, (r.simdSeconds * 1e6).toFixed(1), (r.scalarSeconds * 1e6).toFixed(1), r.simdGflops.toFixed(1), r.scalarGflops.toFixed(1), r.speedup.toFixed(2) + '×']),
  );
  return { settings: { reps, batchPairs: B, digits: D, note: 'medians of reps after warm-up; convolutions count the direct method\'s flops (Winograd does fewer: effective rates); elementwise kernels count nominal flops' }, rows, text };
}
