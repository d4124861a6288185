// Elementwise and row-wise helpers of fully connected layers: bias, ReLU, pair concat.

/** y: [N, F] += bias: [F] on every row. */
export function bias_add(y: usize, bias: usize, N: i32, F: i32): void {
  for (let n = 0; n < N; n++) {
    const r = y + (<usize>(n * F) << 2);
    let f = 0;
    if (ASC_FEATURE_SIMD) {
      for (; f + 4 <= F; f += 4) {
        const o = <usize>f << 2;
        v128.store(r + o, f32x4.add(v128.load(r + o), v128.load(bias + o)));
      }
    }
    for (; f < F; f++) {
      const o = <usize>f << 2;
      store<f32>(r + o, load<f32>(r + o) + load<f32>(bias + o));
    }
  }
}

/** db: [F] += column sums of dy: [N, F] (each column summed in row order). */
export function bias_backward(db: usize, dy: usize, N: i32, F: i32): void {
  for (let n = 0; n < N; n++) {
    const r = dy + (<usize>(n * F) << 2);
    let f = 0;
    if (ASC_FEATURE_SIMD) {
      for (; f + 4 <= F; f += 4) {
        const o = <usize>f << 2;
        v128.store(db + o, f32x4.add(v128.load(db + o), v128.load(r + o)));
      }
    }
    for (; f < F; f++) {
      const o = <usize>f << 2;
      store<f32>(db + o, load<f32>(db + o) + load<f32>(r + o));
    }
  }
}

/** y = max(x, 0) over n floats (y may equal x): x where x > 0, else +0. */
export function relu_forward(y: usize, x: usize, n: i32): void {
  relu_pass(y, x, x, n);
}

/** dx = dy where y > 0, else 0 (dx may equal dy). */
export function relu_backward(dx: usize, dy: usize, y: usize, n: i32): void {
  relu_pass(dx, dy, y, n);
}

/** out = v where y > 0, else +0, over n floats: ReLU (y = v) and its gradient (v = dy). */
// @ts-ignore: decorator
@inline
function relu_pass(out: usize, v: usize, y: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, where_positive4(v128.load(v + o), v128.load(y + o)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, where_positive(v, y, o));
  }
}

/**
 * v where y > 0, else +0, lane by lane: ReLU (y = v) and the gradient behind it
 * (v = dy). A mask, as where_positive: f32x4.max (NaN and ±0 rules) takes
 * eight instructions on x64 and would keep a NaN the scalar build zeroes.
 */
// @ts-ignore: decorator
@inline
export function where_positive4(v: v128, y: v128): v128 {
  return v128.and(v, f32x4.gt(y, f32x4.splat(0)));
}

/** The float q bytes into v where the one q bytes into y is > 0, else +0 (an integer select: V8 turns an f32 select into a branch, mispredicted on data). */
// @ts-ignore: decorator
@inline
export function where_positive(v: usize, y: usize, q: usize): f32 {
  return reinterpret<f32>(select(load<i32>(v + q), 0, load<f32>(y + q) > 0));
}

/** h: [B, 2F] out, row b = [t0[b], t1[b]]; t0, t1: [B, F] (the two digits' trunk outputs). */
export function pair_concat_forward(h: usize, t0: usize, t1: usize, B: i32, F: i32): void {
  const fb = <usize>F << 2;
  for (let b = 0; b < B; b++) {
    memory.copy(h + <usize>(2 * b) * fb, t0 + <usize>b * fb, fb);
    memory.copy(h + <usize>(2 * b + 1) * fb, t1 + <usize>b * fb, fb);
  }
}

/** dt0, dt1: [B, F] overwritten from dh: [B, 2F]. */
export function pair_concat_backward(dt0: usize, dt1: usize, dh: usize, B: i32, F: i32): void {
  const fb = <usize>F << 2;
  for (let b = 0; b < B; b++) {
    memory.copy(dt0 + <usize>b * fb, dh + <usize>(2 * b) * fb, fb);
    memory.copy(dt1 + <usize>b * fb, dh + <usize>(2 * b + 1) * fb, fb);
  }
}

// ---- more activations, elementwise; dx may equal dy, y may equal x ----
// Plain scalar loops with AssemblyScript's own Mathf (software exp), so both
// builds give the same bits.

/** y = x if x > 0, else slope·x. */
export function leaky_relu_forward(y: usize, x: usize, n: i32, slope: f32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2, v = load<f32>(x + o);
    store<i32>(y + o, select(reinterpret<i32>(v), reinterpret<i32>(v * slope), v > 0));
  }
}

/** dx = dy where x > 0, slope·dy elsewhere (x: the forward's input). */
export function leaky_relu_backward(dx: usize, dy: usize, x: usize, n: i32, slope: f32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2, g = load<f32>(dy + o);
    store<i32>(dx + o, select(reinterpret<i32>(g), reinterpret<i32>(g * slope), load<f32>(x + o) > 0));
  }
}

/** y = 1 / (1 + e^−x), stable for any x. */
export function sigmoid_forward(y: usize, x: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2, v = load<f32>(x + o);
    const e = Mathf.exp(-Mathf.abs(v));
    store<f32>(y + o, v >= 0 ? 1 / (1 + e) : e / (1 + e));
  }
}

/** dx = dy·y·(1 − y) (y: the forward's output). */
export function sigmoid_backward(dx: usize, dy: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2, s = load<f32>(y + o);
    store<f32>(dx + o, load<f32>(dy + o) * (s * (1 - s)));
  }
}

/** y = tanh(x). */
export function tanh_forward(y: usize, x: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, Mathf.tanh(load<f32>(x + o)));
  }
}

/** dx = dy·(1 − y²) (y: the forward's output). */
export function tanh_backward(dx: usize, dy: usize, y: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2, t = load<f32>(y + o);
    store<f32>(dx + o, load<f32>(dy + o) * (1 - t * t));
  }
}

/**
 * Inverted dropout: mask[i] = 0 with probability p, else 1/(1 − p), from a
 * counter-based hash of (seed, i): the same mask in any runtime and build,
 * whatever else ran before. y = x·mask.
 */
export function dropout_forward(y: usize, mask: usize, x: usize, n: i32, p: f32, seed: u32): void {
  const keep: f32 = 1 / (1 - p);
  const threshold = <u32>(<f64>p * 4294967296.0);
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    const m: f32 = hash32(seed, <u32>i) < threshold ? 0 : keep;
    store<f32>(mask + o, m);
    store<f32>(y + o, load<f32>(x + o) * m);
  }
}

/** dx = dy·mask. */
export function dropout_backward(dx: usize, dy: usize, mask: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, load<f32>(dy + o) * load<f32>(mask + o));
  }
}

/** A 32-bit hash of (seed, i) (murmur3's finaliser over a splitmix-style mix). */
// @ts-ignore: decorator
@inline
function hash32(seed: u32, i: u32): u32 {
  let h = seed * 0x9e3779b1 ^ (i + 0x632be5ab) * 0x85ebca77;
  h ^= h >> 16;
  h *= 0x21f0aaad;
  h ^= h >> 15;
  h *= 0x735a2d97;
  return h ^ (h >> 15);
}
