// Plain float64 TypeScript references for every kernel, and finite differences.
// Deliberately naive: one loop nest per definition.

export type F64 = Float64Array;

export function gemmRef(A: F64, B: F64, M: number, N: number, K: number, transA: boolean, transB: boolean): F64 {
  const C = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += (transA ? A[k * M + i] : A[i * K + k]) * (transB ? B[j * K + k] : B[k * N + j]);
      C[i * N + j] = s;
    }
  return C;
}

/** x: [N, Cin, H, W]; w: [Cout, Cin, 3, 3]; b: [Cout] → [N, Cout, H-2, W-2]. */
export function conv3x3Ref(x: F64, w: F64, b: F64, N: number, Cin: number, H: number, W: number, Cout: number): F64 {
  const OH = H - 2, OW = W - 2;
  const y = new Float64Array(N * Cout * OH * OW);
  for (let n = 0; n < N; n++)
    for (let co = 0; co < Cout; co++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let s = b[co];
          for (let ci = 0; ci < Cin; ci++)
            for (let kh = 0; kh < 3; kh++)
              for (let kw = 0; kw < 3; kw++)
                s += w[((co * Cin + ci) * 3 + kh) * 3 + kw] * x[((n * Cin + ci) * H + oh + kh) * W + ow + kw];
          y[((n * Cout + co) * OH + oh) * OW + ow] = s;
        }
  return y;
}

/** relu then 2×2 max pool; x: [R, H, W]. */
export function reluMaxpoolRef(x: F64, R: number, H: number, W: number): F64 {
  const OH = H / 2, OW = W / 2;
  const y = new Float64Array(R * OH * OW);
  for (let r = 0; r < R; r++)
    for (let i = 0; i < OH; i++)
      for (let j = 0; j < OW; j++) {
        let m = 0;
        for (let di = 0; di < 2; di++)
          for (let dj = 0; dj < 2; dj++) m = Math.max(m, x[(r * H + 2 * i + di) * W + 2 * j + dj]);
        y[(r * OH + i) * OW + j] = m;
      }
  return y;
}

/** Training-mode batch norm over [N, C, P] (per feature: P = 1); returns y, batch mean and biased variance. */
export function batchnormRef(x: F64, g: F64, b: F64, N: number, C: number, P: number, eps: number) {
  const y = new Float64Array(x.length), mean = new Float64Array(C), vari = new Float64Array(C);
  const m = N * P;
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) for (let p = 0; p < P; p++) s += x[(n * C + c) * P + p];
    const mu = s / m;
    let q = 0;
    for (let n = 0; n < N; n++) for (let p = 0; p < P; p++) q += (x[(n * C + c) * P + p] - mu) ** 2;
    mean[c] = mu;
    vari[c] = q / m;
    for (let n = 0; n < N; n++)
      for (let p = 0; p < P; p++) {
        const i = (n * C + c) * P + p;
        y[i] = ((x[i] - mu) / Math.sqrt(q / m + eps)) * g[c] + b[c];
      }
  }
  return { y, mean, vari };
}

export function bceRef(z: F64, t: F64): number {
  let s = 0;
  for (let i = 0; i < z.length; i++) s += Math.max(z[i], 0) - z[i] * t[i] + Math.log1p(Math.exp(-Math.abs(z[i])));
  return s / z.length;
}

export function softmaxCeRef(z: F64, labels: ArrayLike<number>, N: number, C: number): number {
  let s = 0;
  for (let i = 0; i < N; i++) {
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, z[i * C + c]);
    let e = 0;
    for (let c = 0; c < C; c++) e += Math.exp(z[i * C + c] - m);
    s += m + Math.log(e) - z[i * C + labels[i]];
  }
  return s / N;
}

/** Central finite differences of a scalar function f at x, every entry (or the listed ones). */
export function numericGrad(f: (x: F64) => number, x: F64, h = 1e-5, entries?: number[]): F64 {
  const g = new Float64Array(x.length);
  for (const i of entries ?? x.keys()) {
    const v = x[i];
    x[i] = v + h;
    const fp = f(x);
    x[i] = v - h;
    const fm = f(x);
    x[i] = v;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Largest |a − b| divided by the largest |b| (1 if b is all zero). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>, entries?: Iterable<number>): number {
  let d = 0, m = 0;
  const idx = entries ?? Array.from({ length: b.length }, (_, i) => i);
  for (const i of idx) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / (m || 1);
}

export function randn(rng: { next(): number }, n: number, scale = 1): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = (rng.next() * 2 - 1) * scale;
  return a;
}

/** Rounds to float32 in place and returns the array: inputs the f32 kernels see exactly. */
export function f32round(a: F64): F64 {
  for (let i = 0; i < a.length; i++) a[i] = Math.fround(a[i]);
  return a;
}

// ---- a whole network of the study in float64, for finite differences ----

export type Params = Map<string, Float64Array>;

function linearRef(x: F64, n: number, P: Params, name: string, fin: number, fout: number): F64 {
  const y = gemmRef(x, P.get(`${name}.weight`)!, n, fout, fin, false, true);
  const b = P.get(`${name}.bias`)!;
  for (let i = 0; i < y.length; i++) y[i] += b[i % fout];
  return y;
}

const relu = (a: F64) => a.map((v) => Math.max(v, 0));

function bnRef(x: F64, P: Params, name: string, n: number, c: number, p: number): F64 {
  return batchnormRef(x, P.get(`${name}.weight`)!, P.get(`${name}.bias`)!, n, c, p, 1e-5).y;
}

function trunkRef(x: F64, n: number, P: Params, t: string, bn: boolean): F64 {
  let a = conv3x3Ref(x, P.get(`${t}.conv1.weight`)!, P.get(`${t}.conv1.bias`)!, n, 1, 14, 14, 32);
  if (bn) a = bnRef(a, P, `${t}.bn1`, n, 32, 144);
  a = reluMaxpoolRef(a, n * 32, 12, 12);
  a = conv3x3Ref(a, P.get(`${t}.conv2.weight`)!, P.get(`${t}.conv2.bias`)!, n, 32, 6, 6, 64);
  if (bn) a = bnRef(a, P, `${t}.bn2`, n, 64, 16);
  return reluMaxpoolRef(a, n * 64, 4, 4);
}

function mlpRef(x: F64, n: number, P: Params, name: string, sizes: number[], bn: boolean): F64 {
  let a = x;
  for (let i = 1; i < sizes.length; i++) {
    const last = i === sizes.length - 1;
    a = linearRef(a, n, P, last ? `${name}.out` : `${name}.fc${i}`, sizes[i - 1], sizes[i]);
    if (last) break;
    if (bn) a = bnRef(a, P, `${name}.bn${i}`, n, sizes[i], 1);
    a = relu(a);
  }
  return a;
}

/**
 * Training-mode loss of model `id` (STUDY.md) in float64. x0, x1: [n, 196] the
 * two digits; target: [n]; classes: [n, 2] flat.
 */
export function modelLossRef(id: number, P: Params, x0: F64, x1: F64, target: F64, classes: number[], n: number): number {
  const bn = id === 4;
  let t0: F64, t1: F64, tAll: F64 | null = null;
  if (id === 1) {
    t0 = trunkRef(x0, n, P, 'trunk0', false);
    t1 = trunkRef(x1, n, P, 'trunk1', false);
  } else {
    const x = new Float64Array(2 * n * 196);
    x.set(x0);
    x.set(x1, n * 196);
    tAll = trunkRef(x, 2 * n, P, 'trunk', bn);
    t0 = tAll.slice(0, n * 256);
    t1 = tAll.slice(n * 256);
  }
  const h = new Float64Array(n * 512);
  for (let b = 0; b < n; b++) {
    h.set(t0.subarray(b * 256, (b + 1) * 256), b * 512);
    h.set(t1.subarray(b * 256, (b + 1) * 256), b * 512 + 256);
  }
  const z = mlpRef(h, n, P, 'head', [512, 256, 128, 64, 1], bn);
  let loss = bceRef(z, target);
  if (id >= 3) {
    const d = mlpRef(tAll!, 2 * n, P, 'digit', [256, 128, 10], bn);
    const c0 = classes.filter((_, i) => i % 2 === 0), c1 = classes.filter((_, i) => i % 2 === 1);
    loss += (softmaxCeRef(d.slice(0, n * 10), c0, n, 10) + softmaxCeRef(d.slice(n * 10), c1, n, 10)) / 2;
  }
  return loss;
}

/** Any 2-D convolution in float64: x [N,Cin,H,W], w [Cout,Cin,KH,KW], zeros outside x, top/left padding padT/padL. */
export function conv2dRef(x: F64, w: F64, b: F64 | null, N: number, Cin: number, H: number, W: number, Cout: number,
  KH: number, KW: number, stride: number, padT: number, padL: number, OH: number, OW: number): F64 {
  const y = new Float64Array(N * Cout * OH * OW);
  for (let n = 0; n < N; n++)
    for (let co = 0; co < Cout; co++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let s = b ? b[co] : 0;
          for (let ci = 0; ci < Cin; ci++)
            for (let kh = 0; kh < KH; kh++)
              for (let kw = 0; kw < KW; kw++) {
                const ih = oh * stride + kh - padT, iw = ow * stride + kw - padL;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                s += x[((n * Cin + ci) * H + ih) * W + iw] * w[((co * Cin + ci) * KH + kh) * KW + kw];
              }
          y[((n * Cout + co) * OH + oh) * OW + ow] = s;
        }
  return y;
}

/** Max (or average) of each KH×KW window with stride S of x [R, H, W]. */
export function pool2dRef(x: F64, R: number, H: number, W: number, KH: number, KW: number, S: number, avg: boolean): F64 {
  const OH = Math.floor((H - KH) / S) + 1, OW = Math.floor((W - KW) / S) + 1;
  const y = new Float64Array(R * OH * OW);
  for (let r = 0; r < R; r++)
    for (let oh = 0; oh < OH; oh++)
      for (let ow = 0; ow < OW; ow++) {
        let m = -Infinity, s = 0;
        for (let kh = 0; kh < KH; kh++)
          for (let kw = 0; kw < KW; kw++) {
            const v = x[(r * H + oh * S + kh) * W + ow * S + kw];
            m = Math.max(m, v);
            s += v;
          }
        y[(r * OH + oh) * OW + ow] = avg ? s / (KH * KW) : m;
      }
  return y;
}
