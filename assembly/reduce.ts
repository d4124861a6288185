// Reductions in a fixed order: four interleaved partial sums (lane j takes
// i ≡ j mod 4), combined as (s0+s1)+(s2+s3), then the tail. The scalar build
// follows the same order, so both builds give bit-identical sums.

/** Sum of n floats. */
export function sum4(p: usize, n: i32): f32 {
  const n4 = n & ~3;
  let s: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    let v = f32x4.splat(0);
    for (let i = 0; i < n4; i += 4) v = f32x4.add(v, v128.load(p + (<usize>i << 2)));
    s = (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
  } else {
    let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
    for (let i = 0; i < n4; i += 4) {
      const q = p + (<usize>i << 2);
      s0 += load<f32>(q); s1 += load<f32>(q, 4); s2 += load<f32>(q, 8); s3 += load<f32>(q, 12);
    }
    s = (s0 + s1) + (s2 + s3);
  }
  for (let i = n4; i < n; i++) s += load<f32>(p + (<usize>i << 2));
  return s;
}

/** Sum of (x - mean)² over a run, same lane order as sum4. */
export function sqdev4(p: usize, n: i32, mean: f32): f32 {
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

/**
 * Two sums over a run, same lane order as sum4, added to out[0] and out[1]:
 * Σ dy and Σ dy·(x - mean). With copyTo != 0 the run of dy is also copied there.
 */
// @ts-ignore: decorator
@inline
export function dot_sums4(dy: usize, x: usize, n: i32, mean: f32, out: usize, copyTo: usize = 0): void {
  const n4 = n & ~3;
  let s: f32 = 0, t: f32 = 0;
  if (ASC_FEATURE_SIMD) {
    const mv = f32x4.splat(mean);
    let vs = f32x4.splat(0), vt = f32x4.splat(0);
    for (let i = 0; i < n4; i += 4) {
      const o = <usize>i << 2;
      const g = v128.load(dy + o);
      if (copyTo) v128.store(copyTo + o, g);
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
      if (copyTo) {
        store<f32>(copyTo + o, g0); store<f32>(copyTo + o, g1, 4); store<f32>(copyTo + o, g2, 8); store<f32>(copyTo + o, g3, 12);
      }
      s0 += g0; s1 += g1; s2 += g2; s3 += g3;
      t0 += g0 * (load<f32>(x + o) - mean); t1 += g1 * (load<f32>(x + o, 4) - mean);
      t2 += g2 * (load<f32>(x + o, 8) - mean); t3 += g3 * (load<f32>(x + o, 12) - mean);
    }
    s = (s0 + s1) + (s2 + s3);
    t = (t0 + t1) + (t2 + t3);
  }
  for (let i = n4; i < n; i++) {
    const g = load<f32>(dy + (<usize>i << 2));
    if (copyTo) store<f32>(copyTo + (<usize>i << 2), g);
    s += g;
    t += g * (load<f32>(x + (<usize>i << 2)) - mean);
  }
  store<f32>(out, load<f32>(out) + s);
  store<f32>(out, load<f32>(out, 4) + t, 4);
}

