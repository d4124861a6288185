// Losses with their gradients, computed in float64 and stable for any finite logit.

/**
 * Binary cross-entropy with logits, mean over N. dz: [N] out = scale · ∂(mean loss)/∂z;
 * z, t: [N] (targets 0 or 1 as floats). Returns the mean loss.
 */
export function bce_with_logits(dz: usize, z: usize, t: usize, N: i32, scale: f32): f64 {
  let total: f64 = 0;
  const g = <f64>scale / <f64>N;
  for (let i = 0; i < N; i++) {
    const o = <usize>i << 2;
    const x = <f64>load<f32>(z + o), y = <f64>load<f32>(t + o);
    // max(x,0) − x·y + log(1 + e^−|x|)
    total += max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x)));
    const s = x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    store<f32>(dz + o, <f32>((s - y) * g));
  }
  return total / <f64>N;
}

/**
 * Softmax cross-entropy, mean over N rows of C classes. dz: [N, C] out =
 * scale · ∂(mean loss)/∂z; z: [N, C]; labels: [N] i32. Returns the mean loss.
 */
export function softmax_cross_entropy(dz: usize, z: usize, labels: usize, N: i32, C: i32, scale: f32): f64 {
  let total: f64 = 0;
  const g = <f64>scale / <f64>N;
  for (let i = 0; i < N; i++) {
    const r = <usize>(i * C) << 2;
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = max(m, <f64>load<f32>(z + r + (<usize>c << 2)));
    let s: f64 = 0;
    for (let c = 0; c < C; c++) s += Math.exp(<f64>load<f32>(z + r + (<usize>c << 2)) - m);
    const label = load<i32>(labels + (<usize>i << 2));
    const lse = m + Math.log(s);
    total += lse - <f64>load<f32>(z + r + (<usize>label << 2));
    for (let c = 0; c < C; c++) {
      const p = Math.exp(<f64>load<f32>(z + r + (<usize>c << 2)) - lse);
      store<f32>(dz + r + (<usize>c << 2), <f32>((p - (c == label ? 1 : 0)) * g));
    }
  }
  return total / <f64>N;
}

/**
 * Mean squared error, mean over all N·F values. dz: [N, F] out = scale ·
 * ∂(mean loss)/∂z; z, t: [N, F]. Returns the mean loss.
 */
export function mse_loss(dz: usize, z: usize, t: usize, N: i32, F: i32, scale: f32): f64 {
  const n = N * F;
  let total: f64 = 0;
  const g = 2 * <f64>scale / <f64>n;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const d = <f64>load<f32>(z + o) - <f64>load<f32>(t + o);
    total += d * d;
    store<f32>(dz + o, <f32>(d * g));
  }
  return total / <f64>n;
}
