// Reductions in a fixed order, so that both builds give bit-identical sums.
// sum8 and sqdev8: eight interleaved partial sums (lane j takes i ≡ j mod 8: two
// f32x4 accumulators, so that the adds do not wait on each other), a last group
// of four into lanes 0–3, lanes j and j+4 added, then (s0+s1)+(s2+s3), then the
// tail. dot_sums4: four interleaved partial sums per sum (it has two chains).
// The scalar build follows the same order.

/** Sum of n floats. */
export function sum8(p: usize, n: i32): f32 {
  const n8 = n & ~7, n4 = n & ~3;
  let s: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    let a = f32x4.splat(0), b = f32x4.splat(0);
    for (let i = 0; i < n8; i += 8) {
      const q = p + (<usize>i << 2);
      a = f32x4.add(a, v128.load(q));
      b = f32x4.add(b, v128.load(q, 16));
    }
    if (n4 > n8) a = f32x4.add(a, v128.load(p + (<usize>n8 << 2)));
    s = lanes_sum(f32x4.add(a, b));
  } else {
    let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0, s4: f32 = 0, s5: f32 = 0, s6: f32 = 0, s7: f32 = 0;
    for (let i = 0; i < n8; i += 8) {
      const q = p + (<usize>i << 2);
      s0 += load<f32>(q); s1 += load<f32>(q, 4); s2 += load<f32>(q, 8); s3 += load<f32>(q, 12);
      s4 += load<f32>(q, 16); s5 += load<f32>(q, 20); s6 += load<f32>(q, 24); s7 += load<f32>(q, 28);
    }
    if (n4 > n8) {
      const q = p + (<usize>n8 << 2);
      s0 += load<f32>(q); s1 += load<f32>(q, 4); s2 += load<f32>(q, 8); s3 += load<f32>(q, 12);
    }
    s = ((s0 + s4) + (s1 + s5)) + ((s2 + s6) + (s3 + s7));
  }
  for (let i = n4; i < n; i++) s += load<f32>(p + (<usize>i << 2));
  return s;
}

/** Sum of (x - mean)² over a run, same order as sum8. */
export function sqdev8(p: usize, n: i32, mean: f32): f32 {
  const n8 = n & ~7, n4 = n & ~3;
  let s: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    const mv = f32x4.splat(mean);
    let a = f32x4.splat(0), b = f32x4.splat(0);
    for (let i = 0; i < n8; i += 8) {
      const q = p + (<usize>i << 2);
      const d = f32x4.sub(v128.load(q), mv), e = f32x4.sub(v128.load(q, 16), mv);
      a = f32x4.add(a, f32x4.mul(d, d));
      b = f32x4.add(b, f32x4.mul(e, e));
    }
    if (n4 > n8) {
      const d = f32x4.sub(v128.load(p + (<usize>n8 << 2)), mv);
      a = f32x4.add(a, f32x4.mul(d, d));
    }
    s = lanes_sum(f32x4.add(a, b));
  } else {
    let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0, s4: f32 = 0, s5: f32 = 0, s6: f32 = 0, s7: f32 = 0;
    for (let i = 0; i < n8; i += 8) {
      const q = p + (<usize>i << 2);
      s0 += sq(load<f32>(q) - mean); s1 += sq(load<f32>(q, 4) - mean); s2 += sq(load<f32>(q, 8) - mean); s3 += sq(load<f32>(q, 12) - mean);
      s4 += sq(load<f32>(q, 16) - mean); s5 += sq(load<f32>(q, 20) - mean); s6 += sq(load<f32>(q, 24) - mean); s7 += sq(load<f32>(q, 28) - mean);
    }
    if (n4 > n8) {
      const q = p + (<usize>n8 << 2);
      s0 += sq(load<f32>(q) - mean); s1 += sq(load<f32>(q, 4) - mean); s2 += sq(load<f32>(q, 8) - mean); s3 += sq(load<f32>(q, 12) - mean);
    }
    s = ((s0 + s4) + (s1 + s5)) + ((s2 + s6) + (s3 + s7));
  }
  for (let i = n4; i < n; i++) s += sq(load<f32>(p + (<usize>i << 2)) - mean);
  return s;
}

/** Sum of channel c of x: [N, C, P]: its P-long runs each summed with sum8, in order. */
export function channel_sum(x: usize, c: i32, N: i32, C: i32, P: i32): f32 {
  let s: f32 = 0;
  for (let n = 0; n < N; n++) s += sum8(x + (<usize>((n * C + c) * P) << 2), P);
  return s;
}

// @ts-ignore: decorator
@inline
function sq(d: f32): f32 {
  return d * d;
}

/** a with lane j (0…3) increased by t. */
// @ts-ignore: decorator
@inline
export function lane_add(a: v128, j: i32, t: f32): v128 {
  if (j == 0) return f32x4.replace_lane(a, 0, f32x4.extract_lane(a, 0) + t);
  if (j == 1) return f32x4.replace_lane(a, 1, f32x4.extract_lane(a, 1) + t);
  if (j == 2) return f32x4.replace_lane(a, 2, f32x4.extract_lane(a, 2) + t);
  return f32x4.replace_lane(a, 3, f32x4.extract_lane(a, 3) + t);
}

/** (l0 + l1) + (l2 + l3) of a vector's lanes. */
// @ts-ignore: decorator
@inline
export function lanes_sum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/**
 * Two sums over a run, four interleaved partial sums each, added to out[0] and out[1]:
 * Σ dy and Σ dy·(x - mean).
 */
// @ts-ignore: decorator
@inline
export function dot_sums4(dy: usize, x: usize, n: i32, mean: f32, out: usize): void {
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
    s = lanes_sum(vs);
    t = lanes_sum(vt);
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

