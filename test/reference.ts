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
