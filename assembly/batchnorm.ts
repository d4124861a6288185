// Batch normalisation, PyTorch semantics: training normalises with the batch
// mean and biased variance and moves the running statistics (momentum, unbiased
// variance); evaluation uses the running statistics.
//
// Two layouts: per channel on NCHW ([N, C, P], statistics over N·P) and per
// feature on [N, F] (statistics over N). `mean`/`invstd` are kept from the
// training forward for the backward.
import { sqdev8, dot_sums4, channel_sum } from "./reduce";
import { part_from, part_to } from "./threads";
import { bnSums } from "./workspace";

// ---- per channel, x: [N, C, P] ----


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
 * runMean, runVar: [C] updated; x: [N, C, P]; gamma, beta: [C]. part, parts:
 * a thread's share of the channels (0, 1 alone).
 */
export function batchnorm_channels_forward_train(
  y: usize, mean: usize, invstd: usize, runMean: usize, runVar: usize,
  x: usize, gamma: usize, beta: usize,
  N: i32, C: i32, P: i32, momentum: f32, eps: f32,
  part: i32, parts: i32,
): void {
  const m = N * P;
  for (let c = part_from(C, 1, part, parts); c < part_to(C, 1, part, parts); c++) {
    const mu: f32 = channel_sum(x, c, N, C, P) / <f32>m;
    let sq: f32 = 0;
    for (let n = 0; n < N; n++) sq += sqdev8(x + (<usize>((n * C + c) * P) << 2), P, mu);
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
  part: i32, parts: i32,
): void {
  for (let c = part_from(C, 1, part, parts); c < part_to(C, 1, part, parts); c++) {
    const o = <usize>c << 2;
    const scale = load<f32>(gamma + o) / Mathf.sqrt(load<f32>(runVar + o) + eps);
    const shift = load<f32>(beta + o) - load<f32>(runMean + o) * scale;
    for (let n = 0; n < N; n++) {
      const r = <usize>((n * C + c) * P) << 2;
      affine_run(y + r, x + r, P, scale, shift);
    }
  }
}

/**
 * Backward. dx: [N, C, P] overwritten (may equal dy); dgamma, dbeta: [C] += ;
 * dy, x: [N, C, P]; gamma; mean, invstd from the training forward.
 */
export function batchnorm_channels_backward(
  dx: usize, dgamma: usize, dbeta: usize,
  dy: usize, x: usize, gamma: usize, mean: usize, invstd: usize,
  N: i32, C: i32, P: i32,
  part: i32, parts: i32,
): void {
  const m = <f32>(N * P);
  for (let c = part_from(C, 1, part, parts); c < part_to(C, 1, part, parts); c++) {
    const o = <usize>c << 2;
    const mu = load<f32>(mean + o), is = load<f32>(invstd + o);
    store<f32>(bnSums, 0); store<f32>(bnSums, 0, 4);
    for (let n = 0; n < N; n++) {
      const r = <usize>((n * C + c) * P) << 2;
      dot_sums4(dy + r, x + r, P, mu, bnSums);
    }
    const sdy = load<f32>(bnSums), sdyx = load<f32>(bnSums, 4);
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

// ---- per feature, x: [N, F]; rows in order, lanes across features ----
// Each feature is summed over n in row order in both builds (bit-identical);
// walking rows keeps the access contiguous.

/** acc[f] = Σ_n x[n, f] (sq = false) or Σ_n (x[n, f] − mean[f])² (sq = true). */
function column_sums(acc: usize, x: usize, mean: usize, N: i32, F: i32, sq: bool): void {
  memory.fill(acc, 0, <usize>F << 2);
  const rowBytes = <usize>F << 2;
  for (let n = 0; n < N; n++) {
    const r = x + <usize>n * rowBytes;
    let f = 0;
    if (ASC_FEATURE_SIMD) {
      for (; f + 4 <= F; f += 4) {
        const o = <usize>f << 2;
        let v = v128.load(r + o);
        if (sq) { v = f32x4.sub(v, v128.load(mean + o)); v = f32x4.mul(v, v); }
        v128.store(acc + o, f32x4.add(v128.load(acc + o), v));
      }
    }
    for (; f < F; f++) {
      const o = <usize>f << 2;
      let v = load<f32>(r + o);
      if (sq) { v -= load<f32>(mean + o); v *= v; }
      store<f32>(acc + o, load<f32>(acc + o) + v);
    }
  }
}

/**
 * Training forward, per feature. y: [N, F] out; mean, invstd: [F] out;
 * runMean, runVar: [F] updated; x: [N, F]; gamma, beta: [F].
 */
export function batchnorm_features_forward_train(
  y: usize, mean: usize, invstd: usize, runMean: usize, runVar: usize,
  x: usize, gamma: usize, beta: usize,
  N: i32, F: i32, momentum: f32, eps: f32,
): void {
  column_sums(mean, x, 0, N, F, false);
  for (let f = 0; f < F; f++) {
    const o = <usize>f << 2;
    store<f32>(mean + o, load<f32>(mean + o) / <f32>N);
  }
  column_sums(invstd, x, mean, N, F, true);
  for (let f = 0; f < F; f++) {
    const o = <usize>f << 2;
    const sq = load<f32>(invstd + o), mu = load<f32>(mean + o);
    store<f32>(invstd + o, 1 / Mathf.sqrt(sq / <f32>N + eps));
    store<f32>(runMean + o, (1 - momentum) * load<f32>(runMean + o) + momentum * mu);
    const unbiased: f32 = N > 1 ? sq / <f32>(N - 1) : sq;
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

/**
 * Backward, per feature. dx: [N, F] overwritten (may equal dy); dgamma, dbeta: [F] += ;
 * sums: [2F] scratch; dy, x: [N, F]; gamma; mean, invstd from the training forward.
 */
export function batchnorm_features_backward(
  dx: usize, dgamma: usize, dbeta: usize, sums: usize,
  dy: usize, x: usize, gamma: usize, mean: usize, invstd: usize,
  N: i32, F: i32,
): void {
  const rowBytes = <usize>F << 2;
  const s1 = sums, s2 = sums + rowBytes;
  memory.fill(sums, 0, rowBytes << 1);
  for (let n = 0; n < N; n++) {
    const gr = dy + <usize>n * rowBytes, xr = x + <usize>n * rowBytes;
    let f = 0;
    if (ASC_FEATURE_SIMD) {
      for (; f + 4 <= F; f += 4) {
        const o = <usize>f << 2;
        const g = v128.load(gr + o);
        v128.store(s1 + o, f32x4.add(v128.load(s1 + o), g));
        v128.store(s2 + o, f32x4.add(v128.load(s2 + o), f32x4.mul(g, f32x4.sub(v128.load(xr + o), v128.load(mean + o)))));
      }
    }
    for (; f < F; f++) {
      const o = <usize>f << 2;
      const g = load<f32>(gr + o);
      store<f32>(s1 + o, load<f32>(s1 + o) + g);
      store<f32>(s2 + o, load<f32>(s2 + o) + g * (load<f32>(xr + o) - load<f32>(mean + o)));
    }
  }
  // per feature: dx = a·dy + b·x + k; keep a, b, k in place of s1, s2, and dgamma's scratch
  const m = <f32>N;
  for (let f = 0; f < F; f++) {
    const o = <usize>f << 2;
    const mu = load<f32>(mean + o), is = load<f32>(invstd + o);
    const sdy = load<f32>(s1 + o), dg = load<f32>(s2 + o) * is;
    store<f32>(dgamma + o, load<f32>(dgamma + o) + dg);
    store<f32>(dbeta + o, load<f32>(dbeta + o) + sdy);
    const a = load<f32>(gamma + o) * is;
    const b = -a * is * dg / m;
    store<f32>(s1 + o, b);
    store<f32>(s2 + o, -a * sdy / m - b * mu);
  }
  for (let n = 0; n < N; n++) {
    const gr = dy + <usize>n * rowBytes, xr = x + <usize>n * rowBytes, dr = dx + <usize>n * rowBytes;
    let f = 0;
    if (ASC_FEATURE_SIMD) {
      for (; f + 4 <= F; f += 4) {
        const o = <usize>f << 2;
        const a = f32x4.mul(v128.load(gamma + o), v128.load(invstd + o));
        v128.store(dr + o, f32x4.add(f32x4.add(f32x4.mul(v128.load(gr + o), a), f32x4.mul(v128.load(xr + o), v128.load(s1 + o))), v128.load(s2 + o)));
      }
    }
    for (; f < F; f++) {
      const o = <usize>f << 2;
      const a = load<f32>(gamma + o) * load<f32>(invstd + o);
      store<f32>(dr + o, (load<f32>(gr + o) * a + load<f32>(xr + o) * load<f32>(s1 + o)) + load<f32>(s2 + o));
    }
  }
}
