// Matrix products with few (1…8) channels on one side, as Winograd's 36
// products have for a layer with few inputs (LeNet's conv2: 6): there gemm's
// 2×16 micro-kernel runs loops of six and packs panels that are mostly
// overhead. Here the few rows of one side stay in registers while the other
// side streams past, with no packing. gemm_naive is the reference for the first
// two; the third is a sum of products like direct.ts's weight gradient.
//
// Bit-identical builds: few_product and few_product_t sum from 0 in channel
// order, as gemm does (so they give gemm's bits); few_lane_sums keeps four
// partial sums per output (columns ≡ lane mod 4), in both builds.
import { lane_add } from "./reduce";

/**
 * c[k][t] = Σ_j a[k][j]·b[j][t] for k < K, t < n: a: [K × C] (row stride C),
 * b: C rows of n (row stride ldb), c: K rows (row stride ldc).
 */
export function few_product(c: usize, ldc: i32, a: usize, b: usize, ldb: i32, K: i32, C: i32, n: i32): void {
  switch (C) {
    case 1: product_rows(c, ldc, a, b, ldb, K, n, 1); break;
    case 2: product_rows(c, ldc, a, b, ldb, K, n, 2); break;
    case 3: product_rows(c, ldc, a, b, ldb, K, n, 3); break;
    case 4: product_rows(c, ldc, a, b, ldb, K, n, 4); break;
    case 5: product_rows(c, ldc, a, b, ldb, K, n, 5); break;
    case 6: product_rows(c, ldc, a, b, ldb, K, n, 6); break;
    case 7: product_rows(c, ldc, a, b, ldb, K, n, 7); break;
    default: product_rows(c, ldc, a, b, ldb, K, n, 8);
  }
}

/**
 * c[j][t] = Σ_k a[k][j]·b[k][t] for j < C, t < n: a: [K × C] (row stride C),
 * b: K rows of n (row stride ldb), c: C rows (row stride ldc).
 */
export function few_product_t(c: usize, ldc: i32, a: usize, b: usize, ldb: i32, K: i32, C: i32, n: i32): void {
  // rows of c three at a time, eight columns to a step: six sums in registers, each row of b loaded once per step
  for (let j = 0; j < C; j += 3) {
    const q = c + <usize>j * (<usize>ldc << 2), p = a + (<usize>j << 2);
    switch (min(3, C - j)) {
      case 3: product_t_rows(q, ldc, p, b, ldb, K, C, n, 3); break;
      case 2: product_t_rows(q, ldc, p, b, ldb, K, C, n, 2); break;
      default: product_t_rows(q, ldc, p, b, ldb, K, C, n, 1);
    }
  }
}

/**
 * s[k][j][l] (+)= Σ over t < n with t ≡ l mod 4 of g[k][t]·b[j][t], in order of t,
 * for k < K, j < C: four partial sums per output, continued from s's when `more`,
 * else from 0. g: K rows (row stride ldg); b: C rows (row stride ldb); s: [K][C][4].
 * Column 0 must be ≡ 0 mod 4 in the whole sum, so that a sum split at multiples of 4 is the same.
 */
export function few_lane_sums(s: usize, g: usize, ldg: i32, b: usize, ldb: i32, K: i32, C: i32, n: i32, more: bool): void {
  // two rows of g and three of b at a time: six vectors of sums in registers
  for (let k = 0; k < K; k += 2) {
    for (let j = 0; j < C; j += 3) {
      const two = k + 1 < K, sk = s + (<usize>(k * C + j) << 4), gk = g + <usize>k * (<usize>ldg << 2), bj = b + <usize>j * (<usize>ldb << 2);
      switch (min(3, C - j)) {
        case 3: if (two) lane_sums_rows(sk, gk, ldg, bj, ldb, C, n, more, 2, 3); else lane_sums_rows(sk, gk, ldg, bj, ldb, C, n, more, 1, 3); break;
        case 2: if (two) lane_sums_rows(sk, gk, ldg, bj, ldb, C, n, more, 2, 2); else lane_sums_rows(sk, gk, ldg, bj, ldb, C, n, more, 1, 2); break;
        default: if (two) lane_sums_rows(sk, gk, ldg, bj, ldb, C, n, more, 2, 1); else lane_sums_rows(sk, gk, ldg, bj, ldb, C, n, more, 1, 1);
      }
    }
  }
}

/** d[i] = (s[i][0] + s[i][1]) + (s[i][2] + s[i][3]) for i < count: few_lane_sums' totals. */
export function few_lane_totals(d: usize, s: usize, count: i32): void {
  for (let i = 0; i < count; i++) {
    const p = s + (<usize>i << 4);
    store<f32>(d + (<usize>i << 2), (load<f32>(p) + load<f32>(p, 4)) + (load<f32>(p, 8) + load<f32>(p, 12)));
  }
}

// C (a constant once inlined): b's C rows of four columns held in registers, each of a's rows applied
// @ts-ignore: decorator
@inline
function product_rows(c: usize, ldc: i32, a: usize, b: usize, ldb: i32, K: i32, n: i32, C: i32): void {
  const bs = <usize>ldb << 2, cs = <usize>ldc << 2, as = <usize>C << 2;
  let t = 0;
  if (ASC_FEATURE_SIMD) {
    const z = f32x4.splat(0);
    for (; t + 4 <= n; t += 4) {
      const p = b + (<usize>t << 2);
      const b0 = v128.load(p), b1 = C > 1 ? v128.load(p + bs) : z, b2 = C > 2 ? v128.load(p + 2 * bs) : z, b3 = C > 3 ? v128.load(p + 3 * bs) : z;
      const b4 = C > 4 ? v128.load(p + 4 * bs) : z, b5 = C > 5 ? v128.load(p + 5 * bs) : z, b6 = C > 6 ? v128.load(p + 6 * bs) : z, b7 = C > 7 ? v128.load(p + 7 * bs) : z;
      let q = c + (<usize>t << 2), w = a;
      for (let k = 0; k < K; k++, q += cs, w += as) {
        let s = f32x4.add(z, f32x4.mul(v128.load32_splat(w), b0));
        if (C > 1) s = f32x4.add(s, f32x4.mul(v128.load32_splat(w, 4), b1));
        if (C > 2) s = f32x4.add(s, f32x4.mul(v128.load32_splat(w, 8), b2));
        if (C > 3) s = f32x4.add(s, f32x4.mul(v128.load32_splat(w, 12), b3));
        if (C > 4) s = f32x4.add(s, f32x4.mul(v128.load32_splat(w, 16), b4));
        if (C > 5) s = f32x4.add(s, f32x4.mul(v128.load32_splat(w, 20), b5));
        if (C > 6) s = f32x4.add(s, f32x4.mul(v128.load32_splat(w, 24), b6));
        if (C > 7) s = f32x4.add(s, f32x4.mul(v128.load32_splat(w, 28), b7));
        v128.store(q, s);
      }
    }
  }
  for (; t < n; t++) {
    const p = b + (<usize>t << 2);
    let q = c + (<usize>t << 2), w = a;
    for (let k = 0; k < K; k++, q += cs, w += as) {
      let s: f32 = 0;
      for (let j = 0; j < C; j++) s += load<f32>(w + (<usize>j << 2)) * load<f32>(p + <usize>j * bs);
      store<f32>(q, s);
    }
  }
}

// J ≤ 3 rows of c (a constant once inlined): J sums of eight columns (two vectors) in registers, then of four, then one at a time
// @ts-ignore: decorator
@inline
function product_t_rows(c: usize, ldc: i32, a: usize, b: usize, ldb: i32, K: i32, C: i32, n: i32, J: i32): void {
  const bs = <usize>ldb << 2, cs = <usize>ldc << 2, as = <usize>C << 2;
  let t = 0;
  if (ASC_FEATURE_SIMD) {
    const z = f32x4.splat(0);
    for (; t + 8 <= n; t += 8) {
      let s0 = z, s1 = z, s2 = z, e0 = z, e1 = z, e2 = z;
      let p = b + (<usize>t << 2), w = a;
      for (let k = 0; k < K; k++, p += bs, w += as) {
        const x = v128.load(p), y = v128.load(p, 16), u0 = v128.load32_splat(w);
        s0 = f32x4.add(s0, f32x4.mul(u0, x)); e0 = f32x4.add(e0, f32x4.mul(u0, y));
        if (J > 1) { const u1 = v128.load32_splat(w, 4); s1 = f32x4.add(s1, f32x4.mul(u1, x)); e1 = f32x4.add(e1, f32x4.mul(u1, y)); }
        if (J > 2) { const u2 = v128.load32_splat(w, 8); s2 = f32x4.add(s2, f32x4.mul(u2, x)); e2 = f32x4.add(e2, f32x4.mul(u2, y)); }
      }
      const q = c + (<usize>t << 2);
      v128.store(q, s0); v128.store(q, e0, 16);
      if (J > 1) { v128.store(q + cs, s1); v128.store(q + cs, e1, 16); }
      if (J > 2) { v128.store(q + 2 * cs, s2); v128.store(q + 2 * cs, e2, 16); }
    }
    for (; t + 4 <= n; t += 4) {
      let s0 = z, s1 = z, s2 = z;
      let p = b + (<usize>t << 2), w = a;
      for (let k = 0; k < K; k++, p += bs, w += as) {
        const x = v128.load(p);
        s0 = f32x4.add(s0, f32x4.mul(v128.load32_splat(w), x));
        if (J > 1) s1 = f32x4.add(s1, f32x4.mul(v128.load32_splat(w, 4), x));
        if (J > 2) s2 = f32x4.add(s2, f32x4.mul(v128.load32_splat(w, 8), x));
      }
      const q = c + (<usize>t << 2);
      v128.store(q, s0);
      if (J > 1) v128.store(q + cs, s1);
      if (J > 2) v128.store(q + 2 * cs, s2);
    }
  }
  for (; t < n; t++) {
    for (let j = 0; j < J; j++) {
      let s: f32 = 0, p = b + (<usize>t << 2), w = a + (<usize>j << 2);
      for (let k = 0; k < K; k++, p += bs, w += as) s += load<f32>(w) * load<f32>(p);
      store<f32>(c + <usize>j * cs + (<usize>t << 2), s);
    }
  }
}

// R ≤ 2 rows of g and J ≤ 3 rows of b (constants once inlined): R·J vectors of lane sums in registers;
// s: the first of them ([R][C][4], rows C·4 floats apart)
// @ts-ignore: decorator
@inline
function lane_sums_rows(s: usize, g: usize, ldg: i32, b: usize, ldb: i32, C: i32, n: i32, more: bool, R: i32, J: i32): void {
  const bs = <usize>ldb << 2, gs = <usize>ldg << 2, rs = <usize>C << 4;
  if (ASC_FEATURE_SIMD) {
    const z = f32x4.splat(0), s1 = s + rs;
    let a0 = more ? v128.load(s) : z, a1 = more && J > 1 ? v128.load(s, 16) : z, a2 = more && J > 2 ? v128.load(s, 32) : z;
    let c0 = more && R > 1 ? v128.load(s1) : z, c1 = more && R > 1 && J > 1 ? v128.load(s1, 16) : z, c2 = more && R > 1 && J > 2 ? v128.load(s1, 32) : z;
    let t = 0;
    for (; t + 4 <= n; t += 4) {
      const o = <usize>t << 2, x = v128.load(g + o), y = R > 1 ? v128.load(g + gs + o) : z, p = b + o;
      const v0 = v128.load(p);
      a0 = f32x4.add(a0, f32x4.mul(x, v0));
      if (R > 1) c0 = f32x4.add(c0, f32x4.mul(y, v0));
      if (J > 1) {
        const v1 = v128.load(p + bs);
        a1 = f32x4.add(a1, f32x4.mul(x, v1));
        if (R > 1) c1 = f32x4.add(c1, f32x4.mul(y, v1));
      }
      if (J > 2) {
        const v2 = v128.load(p + 2 * bs);
        a2 = f32x4.add(a2, f32x4.mul(x, v2));
        if (R > 1) c2 = f32x4.add(c2, f32x4.mul(y, v2));
      }
    }
    for (; t < n; t++) {
      const o = <usize>t << 2, x = load<f32>(g + o), y = R > 1 ? load<f32>(g + gs + o) : 0, p = b + o, l = t & 3;
      a0 = lane_add(a0, l, x * load<f32>(p));
      if (R > 1) c0 = lane_add(c0, l, y * load<f32>(p));
      if (J > 1) { a1 = lane_add(a1, l, x * load<f32>(p + bs)); if (R > 1) c1 = lane_add(c1, l, y * load<f32>(p + bs)); }
      if (J > 2) { a2 = lane_add(a2, l, x * load<f32>(p + 2 * bs)); if (R > 1) c2 = lane_add(c2, l, y * load<f32>(p + 2 * bs)); }
    }
    v128.store(s, a0);
    if (J > 1) v128.store(s, a1, 16);
    if (J > 2) v128.store(s, a2, 32);
    if (R > 1) {
      v128.store(s1, c0);
      if (J > 1) v128.store(s1, c1, 16);
      if (J > 2) v128.store(s1, c2, 32);
    }
  } else {
    for (let r = 0; r < R; r++) {
      for (let j = 0; j < J; j++) {
        const sj = s + <usize>r * rs + (<usize>j << 4), gk = g + <usize>r * gs, p = b + <usize>j * bs;
        let l0: f32 = more ? load<f32>(sj) : 0, l1: f32 = more ? load<f32>(sj, 4) : 0, l2: f32 = more ? load<f32>(sj, 8) : 0, l3: f32 = more ? load<f32>(sj, 12) : 0;
        let t = 0;
        for (; t + 4 <= n; t += 4) {
          const o = <usize>t << 2;
          l0 += load<f32>(gk + o) * load<f32>(p + o);
          l1 += load<f32>(gk + o, 4) * load<f32>(p + o, 4);
          l2 += load<f32>(gk + o, 8) * load<f32>(p + o, 8);
          l3 += load<f32>(gk + o, 12) * load<f32>(p + o, 12);
        }
        for (; t < n; t++) {
          const o = <usize>t << 2, x = load<f32>(gk + o) * load<f32>(p + o), l = t & 3;
          if (l == 0) l0 += x; else if (l == 1) l1 += x; else if (l == 2) l2 += x; else l3 += x;
        }
        store<f32>(sj, l0); store<f32>(sj, l1, 4); store<f32>(sj, l2, 8); store<f32>(sj, l3, 12);
      }
    }
  }
}
