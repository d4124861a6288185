// Batch normalisation, PyTorch semantics: training normalises with the batch
// mean and biased variance and moves the running statistics (momentum, unbiased
// variance); evaluation uses the running statistics.
//
// Two layouts: per channel on NCHW ([N, C, P], statistics over N·P) and per
// feature on [N, F] (statistics over N). `mean`/`invstd` are kept from the
// training forward for the backward.
import { sum4 } from "./conv";

// ---- per channel, x: [N, C, P] ----

/** Sum over n of the P-long runs of channel c, each run summed with sum4: same order in both builds. */
// @ts-ignore: decorator
@inline
function channel_sum(x: usize, c: i32, N: i32, C: i32, P: i32): f32 {
  let s: f32 = 0;
  for (let n = 0; n < N; n++) s += sum4(x + (<usize>((n * C + c) * P) << 2), P);
  return s;
}

/** Sum of (x - mean)² over a run, same lane order as sum4. */
function sqdev4(p: usize, n: i32, mean: f32): f32 {
  const n4 = n & ~3;
  let s: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    const mv = f32x4.splat(mean);
    let v = f32x4.splat(0);
    for (let i = 0; i < n4; i += 4) {
      const d = f32x4.sub(v128.load(p + (<usize>i << 2)), mv);
      v = f32x4.add(v, f32x4.mul(d, d));
    }
    s = (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
  } else {
    let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
    for (let i = 0; i < n4; i += 4) {
      const q = p + (<usize>i << 2);
      const d0 = load<f32>(q) - mean, d1 = load<f32>(q, 4) - mean, d2 = load<f32>(q, 8) - mean, d3 = load<f32>(q, 12) - mean;
      s0 += d0 * d0; s1 += d1 * d1; s2 += d2 * d2; s3 += d3 * d3;
    }
    s = (s0 + s1) + (s2 + s3);
  }
  for (let i = n4; i < n; i++) {
    const d = load<f32>(p + (<usize>i << 2)) - mean;
    s += d * d;
  }
  return s;
}

/** Two sums over a run, same lane order as sum4: Σ dy and Σ dy·(x - mean). */
// @ts-ignore: decorator
@inline
function dot_sums4(dy: usize, x: usize, n: i32, mean: f32, out: usize): void {
  const n4 = n & ~3;
  let s: f32 = 0, t: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    const mv = f32x4.splat(mean);
    let vs = f32x4.splat(0), vt = f32x4.splat(0);
    for (let i = 0; i < n4; i += 4) {
      const o = <usize>i << 2;
      const g = v128.load(dy + o);
      vs = f32x4.add(vs, g);
      vt = f32x4.add(vt, f32x4.mul(g, f32x4.sub(v128.load(x + o), mv)));
    }
    s = (f32x4.extract_lane(vs, 0) + f32x4.extract_lane(vs, 1)) + (f32x4.extract_lane(vs, 2) + f32x4.extract_lane(vs, 3));
    t = (f32x4.extract_lane(vt, 0) + f32x4.extract_lane(vt, 1)) + (f32x4.extract_lane(vt, 2) + f32x4.extract_lane(vt, 3));
  } else {
    let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
    let t0: f32 = 0, t1: f32 = 0, t2: f32 = 0, t3: f32 = 0;
    for (let i = 0; i < n4; i += 4) {
      const o = <usize>i << 2;
      const g0 = load<f32>(dy + o), g1 = load<f32>(dy + o, 4), g2 = load<f32>(dy + o, 8), g3 = load<f32>(dy + o, 12);
      s0 += g0; s1 += g1; s2 += g2; s3 += g3;
      t0 += g0 * (load<f32>(x + o) - mean); t1 += g1 * (load<f32>(x + o, 4) - mean);
      t2 += g2 * (load<f32>(x + o, 8) - mean); t3 += g3 * (load<f32>(x + o, 12) - mean);
    }
    s = (s0 + s1) + (s2 + s3);
    t = (t0 + t1) + (t2 + t3);
  }
  for (let i = n4; i < n; i++) {
    const g = load<f32>(dy + (<usize>i << 2));
    s += g;
    t += g * (load<f32>(x + (<usize>i << 2)) - mean);
  }
  store<f32>(out, load<f32>(out) + s);
  store<f32>(out, load<f32>(out, 4) + t, 4);
}

// @ts-ignore: decorator
@inline
function affine_run(y: usize, x: usize, n: i32, scale: f32, shift: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const a = f32x4.splat(scale), b = f32x4.splat(shift);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(y + o, f32x4.add(f32x4.mul(v128.load(x + o), a), b));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(x + o) * scale + shift);
  }
}

/**
 * Training forward. y: [N, C, P] out; mean, invstd: [C] out (for backward);
 * runMean, runVar: [C] updated; x: [N, C, P]; gamma, beta: [C].
 */
export function batchnorm_channels_forward_train(
  y: usize, mean: usize, invstd: usize, runMean: usize, runVar: usize,
  x: usize, gamma: usize, beta: usize,
  N: i32, C: i32, P: i32, momentum: f32, eps: f32,
): void {
  const m = N * P;
  for (let c = 0; c < C; c++) {
    const mu: f32 = channel_sum(x, c, N, C, P) / <f32>m;
    let sq: f32 = 0;
    for (let n = 0; n < N; n++) sq += sqdev4(x + (<usize>((n * C + c) * P) << 2), P, mu);
    const varB: f32 = sq / <f32>m;
    const is: f32 = 1 / Mathf.sqrt(varB + eps);
    const o = <usize>c << 2;
    store<f32>(mean + o, mu);
    store<f32>(invstd + o, is);
    store<f32>(runMean + o, (1 - momentum) * load<f32>(runMean + o) + momentum * mu);
    const unbiased: f32 = m > 1 ? sq / <f32>(m - 1) : varB;
    store<f32>(runVar + o, (1 - momentum) * load<f32>(runVar + o) + momentum * unbiased);
    const scale = load<f32>(gamma + o) * is;
    const shift = load<f32>(beta + o) - mu * scale;
    for (let n = 0; n < N; n++) {
      const r = <usize>((n * C + c) * P) << 2;
      affine_run(y + r, x + r, P, scale, shift);
    }
  }
}

/** Evaluation forward with the running statistics. */
export function batchnorm_channels_forward_eval(
  y: usize, x: usize, gamma: usize, beta: usize, runMean: usize, runVar: usize,
  N: i32, C: i32, P: i32, eps: f32,
): void {
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 2;
    const scale = load<f32>(gamma + o) / Mathf.sqrt(load<f32>(runVar + o) + eps);
    const shift = load<f32>(beta + o) - load<f32>(runMean + o) * scale;
    for (let n = 0; n < N; n++) {
      const r = <usize>((n * C + c) * P) << 2;
      affine_run(y + r, x + r, P, scale, shift);
    }
  }
}

const sums = memory.data(16, 16);

/**
 * Backward. dx: [N, C, P] overwritten (may equal dy); dgamma, dbeta: [C] += ;
 * dy, x: [N, C, P]; gamma; mean, invstd from the training forward.
 */
export function batchnorm_channels_backward(
  dx: usize, dgamma: usize, dbeta: usize,
  dy: usize, x: usize, gamma: usize, mean: usize, invstd: usize,
  N: i32, C: i32, P: i32,
): void {
  const m = <f32>(N * P);
  for (let c = 0; c < C; c++) {
    const o = <usize>c << 2;
    const mu = load<f32>(mean + o), is = load<f32>(invstd + o);
    store<f32>(sums, 0); store<f32>(sums, 0, 4);
    for (let n = 0; n < N; n++) {
      const r = <usize>((n * C + c) * P) << 2;
      dot_sums4(dy + r, x + r, P, mu, sums);
    }
    const sdy = load<f32>(sums), sdyx = load<f32>(sums, 4);
    const dg = sdyx * is; // Σ dy·x̂
    store<f32>(dgamma + o, load<f32>(dgamma + o) + dg);
    store<f32>(dbeta + o, load<f32>(dbeta + o) + sdy);
    // dx = γ·σ⁻¹·(dy − Σdy/m − x̂·Σ(dy·x̂)/m) = a·dy + b·x + k
    const g = load<f32>(gamma + o) * is;
    const a = g;
    const b = -g * is * dg / m;
    const k = -g * sdy / m - b * mu;
    for (let n = 0; n < N; n++) {
      const r = <usize>((n * C + c) * P) << 2;
      let i = 0;
      if (ASC_FEATURE_SIMD) {
        const av = f32x4.splat(a), bv = f32x4.splat(b), kv = f32x4.splat(k);
        for (; i + 4 <= P; i += 4) {
          const q = r + (<usize>i << 2);
          v128.store(dx + q, f32x4.add(f32x4.add(f32x4.mul(v128.load(dy + q), av), f32x4.mul(v128.load(x + q), bv)), kv));
        }
      }
      for (; i < P; i++) {
        const q = r + (<usize>i << 2);
        store<f32>(dx + q, (load<f32>(dy + q) * a + load<f32>(x + q) * b) + k);
      }
    }
  }
}

// ---- per feature, x: [N, F]; lanes run across features, each summed over n in order ----

/** Training forward, per feature. Same arguments as the per-channel kernel with P = 1. */
export function batchnorm_features_forward_train(
  y: usize, mean: usize, invstd: usize, runMean: usize, runVar: usize,
  x: usize, gamma: usize, beta: usize,
  N: i32, F: i32, momentum: f32, eps: f32,
): void {
  const rowBytes = <usize>F << 2;
  for (let f = 0; f < F; f++) {
    const o = <usize>f << 2;
    let s: f32 = 0;
    for (let n = 0; n < N; n++) s += load<f32>(x + <usize>n * rowBytes + o);
    const mu: f32 = s / <f32>N;
    let sq: f32 = 0;
    for (let n = 0; n < N; n++) {
      const d = load<f32>(x + <usize>n * rowBytes + o) - mu;
      sq += d * d;
    }
    const varB: f32 = sq / <f32>N;
    const is: f32 = 1 / Mathf.sqrt(varB + eps);
    store<f32>(mean + o, mu);
    store<f32>(invstd + o, is);
    store<f32>(runMean + o, (1 - momentum) * load<f32>(runMean + o) + momentum * mu);
    const unbiased: f32 = N > 1 ? sq / <f32>(N - 1) : varB;
    store<f32>(runVar + o, (1 - momentum) * load<f32>(runVar + o) + momentum * unbiased);
  }
  features_affine(y, x, gamma, beta, mean, invstd, N, F);
}

/** y = (x − mean)·invstd·γ + β, row by row (scale and shift per feature). */
function features_affine(y: usize, x: usize, gamma: usize, beta: usize, mean: usize, invstd: usize, N: i32, F: i32): void {
  const rowBytes = <usize>F << 2;
  for (let n = 0; n < N; n++) {
    const xr = x + <usize>n * rowBytes, yr = y + <usize>n * rowBytes;
    let f = 0;
    if (ASC_FEATURE_SIMD) {
      for (; f + 4 <= F; f += 4) {
        const o = <usize>f << 2;
        const scale = f32x4.mul(v128.load(gamma + o), v128.load(invstd + o));
        const shift = f32x4.sub(v128.load(beta + o), f32x4.mul(v128.load(mean + o), scale));
        v128.store(yr + o, f32x4.add(f32x4.mul(v128.load(xr + o), scale), shift));
      }
    }
    for (; f < F; f++) {
      const o = <usize>f << 2;
      const scale = load<f32>(gamma + o) * load<f32>(invstd + o);
      const shift = load<f32>(beta + o) - load<f32>(mean + o) * scale;
      store<f32>(yr + o, load<f32>(xr + o) * scale + shift);
    }
  }
}

/**
 * Evaluation forward, per feature. scratchMean, scratchInvstd: [F] scratch
 * (the layer's own mean/invstd buffers serve).
 */
export function batchnorm_features_forward_eval(
  y: usize, scratchMean: usize, scratchInvstd: usize,
  x: usize, gamma: usize, beta: usize, runMean: usize, runVar: usize,
  N: i32, F: i32, eps: f32,
): void {
  for (let f = 0; f < F; f++) {
    const o = <usize>f << 2;
    store<f32>(scratchMean + o, load<f32>(runMean + o));
    store<f32>(scratchInvstd + o, 1 / Mathf.sqrt(load<f32>(runVar + o) + eps));
  }
  features_affine(y, x, gamma, beta, scratchMean, scratchInvstd, N, F);
}

/** Backward, per feature. dx may equal dy. */
export function batchnorm_features_backward(
  dx: usize, dgamma: usize, dbeta: usize,
  dy: usize, x: usize, gamma: usize, mean: usize, invstd: usize,
  N: i32, F: i32,
): void {
  const rowBytes = <usize>F << 2;
  const m = <f32>N;
  for (let f = 0; f < F; f++) {
    const o = <usize>f << 2;
    const mu = load<f32>(mean + o), is = load<f32>(invstd + o);
    let sdy: f32 = 0, sdyx: f32 = 0;
    for (let n = 0; n < N; n++) {
      const q = <usize>n * rowBytes + o;
      const g = load<f32>(dy + q);
      sdy += g;
      sdyx += g * (load<f32>(x + q) - mu);
    }
    const dg = sdyx * is;
    store<f32>(dgamma + o, load<f32>(dgamma + o) + dg);
    store<f32>(dbeta + o, load<f32>(dbeta + o) + sdy);
    const g = load<f32>(gamma + o) * is;
    const b = -g * is * dg / m;
    const k = -g * sdy / m - b * mu;
    for (let n = 0; n < N; n++) {
      const q = <usize>n * rowBytes + o;
      store<f32>(dx + q, (load<f32>(dy + q) * g + load<f32>(x + q) * b) + k);
    }
  }
}
