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

/** y = max(x, 0) over n floats (y may equal x). */
export function relu_forward(y: usize, x: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const z = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), f32x4.max(v128.load(x + (<usize>i << 2)), z));
  }
  for (; i < n; i++) {
    const v = load<f32>(x + (<usize>i << 2));
    store<f32>(y + (<usize>i << 2), v > 0 ? v : 0);
  }
}

/** dx = dy where y > 0, else 0 (dx may equal dy). */
export function relu_backward(dx: usize, dy: usize, y: usize, n: i32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const z = f32x4.splat(0);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(dx + o, v128.and(v128.load(dy + o), f32x4.gt(v128.load(y + o), z)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, load<f32>(y + o) > 0 ? load<f32>(dy + o) : 0);
  }
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
